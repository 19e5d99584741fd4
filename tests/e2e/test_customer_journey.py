"""The customer's journey in Chromium: the hosted chat page on the brand host, with the
agent side driven through the agent REST API from a second browser context."""

import functools
import http.server
import re
import threading

import pytest
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from chat.identity import identity_sign
from chat.models import Conversation, CustomField
from knowledge.models import Article, Category
from knowledge.search import search_index_rebuild
from tenants.models import Brand
from tests.factories import PASSWORD, AgentFactory, StaffingFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HOSTILE = '<img src=x onerror=alert(1)><script>alert(2)</script>'
PHONE = {"viewport": {"width": 390, "height": 800}}


@pytest.fixture
def alpha_open(alpha):
    """Alpha takes chats at any hour (the default schedule is office hours)."""
    Brand.objects.filter(pk=alpha.pk).update(business_hours={}, max_queue_length=50)
    alpha.refresh_from_db()
    return alpha


@pytest.fixture
def parcel_article(alpha_open):
    with schema_context("brand_alpha"):
        article = Article.objects.create(
            slug="parcel-tracking", title="Track your parcel", category=Category.objects.get(slug="shipping"),
            summary="Where is my parcel and how to track it", body="Open **the tracking link** in your email.",
        )
        search_index_rebuild()
    return article


class Agent:
    """An agent working through the agent API from their own browser context."""

    def __init__(self, server, page, profile):
        self.server = server
        self.page = page
        self.request = page.request
        response = self.request.post(server.url(None, "/api/agent/v1/auth/token"), data={"username": profile.user.username, "password": PASSWORD})
        assert response.status == 201, response.text()
        self.token = response.json()["token"]
        self.headers = {"Authorization": f"Bearer {self.token}"}

    def call(self, method, path, data=None):
        response = self.request.fetch(self.server.url(None, f"/api/agent/v1{path}"), method=method, data=data, headers=self.headers)
        assert response.ok, f"{method} {path}: {response.status} {response.text()}"
        return response.json()

    def typing(self, conversation_id):
        """Say "typing" over the agent socket (typing is not in the REST API)."""
        self.page.goto(self.server.url(None, "/healthz"))
        self.page.evaluate(
            """([token, id]) => new Promise((resolve, reject) => {
                const ws = new WebSocket(`ws://${location.host}/ws/agent/v1/`);
                ws.onopen = () => ws.send(JSON.stringify({type: "auth", token}));
                ws.onmessage = (event) => {
                    if (JSON.parse(event.data).type !== "auth.ok") return;
                    ws.send(JSON.stringify({type: "typing", brand: "alpha", conversation_id: id, is_typing: true}));
                    resolve();
                };
                setTimeout(() => reject(new Error("agent socket did not authenticate")), 5000);
            })""",
            [self.token, conversation_id],
        )

    def online(self):
        return self.call("POST", "/presence", {"presence": "online"})

    def conversation(self, conversation_id, action="", data=None, method="POST"):
        return self.call(method, f"/brands/alpha/conversations/{conversation_id}{action}", data)


@pytest.fixture
def agent(alpha_open, live_server_asgi, new_page):
    def make(display_name="Alice Agent"):
        profile = AgentFactory(display_name=display_name, user__username=f"agent_{abs(hash(display_name)) % 10**8}")
        StaffingFactory(agent=profile, brand=alpha_open)
        driver = Agent(live_server_asgi, new_page(), profile)
        driver.online()
        return driver

    return make


def fill_prechat(page, *, name="Dana Customer", email="dana@example.com", summary="Where is my parcel?", category="shipping", extra=None):
    expect(page.get_by_role("heading", name="Chat with Alpha Outdoor")).to_be_visible()
    page.get_by_label("Name", exact=False).first.fill(name)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Customer ID").fill("C-42")
    page.get_by_label("Topic").select_option(category)
    page.get_by_label("What do you need help with?").fill(summary)
    page.get_by_label("Product ID").fill("P-9")
    for label, value in (extra or {}).items():
        page.get_by_label(label).fill(value)
    page.get_by_role("button", name="Start chat").click()


def conversation_id(page) -> int:
    return page.evaluate("() => JSON.parse(sessionStorage.getItem(`helpdesk.chat.${location.host}`)).id")


def start_active_chat(page, server, agent, **prechat):
    page.goto(server.url("alpha", "/chat/"))
    fill_prechat(page, **prechat)
    page.get_by_role("button", name="Chat with an agent").click()
    # The only agent is free: the chat is offered at once, so the customer is next.
    expect(page.locator("#queue-next")).to_be_visible()
    chat_id = conversation_id(page)
    agent.conversation(chat_id, "/accept")
    expect(page.locator("#chat-title")).to_have_text(re.compile("Chatting with"))
    return chat_id


def test_whole_journey_form_suggestions_queue_and_chat(live_server_asgi, new_page, parcel_article, agent):
    alice = agent("Alice Agent")
    page = new_page(**PHONE)
    script_errors = []
    page.on("pageerror", lambda error: script_errors.append(str(error)))
    page.goto(live_server_asgi.url("alpha", "/chat/"))
    # Server-side validation: the errors sit next to their fields.
    expect(page.get_by_role("heading", name="Chat with Alpha Outdoor")).to_be_visible()
    assert "null" not in page.locator("#chat-app").inner_text()  # no stray values in the form
    page.get_by_role("button", name="Start chat").click()
    name_input = page.locator("#f-name")
    expect(name_input).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#f-name-error")).to_have_text("Tell us your name.")
    assert "f-name-error" in name_input.get_attribute("aria-describedby")

    fill_prechat(page)
    expect(page.get_by_role("heading", name="These articles might help")).to_be_visible()
    suggestion = page.locator(".suggestion").filter(has_text="Track your parcel")
    expect(suggestion).to_be_visible()
    suggestion.get_by_role("button", name="Read the article").click()
    expect(suggestion.locator(".article-body strong")).to_have_text("the tracking link")

    page.get_by_role("button", name="Chat with an agent").click()
    expect(page.get_by_role("heading", name="Waiting for an agent")).to_be_visible()
    expect(page.locator("#queue-next")).to_have_text("You're next: an agent is about to join.")
    chat_id = conversation_id(page)
    alice.conversation(chat_id, "/accept")
    expect(page.locator("#chat-title")).to_have_text("Chatting with Alice Agent")
    expect(page.locator(".message.system").filter(has_text="Alice Agent joined the chat.")).to_be_visible()

    composer = page.get_by_label("Message", exact=True)
    composer.fill("Hello, my parcel is late. See https://example.com/track?id=1.")
    composer.press("Enter")
    mine = page.locator("#messages .message.customer:not([data-seq='1'])")
    expect(mine).to_have_count(1)
    expect(page.locator("#pending-messages .message")).to_have_count(0)
    link = mine.get_by_role("link", name="https://example.com/track?id=1")
    expect(link).to_have_attribute("href", "https://example.com/track?id=1")
    seen_by_agent = alice.conversation(chat_id, "/messages", method="GET")["messages"]
    assert [m["body"] for m in seen_by_agent if m["sender"] == "customer"] == ["Where is my parcel?", "Hello, my parcel is late. See https://example.com/track?id=1."]

    alice.typing(chat_id)
    expect(page.locator("#typing")).to_have_text("Alice Agent is typing…")
    alice.conversation(chat_id, "/messages", {"body": "Sorry about that, Dana. Checking now."})
    expect(page.locator("#typing")).to_have_text("")
    expect(page.locator("#messages .message.agent .bubble")).to_have_text("Sorry about that, Dana. Checking now.")
    last_customer_seq = int(mine.get_attribute("data-seq"))
    alice.conversation(chat_id, "/read", {"up_to_seq": last_customer_seq})
    expect(mine.locator(".status")).to_have_text("Seen")

    # A reload resumes the same chat with its history.
    page.reload()
    expect(page.locator("#chat-title")).to_have_text("Chatting with Alice Agent")
    expect(page.locator("#messages .message.agent")).to_have_count(1)
    expect(page.locator("#messages .message.customer:not([data-seq='1'])")).to_have_count(1)
    page.get_by_label("Message", exact=True).fill("Thanks!")
    page.get_by_role("button", name="Send").click()
    expect(page.locator("#messages .message.customer:not([data-seq='1'])")).to_have_count(2)
    with schema_context("brand_alpha"):
        assert Conversation.objects.get(pk=chat_id).state == Conversation.State.ACTIVE
    assert script_errors == []


def test_this_solved_my_problem(live_server_asgi, new_page, parcel_article):
    page = new_page()
    page.goto(live_server_asgi.url("alpha", "/chat/"))
    fill_prechat(page)
    page.locator(".suggestion").filter(has_text="Track your parcel").get_by_role("button", name="This solved my problem").click()
    expect(page.get_by_role("heading", name="Glad that helped!")).to_be_visible()
    with schema_context("brand_alpha"):
        conversation = Conversation.objects.get()
        assert conversation.state == Conversation.State.RESOLVED_BY_ARTICLE
        assert Article.objects.get(pk=parcel_article.pk).solved_count == 1


def test_queue_position_updates_live_and_leaving(live_server_asgi, new_page, alpha_open):
    first, second = new_page(), new_page(**PHONE)
    for page, name in ((first, "First Customer"), (second, "Second Customer")):
        page.goto(live_server_asgi.url("alpha", "/chat/"))
        fill_prechat(page, name=name)
        page.get_by_role("button", name="Chat with an agent").click()
    expect(first.locator("#queue-position")).to_have_text("1")
    expect(first.locator("#queue-eta")).to_have_text(re.compile(r"about \d+ minutes?"))
    expect(second.locator("#queue-position")).to_have_text("2")
    first.get_by_role("button", name="Leave the queue").click()
    expect(first.get_by_role("heading", name="You left the queue")).to_be_visible()
    # The second customer moves up without reloading.
    expect(second.locator("#queue-position")).to_have_text("1")
    with schema_context("brand_alpha"):
        states = dict(Conversation.objects.values_list("customer_name", "state"))
    assert states == {"First Customer": "abandoned", "Second Customer": "queued"}


def test_offline_message_when_the_queue_is_full(live_server_asgi, new_page, alpha_open):
    Brand.objects.filter(pk=alpha_open.pk).update(max_queue_length=0)
    page = new_page()
    page.goto(live_server_asgi.url("alpha", "/chat/"))
    expect(page.get_by_role("heading", name="Leave us a message")).to_be_visible()
    expect(page.get_by_text("the queue is full", exact=False)).to_be_visible()
    page.get_by_label("Name", exact=False).first.fill("Olive Offline")
    page.get_by_label("Email").fill("olive@example.com")
    page.get_by_label("Topic").select_option("returns")
    page.get_by_label("What do you need help with?").fill("I want to return boots")
    page.get_by_role("button", name="Send message").click()
    expect(page.get_by_role("heading", name="Message sent")).to_be_visible()
    from chat.models import OfflineMessage

    with schema_context("brand_alpha"):
        assert OfflineMessage.objects.get().summary == "I want to return boots"


def test_dropped_connection_shows_missed_messages_exactly_once(live_server_asgi, new_page, agent, network_outage):
    alice = agent("Alice Agent")
    page = new_page()
    outage = network_outage(page)
    chat_id = start_active_chat(page, live_server_asgi, alice)
    alice.conversation(chat_id, "/messages", {"body": "Before the drop"})
    expect(page.locator("#messages .message.agent")).to_have_count(1)

    # The customer's network goes away; the agent writes meanwhile, from their own browser.
    connection = page.locator("#connection")
    outage.cut()
    expect(connection).to_have_text("Reconnecting…")
    for n in (1, 2, 3):
        alice.conversation(chat_id, "/messages", {"body": f"Missed {n}"})
    # Typed while offline: shown as pending, sent on reconnect with the same client_msg_id.
    page.get_by_label("Message", exact=True).fill("Are you there?")
    page.get_by_label("Message", exact=True).press("Enter")
    expect(page.locator("#pending-messages .message.pending")).to_have_count(1)
    expect(page.locator("#messages .message.agent")).to_have_count(1)

    outage.restore()
    # Back: the line clears once the socket is authenticated again.
    expect(connection).to_be_empty(timeout=15_000)
    agent_bubbles = page.locator("#messages .message.agent .bubble")
    expect(agent_bubbles).to_have_text(["Before the drop", "Missed 1", "Missed 2", "Missed 3"])
    expect(page.locator("#messages .message.customer:not([data-seq='1']) .bubble")).to_have_text(["Are you there?"])
    expect(page.locator("#pending-messages .message")).to_have_count(0)
    seqs = page.locator("#messages .message").evaluate_all("nodes => nodes.map(n => Number(n.dataset.seq))")
    assert seqs == sorted(set(seqs))
    with schema_context("brand_alpha"):
        assert Conversation.objects.get(pk=chat_id).messages.filter(sender="customer", seq__gt=1).count() == 1


def test_a_message_the_server_refuses_is_marked_not_sent(live_server_asgi, new_page, agent):
    alice = agent("Alice Agent")
    page = new_page()
    chat_id = start_active_chat(page, live_server_asgi, alice)
    composer = page.get_by_label("Message", exact=True)
    # The page caps the length; the server checks too, for clients that do not.
    composer.evaluate("node => node.removeAttribute('maxlength')")
    composer.fill("x" * 4001)
    composer.press("Enter")

    refused = page.locator("#pending-messages .message.failed")
    expect(refused).to_have_count(1)
    expect(refused).to_contain_text("Not sent: Messages are limited to 4000 characters.")
    composer.fill("A shorter one")
    composer.press("Enter")
    expect(page.locator("#messages .message.customer:not([data-seq='1']) .bubble")).to_have_text(["A shorter one"])
    with schema_context("brand_alpha"):
        assert list(Conversation.objects.get(pk=chat_id).messages.filter(sender="customer", seq__gt=1).values_list("body", flat=True)) == ["A shorter one"]


def test_survey_and_transcript_after_the_agent_ends(live_server_asgi, new_page, agent):
    alice = agent("Alice Agent")
    page = new_page()
    chat_id = start_active_chat(page, live_server_asgi, alice)
    alice.conversation(chat_id, "/end")
    expect(page.get_by_role("heading", name="The chat has ended")).to_be_visible()
    expect(page.get_by_label("Message", exact=True)).to_be_hidden()
    survey = page.locator("#survey")
    expect(survey).to_have_count(1)
    survey.get_by_label("4", exact=True).check()
    survey.get_by_label("Comment (optional)").fill("Quick and kind")
    survey.get_by_role("button", name="Send feedback").click()
    expect(page.locator("#survey-thanks")).to_be_visible()
    page.get_by_role("button", name="Email me the transcript").click()
    expect(page.get_by_text("emailing the transcript to dana@example.com", exact=False)).to_be_visible()
    # Shown once: a reload does not ask again.
    page.reload()
    expect(page.get_by_role("heading", name="The chat has ended")).to_be_visible()
    expect(page.locator("#survey")).to_have_count(0)
    with schema_context("brand_alpha"):
        survey_row = Conversation.objects.get(pk=chat_id).survey
        assert (survey_row.rating, survey_row.comment, survey_row.answered_via) == (4, "Quick and kind", "chat")


class _Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def other_origin(tmp_path):
    """A plain page on another origin (the brand's own site) that embeds the widget."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Handler, directory=str(tmp_path)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def publish(html):
        (tmp_path / "index.html").write_text(html)
        return f"http://127.0.0.1:{server.server_address[1]}/index.html"

    yield publish
    server.shutdown()
    server.server_close()


def test_widget_on_another_origin_opens_the_chat_with_identity(live_server_asgi, new_page, alpha_open, other_origin):
    token = identity_sign(secret=alpha_open.identity_secret, name="Ida Known", email="ida@example.com", customer_id="C-7")
    script = live_server_asgi.url("alpha", "/widget.js")
    url = other_origin(f'<!doctype html><html><head><title>Alpha shop</title></head><body><h1>Alpha shop</h1>'
                       f'<script src="{script}" data-identity="{token}" async></script></body></html>')
    page = new_page()
    page.goto(url)
    launcher = page.get_by_role("button", name="Chat with Alpha Outdoor")
    expect(launcher).to_be_visible()
    launcher.focus()
    page.keyboard.press("Enter")
    frame = page.frame_locator("iframe[data-helpdesk-frame]")
    expect(frame.get_by_role("heading", name="Chat with Alpha Outdoor")).to_be_visible()
    name = frame.locator("#f-name")
    expect(name).to_have_value("Ida Known")
    expect(name).to_have_attribute("readonly", "")
    expect(frame.locator("#f-email")).to_have_value("ida@example.com")
    expect(page.get_by_role("button", name="Close the chat")).to_have_attribute("aria-expanded", "true")
    frame.locator("#f-summary").press("Escape")
    expect(page.locator("iframe[data-helpdesk-frame]")).to_be_hidden()
    expect(page.get_by_role("button", name="Chat with Alpha Outdoor")).to_be_focused()


def test_bad_identity_token_says_why(live_server_asgi, new_page, alpha_open):
    page = new_page()
    page.goto(live_server_asgi.url("alpha", "/chat/?identity=not.valid"))
    expect(page.locator("#identity-error")).to_contain_text("couldn't sign you in")
    expect(page.locator("#f-name")).not_to_have_attribute("readonly", "")


def test_hostile_strings_render_as_text(live_server_asgi, new_page, agent):
    with schema_context("brand_alpha"):
        CustomField.objects.create(key="order_ref", label="Order reference", field_type="text")
    dialogs = []
    mallory = agent(f"Mallory {HOSTILE}")
    page = new_page()
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(live_server_asgi.url("alpha", "/chat/"))
    fill_prechat(page, name=HOSTILE, summary=HOSTILE, extra={"Order reference": HOSTILE})
    expect(page.locator("#recap-summary")).to_have_text(HOSTILE)
    page.get_by_role("button", name="Chat with an agent").click()
    expect(page.locator("#queue-next")).to_be_visible()
    chat_id = conversation_id(page)
    mallory.conversation(chat_id, "/accept")
    expect(page.locator("#chat-title")).to_have_text(f"Chatting with Mallory {HOSTILE}")
    page.get_by_label("Message", exact=True).fill(HOSTILE)
    page.get_by_label("Message", exact=True).press("Enter")
    mallory.conversation(chat_id, "/messages", {"body": f"{HOSTILE} javascript:alert(3) http://x.test/<b>"})
    expect(page.locator("#messages .message.customer:not([data-seq='1']) .bubble")).to_have_text(HOSTILE)
    agent_bubble = page.locator("#messages .message.agent .bubble")
    expect(agent_bubble).to_have_text(f"{HOSTILE} javascript:alert(3) http://x.test/<b>")
    assert agent_bubble.locator("a").evaluate_all("links => links.map(a => a.href)") == ["http://x.test/"]
    page.get_by_role("button", name="End chat").click()
    expect(page.locator(".message.system").filter(has_text=f"{HOSTILE} ended the chat.")).to_be_visible()
    assert page.locator("#chat-app img, #chat-app script").count() == 0
    with schema_context("brand_alpha"):
        assert Conversation.objects.get(pk=chat_id).custom_fields == {"order_ref": HOSTILE}
    assert dialogs == []
