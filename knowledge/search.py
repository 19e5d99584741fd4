"""The help-center search, per brand (see search_backend.py). Callers are in the brand's schema."""

from haystack import connections
from haystack.query import SearchQuerySet

from .models import Article


def search_index_rebuild() -> int:
    """Rebuild the current brand's index from its published articles. Returns the count."""
    backend = connections["default"].get_backend()
    index = connections["default"].get_unified_index().get_index(Article)
    backend.clear(models=[Article], commit=True)
    queryset = index.index_queryset()
    backend.update(index, queryset)
    return queryset.count()


def search_index_update(*, article: Article) -> None:
    index = connections["default"].get_unified_index().get_index(Article)
    connections["default"].get_backend().update(index, [article])


def search_articles(*, query: str, category: str | None = None, limit: int = 5) -> list[int]:
    """Article ids that best match the query, optionally within one category."""
    query = (query or "").strip()
    if not query:
        return []
    results = SearchQuerySet().models(Article).auto_query(query)
    if category:
        results = results.filter(category=category)
    return [int(result.pk) for result in results[:limit]]
