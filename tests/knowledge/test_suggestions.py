"""Suggestions: every write path keeps the search index and the ranker in step, brands never
mix, the threshold means nothing is suggested, and hostile input never breaks the widget."""

import threading

import pytest
from django.contrib.admin.sites import AdminSite
from django.db import connection
from django.test import Client, RequestFactory
from django_tenants.utils import schema_context

from knowledge.admin import ArticleAdmin
from knowledge.models import Article, Category, SuggestionOutcome
from knowledge.search import search_articles, search_index_rebuild
from knowledge.selectors import suggestions_for
from knowledge.services import (
    article_delete, article_publish_set, article_upsert, article_vote, articles_import, suggestion_outcome_record,
    suggestion_settings_update,
)
from knowledge.suggest import brand_ranker_get
from knowledge.ranking import Problem
from tests.factories import next_ids_aligned

ALPHA = {"HTTP_HOST": "alpha.localhost"}

BOOTS = dict(
    slug="boot-sizing", title="Hiking boot sizing: EU, UK and US conversions",
    summary="Find your boot size and what to do when boots feel too tight or too loose.",
    body="If your heel lifts or slips when you walk, the boot is too long: choose half a size down.", tags=["boots", "sizing"],
)
REFUNDS = dict(
    slug="refund-timing", title="When will I get my refund?",
    summary="Refunds reach your card within 5 business days of your return arriving.", body="We refund the original payment method.",
    tags=["refund", "money back"],
)


@pytest.fixture(autouse=True)
def _fresh_indexes(request):
    """The database is emptied between tests, the per-run Whoosh folders are not: start
    each test from an index that matches the (empty) database."""
    if "alpha" in request.fixturenames or "beta" in request.fixturenames:
        for schema in ("brand_alpha", "brand_beta"):
            with schema_context(schema):
                search_index_rebuild()


def category(slug="general"):
    return Category.objects.get(slug=slug)


def upsert(spec, **extra):
    return article_upsert(category=category(extra.pop("category", "general")), **{**spec, **extra})


def suggested_slugs(text, *, category_slug="general", **kwargs):
    return [a.slug for a in suggestions_for(category=category(category_slug), text=text, **kwargs)]


def start(client, **overrides):
    data = {"name": "Dana", "email": "dana@example.com", "category": "general", "summary": "my heel slips in the new boots"}
    data.update(overrides)
    return client.post("/api/widget/v1/conversations", data, content_type="application/json", **ALPHA)


@pytest.mark.django_db(transaction=True)
def test_service_writes_reach_the_index_and_the_suggestions_at_once(alpha):
    with schema_context("brand_alpha"):
        boots = upsert(BOOTS)
        upsert(REFUNDS, category="returns")
        # No reindex in between: the service's on-commit hooks did it.
        assert search_articles(query="boots") == [boots.pk]
        assert suggested_slugs("my heel slips in the new boots")[0] == "boot-sizing"

        upsert(BOOTS, title="Walking shoe sizing")
        assert search_articles(query="walking") == [boots.pk]

        article_publish_set(article=boots, is_published=False)
        assert search_articles(query="boots") == []
        assert "boot-sizing" not in suggested_slugs("my heel slips in the new boots")

        article_publish_set(article=boots, is_published=True)
        assert "boot-sizing" in suggested_slugs("my heel slips in the new boots")
        article_delete(article=Article.objects.get(slug="boot-sizing"))
        assert search_articles(query="boots") == []
        assert "boot-sizing" not in suggested_slugs("my heel slips in the new boots")

        articles_import(items=[{**BOOTS, "category": "general", "product_ids": ["AO-BT-RIDGE"]}], categories={"general": category()})
        assert search_articles(query="boots") == [Article.objects.get(slug="boot-sizing").pk]
        found = suggestions_for(category=category(), text="they slip at the heel", product_id="ao bt ridge")
        assert found[0].slug == "boot-sizing" and found[0].suggestion_why["product"] == "ao bt ridge"


@pytest.mark.django_db(transaction=True)
def test_admin_saves_deletes_and_bulk_unpublish_reach_the_index(alpha):
    admin = ArticleAdmin(Article, AdminSite())
    request = RequestFactory().post("/admin/")
    with schema_context("brand_alpha"):
        article = Article(category=category(), **BOOTS)
        admin.save_model(request, article, form=None, change=False)
        assert search_articles(query="boots") == [article.pk]
        assert suggested_slugs("my heel slips in the new boots") == ["boot-sizing"]

        admin.unpublish(request, Article.objects.filter(pk=article.pk))
        assert search_articles(query="boots") == [] and suggested_slugs("my heel slips in the new boots") == []
        admin.publish(request, Article.objects.filter(pk=article.pk))
        assert search_articles(query="boots") == [article.pk]

        admin.delete_queryset(request, Article.objects.filter(pk=article.pk))
        assert search_articles(query="boots") == [] and suggested_slugs("my heel slips in the new boots") == []


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_writers_lose_nothing(alpha):
    errors = []
    barrier = threading.Barrier(2)

    def write(index):
        try:
            with schema_context("brand_alpha"):
                barrier.wait(timeout=10)
                for n in range(5):
                    upsert({**BOOTS, "slug": f"writer-{index}-{n}", "title": f"Parcel number {index}{n} sizing"})
        except Exception as exc:  # reported below: a thread's exception is otherwise lost
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    with schema_context("brand_alpha"):
        assert len(search_articles(query="parcel", limit=50)) == 10
        assert Article.objects.count() == 10


@pytest.mark.django_db(transaction=True)
def test_suggestions_and_learning_stay_inside_their_brand(alpha, beta):
    next_ids_aligned(Article, "brand_alpha", "brand_beta")
    with schema_context("brand_beta"):
        beta_article = article_upsert(category=category("setup"), **BOOTS)
    with schema_context("brand_alpha"):
        assert suggested_slugs("my heel slips in the new boots") == []  # beta's article is not alpha's
        assert upsert(BOOTS).pk == beta_article.pk  # ids repeat across brands
        other = upsert({**BOOTS, "slug": "boot-care", "title": "Boot care and waterproofing", "summary": "Keep boots dry."})
    with schema_context("brand_beta"):
        before = {s.article_id: s.score for s in brand_ranker_get().rank(Problem(text="my boots are loose"), limit=5)}
    with schema_context("brand_alpha"):
        for _ in range(5):
            suggestion_outcome_record(problem="my boots are loose", article_ids=[other.pk], outcome="solved")
        alpha_ranked = brand_ranker_get().rank(Problem(text="my boots are loose"), limit=5)
        assert alpha_ranked[0].article_id == other.pk  # learning moved alpha's ranking
        assert SuggestionOutcome.objects.count() == 5
    with schema_context("brand_beta"):
        after = {s.article_id: s.score for s in brand_ranker_get().rank(Problem(text="my boots are loose"), limit=5)}
        assert after == before and list(after) == [beta_article.pk]
        assert SuggestionOutcome.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_rejections_and_votes_move_the_ranking(alpha):
    with schema_context("brand_alpha"):
        first = upsert(BOOTS)
        second = upsert({**BOOTS, "slug": "boot-fit", "title": "Hiking boot fit: EU, UK and US conversions"})
        ranked = [s.article_id for s in brand_ranker_get().rank(Problem(text="boot size conversion"), limit=2)]
        top, runner_up = ranked
        for _ in range(4):
            suggestion_outcome_record(problem="boot size conversion", article_ids=[top], outcome="rejected")
            suggestion_outcome_record(problem="boot size conversion", article_ids=[runner_up], outcome="solved")
        assert [s.article_id for s in brand_ranker_get().rank(Problem(text="boot size conversion"), limit=2)] == [runner_up, top]
        article_vote(article=first, helpful=True)
        assert Article.objects.get(pk=first.pk).helpful_count == 1 and {first.pk, second.pk} == {top, runner_up}


@pytest.mark.django_db(transaction=True)
def test_below_the_threshold_nothing_is_suggested_and_the_response_carries_scores(alpha):
    with schema_context("brand_alpha"):
        upsert(BOOTS)
        upsert(REFUNDS, category="returns")
    client = Client()
    created = start(client)
    assert created.status_code == 201
    suggestions = created.json()["suggestions"]
    assert suggestions[0]["slug"] == "boot-sizing"
    assert 0 < suggestions[0]["score"] and "heel" in suggestions[0]["why"]["words"]
    assert [s["slug"] for s in suggestions] == ["boot-sizing"]  # the refund article is not padding
    body = created.json()
    reloaded = client.get(f"/api/widget/v1/conversations/{body['id']}", HTTP_AUTHORIZATION=f"Bearer {body['token']}", **ALPHA)
    assert reloaded.status_code == 200
    assert [(s["slug"], s["score"], s["why"]) for s in reloaded.json()["suggestions"]] == [
        (s["slug"], s["score"], s["why"]) for s in suggestions
    ]  # a reloaded widget shows what the customer saw

    unrelated = start(client, summary="who won the football last night")
    assert unrelated.status_code == 201 and unrelated.json()["suggestions"] == []

    with schema_context("brand_alpha"):
        suggestion_settings_update(threshold=suggestions[0]["score"] + 0.01)
    assert start(client).json()["suggestions"] == []


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("summary", ["?!?!...", "-", "-boots", "x" * 10_000, "🥾🥾 💸", "boots " * 2000, '"unclosed AND OR NOT (', "\u200b"])
def test_hostile_problems_give_a_sane_answer(alpha, summary):
    with schema_context("brand_alpha"):
        upsert(BOOTS)
    client = Client()
    response = start(client, summary=summary)
    assert response.status_code in (201, 400), response.content
    if response.status_code == 201:
        assert isinstance(response.json()["suggestions"], list) and len(response.json()["suggestions"]) <= 5
    page = client.get("/support/search/", {"q": summary}, **ALPHA)
    assert page.status_code == 200
    with schema_context("brand_alpha"):
        assert len(suggestions_for(category=category(), text=summary)) <= 5
        if summary.strip("?!.-\u200b\"( ") == "":
            assert search_articles(query=summary) == []  # punctuation never matches everything


@pytest.mark.django_db(transaction=True)
def test_rebuild_keeps_answering_and_reports_progress(alpha, beta, call):
    with schema_context("brand_alpha"):
        boots = upsert(BOOTS)
        Article.objects.filter(pk=boots.pk).update(title="Trail shoe sizing")  # a write that bypassed the services
        assert search_index_rebuild() == 1
        assert search_articles(query="trail") == [boots.pk]
    out = call("reindex_help_center", "alpha")
    assert "[1/1] alpha [" in out and "1/1" in out and "Indexed 1 articles across 1 brand(s)" in out
