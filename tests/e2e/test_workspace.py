"""The agent workspace and supervisor view in Chromium, against the live ASGI server.

Customers' conversations are made through the widget API on the brand host (from a
separate browser context, like the widget would), so every write and every socket event
happens in the live server."""

import json
import socket
import re
import time
import urllib.error
import urllib.request

from django_tenants.utils import schema_context
from websockets.sync.client import connect as ws_connect

import pytest
from playwright.sync_api import expect

from chat.models import CannedReply, Conversation
from helpdesk.models import Staffing
from tests.factories import PASSWORD, AgentFactory, StaffingFactory, next_ids_aligned

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


class Customer:
    """A customer driving the widget API of one brand, over HTTP to the live server.

    Node's resolver (Playwright's request API) does not know *.localhost, so this talks to
    127.0.0.1 with the brand's Host header."""

    def __init__(self, live, brand, **details):
        self.port, self.brand = live.port, brand
        data = {
            "name": "Dana Customer", "email": "dana@example.com", "customer_id": "C-1",
            "category": "shipping" if brand == "alpha" else "setup", "summary": "Where is my parcel?", "product_id": "P-9",
        }
        data.update(details)
        self.token = None
        status, body = self._call("POST", "/api/widget/v1/conversations", data)
        assert status == 201, body
        self.id, self.token, self.name = body["id"], body["token"], data["name"]

    def _call(self, method, path, data=None):
        headers = {"Host": f"{self.brand}.localhost:{self.port}", "Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        payload = json.dumps(data).encode() if data is not None else (b"" if method == "POST" else None)
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=payload, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def socket(self):
        """The widget socket, authenticated; frames are JSON objects."""
        raw = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        ws = ws_connect(f"ws://{self.brand}.localhost:{self.port}/ws/widget/v1/conversations/{self.id}/", sock=raw, open_timeout=10)
        ws.send(json.dumps({"type": "auth", "token": self.token, "after_seq": 0}))
        return ws

    def _path(self, suffix=""):
        return f"/api/widget/v1/conversations/{self.id}{suffix}"

    def escalate(self):
        status, body = self._call("POST", self._path("/escalate"))
        assert status == 200, body

    def say(self, body, client_msg_id):
        status, answer = self._call("POST", self._path("/messages"), {"body": body, "client_msg_id": client_msg_id})
        assert status == 201, answer

    def messages(self):
        status, body = self._call("GET", self._path("/messages?after_seq=0"))
        assert status == 200, body
        return body["messages"]


def make_agent(username, name, *brands, role=Staffing.Role.AGENT):
    agent = AgentFactory(display_name=name, user__username=username, max_concurrent_chats=3)
    for brand in brands:
        StaffingFactory(agent=agent, brand=brand, role=role)
    return agent


def go_online_by_token(live, agent):
    def post(path, data, headers=None):
        request = urllib.request.Request(
            f"http://127.0.0.1:{live.port}/api/agent/v1/{path}", data=json.dumps(data).encode(), method="POST",
            headers={"Host": f"localhost:{live.port}", "Content-Type": "application/json", **(headers or {})},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    token = post("auth/token", {"username": agent.user.username, "password": PASSWORD})["token"]
    assert post("presence", {"presence": "online"}, {"Authorization": f"Bearer {token}"})["presence"] == "online"


def sign_in(page, live, agent, *, online=True):
    page.goto(live.url(None, "/agent/login/"))
    page.get_by_label("Username").fill(agent.user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(live.url(None, "/agent/"))
    expect(page.locator("#connection")).to_have_text("Connected")
    if online:
        with page.expect_response(re.compile(r"/api/agent/v1/presence$")) as presence:
            page.get_by_label("Presence").select_option("online")
        assert presence.value.ok


def accepted_chat(page, live, customer_name):
    """A customer of alpha waits, the signed-in agent accepts the offer: (customer, chat panel)."""
    customer = Customer(live, "alpha", name=customer_name)
    customer.escalate()
    page.get_by_role("button", name=f"Accept chat with {customer_name} (Alpha Outdoor)").click()
    return customer, panel(page, customer_name)


def panel(page, customer_name):
    tab = page.get_by_role("tab", name=re.compile(customer_name))
    tab.click()
    return page.get_by_role("tabpanel", name=re.compile(customer_name))


def test_agent_accepts_an_offer_replies_and_sees_the_customer(live_server_asgi, new_page, alpha):
    agent = make_agent("olive", "Olive Agent", alpha)
    page = new_page()
    sign_in(page, live_server_asgi, agent)

    customer = Customer(live_server_asgi, "alpha", custom_fields={})
    customer.escalate()
    offer = page.locator(".offer")
    expect(offer).to_contain_text("Dana Customer")
    expect(offer).to_contain_text("Where is my parcel?")
    expect(offer.locator(".countdown")).to_have_text(re.compile(r"\d+s left"))
    page.get_by_role("button", name="Accept chat with Dana Customer (Alpha Outdoor)").click()

    chat = panel(page, "Dana Customer")
    expect(chat.locator(".details")).to_contain_text("P-9")
    expect(chat.locator(".details")).to_contain_text("dana@example.com")
    expect(chat.locator(".message--system", has_text="joined")).to_have_text(re.compile("Olive Agent joined the chat."))

    chat.get_by_label("Message").fill("Hi Dana, let me check <b>that</b>.")
    chat.get_by_role("button", name="Send").click()
    expect(chat.locator(".message--agent .message__body")).to_have_text("Hi Dana, let me check <b>that</b>.")

    customer.say("It was due <i>Monday</i>", "c-1")
    expect(chat.locator(".message--customer:not([data-seq='1']) .message__body")).to_have_text("It was due <i>Monday</i>")
    # Customer text is text, never markup.
    assert chat.locator(".message--customer:not([data-seq='1']) i").count() == 0
    assert [m["body"] for m in customer.messages() if m["sender"] == "agent"] == ["Hi Dana, let me check <b>that</b>."]

    # Ending asks in the page's own dialog (no window.confirm), and the tab goes once done.
    page.on("dialog", lambda dialog: pytest.fail(f"a browser dialog opened: {dialog.message}"))
    chat.get_by_role("button", name="End chat").click()
    confirm = page.get_by_role("dialog", name="End chat")
    expect(confirm).to_contain_text("End the chat with Dana Customer?")
    confirm.get_by_role("button", name="End chat").click()
    expect(page.get_by_role("tab", name=re.compile("Dana Customer"))).to_have_count(0)
    assert customer.messages()[-1]["body"] == "Olive Agent ended the chat."


def test_a_queue_refresh_keeps_the_accept_button_being_pressed(live_server_asgi, new_page, alpha):
    """Offers and the queue are re-read whenever the queue changes. A button under the
    agent's pointer must stay the same element through that, or a press that began on it
    ends on its replacement and the browser fires no click (CI saw the accept lost)."""
    agent = make_agent("rita", "Rita Agent", alpha)
    page = new_page()
    sign_in(page, live_server_asgi, agent)

    Customer(live_server_asgi, "alpha", name="Ann First").escalate()
    accept = page.get_by_role("button", name="Accept chat with Ann First (Alpha Outdoor)").element_handle()
    Customer(live_server_asgi, "alpha", name="Ben Second").escalate()
    expect(page.locator("#queue")).to_contain_text("Ben Second")  # re-read and redrawn since
    expect(page.locator("#queue")).to_contain_text("Ann First")
    assert accept.evaluate("button => button.isConnected")

    accept.click()
    expect(page.get_by_role("tab", name=re.compile("Ann First"))).to_be_visible()


def test_two_chats_from_two_brands_in_two_tabs(live_server_asgi, new_page, alpha, beta):
    agent = make_agent("paula", "Paula Agent", alpha, beta)
    next_ids_aligned(Conversation, "brand_alpha", "brand_beta")
    page = new_page()
    sign_in(page, live_server_asgi, agent, online=False)

    first = Customer(live_server_asgi, "alpha", name="Ann Alpha", summary="Parcel lost")
    second = Customer(live_server_asgi, "beta", name="Ben Beta", summary="Phone will not pair", product_id="B-42")
    assert first.id == second.id  # ids repeat across brands: the queue, offers and tabs must tell them apart by brand
    first.escalate()
    second.escalate()
    # Nobody is online, so both wait in the one queue across brands; the agent picks them.
    queue = page.locator("#queue")
    expect(queue.locator(".queue-item")).to_have_count(2)
    expect(queue).to_contain_text("Alpha Outdoor")
    expect(queue).to_contain_text("Beta Devices")
    expect(queue.locator(".queue-item").first.locator(".wait")).to_have_text(re.compile(r"\d+s"))

    with page.expect_response(re.compile(r"/api/agent/v1/presence$")):
        page.get_by_label("Presence").select_option("online")
    # Online: routing offers both (capacity 3). Decline Ann, then pick her from the queue.
    page.get_by_role("button", name="Decline chat with Ann Alpha (Alpha Outdoor)").click()
    page.get_by_role("button", name="Accept chat with Ben Beta (Beta Devices)").click()
    page.get_by_role("button", name="Pick chat with Ann Alpha (Alpha Outdoor)").click()
    expect(page.get_by_role("tab")).to_have_count(2)

    beta_chat = panel(page, "Ben Beta")
    expect(beta_chat.locator(".details")).to_contain_text("B-42")
    expect(beta_chat.locator(".chat-title")).to_contain_text("Beta Devices")
    beta_chat.get_by_label("Message").fill("Hello Ben")
    beta_chat.get_by_role("button", name="Send").click()
    expect(beta_chat.locator(".message--agent")).to_contain_text("Hello Ben")

    alpha_chat = panel(page, "Ann Alpha")
    expect(alpha_chat.locator(".chat-title")).to_contain_text("Alpha Outdoor")
    expect(alpha_chat.locator(".message--agent")).to_have_count(0)
    first.say("Any news?", "a-1")
    expect(alpha_chat.locator(".message--customer:not([data-seq='1'])")).to_contain_text("Any news?")
    second.say("Still there?", "b-1")
    # Ben's tab, in the background, is flagged unread until the agent switches to it.
    expect(page.get_by_role("tab", name=re.compile("Ben Beta"))).to_have_class(re.compile("tab--unread"))
    expect(alpha_chat.locator(".message--customer:not([data-seq='1'])")).to_have_count(1)
    beta_chat = panel(page, "Ben Beta")
    expect(beta_chat.locator(".message--customer:not([data-seq='1'])")).to_contain_text("Still there?")
    expect(page.get_by_role("tab", name=re.compile("Ben Beta"))).not_to_have_class(re.compile("tab--unread"))
    assert [m["body"] for m in second.messages() if m["sender"] == "agent"] == ["Hello Ben"]
    assert [m["body"] for m in first.messages() if m["sender"] == "agent"] == []


def test_transfer_to_another_agent_with_a_note(live_server_asgi, new_page, alpha):
    first = make_agent("quinn", "Quinn Agent", alpha)
    second = make_agent("rita", "Rita Agent", alpha)
    page = new_page()
    other = new_page()
    sign_in(page, live_server_asgi, first)
    sign_in(other, live_server_asgi, second, online=False)

    customer, chat = accepted_chat(page, live_server_asgi, "Tom Transfer")
    expect(chat.locator(".message--system", has_text="joined the chat")).to_be_visible()

    with other.expect_response(re.compile(r"/api/agent/v1/presence$")):
        other.get_by_label("Presence").select_option("online")
    chat.get_by_role("button", name="Transfer…").click()
    dialog = page.get_by_role("dialog", name="Transfer chat")
    expect(dialog.get_by_label("Agent", exact=True)).to_contain_text("Rita Agent (online, 0/3)")
    dialog.get_by_label("Agent", exact=True).select_option(str(second.id))
    dialog.get_by_label("Note for the next agent").fill("Refund approved, send the label.")
    dialog.get_by_role("button", name="Transfer", exact=True).click()
    expect(chat.locator(".chat-status")).to_have_text("You transferred this chat.")

    received = panel(other, "Tom Transfer")
    note = received.locator(".message--note")
    expect(note).to_contain_text("Private note")
    expect(note).to_contain_text("Transfer note: Refund approved, send the label.")
    expect(received.locator(".message--system").last).to_contain_text("transferred the chat to Rita Agent")
    received.get_by_label("Message").fill("Hi Tom, Rita here.")
    received.get_by_role("button", name="Send").click()
    expect(received.locator(".message--agent")).to_contain_text("Rita here")
    assert "Refund approved" not in str(customer.messages())


def test_private_note_is_invisible_to_the_customer(live_server_asgi, new_page, alpha):
    agent = make_agent("nina", "Nina Agent", alpha)
    page = new_page()
    sign_in(page, live_server_asgi, agent)
    customer, chat = accepted_chat(page, live_server_asgi, "Nora Note")

    chat.get_by_label("Private note").check()
    chat.get_by_label("Message").fill("Customer sounds upset, be gentle.")
    chat.get_by_role("button", name="Send").click()
    note = chat.locator(".message--note")
    expect(note).to_contain_text("Private note")
    expect(note).to_contain_text("be gentle")
    chat.get_by_label("Private note").uncheck()
    chat.get_by_label("Message").fill("Hello Nora!")
    chat.get_by_role("button", name="Send").click()
    expect(chat.locator(".message--agent")).to_contain_text("Hello Nora!")

    seen_by_customer = customer.messages()
    assert not any(m.get("internal") for m in seen_by_customer)
    assert "be gentle" not in str(seen_by_customer)
    assert "Hello Nora!" in [m["body"] for m in seen_by_customer]

    # Back to the queue under another category: nobody else is online, so it waits there.
    chat.get_by_role("button", name="Transfer…").click()
    dialog = page.get_by_role("dialog", name="Transfer chat")
    dialog.get_by_label("A category").check()
    dialog.get_by_label("Category", exact=True).select_option("returns")
    dialog.get_by_role("button", name="Transfer", exact=True).click()
    expect(chat.locator(".chat-status")).to_have_text(re.compile("transferred|no longer yours"))
    waiting = page.locator("#queue .queue-item", has_text="Nora Note")
    expect(waiting.locator(".category")).to_have_text("Returns")
    expect(waiting.get_by_role("button", name="Pick chat with Nora Note (Alpha Outdoor)")).to_be_visible()


def test_supervisor_takes_over_a_chat(live_server_asgi, new_page, alpha):
    agent = make_agent("uma", "Uma Agent", alpha)
    boss = make_agent("vera", "Vera Supervisor", alpha, role=Staffing.Role.SUPERVISOR)
    page = new_page()
    sign_in(page, live_server_asgi, agent)
    customer = Customer(live_server_asgi, "alpha", name="Sid Super")
    customer.escalate()
    page.get_by_role("button", name="Accept chat with Sid Super (Alpha Outdoor)").click()
    expect(page.get_by_role("tab", name=re.compile("Sid Super"))).to_be_visible()

    supervisor = new_page()
    sign_in(supervisor, live_server_asgi, boss, online=False)
    supervisor.get_by_role("link", name="Supervisor").click()
    overview = supervisor.locator('section[data-brand="alpha"]')
    expect(overview.locator(f'tr[data-agent="{agent.id}"]')).to_contain_text("1 / 3")
    expect(overview.locator(".queue-length")).to_have_text("0")

    # Reassign to a colleague first (online through the agent API, no browser needed).
    colleague = make_agent("xena", "Xena Agent", alpha)
    go_online_by_token(live_server_asgi, colleague)
    row = overview.locator("tr[data-conversation]")
    supervisor.get_by_label("Reassign chat with Sid Super (Alpha Outdoor) to").select_option(str(colleague.id))
    supervisor.get_by_role("button", name="Reassign chat with Sid Super (Alpha Outdoor)").click()
    expect(row.locator(".chat-agent")).to_have_text("Xena Agent")
    expect(panel(page, "Sid Super").locator(".chat-status")).to_have_text(re.compile("no longer yours|Xena Agent has this chat now"))

    supervisor.get_by_role("button", name="Take over chat with Sid Super (Alpha Outdoor)").click()

    # The supervisor continues in the workspace; the agent loses the chat.
    expect(supervisor).to_have_url(live_server_asgi.url(None, "/agent/"))
    taken = panel(supervisor, "Sid Super")
    expect(taken.locator(".message--note").last).to_contain_text("Vera Supervisor (supervisor) reassigned this chat.")
    taken.get_by_label("Message").fill("Vera here, I will finish this.")
    taken.get_by_role("button", name="Send").click()
    expect(taken.locator(".message--agent")).to_contain_text("Vera here")
    assert "Vera here, I will finish this." in [m["body"] for m in customer.messages()]


def next_frame(ws, predicate, timeout=8):
    deadline = time.monotonic() + timeout
    while True:
        frame = json.loads(ws.recv(timeout=max(0.1, deadline - time.monotonic())))
        if predicate(frame):
            return frame


def test_canned_replies_typing_and_read_receipts(live_server_asgi, new_page, alpha):
    with schema_context("brand_alpha"):
        CannedReply.objects.create(shortcut="hello", title="Greeting", body="Hi {customer_name}, I am {agent_name}.")
    agent = make_agent("wes", "Wes Agent", alpha)
    page = new_page()
    sign_in(page, live_server_asgi, agent)
    customer, chat = accepted_chat(page, live_server_asgi, "Carla Canned")
    expect(chat.locator(".message--system", has_text="joined")).to_be_visible()

    ws = customer.socket()
    try:
        next_frame(ws, lambda f: f["type"] == "auth.ok")
        ws.send(json.dumps({"type": "typing", "is_typing": True}))
        expect(chat.locator(".typing")).to_have_text("Carla Canned is typing…")

        chat.get_by_label("Canned reply").select_option(label="Greeting (/hello)")
        expect(chat.get_by_label("Message")).to_have_value("Hi Carla Canned, I am Wes Agent.")
        chat.get_by_label("Message").press_sequentially("!")
        assert next_frame(ws, lambda f: f["type"] == "typing")["sender"] == "agent"
        chat.get_by_role("button", name="Send").click()
        reply = next_frame(ws, lambda f: f["type"] == "message" and f["sender"] == "agent")
        assert reply["body"] == "Hi Carla Canned, I am Wes Agent.!"
        seq = reply["seq"]
        receipt = chat.locator(f'.message--agent[data-seq="{seq}"] .receipt')
        expect(receipt).to_have_text("")
        ws.send(json.dumps({"type": "read", "up_to_seq": seq}))
        expect(receipt).to_have_text("Seen")
        # And the other way: the agent, looking at the chat, tells the customer it was read.
        ws.send(json.dumps({"type": "message.send", "client_msg_id": "c-read", "body": "Thanks!"}))
        mine = next_frame(ws, lambda f: f["type"] == "message" and f["sender"] == "customer")
        assert next_frame(ws, lambda f: f["type"] == "read" and f["reader"] == "agent")["up_to_seq"] >= mine["seq"]
    finally:
        ws.close()


def test_a_dropped_connection_catches_up_once_it_is_back(live_server_asgi, new_page, alpha, network_outage):
    agent = make_agent("rhea", "Rhea Agent", alpha)
    page = new_page()
    outage = network_outage(page)
    sign_in(page, live_server_asgi, agent)
    customer, chat = accepted_chat(page, live_server_asgi, "Rory Reconnect")
    customer.say("Hello?", "c-hello")
    expect(chat.locator(".message--customer:not([data-seq='1'])")).to_contain_text(["Hello?"])

    # The agent's network goes away; what the customer says meanwhile arrives once it is
    # back, once.
    outage.cut()
    expect(page.locator("#connection")).to_have_text("Reconnecting…")
    customer.say("Are you still there?", "c-away")
    expect(chat.locator(".message--customer:not([data-seq='1'])")).to_have_count(1)
    outage.restore()
    expect(page.locator("#connection")).to_have_text("Connected", timeout=20_000)
    expect(chat.locator(".message--customer:not([data-seq='1'])")).to_contain_text(["Hello?", "Are you still there?"])
    customer.say("Good, thanks", "c-back")
    expect(chat.locator(".message--customer:not([data-seq='1'])")).to_have_count(3)
    seqs = chat.locator(".message").evaluate_all("items => items.map(i => Number(i.dataset.seq))")
    assert seqs == sorted(set(seqs))


def test_a_reply_sent_again_after_its_answer_was_lost_is_stored_once(live_server_asgi, new_page, alpha):
    """Behind a proxy a reply can be stored and still answer 502 (the process died before
    its answer): pressing Send again must send it under the same client_msg_id."""
    agent = make_agent("rhea", "Rhea Agent", alpha)
    page = new_page()
    sign_in(page, live_server_asgi, agent)
    customer, chat = accepted_chat(page, live_server_asgi, "Lost Answer")
    posted = []

    def stored_then_lost(route):
        if route.request.method != "POST":
            return route.continue_()
        posted.append(json.loads(route.request.post_data)["client_msg_id"])
        if len(posted) == 1:
            route.fetch()  # the server stores it...
            return route.fulfill(status=502, content_type="text/html", body="<h1>502 Bad Gateway</h1>")  # ...and the answer is lost
        return route.continue_()

    page.route(re.compile(r"/api/agent/v1/brands/alpha/conversations/\d+/messages$"), stored_then_lost)
    chat.get_by_label("Message").fill("Are you still there?")
    chat.get_by_role("button", name="Send").click()
    expect(chat.locator(".composer__error")).to_be_visible()
    chat.get_by_role("button", name="Send").click()
    expect(chat.locator(".message--agent .message__body")).to_have_text("Are you still there?")
    assert len(posted) == 2 and posted[0] == posted[1]
    assert [m["body"] for m in customer.messages() if m["sender"] == "agent"] == ["Are you still there?"]


def test_a_message_whose_event_was_lost_is_read_back_when_a_later_one_arrives(live_server_asgi, new_page, alpha, monkeypatch):
    """A process killed between its commit and its publish: the next message's seq jumps
    past it, and the chat tab reads the gap back from the server."""
    from chat import messages as chat_messages

    agent = make_agent("sol", "Sol Agent", alpha)
    page = new_page()
    sign_in(page, live_server_asgi, agent)
    customer, chat = accepted_chat(page, live_server_asgi, "Gap Customer")
    expect(chat.locator(".message--system", has_text="joined")).to_be_visible()
    with schema_context("brand_alpha"), monkeypatch.context() as patch:
        patch.setattr(chat_messages, "publish_on_commit", lambda event: None)
        chat_messages.message_send(conversation_id=customer.id, sender="customer", body="never published", client_msg_id="g-1")
    customer.say("published", "g-2")
    bodies = chat.locator(".message--customer:not([data-seq='1']) .message__body")
    expect(bodies).to_have_text(["never published", "published"])
