"""Suggestion quality and latency, beside two baselines measured in the same run.

Quality, on the HELD-OUT half of tests/data/suggestions_<brand>.json only (the ranker's
weights and the default threshold were fitted on the tuning half): the demo brands' help
centers are loaded through knowledge.services.articles_import into fresh brands, and every
labeled problem goes through the product's own path (`knowledge.selectors.suggestions_for`
for what is shown, the same brand ranker without the threshold for the ranking figures).
Baselines over the same articles and the same text (summary and product ID):
- plain BM25: rank-bm25's BM25Okapi over title, tags, summary and body, lower-cased words;
- raw PostgreSQL full-text search: `websearch_to_tsquery('english', ...)`, `ts_rank`.
hit@k: one of the labeled articles is among the first k; MRR: mean of 1/rank of the first
labeled article (0 if not in the first 5). Out of scope: the share of messages for which
nothing is suggested (the right answer for them).

Latency: one brand with 10,000 articles (the demo articles recombined: titles, tags,
paragraphs and product IDs mixed across articles), inserted in bulk. p95 of a whole
suggestion (`suggestions_for`: settings row, ranker version check, ranking, fetching the
articles) against p95 of the raw PostgreSQL FTS query returning the top 5 rows, through a
GIN expression index, in the same process, taking turns query by query. Memory: the
brand's ranker arrays, and the models shared by all brands of a process. Build: the first
build of the brand (every article through the sentence encoder), then a second one as a
new process would do it (the article vectors from the shared cache). The sentence encoder
alone: its load time and the time to encode one customer problem.
With SUGGESTIONS_SPLIT=tune only the quality part runs (the latency part does not depend
on the split and takes minutes).
"""

import json
import os
import random
import re
import resource
import statistics
import time
from pathlib import Path

DATABASE = "helpdesk_bench_suggestions"
HERE = Path(__file__).resolve().parent.parent
BRANDS = ["acme", "globex"]
LATENCY_ARTICLES = 10_000
LATENCY_QUERIES = 300
SPLIT = os.environ.get("SUGGESTIONS_SPLIT", "heldout")  # "tune" only when fitting weights
FTS_DOCUMENT = "to_tsvector('english', title || ' ' || summary || ' ' || public.bench_words(tags) || ' ' || body)"
# array_to_string is not IMMUTABLE, so an index expression cannot use it; this wrapper can.
FTS_FUNCTION = "CREATE OR REPLACE FUNCTION public.bench_words(text[]) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT array_to_string($1, ' ') $$"
FTS_QUERY = (
    f"SELECT id FROM knowledge_article WHERE is_published AND {FTS_DOCUMENT} @@ websearch_to_tsquery('english', %s) "
    f"ORDER BY ts_rank({FTS_DOCUMENT}, websearch_to_tsquery('english', %s)) DESC, id LIMIT %s"
)
WORD = re.compile(r"\w+")


def _problems(brand: str):
    data = json.loads((HERE / "tests" / "data" / f"suggestions_{brand}.json").read_text())
    return [i for i in data["in_scope"] if i["split"] == SPLIT], [i for i in data["out_of_scope"] if i["split"] == SPLIT]


def _ranks(found_slugs: list[str], answers: list[str]) -> int | None:
    return next((k for k, slug in enumerate(found_slugs) if slug in answers), None)


class Tally:
    def __init__(self):
        self.ranks: list[int | None] = []

    def add(self, rank):
        self.ranks.append(rank)

    def figures(self) -> dict:
        n = len(self.ranks) or 1
        return {
            "hit@1": sum(r == 0 for r in self.ranks) / n,
            "hit@3": sum(r is not None and r < 3 for r in self.ranks) / n,
            "MRR": sum(1 / (r + 1) for r in self.ranks if r is not None) / n,
        }


def _brand_load(brand_create, slug: str):
    from django_tenants.utils import schema_context

    from knowledge.services import articles_import, category_upsert

    content = json.loads((HERE / "knowledge" / "demo_content" / f"{slug}.json").read_text())
    brand = brand_create(name=content["brand"]["name"], slug=slug).brand
    with schema_context(brand.schema_name):
        categories = {c["slug"]: category_upsert(slug=c["slug"], name=c["name"], position=p) for p, c in enumerate(content["categories"])}
        articles_import(items=content["articles"], categories=categories)
    return brand, content


def quality(brand_create) -> dict:
    from django.db import connection
    from django_tenants.utils import schema_context
    from rank_bm25 import BM25Okapi

    from knowledge.models import Article, Category
    from knowledge.ranking import Problem
    from knowledge.selectors import _custom_field_words, suggestion_settings_get, suggestions_for
    from knowledge.suggest import brand_ranker_get

    results = {}
    for slug in BRANDS:
        brand, _ = _brand_load(brand_create, slug)
        in_scope, out_of_scope = _problems(slug)
        with schema_context(brand.schema_name):
            articles = list(Article.objects.filter(is_published=True).select_related("category").order_by("pk"))
            slug_of = {a.pk: a.slug for a in articles}
            categories = {c.slug: c for c in Category.objects.all()}
            bm25 = BM25Okapi([WORD.findall(f"{a.title} {' '.join(a.tags)} {a.summary} {a.body}".lower()) for a in articles])
            threshold = suggestion_settings_get().threshold
            ours, ours_shown, plain, fts = Tally(), Tally(), Tally(), Tally()
            for item in in_scope:
                text = f"{item['text']} {item['product_id']}".strip()
                problem = Problem(text=item["text"], category=item["category"], product_id=item["product_id"], extra=_custom_field_words(item["custom_fields"]))
                ranked = brand_ranker_get().rank(problem, limit=5)
                ours.add(_ranks([slug_of[r.article_id] for r in ranked], item["answers"]))
                shown = suggestions_for(category=categories[item["category"]], text=item["text"], product_id=item["product_id"], custom_fields=item["custom_fields"])
                shown_rank = _ranks([a.slug for a in shown], item["answers"])
                ours_shown.add(shown_rank if shown_rank is not None and shown_rank < 3 else None)
                scores = bm25.get_scores(WORD.findall(text.lower()))
                order = sorted(range(len(articles)), key=lambda i: -scores[i])[:5]
                plain.add(_ranks([articles[i].slug for i in order if scores[i] > 0], item["answers"]))
                with connection.cursor() as cursor:
                    cursor.execute(FTS_QUERY, [text, text, 5])
                    fts.add(_ranks([slug_of[row[0]] for row in cursor.fetchall()], item["answers"]))
            silent = sum(
                not suggestions_for(category=categories[item["category"]], text=item["text"]) for item in out_of_scope
            )
            fts_silent = 0
            with connection.cursor() as cursor:
                for item in out_of_scope:
                    cursor.execute(FTS_QUERY, [item["text"], item["text"], 5])
                    fts_silent += not cursor.fetchall()
        results[slug] = {
            "in_scope": len(in_scope), "out_of_scope": len(out_of_scope), "threshold": threshold,
            "ours": ours.figures(), "ours_shown_hit@3": ours_shown.figures()["hit@3"],
            "bm25": plain.figures(), "pg_fts": fts.figures(),
            "oos_silent": silent / max(len(out_of_scope), 1), "pg_fts_oos_silent": fts_silent / max(len(out_of_scope), 1),
        }
    return results


def _synthetic_articles(count: int, seed: int = 10):
    """Articles that read like a large help center's: the demo articles' parts recombined."""
    rng = random.Random(seed)
    pool = []
    for slug in BRANDS:
        content = json.loads((HERE / "knowledge" / "demo_content" / f"{slug}.json").read_text())
        pool += content["articles"]
    paragraphs = [p for a in pool for p in a["body"].split("\n\n") if p.strip()]
    products = sorted({p for a in pool for p in a.get("product_ids", [])}) + [f"SKU-{n:05d}" for n in range(400)]
    items = []
    for n in range(count):
        base, other = rng.choice(pool), rng.choice(pool)
        items.append({
            "slug": f"{base['slug']}-{n}", "title": f"{base['title']} ({rng.choice(other['title'].split())} {n})",
            "summary": f"{base['summary']} {other['summary'][: rng.randint(0, 120)]}",
            "body": "\n\n".join(rng.sample(paragraphs, 6)), "tags": rng.sample(base.get("tags", []) + other.get("tags", []), 3),
            "product_ids": rng.sample(products, 2), "category": base["category"],
        })
    return items


def latency(brand_create) -> dict:
    from django.db import connection, transaction
    from django_tenants.utils import schema_context

    from knowledge.models import Article, Category
    from knowledge.selectors import suggestions_for
    from knowledge.sentence_encoder import SentenceEncoder
    from knowledge.suggest import brand_ranker_get, ranker_articles_changed, ranker_memory, rankers_forget

    brand = brand_create(name="Large help center", slug="large").brand
    queries = [i for slug in BRANDS for i in _problems(slug)[0]]
    rng = random.Random(5)
    with schema_context(brand.schema_name):
        categories = {}
        for position, name in enumerate(["general", "shipping", "returns", "payments", "setup", "warranty", "repairs", "accounts"]):
            categories[name] = Category.objects.create(slug=name, name=name.title(), position=position)
        items = _synthetic_articles(LATENCY_ARTICLES)
        # Bulk-inserted, not through articles_import: the Whoosh page index is not what is
        # measured here, and indexing 10,000 articles into it would take minutes.
        with transaction.atomic():
            Article.objects.bulk_create(
                [Article(slug=i["slug"], title=i["title"][:200], summary=i["summary"][:400], body=i["body"], tags=i["tags"],
                         product_ids=i["product_ids"], category=categories[i["category"]]) for i in items],
                batch_size=1000,
            )
            ranker_articles_changed()
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE INDEX bench_article_fts ON knowledge_article USING gin (({FTS_DOCUMENT}))")
            cursor.execute("ANALYZE knowledge_article")
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started = time.perf_counter()
        brand_ranker_get()
        build_seconds = time.perf_counter() - started
        rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        rankers_forget()  # as a new process: nothing in memory, the shared cache warm
        started = time.perf_counter()
        brand_ranker_get()
        warm_build_seconds = time.perf_counter() - started
        started = time.perf_counter()
        encoder = SentenceEncoder()
        encoder_load_seconds = time.perf_counter() - started
        encode_ms, query_tokens = [], []
        for item in queries[:200]:
            query_tokens.append(len(encoder.tokenizer.encode(item["text"]).ids))
            t0 = time.perf_counter()
            encoder.embed([item["text"]], max_tokens=64)
            encode_ms.append((time.perf_counter() - t0) * 1000)
        del encoder
        category_list = list(categories.values())
        ours, fts = [], []
        for round_ in range(LATENCY_QUERIES + 20):
            item = rng.choice(queries)
            text = f"{item['text']} {item['product_id']}".strip()
            category = rng.choice(category_list)
            first_ours = round_ % 2 == 0  # take turns going first: neither side gets the warm cache
            for side in ("ours", "fts") if first_ours else ("fts", "ours"):
                t0 = time.perf_counter()
                if side == "ours":
                    suggestions_for(category=category, text=item["text"], product_id=item["product_id"], custom_fields=item["custom_fields"])
                else:
                    with connection.cursor() as cursor:
                        cursor.execute(FTS_QUERY, [text, text, 5])
                        ids = [row[0] for row in cursor.fetchall()]
                    list(Article.objects.filter(pk__in=ids).select_related("category"))
                elapsed = (time.perf_counter() - t0) * 1000
                if round_ >= 20:  # the first rounds warm both up
                    (ours if side == "ours" else fts).append(elapsed)
        memory = ranker_memory()
    p95 = lambda xs: statistics.quantiles(xs, n=20)[18]  # noqa: E731
    return {
        "articles": LATENCY_ARTICLES, "queries": len(ours), "build_seconds": build_seconds,
        "ours_p50": statistics.median(ours), "ours_p95": p95(ours), "fts_p50": statistics.median(fts), "fts_p95": p95(fts),
        "brand_bytes": memory.get(brand.schema_name, 0), "model_bytes": memory.get("(shared model)", 0),
        "warm_build_seconds": warm_build_seconds, "encoder_load_seconds": encoder_load_seconds,
        "encode_p50": statistics.median(encode_ms), "encode_p95": statistics.quantiles(encode_ms, n=20)[18],
        "query_tokens_max": max(query_tokens), "query_tokens_p50": statistics.median(query_tokens),
        "rss_growth_mb": (rss_after - rss_before) / 1024,
    }


def main(argv: list[str]) -> None:
    from bench.django_setup import setup

    setup(DATABASE)
    from django.db import connection

    from tenants.services import brand_create

    with connection.cursor() as cursor:
        cursor.execute(FTS_FUNCTION)

    quality_figures = quality(brand_create)
    print(f"Quality on the {SPLIT} half (hit@1 / hit@3 / MRR):")
    print(f"{'brand':8} {'n':>4}  {'ours':>20}  {'plain BM25':>20}  {'PostgreSQL FTS':>20}  {'hit@3 vs BM25':>13}")
    for slug, f in quality_figures.items():
        row = lambda d: f"{d['hit@1']:.2f} / {d['hit@3']:.2f} / {d['MRR']:.2f}"  # noqa: E731
        print(f"{slug:8} {f['in_scope']:>4}  {row(f['ours']):>20}  {row(f['bm25']):>20}  {row(f['pg_fts']):>20}  {f['ours']['hit@3'] - f['bm25']['hit@3']:>+13.2f}")
    print("Threshold (per brand, default): out-of-scope with nothing suggested; in-scope hit@3 of what is shown and what the threshold costs:")
    for slug, f in quality_figures.items():
        print(
            f"  {slug:8} threshold {f['threshold']:.2f}: nothing suggested for {f['oos_silent']:.0%} of {f['out_of_scope']} out-of-scope "
            f"(PostgreSQL FTS finds nothing for {f['pg_fts_oos_silent']:.0%}); shown hit@3 {f['ours_shown_hit@3']:.2f}, "
            f"drop {f['ours']['hit@3'] - f['ours_shown_hit@3']:.2f}"
        )
    if SPLIT == "tune":
        return
    lat = latency(brand_create)
    print(f"Latency with {lat['articles']:,} articles in one brand, {lat['queries']} queries (ms):")
    print(f"  ours p50 {lat['ours_p50']:.2f}  p95 {lat['ours_p95']:.2f}   PostgreSQL FTS p50 {lat['fts_p50']:.2f}  p95 {lat['fts_p95']:.2f}")
    print(f"  ratio p95 ours / PostgreSQL FTS: {lat['ours_p95'] / lat['fts_p95']:.2f}x  (target <= 1.5x)")
    print(
        f"Memory: this brand's ranker {lat['brand_bytes'] / 2**20:.1f} MiB (first build {lat['build_seconds']:.1f} s, "
        f"a new process with the shared cache {lat['warm_build_seconds']:.1f} s); "
        f"the models, shared by every brand in a process, {lat['model_bytes'] / 2**20:.1f} MiB; process peak RSS grew {lat['rss_growth_mb']:.0f} MiB during the build"
    )
    print(
        f"Sentence encoder: loaded in {lat['encoder_load_seconds']:.2f} s; one problem ({lat['query_tokens_p50']:.0f} tokens median, "
        f"{lat['query_tokens_max']} max) encoded in p50 {lat['encode_p50']:.1f} ms, p95 {lat['encode_p95']:.1f} ms"
    )


if __name__ == "__main__":
    main([])
