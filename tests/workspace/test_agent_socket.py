"""The agent socket (/ws/agent/v1/) against real Redis and PostgreSQL: authentication,
brands the agent does not serve, the holder rule, and frames both ways with the widget."""

import pytest
from channels.db import database_sync_to_async

from realtime.socket import CLOSE_UNAUTHORIZED, CLOSE_WRONG_HOST
from tests.chat.helpers import conversation_active, conversation_started
from chat.models import Conversation
from tests.factories import agent_staffed, next_ids_aligned
from tests.sockets import frames_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


async def test_typing_reaches_the_agent_socket_and_agent_typing_reaches_the_customer(sockets):
    agent = await database_sync_to_async(agent_staffed)("alpha")
    brand, conversation, token = await database_sync_to_async(conversation_active)(agent=agent)
    customer, _ = await sockets.widget_authed(conversation.id, token)
    agent_ws = await sockets.agent_authed(agent)
    await customer.send_json_to({"type": "typing", "is_typing": True})
    typing, _ = await frames_until(agent_ws, "typing")
    assert typing == {"type": "typing", "sender": "customer", "is_typing": True, "brand": "alpha", "conversation_id": conversation.id}
    await agent_ws.send_json_to({"type": "typing", "brand": "alpha", "conversation_id": conversation.id, "is_typing": True})
    typing, _ = await frames_until(customer, "typing")
    assert typing["sender"] == "agent"


async def test_agent_socket_needs_an_agent(sockets):
    agent_ws, connected, _ = await sockets.agent()
    assert connected
    await agent_ws.send_json_to({"type": "subscribe", "brand": "alpha", "conversation_id": 1})
    assert (await agent_ws.receive_json_from())["code"] == "not_authenticated"
    await agent_ws.send_json_to({"type": "auth", "token": "bogus"})
    assert (await agent_ws.receive_json_from())["code"] == "unauthorized"
    assert (await agent_ws.receive_output())["code"] == CLOSE_UNAUTHORIZED

    _, connected, code = await sockets.agent(host="alpha.localhost")
    assert not connected and code == CLOSE_WRONG_HOST


async def test_agent_cannot_subscribe_to_a_brand_they_do_not_serve(sockets):
    agent = await database_sync_to_async(agent_staffed)("alpha")
    await database_sync_to_async(next_ids_aligned)(Conversation, "brand_alpha", "brand_beta")
    _, beta_conversation, _ = await database_sync_to_async(conversation_started)(slug="beta")
    _, alpha_conversation, _ = await database_sync_to_async(conversation_active)(agent=agent)
    assert alpha_conversation.id == beta_conversation.id  # ids repeat across brands: the agent holds alpha's
    agent_ws = await sockets.agent_authed(agent)
    await agent_ws.send_json_to({"type": "subscribe", "brand": "beta", "conversation_id": beta_conversation.id})
    error, _ = await frames_until(agent_ws, "error")
    assert error["code"] == "not_found"
    await agent_ws.send_json_to({"type": "message.send", "brand": "beta", "conversation_id": beta_conversation.id, "client_msg_id": "x", "body": "hi"})
    error, _ = await frames_until(agent_ws, "error")
    assert error["code"] == "not_found"


async def test_an_agent_who_does_not_hold_the_chat_cannot_type_into_it(sockets):
    holder = await database_sync_to_async(agent_staffed)("alpha")
    other = await database_sync_to_async(agent_staffed)("alpha")
    brand, conversation, token = await database_sync_to_async(conversation_active)(agent=holder)
    agent_ws = await sockets.agent_authed(other)
    await agent_ws.send_json_to({"type": "typing", "brand": "alpha", "conversation_id": conversation.id, "is_typing": True})
    error, _ = await frames_until(agent_ws, "error")
    assert error["code"] == "forbidden"
