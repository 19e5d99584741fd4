"""Fitting the suggestion ranker's weights and default threshold, on the TUNING half of
tests/data/suggestions_<brand>.json only (never the held-out half that bench/suggestions.py
reports). No database: the demo articles are turned into `ArticleDoc`s as
`knowledge.services.articles_import` stores them, each signal is computed once per problem,
and the weighted sum is searched over a grid, the way `BrandRanker.score` combines it.

`python -m bench suggestions_fit` prints the best grid points (mean hit@3 and MRR over both
brands, then the threshold that keeps out-of-scope silent at the smallest hit@3 cost).
Not part of `make bench`: it is a tool, its result is the constants in knowledge/ranking.py.
"""

import itertools
import json
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent.parent
BRANDS = ["acme", "globex"]


def _signals(slug: str, *, split: str = "tune"):
    from knowledge.embedding import embedder_get
    from knowledge.ranking import ArticleDoc, BrandRanker, Problem, product_key
    from knowledge.selectors import _custom_field_words
    from knowledge.sentence_encoder import sentence_encoder_get

    content = json.loads((HERE / "knowledge" / "demo_content" / f"{slug}.json").read_text())
    names = {c["slug"]: c["name"] for c in content["categories"]}
    docs = [
        ArticleDoc(id=i + 1, slug=a["slug"], title=a["title"], summary=a.get("summary", ""), body=a.get("body", ""), tags=a.get("tags", []),
                   category=a["category"], category_name=names[a["category"]], product_ids=a.get("product_ids", []))
        for i, a in enumerate(content["articles"]) if a.get("is_published", True)
    ]
    ranker = BrandRanker(docs, locale="en", embedder=embedder_get(), encoder=sentence_encoder_get())
    data = json.loads((HERE / "tests" / "data" / f"suggestions_{slug}.json").read_text())
    rows = []
    for kind in ("in_scope", "out_of_scope"):
        for item in (i for i in data[kind] if i["split"] == split):
            problem = Problem(text=item["text"], category=item["category"], product_id=item.get("product_id", ""),
                              extra=_custom_field_words(item.get("custom_fields")))
            _, signals = ranker.score(problem)
            n = len(docs)
            product = np.zeros(n, dtype=np.float32)
            key = product_key(problem.product_id)
            for i in ranker.products.get(key, []) if key else []:
                product[i] = 1.0
            rows.append({
                "kind": kind, "answers": {d.id - 1 for d in docs if d.slug in item.get("answers", [])},
                "lexical": signals["lexical"], "head": np.maximum(signals.get("semantic_head", np.zeros(n)), 0),
                "body": np.maximum(signals.get("semantic_body", np.zeros(n)), 0), "dense": np.maximum(signals.get("dense", np.zeros(n)), 0),
                "category": (ranker.categories == problem.category).astype(np.float32), "product": product,
            })
    return rows


def _total(row, w):
    total = w["lexical"] * row["lexical"] + w["semantic_head"] * row["head"] + w["semantic_body"] * row["body"] + w["dense"] * row["dense"]
    total = total + w["category"] * row["category"]
    return total + w["product"] * row["product"] * (total > 0.15)


def evaluate(rows, w, *, threshold=None, relative_cut=0.6):
    hits, rr, shown_hits, silent, oos = 0, 0.0, 0, 0, 0
    inscope = [r for r in rows if r["kind"] == "in_scope"]
    for row in rows:
        total = _total(row, w)
        order = np.argsort(-total, kind="stable")[:5]
        if row["kind"] == "out_of_scope":
            oos += 1
            silent += threshold is not None and total[order[0]] < threshold
            continue
        rank = next((k for k, i in enumerate(order) if i in row["answers"]), None)
        hits += rank is not None and rank < 3
        rr += 1 / (rank + 1) if rank is not None else 0
        if threshold is not None and total[order[0]] >= threshold:
            floor = max(threshold, total[order[0]] * relative_cut)
            shown = [i for i in order[:3] if total[i] >= floor]
            shown_hits += any(i in row["answers"] for i in shown)
    n = max(len(inscope), 1)
    return {"hit@3": hits / n, "MRR": rr / n, "shown_hit@3": shown_hits / n, "oos_silent": silent / max(oos, 1)}


def main(argv: list[str]) -> None:
    import os

    import django

    # Settings only (knowledge.selectors imports the models); no database is touched.
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    django.setup()
    from knowledge.ranking import WEIGHTS

    rows = {slug: _signals(slug) for slug in BRANDS}
    grid = {
        "lexical": [0.35, 0.55, 0.75], "semantic_head": [0.0, 0.2, 0.45], "semantic_body": [0.0, 0.15, 0.25],
        "dense": [0.0, 0.3, 0.5, 0.7, 0.9], "category": [0.03, 0.06, 0.1], "product": [0.1, 0.15, 0.25],
    }
    print("current weights:", WEIGHTS, {s: evaluate(rows[s], WEIGHTS) for s in BRANDS})
    results = []
    for values in itertools.product(*grid.values()):
        w = dict(zip(grid, values))
        figures = {s: evaluate(rows[s], w) for s in BRANDS}
        results.append((min(f["hit@3"] for f in figures.values()), np.mean([f["MRR"] for f in figures.values()]), w, figures))
    results.sort(key=lambda r: (-r[0], -r[1]))
    for low, mrr, w, figures in results[:10]:
        print(f"min hit@3 {low:.3f}  mean MRR {mrr:.3f}  {w}  " + "  ".join(f"{s} {f['hit@3']:.3f}/{f['MRR']:.3f}" for s, f in figures.items()))
    best = results[0][2]
    print("threshold sweep for", best)
    for threshold in np.arange(0.10, 0.60, 0.02):
        figures = {s: evaluate(rows[s], best, threshold=float(threshold)) for s in BRANDS}
        print(f"  {threshold:.2f}  " + "  ".join(
            f"{s} silent {f['oos_silent']:.0%} shown {f['shown_hit@3']:.3f} (drop {f['hit@3'] - f['shown_hit@3']:.3f})" for s, f in figures.items()))
