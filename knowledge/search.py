"""The help-center search page's index, per brand (see search_backend.py). Callers are in
the brand's schema.

Writers (web, workers, management commands, in any process) take the brand's Redis lock
first: Whoosh allows one writer per index. Inside the lock an update re-reads the article
from the database, so whichever writer goes last writes the article's current state and
two processes editing at once lose nothing. A rebuild never clears the index first: it
rewrites every published article and then removes the ones that are gone, so searches keep
answering (from the previous commit) while it runs.
"""

import re
from collections.abc import Callable
from contextlib import contextmanager

import redis
from django.conf import settings
from django.db import connection
from haystack import connections
from haystack.inputs import Clean
from haystack.query import SQ, SearchQuerySet

from .models import Article

WRITE_LOCK_TIMEOUT = 120
REBUILD_BATCH = 500  # one Whoosh commit per batch: about 1 s for 500 demo-sized articles
MAX_QUERY_WORDS = 12
QUERY_WORD = re.compile(r"\w+", re.UNICODE)


@contextmanager
def index_write_lock():
    """Whoosh allows one writer per index (LockError otherwise). Writers in any process
    (web, worker, management commands) take this brand's lock first."""
    client = redis.Redis.from_url(settings.CACHES["default"]["LOCATION"])
    lock = client.lock(f"search-write:{settings.SEARCH_INDEX_ROOT}:{connection.schema_name}", timeout=WRITE_LOCK_TIMEOUT, blocking_timeout=WRITE_LOCK_TIMEOUT)
    try:
        with lock:
            yield
    finally:
        client.close()


def _backend_and_index():
    engine = connections["default"]
    return engine.get_backend(), engine.get_unified_index().get_index(Article)


def _document_id(article_id: int) -> str:
    return f"knowledge.article.{article_id}"


def search_index_update(*, article_id: int) -> None:
    """Bring one article's entry in line with the database: written if published, removed
    if unpublished or deleted."""
    backend, index = _backend_and_index()
    with index_write_lock():
        article = index.index_queryset().filter(pk=article_id).first()
        if article is not None:
            backend.update(index, [article])
        else:
            backend.remove(_document_id(article_id))


def search_index_drop(*, schema: str) -> None:
    """Remove a brand's whole index, for a brand whose schema is gone: called from outside
    it, by name, so it takes no brand lock of the current schema."""
    connections["default"].index_drop(schema)


def search_index_rebuild(*, progress: Callable[[int, int], None] | None = None) -> int:
    """Rewrite the current brand's index from its published articles. Returns the count."""
    backend, index = _backend_and_index()
    queryset = index.index_queryset().order_by("pk")
    ids = list(queryset.values_list("pk", flat=True))
    done = 0
    for start in range(0, len(ids), REBUILD_BATCH):
        batch = list(queryset.filter(pk__in=ids[start : start + REBUILD_BATCH]))
        # A lock per batch, not per rebuild: single edits from the web interleave instead
        # of waiting minutes behind a large brand's rebuild.
        with index_write_lock():
            backend.update(index, batch)
        done += len(batch)
        if progress:
            progress(done, len(ids))
    with index_write_lock():
        # Drop entries whose article is gone or unpublished, after the new ones are in.
        published = set(Article.objects.filter(is_published=True).values_list("pk", flat=True))
        stale = [int(r.pk) for r in SearchQuerySet().models(Article).all()[:1_000_000] if int(r.pk) not in published]
        for article_id in stale:
            backend.remove(_document_id(article_id))
    if progress and not ids:
        progress(0, 0)
    return len(ids)


def search_articles(*, query: str, category: str | None = None, limit: int = 5) -> list[int]:
    """Article ids that best match any of the query's words (ranked by Whoosh's BM25F),
    optionally within one category. Punctuation and query syntax (`-`, quotes, `AND`) are
    taken as plain words, so no query matches everything or excludes by accident."""
    words = [w.lower() for w in QUERY_WORD.findall(query or "")][:MAX_QUERY_WORDS]
    words = [w for w in words if w not in {"and", "or", "not", "to"}]
    if not words:
        return []
    condition = SQ()
    for word in words:
        condition |= SQ(content=Clean(word))
    results = SearchQuerySet().models(Article).filter(condition)
    if category:
        results = results.filter(category=category)
    return [int(result.pk) for result in results[:limit]]
