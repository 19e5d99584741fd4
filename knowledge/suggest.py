"""Each process's in-memory suggestion ranker per brand, kept in step with the database.
Callers are in the brand's schema; every key here carries it.

Every write on articles or outcomes bumps a per-brand version in the shared cache (Redis,
keys made by django_tenants.cache.make_key, so they carry the schema) once its transaction
commits. A suggestion reads that version (one Redis GET, about 0.1 ms) and rebuilds its
copy when it changed: articles and outcomes have separate versions, because a resolved
chat must not make a 10,000-article brand re-embed all its articles.

While one thread rebuilds a brand, other threads keep answering from the copy they have,
so suggestions never stop during a rebuild; the first request for a brand waits for it.

The sentence encoder costs about 8 ms of CPU per article, so its article vectors outlive a
rebuild: each is kept under a hash of the text it was computed from, in this process
(carried from one build to the next) and in the shared cache (one value per brand, so a new
process or a restart does not re-encode the help center). An edit re-encodes the articles
whose title or summary changed; only the first build of a brand ever encodes them all.
"""

import hashlib

import logging
import threading
import uuid
from dataclasses import dataclass

from django.core.cache import cache
from django.db import connection, transaction
from django_tenants.utils import schema_context

import numpy as np

from .embedding import EmbeddingUnavailable, embedder_get
from .models import Article, SuggestionOutcome
from .ranking import DENSE_ARTICLE_TOKENS, ArticleDoc, BrandRanker, OutcomeDoc, dense_text
from .sentence_encoder import MODEL_ID, sentence_encoder_get

logger = logging.getLogger(__name__)

ARTICLES_VERSION_KEY = "knowledge:ranker:articles"
OUTCOMES_VERSION_KEY = "knowledge:ranker:outcomes"
OUTCOMES_KEPT = 5000  # the most recent; embedding 5,000 short problems takes about 60 ms
VERSION_TTL = None  # never expires: a lost version only costs one rebuild
# 10,000 articles x 384 float32 is 15 MiB in one value; evicted, it costs one full encode.
DENSE_VECTORS_KEY = f"knowledge:ranker:dense:{MODEL_ID}:{DENSE_ARTICLE_TOKENS}"


@dataclass
class _Entry:
    articles_version: str
    outcomes_version: str
    ranker: BrandRanker
    dense: dict[str, np.ndarray]  # article text hash -> sentence vector


_rankers: dict[str, _Entry] = {}
_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


def _lock_for(schema: str) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(schema, threading.Lock())


def _version_bump_on_commit(key: str) -> None:
    # The cache key carries the schema current when it is *made* (django_tenants' make_key),
    # and a commit callback may run after the caller has left the brand's schema (the
    # outermost atomic block closing in a caller that switched back to public): the brand
    # is taken now and entered again when the callback runs.
    schema = connection.schema_name

    def bump():
        with schema_context(schema):
            cache.set(key, uuid.uuid4().hex, VERSION_TTL)

    transaction.on_commit(bump)


def ranker_articles_changed() -> None:
    """Tell every process the brand's articles changed, once the transaction commits."""
    _version_bump_on_commit(ARTICLES_VERSION_KEY)


def ranker_outcomes_changed() -> None:
    _version_bump_on_commit(OUTCOMES_VERSION_KEY)


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


def _encoder():
    try:
        return sentence_encoder_get()
    except EmbeddingUnavailable:
        logger.exception("No sentence encoder: suggestions go on without it")
        return None


def _text_key(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=12).hexdigest()


def _dense_vectors(docs: list[ArticleDoc], known: dict[str, np.ndarray], encoder) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The articles' sentence vectors, encoding only texts neither this process nor the
    shared cache has seen; returns them and the store to keep (the current articles' only,
    so deleted and rewritten articles do not pile up)."""
    keys = [_text_key(dense_text(d)) for d in docs]
    known = dict(known)
    if any(k not in known for k in keys):
        shared = cache.get(DENSE_VECTORS_KEY) or {}
        known.update((k, np.frombuffer(v, dtype=np.float32)) for k, v in shared.items() if k not in known)
    missing = [i for i, k in enumerate(keys) if k not in known]
    if missing:
        fresh = encoder.embed([dense_text(docs[i]) for i in missing], max_tokens=DENSE_ARTICLE_TOKENS)
        known.update((keys[i], vector) for i, vector in zip(missing, fresh))
    kept = {k: known[k] for k in keys}
    if missing:
        cache.set(DENSE_VECTORS_KEY, {k: v.astype(np.float32).tobytes() for k, v in kept.items()}, VERSION_TTL)
    vectors = np.stack([kept[k] for k in keys]).astype(np.float32) if keys else np.zeros((0, encoder.dim), dtype=np.float32)
    return vectors, kept


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
        dense = entry.dense if entry else {}
        if entry is None or entry.articles_version != articles_version:
            docs, encoder = _article_docs(), _encoder()
            vectors = None
            if encoder is not None and docs:
                vectors, dense = _dense_vectors(docs, dense, encoder)
            ranker = BrandRanker(docs, _outcome_docs(), locale=_locale(), embedder=_embedder(), encoder=encoder, dense_vectors=vectors)
        else:
            ranker = entry.ranker.with_outcomes(_outcome_docs())
        _rankers[schema] = _Entry(articles_version, outcomes_version, ranker, dense)
        return ranker
    finally:
        lock.release()


def ranker_memory() -> dict[str, int]:
    """Bytes held per brand in this process, and by the shared model."""
    sizes = {schema: entry.ranker.nbytes for schema, entry in _rankers.items()}
    embedder, encoder = _embedder(), _encoder()
    sizes["(shared model)"] = (embedder.nbytes if embedder else 0) + (encoder.nbytes if encoder else 0)
    return sizes


def rankers_forget() -> None:
    """Drop every cached ranker (tests)."""
    _rankers.clear()


def ranker_forget(*, schema: str) -> None:
    """Forget a brand whose schema is gone, here and, through its versions, in every
    process: a brand made anew under that schema name must not get the old articles."""
    _rankers.pop(schema, None)
    with schema_context(schema):  # the cache keys carry the schema; no query is made
        cache.delete_many([ARTICLES_VERSION_KEY, OUTCOMES_VERSION_KEY])
