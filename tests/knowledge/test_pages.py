"""The help center pages on a brand host: per-brand content, search, escaping."""

import hashlib

import pytest
from django.test import Client
from django.utils import timezone
from django_tenants.utils import schema_context

from chat.models import Conversation
from knowledge.models import Article, Category
from knowledge.search import search_index_rebuild
from surveys.models import Survey

HOSTILE = '<img src=x onerror=alert(1)><script>alert(2)</script>'


def host(slug):
    return {"HTTP_HOST": f"{slug}.localhost"}


def article_create(slug_brand, **fields):
    with schema_context(f"brand_{slug_brand}"):
        category = Category.objects.order_by("position").first()
        article = Article.objects.create(category=category, **{"summary": "A summary", "body": "Some *text*.", **fields})
        search_index_rebuild()
        return article


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("slug, name, category", [("alpha", "Alpha Outdoor", "Shipping"), ("beta", "Beta Devices", "Warranty")])
def test_support_home_shows_the_brand_its_topics_and_the_chat_link(alpha, beta, slug, name, category):
    response = Client().get("/support/", **host(slug))
    assert response.status_code == 200
    html = response.content.decode()
    assert name in html and category in html
    assert 'href="/chat/"' in html and "Chat with us" in html
    assert Client().get("/", **host(slug)).status_code == 302


@pytest.mark.django_db(transaction=True)
def test_article_page_renders_markdown_counts_views_and_stays_in_its_brand(alpha, beta):
    article = article_create("alpha", slug="tent-care", title="Caring for your tent", body="## Dry it\n\nAlways **dry** the tent.", is_popular=True)
    client = Client()
    page = client.get("/support/articles/tent-care/", **host("alpha"))
    assert page.status_code == 200
    assert "<strong>dry</strong>" in page.content.decode()
    with schema_context("brand_alpha"):
        assert Article.objects.get(pk=article.pk).view_count == 1
    assert "Caring for your tent" in client.get("/support/", **host("alpha")).content.decode()
    assert client.get("/support/articles/tent-care/", **host("beta")).status_code == 404
    assert "Caring for your tent" not in client.get("/support/", **host("beta")).content.decode()
    assert client.get("/support/categories/general/", **host("alpha")).status_code == 200
    assert client.get("/support/categories/general/", **host("beta")).status_code == 404
    assert client.get("/support/articles/tent-care/", HTTP_HOST="nobody.localhost").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_search_finds_the_brands_articles_only(alpha, beta):
    article_create("alpha", slug="parcel-tracking", title="Track your parcel", summary="Where is my parcel")
    article_create("beta", slug="firmware", title="Update the firmware", summary="Firmware updates")
    client = Client()
    found = client.get("/support/search/?q=parcel", **host("alpha")).content.decode()
    assert "/support/articles/parcel-tracking/" in found and "firmware" not in found
    other = client.get("/support/search/?q=parcel", **host("beta")).content.decode()
    assert "parcel-tracking" not in other and "Nothing matched" in other


@pytest.mark.django_db(transaction=True)
def test_hostile_strings_are_escaped(alpha):
    article_create("alpha", slug="hostile", title=HOSTILE, summary=HOSTILE, body=f"Hi {HOSTILE} [x](javascript:alert(3))", is_popular=True)
    client = Client()
    for path in ["/support/", "/support/articles/hostile/", f"/support/search/?q={HOSTILE}", "/support/categories/general/"]:
        html = client.get(path, **host("alpha")).content.decode()
        assert "<img src=x" not in html and "<script>alert" not in html and "javascript:" not in html, path
    assert "&lt;img src=x onerror=alert(1)&gt;" in client.get("/support/articles/hostile/", **host("alpha")).content.decode()


@pytest.mark.django_db(transaction=True)
def test_chat_page_is_embeddable_and_widget_script_is_javascript(alpha):
    client = Client()
    page = client.get("/chat/", **host("alpha"))
    assert page.status_code == 200 and "X-Frame-Options" not in page.headers
    assert "chat/chat.js" in page.content.decode()
    assert client.get("/support/", **host("alpha")).headers["X-Frame-Options"] == "DENY"
    script = client.get("/widget.js", **host("alpha"))
    assert script.status_code == 200 and script.headers["Content-Type"].startswith("application/javascript")
    assert "Alpha Outdoor" in script.content.decode()


@pytest.mark.django_db(transaction=True)
def test_emailed_survey_link_is_single_use(alpha):
    token = "a-survey-token"
    with schema_context("brand_alpha"):
        conversation = Conversation.objects.create(
            token_hash="x" * 64, category=Category.objects.first(), customer_name="Dana", customer_email="dana@example.com", summary="Help",
            state=Conversation.State.ENDED, agent_id=1, agent_name="Alice", ended_at=timezone.now(),
        )
        Survey.objects.create(conversation=conversation, agent_id=1, email_token_hash=hashlib.sha256(token.encode()).hexdigest())
    client = Client()
    form = client.get(f"/survey/{token}/", **host("alpha"))
    assert form.status_code == 200 and 'name="rating"' in form.content.decode()
    bad = client.post(f"/survey/{token}/", {"rating": "9"}, **host("alpha"))
    assert bad.status_code == 400 and "Choose a rating" in bad.content.decode()
    done = client.post(f"/survey/{token}/", {"rating": "4", "comment": "Quick"}, **host("alpha"))
    assert done.status_code == 200 and "Thank you" in done.content.decode()
    with schema_context("brand_alpha"):
        survey = Survey.objects.get(conversation=conversation)
        assert (survey.rating, survey.comment, survey.answered_via) == (4, "Quick", "email")
    again = client.get(f"/survey/{token}/", **host("alpha"))
    assert again.status_code == 404 and "already been used" in again.content.decode()
    assert client.get("/survey/unknown/", **host("alpha")).status_code == 404
    assert client.get(f"/survey/{token}/", **host("beta")).status_code == 404
