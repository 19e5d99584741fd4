"""Revocation bites on open sockets: disabling a user, revoking an agent token or removing a
staffing reaches the agent's sockets on a real server process within seconds, through the
user's group; a disabled agent is never offered a chat and their sessions are gone."""

import asyncio
import json

import pytest
from django.contrib.sessions.models import Session
from django.test import Client

from chat.messages import message_send
from chat.models import Message
from helpdesk.models import AgentToken, Staffing
from helpdesk.services import agent_token_revoke, staffing_remove, user_deactivate
from realtime.socket import CLOSE_UNAUTHORIZED
from routing import services as routing
from routing.models import QueueEntry
from tests.chat.helpers import conversation_active, conversation_started
from tests.factories import agent_staffed

from .servers import ServerProcess, agent_socket, closed_with, frame_of, in_thread

pytestmark = pytest.mark.django_db(transaction=True)


def session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}"


def test_disabling_a_user_closes_token_and_session_sockets_and_ends_sessions(alpha):
    agent = agent_staffed(alpha)
    _, token = AgentToken.issue(user=agent.user)
    cookie = session_cookie(agent.user)
    assert Session.objects.count() == 1

    async def scenario(server):
        by_token = await agent_socket(server, token=token)
        by_session = await agent_socket(server, cookie=cookie)
        await in_thread(user_deactivate, user=agent.user)
        return await asyncio.gather(closed_with(by_token), closed_with(by_session))

    with ServerProcess() as server:
        codes = asyncio.run(scenario(server))
    assert codes == [CLOSE_UNAUTHORIZED, CLOSE_UNAUTHORIZED]
    assert Session.objects.count() == 0


def test_revoking_a_token_closes_its_sockets_only(alpha):
    agent = agent_staffed(alpha)
    revoked, revoked_raw = AgentToken.issue(user=agent.user)
    _, kept_raw = AgentToken.issue(user=agent.user)

    async def scenario(server):
        doomed = await agent_socket(server, token=revoked_raw)
        kept = await agent_socket(server, token=kept_raw)
        await in_thread(agent_token_revoke, token=revoked)
        code = await closed_with(doomed)
        # The other token's socket still works: a presence frame is answered.
        await kept.send(json.dumps({"type": "presence", "presence": "online"}))
        presence = await frame_of(kept, "presence")
        await kept.close()
        return code, presence

    with ServerProcess() as server:
        code, presence = asyncio.run(scenario(server))
    assert code == CLOSE_UNAUTHORIZED
    assert presence["presence"] == "online"


def test_removing_a_staffing_drops_the_brand_from_the_open_socket(alpha, beta):
    agent = agent_staffed(alpha, beta)
    _, conversation, _ = conversation_active(agent=agent, slug="alpha")
    _, token = AgentToken.issue(user=agent.user)
    staffing = Staffing.objects.get(agent=agent, brand=alpha)

    async def scenario(server):
        ws = await agent_socket(server, token=token)
        await in_thread(staffing_remove, staffing=staffing)
        changed = await frame_of(ws, "access.changed")
        # The customer writes in the alpha chat the agent held: it must not reach them.
        await in_thread(lambda: _customer_writes(alpha.schema_name, conversation.id))
        await ws.send(json.dumps({"type": "presence", "presence": "online"}))
        seen = []
        while not seen or seen[-1]["type"] != "presence":
            seen.append(json.loads(await asyncio.wait_for(ws.recv(), 10)))
        await ws.close()
        return changed, seen

    with ServerProcess() as server:
        changed, seen = asyncio.run(scenario(server))
    assert changed["removed"] == ["alpha"] and changed["brands"] == ["beta"]
    assert not [f for f in seen if f["type"] == "message"], seen


def _customer_writes(schema, conversation_id):
    from django_tenants.utils import schema_context

    with schema_context(schema):
        message_send(conversation_id=conversation_id, sender=Message.Sender.CUSTOMER, body="still there?", client_msg_id="c-after")


def test_a_disabled_agent_is_never_offered_a_chat(alpha):
    agent = agent_staffed(alpha, online=True)
    user_deactivate(user=agent.user)
    _, conversation, _ = conversation_started(slug="alpha")
    routing.queue_enter(brand=alpha, conversation_id=conversation.id, category="shipping", customer_name="C", summary="s")
    assert routing.dispatch(brand=alpha) == []
    assert QueueEntry.objects.get(brand=alpha, conversation_id=conversation.id).state == QueueEntry.State.WAITING
