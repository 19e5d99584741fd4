from haystack import indexes

from .models import Article


class ArticleIndex(indexes.SearchIndex, indexes.Indexable):
    text = indexes.CharField(document=True, use_template=True)
    title = indexes.CharField(model_attr="title", boost=2.0)
    category = indexes.CharField(model_attr="category__slug", faceted=True)
    is_popular = indexes.BooleanField(model_attr="is_popular")

    def get_model(self):
        return Article

    def index_queryset(self, using=None):
        return self.get_model().objects.filter(is_published=True).select_related("category")
