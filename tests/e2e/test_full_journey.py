"""Steps 1 to 9 with both people in real pages: the customer in the brand's chat page,
the agent in the workspace, each in their own browser context."""

import re

import pytest
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from chat.models import Conversation
from knowledge.models import Article, Category
from knowledge.search import search_index_rebuild
from tenants.models import Brand
from tests.e2e.test_customer_journey import fill_prechat
from tests.e2e.test_workspace import panel, sign_in
from tests.factories import AgentFactory, StaffingFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def new_page(new_page_in_each_browser):
    """Both people's pages in Chromium, then both in Firefox ESR."""
    return new_page_in_each_browser


def test_customer_page_and_agent_workspace_from_form_to_survey(live_server_asgi, new_page, alpha):
    Brand.objects.filter(pk=alpha.pk).update(business_hours={})  # open around the clock
    with schema_context("brand_alpha"):
        Article.objects.create(
            slug="parcel-late", title="My parcel is late", category=Category.objects.get(slug="shipping"),
            summary="What to do when a parcel is late or tracking has not moved", body="Check the tracking link first.",
        )
        search_index_rebuild()
    agent = AgentFactory(display_name="Wendy Workspace", user__username="wendy")
    StaffingFactory(agent=agent, brand=alpha)

    workspace = new_page()
    sign_in(workspace, live_server_asgi, agent)

    customer = new_page(viewport={"width": 390, "height": 844})
    customer.goto(live_server_asgi.url("alpha", "/support/"))
    customer.get_by_role("link", name="Chat with us").first.click()
    fill_prechat(customer, name="Carla Customer", summary="My parcel is late")
    expect(customer.get_by_role("heading", name="These articles might help")).to_be_visible()
    expect(customer.get_by_text("My parcel is late", exact=True).first).to_be_visible()
    customer.get_by_role("button", name="Chat with an agent").click()

    # The agent sees the offer live and accepts it in the workspace.
    offer = workspace.locator(".offer")
    expect(offer).to_contain_text("Carla Customer")
    workspace.get_by_role("button", name="Accept chat with Carla Customer (Alpha Outdoor)").click()
    chat = panel(workspace, "Carla Customer")
    expect(chat.locator(".details")).to_contain_text("C-42")
    expect(chat.locator(".details")).to_contain_text("My parcel is late")  # the article shown

    expect(customer.locator("#chat-title")).to_have_text(re.compile("Chatting with Wendy Workspace"))
    customer.get_by_label("Message", exact=True).fill("Hello, it has been a week.")
    customer.get_by_role("button", name="Send").click()
    expect(chat.locator(".message--customer:not([data-seq='1']) .message__body")).to_have_text("Hello, it has been a week.")

    chat.get_by_label("Message").fill("Sorry Carla, I've reshipped it today.")
    chat.get_by_role("button", name="Send").click()
    expect(customer.get_by_text("Sorry Carla, I've reshipped it today.")).to_be_visible()

    chat.get_by_role("button", name="End chat").click()
    workspace.get_by_role("dialog", name="End chat").get_by_role("button", name="End chat").click()
    expect(customer.get_by_role("heading", name="The chat has ended")).to_be_visible()
    survey = customer.locator("#survey")
    survey.get_by_label("5", exact=True).check()
    survey.get_by_role("button", name="Send feedback").click()
    expect(customer.locator("#survey-thanks")).to_be_visible()

    with schema_context("brand_alpha"):
        conversation = Conversation.objects.get(customer_name="Carla Customer")
        assert conversation.state == "ended" and conversation.agent_name == "Wendy Workspace"
        assert conversation.survey.rating == 5
        bodies = list(conversation.messages.filter(sender__in=["customer", "agent"]).values_list("body", flat=True))
    # The question from the form opens the transcript.
    assert bodies == ["My parcel is late", "Hello, it has been a week.", "Sorry Carla, I've reshipped it today."]


def test_offline_message_left_when_closed_is_answered_from_the_workspace(live_server_asgi, new_page, alpha):
    from datetime import datetime, timezone

    from chat.models import OfflineMessage, OutboundEmail
    from tenants.models import WEEKDAYS

    other_day = WEEKDAYS[(datetime.now(timezone.utc).weekday() + 3) % 7]
    Brand.objects.filter(pk=alpha.pk).update(business_hours={other_day: [["09:00", "17:00"]]}, time_zone="UTC")
    customer = new_page()
    customer.goto(live_server_asgi.url("alpha", "/chat/"))
    expect(customer.get_by_role("heading", name="Leave us a message")).to_be_visible()
    customer.get_by_label("Name", exact=False).first.fill("Nora Night")
    customer.get_by_label("Email").fill("nora@example.com")
    customer.get_by_label("Topic").select_option("returns")
    customer.get_by_label("What do you need help with?").fill("Can I return <b>worn</b> boots?")
    customer.get_by_role("button", name="Send message").click()
    expect(customer.get_by_role("heading", name="Message sent")).to_be_visible()

    agent = AgentFactory(display_name="Otto Offline", user__username="otto")
    StaffingFactory(agent=agent, brand=alpha)
    workspace = new_page()
    sign_in(workspace, live_server_asgi, agent, online=False)
    item = workspace.locator(".offline-item")
    expect(item).to_contain_text("Nora Night")
    expect(item.locator(".summary")).to_have_text("Can I return <b>worn</b> boots?")  # text, not markup
    item.get_by_role("button", name="Reply to Nora Night (Alpha Outdoor)").click()
    item.get_by_label("Reply to nora@example.com").fill("Worn boots can be returned within 60 days.")
    item.get_by_role("button", name="Send reply by email").click()
    expect(workspace.locator("#offline-empty")).to_be_visible()

    with schema_context("brand_alpha"):
        message = OfflineMessage.objects.get()
        assert message.handled_by_agent_id == agent.id and message.handled_at is not None
        email = OutboundEmail.objects.get(kind="offline_reply")
    assert email.to == "nora@example.com" and "within 60 days" in email.body


def test_a_reply_being_typed_survives_the_offline_list_being_read_again(live_server_asgi, new_page, alpha):
    """The list is read again after every reply and every 30 s: a reply half typed to one
    message stays while the agent answers another."""
    from chat.offline import offline_message_create

    with schema_context("brand_alpha"):
        for name, email in (("Nora Night", "nora@example.com"), ("Olaf Late", "olaf@example.com")):
            offline_message_create(
                brand=alpha, identity_token=None, reason="closed",
                data={"name": name, "email": email, "category": "returns", "summary": f"{name} asks about a return"},
            )
    agent = AgentFactory(display_name="Otto Offline", user__username="otto")
    StaffingFactory(agent=agent, brand=alpha)
    workspace = new_page()
    sign_in(workspace, live_server_asgi, agent, online=False)

    nora = workspace.locator(".offline-item", has_text="Nora Night")
    olaf = workspace.locator(".offline-item", has_text="Olaf Late")
    nora.get_by_role("button", name="Reply to Nora Night (Alpha Outdoor)").click()
    nora.get_by_label("Reply to nora@example.com").fill("Half a thought about")
    olaf.get_by_role("button", name="Reply to Olaf Late (Alpha Outdoor)").click()
    olaf.get_by_label("Reply to olaf@example.com").fill("Yes, within 60 days.")
    olaf.get_by_role("button", name="Send reply by email").click()
    expect(olaf).to_have_count(0)
    expect(workspace.locator("#offline-count")).to_have_text("(1)")  # read again since
    expect(nora.get_by_label("Reply to nora@example.com")).to_have_value("Half a thought about")
