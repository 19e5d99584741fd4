"""Each process's in-memory suggestion ranker per brand, kept in step with the database.
Callers are in the brand's schema; every key here carries it.

Every write on articles or outcomes bumps a per-brand version in the shared cache (Redis,
keys made by django_tenants.cache.make_key, so they carry the schema) once its transaction
commits. A suggestion reads that version (one Redis GET, about 0.1 ms) and rebuilds its
copy when it changed: articles and outcomes have separate versions, because a resolved
chat must not make a 10,000-article brand re-embed all its articles.

While one thread rebuilds a brand, other threads keep answering from the copy they have,
so suggestions never stop during a rebuild; the first request for a brand waits for it.
"""

import logging
import threading
import uuid
from dataclasses import dataclass

from django.core.cache import cache
from django.db import connection, transaction

from .embedding import EmbeddingUnavailable, embedder_get
from .models import Article, SuggestionOutcome
from .ranking import ArticleDoc, BrandRanker, OutcomeDoc

logger = logging.getLogger(__name__)

ARTICLES_VERSION_KEY = "knowledge:ranker:articles"
OUTCOMES_VERSION_KEY = "knowledge:ranker:outcomes"
OUTCOMES_KEPT = 5000  # the most recent; embedding 5,000 short problems takes about 60 ms
VERSION_TTL = None  # never expires: a lost version only costs one rebuild


@dataclass
class _Entry:
    articles_version: str
    outcomes_version: str
    ranker: BrandRanker


_rankers: dict[str, _Entry] = {}
_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


def _lock_for(schema: str) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(schema, threading.Lock())


def ranker_articles_changed() -> None:
    """Tell every process the brand's articles changed, once the transaction commits."""
    transaction.on_commit(lambda: cache.set(ARTICLES_VERSION_KEY, uuid.uuid4().hex, VERSION_TTL))


def ranker_outcomes_changed() -> None:
    transaction.on_commit(lambda: cache.set(OUTCOMES_VERSION_KEY, uuid.uuid4().hex, VERSION_TTL))


def _versions() -> tuple[str, str]:
    found = cache.get_many([ARTICLES_VERSION_KEY, OUTCOMES_VERSION_KEY])
    articles, outcomes = found.get(ARTICLES_VERSION_KEY), found.get(OUTCOMES_VERSION_KEY)
    if articles is None:
        articles = uuid.uuid4().hex
        cache.add(ARTICLES_VERSION_KEY, articles, VERSION_TTL)
        articles = cache.get(ARTICLES_VERSION_KEY) or articles
    if outcomes is None:
        outcomes = uuid.uuid4().hex
        cache.add(OUTCOMES_VERSION_KEY, outcomes, VERSION_TTL)
        outcomes = cache.get(OUTCOMES_VERSION_KEY) or outcomes
    return articles, outcomes


def _embedder():
    try:
        return embedder_get()
    except EmbeddingUnavailable:
        logger.exception("No embedding model: suggestions are lexical only")
        return None


def _article_docs() -> list[ArticleDoc]:
    rows = Article.objects.filter(is_published=True).order_by("pk").values_list(
        "id", "slug", "title", "summary", "body", "tags", "category__slug", "category__name", "product_ids",
        "solved_count", "helpful_count", "unhelpful_count",
    )
    return [
        ArticleDoc(id=r[0], slug=r[1], title=r[2], summary=r[3], body=r[4], tags=list(r[5] or []), category=r[6], category_name=r[7],
                   product_ids=list(r[8] or []), solved_count=r[9], helpful_count=r[10], unhelpful_count=r[11])
        for r in rows.iterator(chunk_size=2000)
    ]


def _outcome_docs() -> list[OutcomeDoc]:
    rows = SuggestionOutcome.objects.order_by("-created_at").values_list("problem", "article_id", "outcome")[:OUTCOMES_KEPT]
    return [OutcomeDoc(problem=p, article_id=a, outcome=o) for p, a, o in rows]


def _locale() -> str:
    tenant = getattr(connection, "tenant", None)
    return getattr(tenant, "locale", None) or "en"


def brand_ranker_get() -> BrandRanker:
    """The current brand's ranker, rebuilt here if the brand changed since it was built."""
    schema = connection.schema_name
    articles_version, outcomes_version = _versions()
    entry = _rankers.get(schema)
    if entry and (entry.articles_version, entry.outcomes_version) == (articles_version, outcomes_version):
        return entry.ranker
    lock = _lock_for(schema)
    # Someone is rebuilding this brand: answer from the copy we have rather than wait.
    if entry is not None and not lock.acquire(blocking=False):
        return entry.ranker
    if entry is None:
        lock.acquire()
    try:
        entry = _rankers.get(schema)
        if entry and (entry.articles_version, entry.outcomes_version) == (articles_version, outcomes_version):
            return entry.ranker
        if entry is None or entry.articles_version != articles_version:
            ranker = BrandRanker(_article_docs(), _outcome_docs(), locale=_locale(), embedder=_embedder())
        else:
            ranker = entry.ranker.with_outcomes(_outcome_docs())
        _rankers[schema] = _Entry(articles_version, outcomes_version, ranker)
        return ranker
    finally:
        lock.release()


def ranker_memory() -> dict[str, int]:
    """Bytes held per brand in this process, and by the shared model."""
    sizes = {schema: entry.ranker.nbytes for schema, entry in _rankers.items()}
    embedder = _embedder()
    sizes["(shared model)"] = embedder.nbytes if embedder else 0
    return sizes


def rankers_forget() -> None:
    """Drop every cached ranker (tests; a brand's schema being dropped)."""
    _rankers.clear()
