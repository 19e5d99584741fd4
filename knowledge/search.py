"""The help-center search, per brand (see search_backend.py). Callers are in the brand's schema."""

from contextlib import contextmanager

import redis
from django.conf import settings
from django.db import connection
from haystack import connections
from haystack.query import SearchQuerySet

from .models import Article

WRITE_LOCK_TIMEOUT = 120


@contextmanager
def index_write_lock():
    """Whoosh allows one writer per index (LockError otherwise). Writers in any process
    (web, worker, management commands) take this brand's lock first."""
    client = redis.Redis.from_url(settings.CACHES["default"]["LOCATION"])
    lock = client.lock(f"search-write:{settings.SEARCH_INDEX_ROOT}:{connection.schema_name}", timeout=WRITE_LOCK_TIMEOUT, blocking_timeout=WRITE_LOCK_TIMEOUT)
    with lock:
        yield
    client.close()


def search_index_rebuild() -> int:
    """Rebuild the current brand's index from its published articles. Returns the count."""
    backend = connections["default"].get_backend()
    index = connections["default"].get_unified_index().get_index(Article)
    queryset = index.index_queryset()
    with index_write_lock():
        backend.clear(models=[Article], commit=True)
        backend.update(index, queryset)
    return queryset.count()


def search_index_update(*, article: Article) -> None:
    index = connections["default"].get_unified_index().get_index(Article)
    with index_write_lock():
        if article.is_published:
            connections["default"].get_backend().update(index, [article])
        else:
            connections["default"].get_backend().remove(article)


def search_articles(*, query: str, category: str | None = None, limit: int = 5) -> list[int]:
    """Article ids that best match the query, optionally within one category."""
    query = (query or "").strip()
    if not query:
        return []
    results = SearchQuerySet().models(Article).auto_query(query)
    if category:
        results = results.filter(category=category)
    return [int(result.pk) for result in results[:limit]]
