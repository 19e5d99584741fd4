"""The widget socket, frame by frame, against real Redis and PostgreSQL."""

import json

import pytest
from channels.db import database_sync_to_async
from django_tenants.utils import schema_context

from chat import services
from chat.messages import conversation_read, message_send
from chat.models import Conversation, Message
from realtime.socket import CLOSE_UNAUTHORIZED, CLOSE_WRONG_HOST, MAX_FRAME_BYTES
from tests.chat.helpers import conversation_active, conversation_started
from tests.factories import agent_staffed, next_ids_aligned
from tests.sockets import frames_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


async def test_auth_then_messages_typing_read_and_end(sockets):
    agent = await database_sync_to_async(agent_staffed)("alpha")
    brand, conversation, token = await database_sync_to_async(conversation_active)(agent=agent)
    customer, ok = await sockets.widget_authed(conversation.id, token)
    assert ok["state"] == "active" and ok["agent"]["name"] == agent.display_name
    backlog = [await customer.receive_json_from() for _ in range(3)]  # the question, queued + joined system lines
    assert [f["sender"] for f in backlog] == ["customer", "system", "system"] and backlog[2]["body"].endswith("joined the chat.")

    await customer.send_json_to({"type": "message.send", "client_msg_id": "c1", "body": "Hello"})
    echoed, _ = await frames_until(customer, "message")
    assert echoed["client_msg_id"] == "c1" and echoed["sender"] == "customer" and echoed["seq"] == 4

    def agent_replies():
        with schema_context(brand.schema_name):
            message_send(conversation_id=conversation.id, sender="agent", body="Hi Dana", agent=agent)
            message_send(conversation_id=conversation.id, sender="agent", body="secret note", agent=agent, internal=True)
            conversation_read(conversation_id=conversation.id, reader="agent", up_to_seq=3)

    await database_sync_to_async(agent_replies)()
    reply, _ = await frames_until(customer, "message")
    assert reply["body"] == "Hi Dana" and reply["sender"] == "agent"
    read, skipped = await frames_until(customer, "read")
    assert read == {"type": "read", "reader": "agent", "up_to_seq": 3}
    assert all(f.get("body") != "secret note" for f in skipped)  # notes never reach customers

    await customer.send_json_to({"type": "typing", "is_typing": True})
    await customer.send_json_to({"type": "read", "up_to_seq": 4})
    await customer.send_json_to({"type": "conversation.end"})
    ended, seen = await frames_until(customer, "conversation.ended")
    assert ended["state"] == "ended" and ended["ended_by"] == "customer"
    survey, _ = await frames_until(customer, "survey.requested")
    assert survey["scale"] == [1, 5]


async def test_queue_position_frames_while_waiting(sockets):
    brand, first, first_token = await database_sync_to_async(conversation_started)()
    _, second, second_token = await database_sync_to_async(conversation_started)()

    def escalate(conversation):
        with schema_context(brand.schema_name):
            return services.conversation_escalate(brand=brand, conversation=conversation)

    await database_sync_to_async(escalate)(first)
    customer, ok = await sockets.widget_authed(second.id, second_token)
    await database_sync_to_async(escalate)(second)
    position, _ = await frames_until(customer, "queue.position")
    assert position["position"] == 2 and position["eta_seconds"] > 0

    def first_leaves():
        with schema_context(brand.schema_name):
            services.conversation_leave_queue(brand=brand, conversation=first)

    await database_sync_to_async(first_leaves)()
    position, _ = await frames_until(customer, "queue.position")
    assert position["position"] == 1


async def test_resume_after_seq_sends_exactly_the_missed_messages(sockets):
    agent = await database_sync_to_async(agent_staffed)("alpha")
    brand, conversation, token = await database_sync_to_async(conversation_active)(agent=agent)

    def send(n):
        with schema_context(brand.schema_name):
            for i in range(n):
                message_send(conversation_id=conversation.id, sender="agent", body=f"m{i}", agent=agent)

    await database_sync_to_async(send)(5)  # seq 4..8 (1 is the question, 2-3 system lines)
    customer, ok = await sockets.widget_authed(conversation.id, token, after_seq=5)
    assert ok["last_seq"] == 8
    missed = [await customer.receive_json_from() for _ in range(3)]
    assert [m["seq"] for m in missed] == [6, 7, 8]
    assert [m["body"] for m in missed] == ["m2", "m3", "m4"]
    assert await customer.receive_nothing(timeout=0.3)


async def test_retried_client_msg_id_is_stored_once_and_acknowledged_again(sockets):
    agent = await database_sync_to_async(agent_staffed)("alpha")
    brand, conversation, token = await database_sync_to_async(conversation_active)(agent=agent)
    customer, _ = await sockets.widget_authed(conversation.id, token)
    await customer.send_json_to({"type": "message.send", "client_msg_id": "same", "body": "once"})
    first, _ = await frames_until(customer, "message")
    while first["sender"] != "customer" or first["seq"] == 1:
        first, _ = await frames_until(customer, "message")
    await customer.send_json_to({"type": "message.send", "client_msg_id": "same", "body": "once"})
    again, _ = await frames_until(customer, "message")
    assert again["seq"] == first["seq"] and again["id"] == first["id"]

    def count():
        with schema_context(brand.schema_name):
            return Message.objects.filter(conversation_id=conversation.id, client_msg_id="same").count()

    assert await database_sync_to_async(count)() == 1


@pytest.mark.parametrize(
    "raw, code",
    [
        ("not json at all", "bad_json"),
        ("[1, 2, 3]", "bad_frame"),
        ('{"type": "shout"}', "unknown_type"),
        ('{"no_type": 1}', "bad_frame"),
    ],
)
async def test_bad_frames_get_error_frames_and_the_socket_stays_usable(sockets, raw, code):
    agent = await database_sync_to_async(agent_staffed)("alpha")
    brand, conversation, token = await database_sync_to_async(conversation_active)(agent=agent)
    customer, _ = await sockets.widget_authed(conversation.id, token)
    await customer.send_to(text_data=raw)
    error, _ = await frames_until(customer, "error")
    assert error["code"] == code and error["detail"]
    await customer.send_json_to({"type": "message.send", "client_msg_id": "after", "body": "still here"})
    frame, _ = await frames_until(customer, "message")
    while frame.get("client_msg_id") != "after":
        frame, _ = await frames_until(customer, "message")


async def test_oversized_frames_and_bodies_are_refused_without_storing(sockets):
    agent = await database_sync_to_async(agent_staffed)("alpha")
    brand, conversation, token = await database_sync_to_async(conversation_active)(agent=agent)
    customer, _ = await sockets.widget_authed(conversation.id, token)
    await customer.send_to(text_data=json.dumps({"type": "message.send", "client_msg_id": "big", "body": "x" * (MAX_FRAME_BYTES + 1)}))
    error, _ = await frames_until(customer, "error")
    assert error["code"] == "frame_too_large"
    await customer.send_json_to({"type": "message.send", "client_msg_id": "long", "body": "y" * 4001})
    error, _ = await frames_until(customer, "error")
    assert error["code"] == "body_too_long" and error["client_msg_id"] == "long"
    await customer.send_json_to({"type": "message.send", "client_msg_id": "empty", "body": "   "})
    error, _ = await frames_until(customer, "error")
    assert error["code"] == "empty_body"

    def stored():
        with schema_context(brand.schema_name):
            return Message.objects.filter(conversation_id=conversation.id, sender="customer", seq__gt=1).count()

    assert await database_sync_to_async(stored)() == 0


async def test_frames_before_auth_are_refused(sockets):
    _, conversation, token = await database_sync_to_async(conversation_started)()
    customer, connected, _ = await sockets.widget(conversation.id)
    await customer.send_json_to({"type": "message.send", "client_msg_id": "x", "body": "hi"})
    error = await customer.receive_json_from()
    assert error["code"] == "not_authenticated"


async def test_wrong_token_is_refused_and_closed(sockets):
    _, conversation, token = await database_sync_to_async(conversation_started)()
    customer, connected, _ = await sockets.widget(conversation.id)
    await customer.send_json_to({"type": "auth", "token": "not-the-token", "after_seq": 0})
    error = await customer.receive_json_from()
    assert error["code"] == "unauthorized"
    assert (await customer.receive_output())["code"] == CLOSE_UNAUTHORIZED


async def test_another_brands_conversation_cannot_be_opened(sockets):
    """Beta's conversation id and token, presented on alpha's host, find nothing: the
    token is looked up in alpha's schema only."""
    await database_sync_to_async(next_ids_aligned)(Conversation, "brand_alpha", "brand_beta")
    _, beta_conversation, beta_token = await database_sync_to_async(conversation_started)(slug="beta")
    _, alpha_conversation, _ = await database_sync_to_async(conversation_started)(slug="alpha")
    assert beta_conversation.id == alpha_conversation.id  # ids repeat across brands
    customer, connected, _ = await sockets.widget(beta_conversation.id, host="alpha.localhost")
    await customer.send_json_to({"type": "auth", "token": beta_token, "after_seq": 0})
    error = await customer.receive_json_from()
    assert error["code"] == "unauthorized"
    assert (await customer.receive_output())["code"] == CLOSE_UNAUTHORIZED


async def test_widget_socket_on_the_platform_host_is_refused(sockets):
    customer, connected, code = await sockets.widget(1, host="localhost")
    assert not connected and code == CLOSE_WRONG_HOST




async def test_a_retry_of_a_message_stored_but_never_published_reaches_the_agent(sockets, monkeypatch):
    """A process killed between its commit and its publish: the customer never got the
    acknowledgement and sends the message again; the process that finds it stored publishes
    it again, so the agent's open chat gets it (tests/reliability/test_two_servers_behind_nginx.py
    does this with real processes)."""
    import chat.messages

    agent = await database_sync_to_async(agent_staffed)("alpha")
    brand, conversation, token = await database_sync_to_async(conversation_active)(agent=agent)
    agent_ws = await sockets.agent_authed(agent)
    await agent_ws.send_json_to({"type": "subscribe", "brand": "alpha", "conversation_id": conversation.id, "after_seq": 3})
    await frames_until(agent_ws, "subscribed")

    def stored_by_a_dying_process():
        with schema_context(brand.schema_name), monkeypatch.context() as patch:
            patch.setattr(chat.messages, "publish_on_commit", lambda event: None)
            return message_send(conversation_id=conversation.id, sender="customer", body="lost in flight", client_msg_id="dying")[0].seq

    seq = await database_sync_to_async(stored_by_a_dying_process)()
    customer, _ = await sockets.widget_authed(conversation.id, token, after_seq=seq)
    await customer.send_json_to({"type": "message.send", "client_msg_id": "dying", "body": "lost in flight"})
    frame, _ = await frames_until(agent_ws, "message")
    assert frame["seq"] == seq and frame["client_msg_id"] == "dying" and frame["body"] == "lost in flight"
