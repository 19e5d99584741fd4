"""The README's widget snippet on a brand's own site, in Debian's Chromium: the host page is
served from another origin (an IP host, 127.0.0.1, while the brand is alpha.localhost), so
the chat page is a cross-site frame. Chromium's defaults deny such a frame sessionStorage and
localStorage; the runs also launch Chromium with third-party cookies and storage blocked
explicitly. The agent works through the agent API from a second browser context."""

import functools
import http.server
import re
import threading
import urllib.parse

import pytest
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from chat.models import Conversation, Message, OfflineMessage
from tenants.models import WEEKDAYS, Brand
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.e2e.test_customer_journey import Agent
from tests.factories import AgentFactory, StaffingFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Chromium 156 has no switch named "block third-party cookies"; this test switch turns on
# the third-party cookie phase-out (cookies and unpartitioned storage refused to cross-site
# frames), whatever the defaults of the build.
BLOCKED_ARGS = ["--test-third-party-cookie-phaseout"]


@pytest.fixture(scope="module")
def blocked_browser(browser):
    # A second Chromium from the session's Playwright (one sync Playwright per process).
    blocked = browser.browser_type.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS + BLOCKED_ARGS)
    yield blocked
    blocked.close()


@pytest.fixture(params=["defaults", "third-party blocked", "firefox"])
def customer_context(request, browser):
    """The customer's browser context: Chromium as shipped, Chromium with third-party storage
    blocked, or Debian's Firefox ESR as shipped (which partitions a cross-site frame's
    storage by the top-level site instead of denying it)."""
    chosen = {"defaults": browser}.get(request.param) or request.getfixturevalue({"third-party blocked": "blocked_browser", "firefox": "firefox"}[request.param])
    context = chosen.new_context(viewport={"width": 1200, "height": 800})
    context.set_default_timeout(10_000)
    context.engine = "firefox" if request.param == "firefox" else "chromium"
    yield context
    context.close()


def assert_frame_storage_is_not_first_party(context, page):
    """What these tests are about: the chat frame cannot keep the chat in storage the brand's
    own pages would see. Chromium denies it outright; Firefox gives the frame storage
    partitioned by the top-level site, which a first-party page of the brand never sees."""
    frame = frame_of(page)
    denied = frame.evaluate("() => { try { sessionStorage.length; return false } catch (e) { return true } }")
    if context.engine == "chromium":
        assert denied is True
        return
    assert denied is False
    frame.evaluate("() => localStorage.setItem('partition-probe', 'written in the frame')")
    first_party = context.new_page()
    first_party.goto(urllib.parse.urljoin(frame.url, "/healthz"))  # the frame's own origin
    assert first_party.evaluate("() => localStorage.getItem('partition-probe')") is None
    first_party.close()


class _Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def brand_site(tmp_path):
    """The brand's own site on 127.0.0.1:<port>: publish(html) -> its URL."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Handler, directory=str(tmp_path)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def publish(html, name="index.html"):
        (tmp_path / name).write_text(html)
        return f"http://127.0.0.1:{server.server_address[1]}/{name}"

    yield publish
    server.shutdown()
    server.server_close()


def snippet_page(server, attributes="", script=""):
    """A shop page carrying the README's snippet."""
    src = server.url("alpha", "/widget.js")
    return (
        "<!doctype html><html><head><meta charset=utf-8><title>Alpha shop</title></head><body><h1>Alpha shop</h1>"
        f"<p id=unread-seen>none</p><script>{script}</script>"
        f'<script src="{src}" {attributes} async></script></body></html>'
    )


@pytest.fixture
def alpha_open(alpha):
    Brand.objects.filter(pk=alpha.pk).update(business_hours={}, max_queue_length=50)
    alpha.refresh_from_db()
    return alpha


@pytest.fixture
def agent(alpha_open, live_server_asgi, new_page):
    profile = AgentFactory(display_name="Alice Agent", user__username="widget_alice")
    StaffingFactory(agent=profile, brand=alpha_open)
    driver = Agent(live_server_asgi, new_page(), profile)
    driver.online()
    return driver


def chat_frame(page):
    return page.frame_locator("iframe[data-helpdesk-frame]")


def frame_of(page):
    return next(f for f in page.frames if "/chat/" in f.url)


def conversations():
    with schema_context("brand_alpha"):
        return list(Conversation.objects.order_by("id"))


# Playwright drives Firefox over WebDriver BiDi, and there its mouse and keyboard do not reach
# a cross-site frame (an input inside one stays empty, a button stays unpressed; a same-site
# frame works). In Firefox these helpers act through the frame's DOM instead, as the
# page's own handlers see it: a value set and an input event, a click(), an Enter keydown.
# Chromium gets real input.
def _through_the_dom(locator) -> bool:
    return getattr(locator.page.context, "engine", "chromium") == "firefox"


def fill(locator, text):
    if not _through_the_dom(locator):
        locator.fill(text)
        return
    expect(locator).to_be_editable()
    locator.evaluate(
        """(field, text) => { field.focus(); field.value = text;
            field.dispatchEvent(new InputEvent("input", { bubbles: true, inputType: "insertText", data: text }));
            field.dispatchEvent(new Event("change", { bubbles: true })); }""",
        text,
    )


def click(locator):
    if not _through_the_dom(locator):
        locator.click()
        return
    expect(locator).to_be_enabled()
    locator.evaluate("(button) => button.click()")


def press_enter(locator):
    if not _through_the_dom(locator):
        locator.press("Enter")
        return
    locator.evaluate("(field) => field.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true, cancelable: true }))")


def fill_form(frame):
    expect(frame.get_by_role("heading", name="Chat with Alpha Outdoor")).to_be_visible()
    fill(frame.locator("#f-name"), "Dana Customer")
    fill(frame.locator("#f-email"), "dana@example.com")
    frame.locator("#f-category").select_option("shipping")
    fill(frame.locator("#f-summary"), "Where is my parcel?")


def test_chat_on_another_site_resumes_after_reload_and_in_a_second_tab(live_server_asgi, customer_context, brand_site, agent):
    url = brand_site(snippet_page(live_server_asgi))
    page = customer_context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(url)
    page.get_by_role("button", name="Chat with Alpha Outdoor").click()
    frame = chat_frame(page)
    fill_form(frame)
    assert_frame_storage_is_not_first_party(customer_context, page)
    start = frame.get_by_role("button", name="Start chat")
    # Two clicks, the second before the first is answered: one conversation.
    start.evaluate("button => { button.click(); button.disabled = false; button.click(); }")
    expect(frame.get_by_role("button", name="Chat with an agent")).to_be_visible()
    assert len(conversations()) == 1
    click(frame.get_by_role("button", name="Chat with an agent"))
    expect(frame.locator("#queue-next")).to_be_visible()
    # Written while queued: the agent reads it on joining.
    fill(frame.get_by_label("Message", exact=True), "Order 77, if that helps")
    press_enter(frame.get_by_label("Message", exact=True))
    expect(frame.locator("#messages .message.customer:not([data-seq='1'])")).to_have_count(1)
    chat_id = conversations()[0].id
    agent.conversation(chat_id, "/accept")
    expect(frame.locator("#chat-title")).to_have_text("Chatting with Alice Agent")
    seen = [(m["seq"], m["body"]) for m in agent.conversation(chat_id, "/messages", method="GET")["messages"] if m["sender"] == "customer"]
    assert seen[0] == (1, "Where is my parcel?") and seen[1][1] == "Order 77, if that helps"
    agent.conversation(chat_id, "/messages", {"body": "Hello Dana, checking now."})
    expect(frame.locator("#messages .message.agent .bubble")).to_have_text("Hello Dana, checking now.")

    # The host page kept the chat in its own storage, first-party for the brand's site.
    stored = page.evaluate("() => JSON.parse(localStorage.getItem(Object.keys(localStorage).find(k => k.startsWith('helpdesk-widget:'))))")
    assert stored["id"] == chat_id and stored["token"]

    page.reload()
    page.get_by_role("button", name=re.compile("Chat with Alpha Outdoor")).click()
    expect(chat_frame(page).locator("#chat-title")).to_have_text("Chatting with Alice Agent")
    expect(chat_frame(page).locator("#messages .message.agent")).to_have_count(1)

    second = customer_context.new_page()
    second.goto(url)
    second.get_by_role("button", name=re.compile("Chat with Alpha Outdoor")).click()
    expect(chat_frame(second).locator("#chat-title")).to_have_text("Chatting with Alice Agent")
    fill(chat_frame(second).get_by_label("Message", exact=True), "From my other tab")
    press_enter(chat_frame(second).get_by_label("Message", exact=True))
    expect(chat_frame(page).locator("#messages .message.customer .bubble").last).to_have_text("From my other tab")
    assert len(conversations()) == 1
    assert errors == []


def test_unread_badge_and_the_page_api(live_server_asgi, new_page, brand_site, agent):
    watch = "window.unreadCounts = []; document.addEventListener('DOMContentLoaded', () => {});"
    url = brand_site(snippet_page(live_server_asgi, 'data-prefill-name="Pat Prefilled" data-prefill-email="pat@example.com"', watch))
    page = new_page()
    page.goto(url)
    expect(page.get_by_role("button", name="Chat with Alpha Outdoor")).to_be_visible()
    page.evaluate("() => HelpdeskWidget.on('unread', (n) => { window.unreadCounts.push(n); document.getElementById('unread-seen').textContent = String(n); })")
    page.evaluate("() => HelpdeskWidget.open()")
    frame = chat_frame(page)
    expect(frame.locator("#f-name")).to_have_value("Pat Prefilled")
    expect(frame.locator("#f-email")).to_have_value("pat@example.com")
    frame.locator("#f-category").select_option("shipping")
    frame.locator("#f-summary").fill("Zip broken")
    frame.get_by_role("button", name="Start chat").click()
    frame.get_by_role("button", name="Chat with an agent").click()
    chat_id = conversations()[0].id
    agent.conversation(chat_id, "/accept")
    expect(frame.locator("#chat-title")).to_have_text("Chatting with Alice Agent")
    page.evaluate("() => HelpdeskWidget.close()")
    expect(page.locator("iframe[data-helpdesk-frame]")).to_be_hidden()
    agent.conversation(chat_id, "/messages", {"body": "One"})
    agent.conversation(chat_id, "/messages", {"body": "Two"})
    badge = page.locator("[data-helpdesk-unread]")
    expect(badge).to_have_text("2")
    expect(page.locator("#unread-seen")).to_have_text("2")
    expect(page.get_by_role("button", name="Chat with Alpha Outdoor (2 unread)")).to_be_visible()
    # Closed is unread for the agent too: no "Seen" while the widget is shut.
    details = agent.conversation(chat_id, "", method="GET")
    assert details["customer_read_seq"] < details["last_seq"]
    # Still unread after a reload: the host page kept what was seen.
    page.reload()
    expect(page.locator("[data-helpdesk-unread]")).to_have_text("2")
    page.get_by_role("button", name=re.compile("Chat with Alpha Outdoor")).click()
    expect(page.locator("[data-helpdesk-unread]")).to_be_hidden()
    expect(chat_frame(page).locator("#messages .message.agent")).to_have_count(2)
    page.evaluate("() => HelpdeskWidget.close()")
    expect(page.locator("[data-helpdesk-unread]")).to_be_hidden()


def test_closed_without_offline_form_hides_the_launcher(live_server_asgi, new_page, brand_site, alpha):
    day = WEEKDAYS[0]
    Brand.objects.filter(pk=alpha.pk).update(business_hours={day: [["00:00", "00:01"]]}, offline_form_enabled=False)
    url = brand_site(snippet_page(live_server_asgi))
    page = new_page()
    page.goto(url)
    frame = chat_frame(page)
    expect(frame.locator("#chat-app")).to_have_attribute("data-screen", "error")
    expect(page.locator("[data-helpdesk-launcher]")).to_be_hidden()


def test_closed_brand_offers_the_form_and_says_when_it_opens(live_server_asgi, new_page, brand_site, alpha):
    Brand.objects.filter(pk=alpha.pk).update(business_hours={"mon": [["00:00", "00:01"]]}, time_zone="UTC")
    url = brand_site(snippet_page(live_server_asgi))
    page = new_page(locale="en-GB", timezone_id="Europe/Berlin")
    page.goto(url)
    page.get_by_role("button", name="Chat with Alpha Outdoor").click()
    frame = chat_frame(page)
    expect(frame.get_by_role("heading", name="Leave us a message")).to_be_visible()
    # Monday 00:00 UTC is Monday 01:00 in Berlin, where the customer is.
    expect(frame.locator(".notice")).to_contain_text(re.compile(r"We open again Monday.*01:00"))


def test_no_agent_online_with_the_workspace_open_offers_the_form(live_server_asgi, new_page, brand_site, agent, alpha_open):
    # The agent went online over the API and has no socket: nobody would see the offer.
    Brand.objects.filter(pk=alpha_open.pk).update(offline_when_no_agent=True)
    url = brand_site(snippet_page(live_server_asgi))
    page = new_page()
    page.goto(url)
    page.get_by_role("button", name="Chat with Alpha Outdoor").click()
    frame = chat_frame(page)
    fill_form(frame)
    frame.get_by_role("button", name="Start chat").click()
    frame.get_by_role("button", name="Chat with an agent").click()
    expect(frame.get_by_role("heading", name="Leave us a message")).to_be_visible()
    expect(frame.locator(".notice")).to_contain_text("No one can take a chat right now.")
    expect(frame.locator("#f-summary")).to_have_value("Where is my parcel?")  # nothing to type again
    frame.get_by_role("button", name="Send message").click()
    expect(frame.get_by_role("heading", name="Message sent")).to_be_visible()
    with schema_context("brand_alpha"):
        assert list(OfflineMessage.objects.values_list("reason", "summary")) == [("no_agents", "Where is my parcel?")]
    assert all(c.state == Conversation.State.SUGGESTING for c in conversations())


def test_a_frame_whose_parent_is_not_the_announced_origin_tells_it_nothing(live_server_asgi, new_page, brand_site, alpha_open):
    """A page framing the chat while claiming another origin gets no message from it."""
    chat = live_server_asgi.url("alpha", "/chat/?host_origin=" + "http%3A%2F%2Fshop.example")
    url = brand_site(
        "<!doctype html><html><body><script>window.got = [];"
        "addEventListener('message', (e) => window.got.push(e.data));</script>"
        f'<iframe id=f src="{chat}"></iframe></body></html>'
    )
    page = new_page()
    page.goto(url)
    frame = page.frame_locator("#f")
    fill_form(frame)
    frame.get_by_role("button", name="Start chat").click()
    expect(frame.get_by_role("button", name="Chat with an agent")).to_be_visible()
    assert page.evaluate("() => window.got") == []
    with schema_context("brand_alpha"):
        assert Message.objects.filter(seq=1, sender="customer").count() == 1


def test_a_chat_in_german_through_the_widgets_data_locale(live_server_asgi, customer_context, brand_site, agent):
    url = brand_site(snippet_page(live_server_asgi, 'data-locale="de"'))
    page = customer_context.new_page()
    page.goto(url)
    page.get_by_role("button", name="Chat with Alpha Outdoor").click()  # the host page's own language
    frame = chat_frame(page)
    expect(frame.get_by_role("heading", name="Chat mit Alpha Outdoor")).to_be_visible()
    expect(frame.locator("html")).to_have_attribute("lang", "de")
    # The server's own answers come in German too.
    click(frame.get_by_role("button", name="Chat starten"))
    expect(frame.locator("#f-name-error")).to_have_text("Bitte nennen Sie Ihren Namen.")
    fill(frame.get_by_label("Name"), "Dora Kundin")
    fill(frame.get_by_label("E-Mail"), "dora@example.com")
    frame.get_by_label("Thema").select_option("shipping")
    fill(frame.get_by_label("Wobei brauchen Sie Hilfe?"), "Wo ist mein Paket?")
    click(frame.get_by_role("button", name="Chat starten"))
    click(frame.get_by_role("button", name="Mit einem Mitarbeiter chatten"))
    expect(frame.get_by_role("heading", name="Warten auf einen Mitarbeiter")).to_be_visible()
    chat_id = conversations()[0].id
    agent.conversation(chat_id, "/accept")
    expect(frame.locator("#chat-title")).to_have_text("Im Chat mit Alice Agent")
    fill(frame.get_by_label("Nachricht", exact=True), "Hallo!")
    click(frame.get_by_role("button", name="Senden"))
    expect(frame.locator("#messages .message.customer .author").last).to_have_text("Sie")
    click(frame.get_by_role("button", name="Chat beenden"))
    expect(frame.locator("#chat-title")).to_have_text("Ihr Chat mit Alice Agent ist beendet")
    expect(frame.get_by_role("heading", name="Wie waren wir?")).to_be_visible()


def test_a_chat_in_french_from_the_browsers_language(live_server_asgi, new_page, agent):
    # The brand writes in English but lets customers have their own language.
    page = new_page(locale="fr-FR", timezone_id="Europe/Paris")
    page.goto(live_server_asgi.url("alpha", "/chat/"))
    expect(page.get_by_role("heading", name="Discuter avec Alpha Outdoor")).to_be_visible()
    page.get_by_label("Nom").fill("Françoise Cliente")
    page.get_by_label("E-mail").fill("francoise@example.com")
    page.get_by_label("Sujet").select_option("shipping")
    page.get_by_label("Sur quoi avez-vous besoin d'aide ?").fill("Où est mon colis ?")
    page.get_by_role("button", name="Démarrer la discussion").click()
    page.get_by_role("button", name="Discuter avec un conseiller").click()
    expect(page.get_by_role("heading", name="En attente d'un conseiller")).to_be_visible()
    chat_id = conversations()[0].id
    agent.conversation(chat_id, "/accept")
    expect(page.locator("#chat-title")).to_have_text("En discussion avec Alice Agent")
    agent.conversation(chat_id, "/messages", {"body": "Bonjour !"})
    agent_message = page.locator("#messages .message.agent")
    expect(agent_message.locator(".bubble")).to_have_text("Bonjour !")
    # The time in the customer's own zone and 24-hour French style.
    with schema_context("brand_alpha"):
        sent_at = Message.objects.get(conversation_id=chat_id, sender="agent").sent_at
    from zoneinfo import ZoneInfo

    expect(agent_message.locator("time")).to_have_text(sent_at.astimezone(ZoneInfo("Europe/Paris")).strftime("%H:%M"))
    page.get_by_role("button", name="Terminer la discussion").click()
    expect(page.locator("#chat-title")).to_have_text("Votre discussion avec Alice Agent est terminée")
    # A brand that keeps its own language is not overridden by the browser's.
    Brand.objects.filter(slug="alpha").update(customer_locale_allowed=False)
    page.goto(live_server_asgi.url("alpha", "/chat/"))
    page.evaluate("() => sessionStorage.clear()")
    page.reload()
    expect(page.get_by_role("heading", name="Chat with Alpha Outdoor")).to_be_visible()


def test_a_4000_character_line_wraps_in_the_chat_and_the_brand_admin(live_server_asgi, new_page, agent):
    from django.test import Client

    from tests.factories import UserFactory

    long_line = "x" * 4000
    page = new_page(viewport={"width": 380, "height": 600})
    page.goto(live_server_asgi.url("alpha", "/chat/"))
    fill_form(page)
    page.locator("#f-summary").fill(long_line[:2000])
    page.get_by_role("button", name="Start chat").click()
    page.get_by_role("button", name="Chat with an agent").click()
    expect(page.locator("#queue-next")).to_be_visible()
    chat_id = conversations()[0].id
    agent.conversation(chat_id, "/accept")
    agent.conversation(chat_id, "/messages", {"body": long_line})
    expect(page.locator("#messages .message.agent")).to_have_count(1)
    overflow = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    assert page.evaluate(overflow) <= 0

    admin = Client()
    admin.force_login(UserFactory(username="wrap_root", is_staff=True, is_superuser=True))
    page.context.add_cookies([{"name": "sessionid", "value": admin.cookies["sessionid"].value, "domain": "alpha.localhost", "path": "/"}])
    page.set_viewport_size({"width": 1024, "height": 768})
    page.goto(live_server_asgi.url("alpha", f"/admin/chat/conversation/{chat_id}/change/"))
    expect(page.locator("body")).to_contain_text(long_line[:50])
    assert page.evaluate(overflow) <= 0
