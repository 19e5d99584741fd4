"""The brand API's help center, mounted at /api/v1/ by config/urls_tenant.py."""

from django.urls import path

from . import brand

urlpatterns = [
    path("categories", brand.CategoryListView.as_view()),
    path("categories/<int:category_id>", brand.CategoryDetailView.as_view()),
    path("articles", brand.ArticleListView.as_view()),
    path("articles/search", brand.ArticleSearchView.as_view()),
    path("articles/suggest", brand.ArticleSuggestView.as_view()),
    path("articles/<int:article_id>", brand.ArticleDetailView.as_view()),
    path("articles/<int:article_id>/publish", brand.ArticlePublishView.as_view()),
    path("articles/<int:article_id>/unpublish", brand.ArticleUnpublishView.as_view()),
]
