"""The agent's day in Chromium (issue 14): alerts in a background tab, slash shortcuts with
variables, wrap-up on end, the workspace saying so while the API is down."""

import json
import re
import time

import pytest
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from chat.models import CannedReply, Conversation, Tag, WrapUp
from tests.e2e.test_workspace import Customer, accepted_chat, make_agent, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def new_page(new_page_in_each_browser):
    """The agent's day in Chromium, then in Firefox ESR."""
    return new_page_in_each_browser

# Test-only observation of desktop notifications: the shipped page has no hook; this wraps
# the browser's own Notification before the page's scripts run and records what it was asked.
RECORD_NOTIFICATIONS = """
(() => {
  const Real = window.Notification;
  window.__notifications = [];
  class Recorded extends Real {
    constructor(title, options) {
      super(title, options);
      window.__notifications.push({ title, body: (options || {}).body || "" });
    }
  }
  Object.defineProperty(Recorded, "permission", { get: () => Real.permission });
  Recorded.requestPermission = (...args) => Real.requestPermission(...args);
  window.Notification = Recorded;
})();
"""

# A page the agent is not looking at: Chromium headless keeps every page "visible", so the
# test says what a background tab says (document.visibilityState, hasFocus) and fires the
# event a real tab switch fires.
TO_BACKGROUND = """
() => {
  Object.defineProperty(document, "visibilityState", { configurable: true, get: () => "hidden" });
  Object.defineProperty(document, "hidden", { configurable: true, get: () => true });
  document.hasFocus = () => false;
  document.dispatchEvent(new Event("visibilitychange"));
}
"""
TO_FRONT = """
() => {
  delete document.visibilityState; delete document.hidden; delete document.hasFocus;
  Object.defineProperty(document, "visibilityState", { configurable: true, get: () => "visible" });
  Object.defineProperty(document, "hidden", { configurable: true, get: () => false });
  document.hasFocus = () => true;
  document.dispatchEvent(new Event("visibilitychange"));
  window.dispatchEvent(new Event("focus"));
}
"""


def workspace_page(new_page, live):
    # Notifications allowed for the workspace's origin only (Firefox takes no "any origin").
    page = new_page(viewport={"width": 1280, "height": 800})
    page.context.grant_permissions(["notifications"], origin=live.url(None, "/").rstrip("/"))
    page.add_init_script(RECORD_NOTIFICATIONS)
    return page


def test_an_offer_in_a_background_tab_raises_the_title_count_the_favicon_and_a_notification(live_server_asgi, new_page, alpha):
    agent = make_agent("alma", "Alma Alerts", alpha)
    page = workspace_page(new_page, live_server_asgi)
    sign_in(page, live_server_asgi, agent)
    expect(page).to_have_title("Agent workspace · Helpdesk")
    assert page.evaluate("Notification.permission") == "granted"
    page.evaluate(TO_BACKGROUND)

    customer = Customer(live_server_asgi, "alpha", name="Bea Background")
    customer.escalate()
    expect(page).to_have_title("(1) Agent workspace · Helpdesk")
    expect(page.locator("#favicon")).to_have_attribute("data-count", "1")
    assert page.locator("#favicon").get_attribute("href").startswith("data:image/png")
    notifications = page.evaluate("window.__notifications")
    assert notifications == [{"title": "Chat offered: Bea Background (Alpha Outdoor)", "body": "Where is my parcel?"}]

    # Accepting it (from the background, by the keyboard shortcut) clears the offer count;
    # the customer's messages meanwhile count per tab, in the title, and notify.
    page.keyboard.press("Alt+a")
    tab = page.get_by_role("tab", name=re.compile("Bea Background"))
    expect(tab).to_be_visible()
    expect(page).to_have_title("Agent workspace · Helpdesk")
    customer.say("Hello?", "c-1")
    customer.say("Anyone there?", "c-2")
    expect(tab.locator(".tab__count")).to_have_text("2")
    expect(page).to_have_title("(2) Agent workspace · Helpdesk")
    assert [n["body"] for n in page.evaluate("window.__notifications")][1:] == ["Hello?", "Anyone there?"]

    # Back in front, looking at that chat: read, and the counts go.
    page.evaluate(TO_FRONT)
    expect(tab.locator(".tab__count")).to_be_hidden()
    expect(page).to_have_title("Agent workspace · Helpdesk")
    expect(page.locator("#favicon")).to_have_attribute("data-count", "0")


COUNT_TONES = """
  window.__tones = 0;
  const start = OscillatorNode.prototype.start;
  OscillatorNode.prototype.start = function (...args) { window.__tones += 1; return start.apply(this, args); };
"""


def test_sound_can_be_muted_and_stays_muted(live_server_asgi, new_page, alpha):
    agent = make_agent("moss", "Moss Mute", alpha)
    page = workspace_page(new_page, live_server_asgi)
    page.add_init_script(COUNT_TONES)
    sign_in(page, live_server_asgi, agent)
    toggle = page.get_by_role("button", name="Sound on")
    expect(toggle).to_have_attribute("aria-pressed", "false")
    toggle.click()
    expect(page.get_by_role("button", name="Sound off")).to_have_attribute("aria-pressed", "true")
    page.reload()
    expect(page.get_by_role("button", name="Sound off")).to_be_visible()
    expect(page.locator("#connection")).to_have_text("Connected")
    page.locator("#offers-title").click()  # a gesture, so sound would be allowed
    Customer(live_server_asgi, "alpha", name="Quiet Quentin").escalate()
    expect(page).to_have_title("(1) Agent workspace · Helpdesk")
    assert page.evaluate("window.__tones") == 0


def test_a_slash_shortcut_filters_and_inserts_a_canned_reply_with_variables(live_server_asgi, new_page, alpha):
    with schema_context("brand_alpha"):
        CannedReply.objects.create(shortcut="hello", title="Greeting", body="Hi {first_name}, I am {agent_first_name} from {brand}.")
        CannedReply.objects.create(shortcut="help", title="Anything else", body="Anything else, {customer_name}?")
        CannedReply.objects.create(shortcut="returns", title="Returns policy", body="Returns are free for 60 days.")
    agent = make_agent("sol", "Sol Slash", alpha)
    page = workspace_page(new_page, live_server_asgi)
    sign_in(page, live_server_asgi, agent)
    _, chat = accepted_chat(page, live_server_asgi, "Carla Canned")
    composer = chat.get_by_label("Message")
    composer.press_sequentially("/he")
    menu = chat.get_by_role("listbox", name="Canned replies")
    expect(menu.get_by_role("option")).to_have_count(2)
    composer.press_sequentially("l")
    expect(menu.get_by_role("option")).to_have_count(2)  # "help" and "hello" both start /hel
    composer.press_sequentially("l")
    expect(menu.get_by_role("option")).to_have_count(1)
    expect(menu.get_by_role("option")).to_contain_text("Hi Carla, I am Sol from Alpha Outdoor.")
    composer.press("Enter")
    expect(menu).to_be_hidden()
    expect(composer).to_have_value("Hi Carla, I am Sol from Alpha Outdoor.")
    # The old placeholders still work; arrows choose.
    composer.fill("")
    composer.press_sequentially("/h")
    composer.press("ArrowDown")
    composer.press("Enter")
    expect(composer).to_have_value("Anything else, Carla Canned?")
    composer.press("Enter")
    expect(chat.locator(".message--agent .message__body")).to_have_text("Anything else, Carla Canned?")

    # "?" outside a text box lists the shortcuts; Escape closes it.
    page.locator("#offers-title").click()
    page.keyboard.press("?")
    help_dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(help_dialog).to_be_visible()
    expect(help_dialog).to_contain_text("{agent_first_name}")
    page.keyboard.press("Escape")
    expect(help_dialog).to_be_hidden()


def test_wrap_up_on_end_stores_tags_and_disposition_and_the_tab_leaves(live_server_asgi, new_page, alpha):
    with schema_context("brand_alpha"):
        Tag.objects.create(slug="refund", name="Refund")
        Tag.objects.create(slug="damaged", name="Damaged parcel")
    agent = make_agent("wren", "Wren Wrap", alpha)
    page = workspace_page(new_page, live_server_asgi)
    sign_in(page, live_server_asgi, agent)
    customer, chat = accepted_chat(page, live_server_asgi, "Tom Tagged")
    chat.get_by_role("button", name="End chat").click()
    dialog = page.get_by_role("dialog", name="End chat")
    dialog.get_by_label("Refund").check()
    dialog.get_by_label("Disposition").select_option("resolved")
    dialog.get_by_role("button", name="End chat").click()
    expect(page.get_by_role("tab", name=re.compile("Tom Tagged"))).to_have_count(0)
    with schema_context("brand_alpha"):
        wrap_up = WrapUp.objects.get(conversation_id=customer.id)
        assert wrap_up.disposition == "resolved" and [t.slug for t in wrap_up.tags.all()] == ["refund"]
        assert Conversation.objects.get(id=customer.id).state == "ended"

    # A chat the customer ends waits for its wrap-up, then leaves too.
    other, chat = accepted_chat(page, live_server_asgi, "Una Unwrapped")
    status, _ = other._call("POST", other._path("/end"))
    assert status == 200
    expect(chat.locator(".chat-status")).to_have_text("This chat has ended.")
    chat.get_by_role("button", name="Wrap up…").click()
    dialog = page.get_by_role("dialog", name="Wrap up chat")
    dialog.get_by_label("Damaged parcel").check()
    dialog.get_by_role("button", name="Save wrap-up").click()
    expect(page.get_by_role("tab", name=re.compile("Una Unwrapped"))).to_have_count(0)
    with schema_context("brand_alpha"):
        assert [t.slug for t in WrapUp.objects.get(conversation_id=other.id).tags.all()] == ["damaged"]


def test_the_workspace_says_when_the_api_is_down_and_recovers_on_its_own(live_server_asgi, new_page, alpha):
    agent = make_agent("dora", "Dora Down", alpha)
    page = workspace_page(new_page, live_server_asgi)
    sign_in(page, live_server_asgi, agent)
    banner = page.locator("#service-status")
    expect(banner).to_be_hidden()

    down = lambda route: route.fulfill(status=503, content_type="application/json", body='{"detail": "Service unavailable"}')  # noqa: E731
    page.route("**/api/agent/v1/**", down)
    # Something the agent does while it is down: the next queue read on queue.changed.
    Customer(live_server_asgi, "alpha", name="Quinn Queued").escalate()
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("cannot reach the server")
    expect(page.locator("body")).to_have_class(re.compile("is-stale"))

    page.unroute("**/api/agent/v1/**", down)
    expect(banner).to_be_hidden(timeout=20_000)
    expect(page.locator("body")).not_to_have_class(re.compile("is-stale"))
    expect(page.locator(".offer")).to_contain_text("Quinn Queued")


@pytest.mark.parametrize("width", [1280, 1024])
def test_usable_at_desktop_and_tablet_widths(live_server_asgi, new_page, alpha, width):
    agent = make_agent(f"vera{width}", "Vera Viewport", alpha)
    page = new_page(viewport={"width": width, "height": 768})
    sign_in(page, live_server_asgi, agent)
    _, chat = accepted_chat(page, live_server_asgi, "Wide Customer With A Rather Long Name")
    for n in range(4):
        other = Customer(live_server_asgi, "alpha", name=f"Extra {n}")
        other.escalate()
    expect(page.locator(".offer")).to_have_count(2)  # capacity 3: one held, two offered
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "horizontal scroll"
    # Every control in the chat can be reached with Tab, and the focus shows.
    chat.get_by_label("Message").focus()
    page.keyboard.press("Tab")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"


def test_a_supervisor_watches_a_chat_and_whispers_without_the_customer_or_agent_being_affected(live_server_asgi, new_page, alpha):
    agent = make_agent("hana", "Hana Holder", alpha)
    supervisor = make_agent("sam", "Sam Supervisor", alpha, role="supervisor")
    page = workspace_page(new_page, live_server_asgi)
    sign_in(page, live_server_asgi, agent)
    customer, chat = accepted_chat(page, live_server_asgi, "Wes Watched")
    waiting = Customer(live_server_asgi, "alpha", name="Nell Next")
    waiting.escalate()

    boss = new_page()
    sign_in(boss, live_server_asgi, supervisor, online=False)
    boss.goto(live_server_asgi.url(None, "/agent/supervisor/"))
    expect(boss.locator(".waiting tbody tr")).to_contain_text(["Nell Next"])
    boss.get_by_role("button", name="Watch chat with Wes Watched (Alpha Outdoor)").click()
    watch = boss.locator("#watch")
    expect(watch.get_by_role("heading")).to_have_text("Watching Wes Watched (Alpha Outdoor) with Hana Holder")
    expect(watch.locator(".message--system", has_text="joined")).to_have_count(1)

    customer.say("Is anyone reading this?", "c-watch")
    # The question (message 1) and the live message both reach the watcher.
    expect(watch.locator(".message--customer .message__body")).to_have_text(["Where is my parcel?", "Is anyone reading this?"])
    boss.get_by_label("Whisper to Hana Holder").fill("Offer the express reship")
    boss.get_by_role("button", name="Send whisper").click()
    expect(watch.locator(".message--note .message__body")).to_have_text(["Offer the express reship"])

    # The agent gets the whisper as a private note and keeps the chat; the customer sees none of it.
    expect(chat.locator(".message--note .message__body")).to_have_text(["Offer the express reship"])
    expect(chat.get_by_label("Message")).to_be_visible()
    expect(chat.locator(".chat-status")).to_have_text("")
    chat.get_by_label("Message").fill("Yes, I am here")
    chat.get_by_role("button", name="Send").click()
    expect(watch.locator(".message--agent .message__body")).to_have_text(["Yes, I am here"])
    bodies = [m["body"] for m in customer.messages()]
    assert "Offer the express reship" not in bodies and "Yes, I am here" in bodies
    assert not any("Sam Supervisor" in body for body in bodies)
    with schema_context("brand_alpha"):
        assert Conversation.objects.get(id=customer.id).agent_name == "Hana Holder"


def test_an_offer_whose_frame_never_came_is_still_announced_once(live_server_asgi, new_page, alpha):
    """The offer's frame lost (or beaten by the queue read a queue.changed starts, as on a
    busy CI machine): the offer shows from the queue, and the agent is told then, once."""
    agent = make_agent("olga", "Olga Lost", alpha)
    page = workspace_page(new_page, live_server_asgi)
    dropped = []

    def agent_socket(ws):
        server = ws.connect_to_server()

        def from_server(message):
            if json.loads(message).get("type") == "offer":
                dropped.append(message)
            else:
                ws.send(message)

        server.on_message(from_server)

    page.route_web_socket(re.compile(r"/ws/agent/"), agent_socket)
    sign_in(page, live_server_asgi, agent)
    page.evaluate(TO_BACKGROUND)
    Customer(live_server_asgi, "alpha", name="Lou Lost").escalate()
    expect(page.get_by_role("button", name="Accept chat with Lou Lost (Alpha Outdoor)")).to_be_visible()
    expect(page).to_have_title("(1) Agent workspace · Helpdesk")
    assert dropped  # sent by the server, never seen by the page
    assert page.evaluate("window.__notifications") == [{"title": "Chat offered: Lou Lost (Alpha Outdoor)", "body": "Where is my parcel?"}]



def test_a_queue_read_from_before_an_accept_neither_brings_the_offer_back_nor_announces_it(live_server_asgi, new_page, alpha):
    """A read of the queue asked before the agent accepted answers after: it still lists
    the offer, which must stay gone and not be announced a second time."""
    agent = make_agent("otis", "Otis Overlap", alpha)
    page = workspace_page(new_page, live_server_asgi)
    sign_in(page, live_server_asgi, agent)
    page.evaluate(TO_BACKGROUND)
    Customer(live_server_asgi, "alpha", name="Lou Early").escalate()
    accept = page.get_by_role("button", name="Accept chat with Lou Early (Alpha Outdoor)")
    expect(accept).to_be_visible()

    held, holding = [], [True]  # (route, its answer from the server), in the order asked

    def queue_read(route):
        if holding[0]:
            held.append((route, route.fetch()))  # asked now, answered when the test says
        else:
            route.continue_()

    page.route(re.compile(r"/api/agent/v1/queue$"), queue_read)
    Customer(live_server_asgi, "alpha", name="Max Later").escalate()  # its queue.changed starts a read
    expect(page.get_by_role("button", name="Accept chat with Max Later (Alpha Outdoor)")).to_be_visible()
    deadline = time.monotonic() + 15
    while not held and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    assert held and "Lou Early" in held[0][1].text()  # the read that lists Lou's offer, held

    accept.click()
    expect(page.get_by_role("tab", name=re.compile("Lou Early"))).to_be_visible()
    # Answer the read from before the accept, every later one still held, with a marker
    # added to it: once the marker shows, the page has read that answer (and no other).
    stale_route, stale_response = held[0]
    stale = stale_response.json()
    stale["queue"].append({**stale["queue"][0], "conversation_id": 10**9, "customer_name": "Zed Marker", "offered_to_me": False, "state": "waiting"})
    stale_route.fulfill(response=stale_response, json=stale)
    expect(page.locator("#queue")).to_contain_text("Zed Marker")

    assert accept.count() == 0
    titles = [n["title"] for n in page.evaluate("window.__notifications")]
    assert titles.count("Chat offered: Lou Early (Alpha Outdoor)") == 1, titles
    holding[0] = False
    for route, response in held[1:]:
        route.fulfill(response=response)


def test_in_front_an_offer_sounds_but_raises_no_desktop_notification(live_server_asgi, new_page, alpha):
    agent = make_agent("fern", "Fern Front", alpha)
    page = workspace_page(new_page, live_server_asgi)
    # Test-only: count the tones the page starts (oscillators), without a speaker.
    page.add_init_script(COUNT_TONES)
    sign_in(page, live_server_asgi, agent)
    page.evaluate(TO_FRONT)
    Customer(live_server_asgi, "alpha", name="Fay Front").escalate()
    expect(page).to_have_title("(1) Agent workspace · Helpdesk")
    assert page.evaluate("window.__notifications") == []
    assert page.evaluate("window.__tones") == 2  # the two notes of one tone
