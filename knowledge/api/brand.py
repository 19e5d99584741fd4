"""The brand API's help center (/api/v1/ on a brand host, brand API keys): categories and
articles (create, read, update, delete, publish), search, and suggestions for a problem
from the ranker the widget uses. Runs in the brand's schema (the host middleware entered
it); writes go through knowledge.services so the brand's search index follows them."""

import hashlib

import django_filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
)
from rest_framework import generics, serializers, status
from rest_framework.response import Response

from knowledge import selectors, services
from knowledge.models import Article, Category
from tenants.api.conventions import (
    IDEMPOTENCY_PARAMETER,
    BrandAPIMixin,
    UTCDateTimeFilter,
)
from tenants.models import BrandAPIKey

SEARCH_LIMIT = 20


class KnowledgeBrandAPIMixin(BrandAPIMixin):
    resource = BrandAPIKey.Resource.ARTICLES
    domain_errors = (services.KnowledgeError,)


class BrandCategoryOut(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["id", "slug", "name", "description", "position", "is_active"]
        read_only_fields = ["id"]


class BrandArticleOut(serializers.ModelSerializer):
    category = serializers.SlugRelatedField(slug_field="slug", queryset=Category.objects.all(), help_text="A category slug.")
    body_html = serializers.SerializerMethodField(help_text="The Markdown body rendered and sanitized.")

    class Meta:
        model = Article
        fields = ["id", "slug", "title", "category", "summary", "body", "body_html", "tags", "is_popular", "is_published", "view_count", "solved_count", "created_at", "updated_at"]
        read_only_fields = ["id", "view_count", "solved_count", "created_at", "updated_at"]

    def get_body_html(self, article) -> str:
        return selectors.article_html(article)


class BrandSuggestionOut(serializers.Serializer):
    article = BrandArticleOut()
    score = serializers.FloatField(allow_null=True, help_text="The ranker's score where it gives one; null otherwise.")


class BrandSuggestInput(serializers.Serializer):
    category = serializers.SlugField(help_text="A category slug.")
    text = serializers.CharField(max_length=4000, help_text="The problem as the customer would put it: summary, product, fields.")
    limit = serializers.IntegerField(min_value=1, max_value=10, default=selectors.SUGGESTION_COUNT)


class BrandSuggestOut(serializers.Serializer):
    suggestions = BrandSuggestionOut(many=True)


class BrandSearchOut(serializers.Serializer):
    results = BrandArticleOut(many=True)


class ArticleFilter(django_filters.FilterSet):
    category = django_filters.CharFilter(field_name="category__slug", help_text="A category slug.")
    updated_after = UTCDateTimeFilter(field_name="updated_at", lookup_expr="gte")

    class Meta:
        model = Article
        fields = ["category", "is_published", "is_popular"]


def article_etag(article: Article) -> str:
    return '"' + hashlib.sha256(f"{article.pk}:{article.updated_at.isoformat()}".encode()).hexdigest()[:32] + '"'


def suggestion_pair(item) -> tuple[Article, float | None]:
    """The ranker gives articles (today) or scored results (as it is being rewritten):
    take the article and whatever score it carries."""
    article = getattr(item, "article", item)
    score = getattr(item, "score", None)
    if score is None:
        score = getattr(article, "score", None)
    try:
        return article, (None if score is None else float(score))
    except (TypeError, ValueError):
        return article, None


# --- categories --------------------------------------------------------------------


class CategoryListView(KnowledgeBrandAPIMixin, generics.ListCreateAPIView):
    serializer_class = BrandCategoryOut
    queryset = Category.objects.all()
    filterset_fields = ["is_active", "slug"]
    ordering_fields = ["position", "name", "id"]
    ordering = ["position"]

    @extend_schema(parameters=[IDEMPOTENCY_PARAMETER], responses={201: BrandCategoryOut})
    def post(self, request, *args, **kwargs):
        return self.idempotent(request, lambda: self.create(request, *args, **kwargs))

    def perform_create(self, serializer):
        serializer.instance = services.category_create(**serializer.validated_data)


class CategoryDetailView(KnowledgeBrandAPIMixin, generics.RetrieveUpdateDestroyAPIView):
    serializer_class = BrandCategoryOut
    queryset = Category.objects.all()
    lookup_url_kwarg = "category_id"
    http_method_names = ["get", "patch", "delete", "head", "options"]

    def perform_update(self, serializer):
        serializer.instance = services.category_update(category=serializer.instance, changes=serializer.validated_data)

    def perform_destroy(self, instance):
        services.category_delete(category=instance)


# --- articles ----------------------------------------------------------------------


class ArticleListView(KnowledgeBrandAPIMixin, generics.ListCreateAPIView):
    serializer_class = BrandArticleOut
    queryset = Article.objects.select_related("category")
    filterset_class = ArticleFilter
    ordering_fields = ["updated_at", "created_at", "title", "id", "view_count", "solved_count"]
    ordering = ["-updated_at"]

    @extend_schema(
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={201: BrandArticleOut},
        examples=[OpenApiExample("An article", value={"slug": "track-parcel", "title": "Track your parcel", "category": "shipping", "summary": "Where your parcel is", "body": "Use the **tracking link** in your email.", "tags": ["delivery"]}, request_only=True)],
    )
    def post(self, request, *args, **kwargs):
        return self.idempotent(request, lambda: self.create(request, *args, **kwargs))

    def perform_create(self, serializer):
        serializer.instance = services.article_create(**serializer.validated_data)


class ArticleDetailView(KnowledgeBrandAPIMixin, generics.RetrieveUpdateDestroyAPIView):
    """An article; GET answers 304 to an `If-None-Match` that holds its current ETag."""

    serializer_class = BrandArticleOut
    queryset = Article.objects.select_related("category")
    lookup_url_kwarg = "article_id"
    http_method_names = ["get", "patch", "delete", "head", "options"]

    @extend_schema(
        parameters=[OpenApiParameter("If-None-Match", OpenApiTypes.STR, OpenApiParameter.HEADER, description="The ETag of the copy you hold.")],
        responses={200: BrandArticleOut, 304: OpenApiResponse(description="Not modified: your copy is current.")},
    )
    def get(self, request, *args, **kwargs):
        article = self.get_object()
        etag = article_etag(article)
        held = [tag.strip() for tag in request.headers.get("If-None-Match", "").split(",")]
        if etag in held or f"W/{etag}" in held or "*" in held:
            return Response(status=status.HTTP_304_NOT_MODIFIED, headers={"ETag": etag})
        return Response(self.get_serializer(article).data, headers={"ETag": etag})

    def perform_update(self, serializer):
        serializer.instance = services.article_update(article=serializer.instance, changes=serializer.validated_data)

    def perform_destroy(self, instance):
        services.article_delete(article=instance)


class ArticlePublishView(KnowledgeBrandAPIMixin, generics.GenericAPIView):
    serializer_class = BrandArticleOut
    queryset = Article.objects.select_related("category")
    lookup_url_kwarg = "article_id"
    pagination_class = None
    filter_backends: list = []
    published = True

    @extend_schema(request=None, responses={200: BrandArticleOut})
    def post(self, request, article_id):
        article = services.article_set_published(article=self.get_object(), published=self.published)
        return Response(self.get_serializer(article).data)


class ArticleUnpublishView(ArticlePublishView):
    published = False


class ArticleSearchView(KnowledgeBrandAPIMixin, generics.GenericAPIView):
    serializer_class = BrandSearchOut
    pagination_class = None
    filter_backends: list = []

    @extend_schema(parameters=[OpenApiParameter("q", str, required=True, description="Words to search published articles for.")], responses={200: BrandSearchOut})
    def get(self, request):
        query = request.query_params.get("q", "").strip()[:200]
        if not query:
            return Response({"detail": "q: say what to search for.", "code": "invalid", "errors": {"q": ["This field is required."]}}, status=400)
        return Response({"results": BrandArticleOut(selectors.help_center_search(query=query, limit=SEARCH_LIMIT), many=True).data})


class ArticleSuggestView(KnowledgeBrandAPIMixin, generics.GenericAPIView):
    """The articles the widget would show a customer with this problem, with scores."""

    writes = frozenset()  # a question, not a change: read keys may ask it
    serializer_class = BrandSuggestInput
    pagination_class = None
    filter_backends: list = []

    @extend_schema(
        request=BrandSuggestInput,
        responses={200: BrandSuggestOut},
        examples=[OpenApiExample("A problem", value={"category": "shipping", "text": "my parcel has not arrived"}, request_only=True)],
    )
    def post(self, request):
        data = BrandSuggestInput(data=request.data)
        data.is_valid(raise_exception=True)
        category = Category.objects.filter(slug=data.validated_data["category"]).first()
        if category is None:
            return Response({"detail": "category: no such category.", "code": "invalid", "errors": {"category": ["No such category."]}}, status=400)
        ranked = selectors.suggestions_for(category=category, text=data.validated_data["text"], limit=data.validated_data["limit"])
        pairs = [suggestion_pair(item) for item in ranked]
        return Response({"suggestions": [{"article": BrandArticleOut(article).data, "score": score} for article, score in pairs]})
