"""Help center, surveys and chat settings through the brand API."""

import pytest
from django_tenants.utils import schema_context

from chat.models import CannedReply, CustomField
from knowledge.models import Article, Category
from knowledge.search import search_articles
from tests.api.conftest import BrandAPI, issue

pytestmark = pytest.mark.django_db

# The search folder outlives each test's rolled-back transaction, so earlier tests'
# articles may still be in the index: assertions on it look for this test's article.

ARTICLE = {"slug": "track-parcel", "title": "Track your parcel", "category": "shipping", "summary": "Where your parcel is", "body": "Use the **tracking link** from your email.", "tags": ["delivery"]}


@pytest.fixture
def article(api_alpha, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = api_alpha.post("articles", ARTICLE)
    assert response.status_code == 201, response.content
    return response.json()


def test_article_create_read_and_index(api_alpha, article):
    assert article["body_html"].startswith("<p>Use the <strong>tracking link</strong>")
    with schema_context("brand_alpha"):
        assert article["id"] in search_articles(query="tracking link")
    assert api_alpha.get(f"articles/{article['id']}").json()["slug"] == "track-parcel"
    assert [row["id"] for row in api_alpha.get("articles", {"category": "shipping"}).json()["results"]] == [article["id"]]
    assert api_alpha.get("articles", {"category": "returns"}).json()["results"] == []


def test_article_etag(api_alpha, article, django_capture_on_commit_callbacks):
    path = f"articles/{article['id']}"
    first = api_alpha.get(path)
    etag = first["ETag"]
    assert etag
    cached = api_alpha.get(path, HTTP_IF_NONE_MATCH=etag)
    assert cached.status_code == 304 and cached.content == b""
    with django_capture_on_commit_callbacks(execute=True):
        assert api_alpha.patch(path, {"title": "Track a parcel"}).status_code == 200
    changed = api_alpha.get(path, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed["ETag"] != etag and changed.json()["title"] == "Track a parcel"


def test_unpublish_publish_and_delete_follow_the_index(api_alpha, article, django_capture_on_commit_callbacks):
    path = f"articles/{article['id']}"
    with django_capture_on_commit_callbacks(execute=True):
        assert api_alpha.post(f"{path}/unpublish").json()["is_published"] is False
    with schema_context("brand_alpha"):
        assert article["id"] not in search_articles(query="tracking link")
    with django_capture_on_commit_callbacks(execute=True):
        assert api_alpha.post(f"{path}/publish").json()["is_published"] is True
    with schema_context("brand_alpha"):
        assert article["id"] in search_articles(query="tracking link")
    with django_capture_on_commit_callbacks(execute=True):
        assert api_alpha.delete(path).status_code == 204
    with schema_context("brand_alpha"):
        assert article["id"] not in search_articles(query="tracking link")
        assert not Article.objects.filter(pk=article["id"]).exists()
    assert api_alpha.get(path).status_code == 404


def test_search_and_suggest(api_alpha, article):
    results = api_alpha.get("articles/search", {"q": "tracking"}).json()["results"]
    assert [row["id"] for row in results] == [article["id"]]  # only rows the database has
    assert api_alpha.get("articles/search").status_code == 400
    suggested = api_alpha.post("articles/suggest", {"category": "shipping", "text": "where is my parcel tracking"})
    assert suggested.status_code == 200, suggested.content
    assert suggested.json()["suggestions"], suggested.json()
    first = suggested.json()["suggestions"][0]
    assert first["article"]["id"] == article["id"] and "score" in first
    assert api_alpha.post("articles/suggest", {"category": "nope", "text": "x"}).status_code == 400


def test_a_read_key_may_ask_for_suggestions(api_alpha_read):
    response = api_alpha_read.post("articles/suggest", {"category": "shipping", "text": "parcel"})
    assert response.status_code == 200 and "suggestions" in response.json()
    assert api_alpha_read.post("articles", ARTICLE).status_code == 403


def test_articles_of_brand_b_are_invisible(api_alpha, beta, django_capture_on_commit_callbacks):
    beta_api = BrandAPI(slug="beta", key=issue("beta"))
    with django_capture_on_commit_callbacks(execute=True):
        beta_article = beta_api.post("articles", {**ARTICLE, "category": "setup", "slug": "beta-only", "body": "beta secret words"}).json()
    with schema_context("brand_alpha"):
        alpha_ids = set(Article.objects.values_list("id", flat=True))
    assert api_alpha.get("articles").json()["results"] == []
    assert api_alpha.get("articles/search", {"q": "secret"}).json()["results"] == []
    if beta_article["id"] not in alpha_ids:
        assert api_alpha.get(f"articles/{beta_article['id']}").status_code == 404
        assert api_alpha.patch(f"articles/{beta_article['id']}", {"title": "x"}).status_code == 404


def test_article_validation(api_alpha):
    response = api_alpha.post("articles", {**ARTICLE, "category": "no-such"})
    assert response.status_code == 400 and "category" in response.json()["errors"]
    response = api_alpha.post("articles", {"title": "x"})
    assert response.status_code == 400 and response.json()["code"] == "invalid"


def test_categories_crud(api_alpha):
    created = api_alpha.post("categories", {"slug": "billing", "name": "Billing"})
    assert created.status_code == 201, created.content
    path = f"categories/{created.json()['id']}"
    assert api_alpha.patch(path, {"name": "Billing and invoices"}).json()["name"] == "Billing and invoices"
    assert api_alpha.delete(path).status_code == 204
    with schema_context("brand_alpha"):
        shipping = Category.objects.get(slug="shipping")
        Article.objects.create(slug="x", title="x", category=shipping, summary="x", body="x")
    in_use = api_alpha.delete(f"categories/{shipping.id}")
    assert in_use.status_code == 409 and in_use.json()["code"] == "category_in_use"


def test_survey_responses_filters(api_alpha, seeded):
    rows = api_alpha.get("survey-responses").json()["results"]
    assert [(row["rating"], row["comment"]) for row in rows] == [(4, "alpha was fine")]
    assert api_alpha.get("survey-responses", {"rating": 5}).json()["results"] == []
    assert len(api_alpha.get("survey-responses", {"rating_min": 3, "rating_max": 4}).json()["results"]) == 1
    assert len(api_alpha.get("survey-responses", {"agent": seeded["alpha"]["agent"].id}).json()["results"]) == 1
    assert api_alpha.get("survey-responses", {"agent": seeded["beta"]["agent"].id}).json()["results"] == []
    assert api_alpha.get("survey-responses", {"answered_after": "2999-01-01T00:00:00Z"}).json()["results"] == []


def test_custom_fields_read_and_update(api_alpha, api_alpha_read):
    with schema_context("brand_alpha"):
        field = CustomField.objects.create(key="order", label="Order number")
    assert [row["key"] for row in api_alpha.get("custom-fields").json()["results"]] == ["order"]
    updated = api_alpha.patch(f"custom-fields/{field.id}", {"label": "Order no.", "required": True})
    assert updated.status_code == 200 and updated.json()["required"] is True
    assert api_alpha.patch(f"custom-fields/{field.id}", {"field_type": "weird"}).status_code == 400
    assert api_alpha_read.patch(f"custom-fields/{field.id}", {"label": "x"}).status_code == 403


def test_canned_replies_crud(api_alpha):
    created = api_alpha.post("canned-replies", {"shortcut": "hello", "title": "Hello", "body": "Hi {customer_name}"})
    assert created.status_code == 201, created.content
    path = f"canned-replies/{created.json()['id']}"
    assert api_alpha.patch(path, {"title": "Greeting"}).json()["title"] == "Greeting"
    duplicate = api_alpha.post("canned-replies", {"shortcut": "hello", "title": "Again", "body": "x"})
    assert duplicate.status_code == 400
    assert api_alpha.delete(path).status_code == 204
    with schema_context("brand_alpha"):
        assert not CannedReply.objects.exists()


def test_business_hours(api_alpha, alpha):
    hours = {"mon": [["08:00", "12:00"], ["13:00", "17:00"]]}
    assert api_alpha.put("business-hours", {"business_hours": hours}).json()["business_hours"] == hours
    alpha.refresh_from_db()
    assert alpha.business_hours == hours
    bad = api_alpha.put("business-hours", {"business_hours": {"mon": [["17:00", "08:00"]]}})
    assert bad.status_code == 400 and bad.json()["code"] == "invalid"
    assert api_alpha.get("business-hours").json()["time_zone"] == "UTC"


def test_agents_are_the_brands_staff(api_alpha, seeded):
    rows = api_alpha.get("agents").json()["results"]
    assert [row["agent_id"] for row in rows] == [seeded["alpha"]["agent"].id]
