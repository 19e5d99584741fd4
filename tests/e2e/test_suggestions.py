"""Step 5 in a browser, on the demo store's help center (knowledge/demo_content/acme.json,
loaded into the session brand alpha through knowledge.services): a problem worded unlike
any title shows the right article, and a message no article answers goes straight to
"Chat with an agent" with nothing suggested."""

import json
from pathlib import Path

import pytest
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from knowledge.search import search_index_rebuild
from knowledge.services import articles_import, category_upsert
from knowledge.suggest import brand_ranker_get
from tenants.models import Brand
from tests.e2e.test_customer_journey import fill_prechat

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DEMO = Path(__file__).resolve().parents[2] / "knowledge" / "demo_content" / "acme.json"


@pytest.fixture
def alpha_with_the_demo_help_center(alpha):
    Brand.objects.filter(pk=alpha.pk).update(business_hours={}, max_queue_length=50)
    content = json.loads(DEMO.read_text())
    with schema_context("brand_alpha"):
        categories = {c["slug"]: category_upsert(slug=c["slug"], name=c["name"], position=p) for p, c in enumerate(content["categories"])}
        articles_import(items=content["articles"], categories=categories)
        search_index_rebuild()
        # Built as a running server has it (the live server shares this process): the first
        # build of a brand encodes every article, seconds on a busy machine.
        brand_ranker_get()
    return alpha


def test_a_problem_in_the_customers_words_finds_the_sizing_article(live_server_asgi, new_page, alpha_with_the_demo_help_center):
    page = new_page()
    page.goto(live_server_asgi.url("alpha", "/chat/"))
    # No word of the sizing article's title, and the wrong topic picked.
    fill_prechat(page, summary="my heel slips in the new boots when I walk", category="returns")
    expect(page.get_by_role("heading", name="These articles might help")).to_be_visible()
    first = page.locator(".suggestion").first
    expect(first.locator("h3")).to_have_text("Hiking boot and shoe sizing: EU, UK and US conversions")


def test_below_the_threshold_the_widget_goes_straight_to_an_agent(live_server_asgi, new_page, alpha_with_the_demo_help_center):
    page = new_page()
    page.goto(live_server_asgi.url("alpha", "/chat/"))
    fill_prechat(page, summary="who won the football last night?", category="general")
    expect(page.get_by_role("heading", name="Let's get you to an agent")).to_be_visible()
    expect(page.locator(".suggestion")).to_have_count(0)
    page.get_by_role("button", name="Chat with an agent").click()
    expect(page.locator("#queue-position, #queue-next").first).to_be_visible()
