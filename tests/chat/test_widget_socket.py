"""The widget socket, frame by frame, against real Redis and PostgreSQL."""

import json

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django_tenants.utils import schema_context

from chat import services
from chat.models import Message
from chat.socket import CLOSE_UNAUTHORIZED, CLOSE_WRONG_HOST, MAX_FRAME_BYTES
from config.asgi import application
from tests.chat.helpers import conversation_active, conversation_started
from tests.factories import AgentFactory, StaffingFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


@database_sync_to_async
def agent_on(slug: str = "alpha"):
    from tenants.models import Brand

    agent = AgentFactory()
    StaffingFactory(agent=agent, brand=Brand.objects.get(slug=slug))
    return agent


async def widget_socket(conversation_id, *, host: str = "alpha.localhost"):
    communicator = WebsocketCommunicator(application, f"/ws/widget/v1/conversations/{conversation_id}/", headers=[(b"host", host.encode())])
    connected, code = await communicator.connect()
    return communicator, connected, code


async def authed(conversation_id, token, after_seq=0, host="alpha.localhost"):
    communicator, connected, _ = await widget_socket(conversation_id, host=host)
    assert connected
    await communicator.send_json_to({"type": "auth", "token": token, "after_seq": after_seq})
    ok = await communicator.receive_json_from()
    assert ok["type"] == "auth.ok", ok
    return communicator, ok


async def frames_until(communicator, frame_type, timeout=3):
    seen = []
    while True:
        frame = await communicator.receive_json_from(timeout=timeout)
        seen.append(frame)
        if frame["type"] == frame_type:
            return frame, seen


async def test_auth_then_messages_typing_read_and_end():
    agent = await agent_on()
    brand, conversation, token = await database_sync_to_async(conversation_active)(agent=agent)
    customer, ok = await authed(conversation.id, token)
    assert ok["state"] == "active" and ok["agent"]["name"] == agent.display_name
    backlog = [await customer.receive_json_from() for _ in range(2)]  # queued + joined system lines
    assert [f["sender"] for f in backlog] == ["system", "system"] and backlog[1]["body"].endswith("joined the chat.")

    await customer.send_json_to({"type": "message.send", "client_msg_id": "c1", "body": "Hello"})
    echoed, _ = await frames_until(customer, "message")
    assert echoed["client_msg_id"] == "c1" and echoed["sender"] == "customer" and echoed["seq"] == 3

    def agent_replies():
        with schema_context(brand.schema_name):
            services.message_send(conversation_id=conversation.id, sender="agent", body="Hi Dana", agent=agent)
            services.message_send(conversation_id=conversation.id, sender="agent", body="secret note", agent=agent, internal=True)
            services.conversation_read(conversation_id=conversation.id, reader="agent", up_to_seq=3)

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
    await customer.disconnect()


async def test_typing_reaches_the_agent_socket_and_agent_typing_reaches_the_customer():
    agent = await agent_on()
    brand, conversation, token = await database_sync_to_async(conversation_active)(agent=agent)
    customer, _ = await authed(conversation.id, token)
    agent_ws = WebsocketCommunicator(application, "/ws/agent/v1/", headers=[(b"host", b"localhost")])
    await agent_ws.connect()
    from helpdesk.models import AgentToken

    _, raw = await database_sync_to_async(AgentToken.issue)(user=agent.user)
    await agent_ws.send_json_to({"type": "auth", "token": raw})
    await frames_until(agent_ws, "auth.ok")
    await customer.send_json_to({"type": "typing", "is_typing": True})
    typing, _ = await frames_until(agent_ws, "typing")
    assert typing == {"type": "typing", "sender": "customer", "is_typing": True, "brand": "alpha", "conversation_id": conversation.id}
    await agent_ws.send_json_to({"type": "typing", "brand": "alpha", "conversation_id": conversation.id, "is_typing": True})
    typing, _ = await frames_until(customer, "typing")
    assert typing["sender"] == "agent"
    await customer.disconnect()
    await agent_ws.disconnect()


async def test_queue_position_frames_while_waiting():
    brand, first, first_token = await database_sync_to_async(conversation_started)()
    _, second, second_token = await database_sync_to_async(conversation_started)()

    def escalate(conversation):
        with schema_context(brand.schema_name):
            return services.conversation_escalate(brand=brand, conversation=conversation)

    await database_sync_to_async(escalate)(first)
    customer, ok = await authed(second.id, second_token)
    await database_sync_to_async(escalate)(second)
    position, _ = await frames_until(customer, "queue.position")
    assert position["position"] == 2 and position["eta_seconds"] > 0

    def first_leaves():
        with schema_context(brand.schema_name):
            services.conversation_leave_queue(brand=brand, conversation=first)

    await database_sync_to_async(first_leaves)()
    position, _ = await frames_until(customer, "queue.position")
    assert position["position"] == 1
    await customer.disconnect()


async def test_resume_after_seq_sends_exactly_the_missed_messages():
    agent = await agent_on()
    brand, conversation, token = await database_sync_to_async(conversation_active)(agent=agent)

    def send(n):
        with schema_context(brand.schema_name):
            for i in range(n):
                services.message_send(conversation_id=conversation.id, sender="agent", body=f"m{i}", agent=agent)

    await database_sync_to_async(send)(5)  # seq 3..7
    customer, ok = await authed(conversation.id, token, after_seq=4)
    assert ok["last_seq"] == 7
    missed = [await customer.receive_json_from() for _ in range(3)]
    assert [m["seq"] for m in missed] == [5, 6, 7]
    assert [m["body"] for m in missed] == ["m2", "m3", "m4"]
    assert await customer.receive_nothing(timeout=0.3)
    await customer.disconnect()


async def test_retried_client_msg_id_is_stored_once_and_acknowledged_again():
    agent = await agent_on()
    brand, conversation, token = await database_sync_to_async(conversation_active)(agent=agent)
    customer, _ = await authed(conversation.id, token)
    await customer.send_json_to({"type": "message.send", "client_msg_id": "same", "body": "once"})
    first, _ = await frames_until(customer, "message")
    while first["sender"] != "customer":
        first, _ = await frames_until(customer, "message")
    await customer.send_json_to({"type": "message.send", "client_msg_id": "same", "body": "once"})
    again, _ = await frames_until(customer, "message")
    assert again["seq"] == first["seq"] and again["id"] == first["id"]

    def count():
        with schema_context(brand.schema_name):
            return Message.objects.filter(conversation_id=conversation.id, client_msg_id="same").count()

    assert await database_sync_to_async(count)() == 1
    await customer.disconnect()


@pytest.mark.parametrize(
    "raw, code",
    [
        ("not json at all", "bad_json"),
        ("[1, 2, 3]", "bad_frame"),
        ('{"type": "shout"}', "unknown_type"),
        ('{"no_type": 1}', "bad_frame"),
    ],
)
async def test_bad_frames_get_error_frames_and_the_socket_stays_usable(raw, code):
    agent = await agent_on()
    brand, conversation, token = await database_sync_to_async(conversation_active)(agent=agent)
    customer, _ = await authed(conversation.id, token)
    await customer.send_to(text_data=raw)
    error, _ = await frames_until(customer, "error")
    assert error["code"] == code and error["detail"]
    await customer.send_json_to({"type": "message.send", "client_msg_id": "after", "body": "still here"})
    frame, _ = await frames_until(customer, "message")
    while frame.get("client_msg_id") != "after":
        frame, _ = await frames_until(customer, "message")
    await customer.disconnect()


async def test_oversized_frames_and_bodies_are_refused_without_storing():
    agent = await agent_on()
    brand, conversation, token = await database_sync_to_async(conversation_active)(agent=agent)
    customer, _ = await authed(conversation.id, token)
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
            return Message.objects.filter(conversation_id=conversation.id, sender="customer").count()

    assert await database_sync_to_async(stored)() == 0
    await customer.disconnect()


async def test_frames_before_auth_are_refused():
    _, conversation, token = await database_sync_to_async(conversation_started)()
    customer, connected, _ = await widget_socket(conversation.id)
    await customer.send_json_to({"type": "message.send", "client_msg_id": "x", "body": "hi"})
    error = await customer.receive_json_from()
    assert error["code"] == "not_authenticated"
    await customer.disconnect()


async def test_wrong_token_is_refused_and_closed():
    _, conversation, token = await database_sync_to_async(conversation_started)()
    customer, connected, _ = await widget_socket(conversation.id)
    await customer.send_json_to({"type": "auth", "token": "not-the-token", "after_seq": 0})
    error = await customer.receive_json_from()
    assert error["code"] == "unauthorized"
    assert (await customer.receive_output())["code"] == CLOSE_UNAUTHORIZED


async def test_another_brands_conversation_cannot_be_opened():
    """Beta's conversation id and token, presented on alpha's host, find nothing: the
    token is looked up in alpha's schema only."""
    _, beta_conversation, beta_token = await database_sync_to_async(conversation_started)(slug="beta")
    _, alpha_conversation, _ = await database_sync_to_async(conversation_started)(slug="alpha")
    assert beta_conversation.id == alpha_conversation.id  # ids repeat across brands
    customer, connected, _ = await widget_socket(beta_conversation.id, host="alpha.localhost")
    await customer.send_json_to({"type": "auth", "token": beta_token, "after_seq": 0})
    error = await customer.receive_json_from()
    assert error["code"] == "unauthorized"
    assert (await customer.receive_output())["code"] == CLOSE_UNAUTHORIZED


async def test_widget_socket_on_the_platform_host_is_refused():
    customer, connected, code = await widget_socket(1, host="localhost")
    assert not connected and code == CLOSE_WRONG_HOST


async def test_agent_socket_needs_an_agent():
    agent_ws = WebsocketCommunicator(application, "/ws/agent/v1/", headers=[(b"host", b"localhost")])
    assert (await agent_ws.connect())[0]
    await agent_ws.send_json_to({"type": "subscribe", "brand": "alpha", "conversation_id": 1})
    assert (await agent_ws.receive_json_from())["code"] == "not_authenticated"
    await agent_ws.send_json_to({"type": "auth", "token": "bogus"})
    assert (await agent_ws.receive_json_from())["code"] == "unauthorized"
    assert (await agent_ws.receive_output())["code"] == CLOSE_UNAUTHORIZED

    on_brand_host = WebsocketCommunicator(application, "/ws/agent/v1/", headers=[(b"host", b"alpha.localhost")])
    connected, code = await on_brand_host.connect()
    assert not connected and code == CLOSE_WRONG_HOST


async def test_agent_cannot_subscribe_to_a_brand_they_do_not_serve():
    agent = await agent_on("alpha")
    _, beta_conversation, _ = await database_sync_to_async(conversation_started)(slug="beta")
    from helpdesk.models import AgentToken

    _, raw = await database_sync_to_async(AgentToken.issue)(user=agent.user)
    agent_ws = WebsocketCommunicator(application, "/ws/agent/v1/", headers=[(b"host", b"localhost")])
    await agent_ws.connect()
    await agent_ws.send_json_to({"type": "auth", "token": raw})
    await frames_until(agent_ws, "auth.ok")
    await agent_ws.send_json_to({"type": "subscribe", "brand": "beta", "conversation_id": beta_conversation.id})
    error, _ = await frames_until(agent_ws, "error")
    assert error["code"] == "not_found"
    await agent_ws.send_json_to({"type": "message.send", "brand": "beta", "conversation_id": beta_conversation.id, "client_msg_id": "x", "body": "hi"})
    error, _ = await frames_until(agent_ws, "error")
    assert error["code"] == "not_found"
    await agent_ws.disconnect()


async def test_an_agent_who_does_not_hold_the_chat_cannot_type_into_it():
    holder = await agent_on()
    other = await agent_on()
    brand, conversation, token = await database_sync_to_async(conversation_active)(agent=holder)
    from helpdesk.models import AgentToken

    _, raw = await database_sync_to_async(AgentToken.issue)(user=other.user)
    agent_ws = WebsocketCommunicator(application, "/ws/agent/v1/", headers=[(b"host", b"localhost")])
    await agent_ws.connect()
    await agent_ws.send_json_to({"type": "auth", "token": raw})
    await frames_until(agent_ws, "auth.ok")
    await agent_ws.send_json_to({"type": "typing", "brand": "alpha", "conversation_id": conversation.id, "is_typing": True})
    error, _ = await frames_until(agent_ws, "error")
    assert error["code"] == "forbidden"
    await agent_ws.disconnect()
