"""The inbox in Chromium: searching and filtering across two brands, a brand the agent is
not staffed on never showing, a transcript with its survey, tags searchable."""

import pytest
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from chat import services
from chat.messages import message_send
from chat.models import Conversation, Message, Tag
from chat.wrapup import conversation_wrap_up
from surveys.services import survey_answer
from tests.chat.helpers import conversation_active
from tests.e2e.test_workspace import make_agent, sign_in
from tests.factories import next_ids_aligned

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def off_the_loop(fn, *args, **kwargs):
    """Run service code (which publishes through async_to_sync) in a thread of its own:
    Playwright's sync API keeps an event loop on the test's thread."""
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connections

    def run():
        try:
            return fn(*args, **kwargs)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result()


def ended_chat(agent, slug, *, say, **prechat):
    return off_the_loop(_ended_chat, agent, slug, say=say, **prechat)


def _ended_chat(agent, slug, *, say, **prechat):
    brand, conversation, _ = conversation_active(agent=agent, slug=slug, **prechat)
    with schema_context(brand.schema_name):
        message_send(conversation_id=conversation.id, sender=Message.Sender.AGENT, body=say, agent=agent)
        services.conversation_end(brand=brand, conversation_id=conversation.id, ended_by=Conversation.EndedBy.AGENT, agent=agent)
    return conversation


def rows(page):
    return page.locator(".inbox-row .inbox-row__customer")


def test_inbox_searches_and_filters_across_two_brands_and_opens_a_transcript_with_its_survey(live_server_asgi, new_page, alpha, beta):
    agent = make_agent("ines", "Ines Inbox", alpha, beta)
    with schema_context(alpha.schema_name):
        Tag.objects.create(slug="refund", name="Refund")
    first = ended_chat(agent, "alpha", say="Your tent pole ships tomorrow", name="Ada Earlier", summary="Broken tent pole")
    in_alpha = ended_chat(agent, "alpha", say="Refund on its way", name="Ada Earlier", summary="Tent again", product_id="SKU-77")

    def answer_and_wrap_up():
        with schema_context(alpha.schema_name):
            survey_answer(conversation_id=in_alpha.id, rating=5, comment="Brilliant <b>help</b>", via="chat")
            conversation_wrap_up(conversation_id=in_alpha.id, agent=agent, tag_slugs=["refund"], disposition="resolved")

    off_the_loop(answer_and_wrap_up)
    ended_chat(agent, "beta", say="Hold the reset button", name="Ben Beta", summary="Router will not pair", product_id="SKU-88")

    page = new_page(viewport={"width": 1280, "height": 900})
    sign_in(page, live_server_asgi, agent, online=False)
    page.get_by_role("link", name="Inbox").click()
    expect(rows(page)).to_have_text(["Ben Beta", "Ada Earlier", "Ada Earlier"])

    page.get_by_label("Search").fill("reset button")
    page.get_by_role("button", name="Search").click()
    expect(rows(page)).to_have_text(["Ben Beta"])
    page.get_by_label("Search").fill("SKU-77")
    page.get_by_label("Search").press("Enter")
    expect(rows(page)).to_have_text(["Ada Earlier"])
    page.get_by_label("Search").fill("")
    page.get_by_label("Brand").select_option("beta")
    page.get_by_role("button", name="Search").click()
    expect(rows(page)).to_have_text(["Ben Beta"])
    page.get_by_label("Brand").select_option("alpha")
    page.get_by_label("Tag").select_option("refund")
    page.get_by_role("button", name="Search").click()
    expect(rows(page)).to_have_text(["Ada Earlier"])
    assert "tag=refund" in page.url  # the filters are in the address

    page.locator(".inbox-row button").first.click()
    transcript = page.locator("#transcript")
    expect(transcript.locator(".survey-answer")).to_have_text("Rated 5 of 5: “Brilliant <b>help</b>” (chat)")
    assert transcript.locator(".survey-answer b").count() == 0
    expect(transcript.locator(".wrap-up")).to_contain_text("Resolved.")
    expect(transcript.locator(".message--agent .message__body")).to_have_text(["Refund on its way"])
    expect(transcript.locator(".message--system", has_text="joined")).to_have_count(1)
    expect(transcript).to_contain_text("read-only")
    expect(transcript.locator(".contact__line")).to_contain_text("2 conversations")
    assert transcript.locator("textarea, input").count() == 0
    # The customer's earlier conversation opens from there.
    transcript.locator(".history button").click()
    expect(transcript.locator(".message--agent .message__body")).to_have_text(["Your tent pole ships tomorrow"])
    expect(transcript).to_contain_text("Broken tent pole")
    assert first.id != in_alpha.id


def test_the_inbox_never_shows_a_brand_the_agent_is_not_staffed_on(live_server_asgi, new_page, alpha, beta):
    both = make_agent("bo", "Bo Both", alpha, beta)
    off_the_loop(next_ids_aligned, Conversation, "brand_alpha", "brand_beta")
    in_alpha = ended_chat(both, "alpha", say="Alpha answer about parcels", name="Al Alpha")
    in_beta = ended_chat(both, "beta", say="Beta answer about parcels", name="Bea Beta")
    assert in_alpha.id == in_beta.id  # ids repeat across brands: the supervisor's own brand has this id too
    supervisor = make_agent("sue", "Sue Supervisor", alpha, role="supervisor")
    page = new_page()
    sign_in(page, live_server_asgi, supervisor, online=False)
    page.goto(live_server_asgi.url(None, "/agent/inbox/?scope=brand&q=parcels"))
    expect(rows(page)).to_have_text(["Al Alpha"])
    assert page.locator("#inbox-brand option").all_text_contents() == ["All my brands", "Alpha Outdoor"]
    # A brand the agent does not serve in the address is not a choice on the page, and the
    # API asked for it directly answers nothing, as for a brand that does not exist.
    page.goto(live_server_asgi.url(None, "/agent/inbox/?scope=brand&brand=beta&q=parcels"))
    expect(rows(page)).to_have_text(["Al Alpha"])
    for brand in ("beta", "no-such-brand"):
        answer = page.evaluate("async (b) => (await fetch(`/api/agent/v1/inbox?scope=brand&brand=${b}`)).json()", brand)
        assert answer["conversations"] == []
        transcript = page.evaluate("async (id) => (await fetch(`/api/agent/v1/brands/beta/conversations/${id}/transcript`)).status", in_beta.id)
        assert transcript == 404


def test_the_sla_filter_narrows_the_list_to_breached_chats_and_marks_them(live_server_asgi, new_page, alpha):
    from datetime import timedelta

    from tests.background.test_sla import TARGET, policy, sweep

    agent = make_agent("sela", "Sela Late", alpha)

    def late_chat():
        policy("alpha")
        brand, conversation, _ = conversation_active(agent=agent, slug="alpha", name="Lou Late")
        assert sweep(brand, after=timedelta(seconds=TARGET + 1))["breached"] == 1

    off_the_loop(late_chat)
    ended_chat(agent, "alpha", say="Right away", name="Oona Ontime")  # after the sweep: no breach

    page = new_page(viewport={"width": 1280, "height": 900})
    sign_in(page, live_server_asgi, agent, online=False)
    page.get_by_role("link", name="Inbox").click()
    expect(rows(page)).to_have_text(["Oona Ontime", "Lou Late"])
    expect(page.locator(".inbox-row .sla-breached")).to_have_count(1)
    page.get_by_label("SLA").select_option("true")
    page.get_by_role("button", name="Search").click()
    expect(rows(page)).to_have_text(["Lou Late"])
    expect(page.locator(".inbox-row .sla-breached")).to_have_text(["SLA breached"])
    assert "sla_breached=true" in page.url
