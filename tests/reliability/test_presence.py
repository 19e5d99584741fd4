"""Presence from live sockets: an agent whose server was SIGKILLed (no close frame, no
disconnect handler) stops heartbeating, the sweep drops the socket, the agent goes away,
and the next chat is offered to an agent whose socket is alive."""

import asyncio
import time

import pytest

from helpdesk.models import AgentToken
from routing import services as routing
from routing.models import AgentSocket, AgentState, QueueEntry
from tests.chat.helpers import conversation_started
from tests.factories import agent_staffed

from .servers import ServerProcess, agent_socket, frame_of

pytestmark = pytest.mark.django_db(transaction=True)

BEAT = {"PRESENCE_HEARTBEAT_SECONDS": "0.5"}


def wait_for(predicate, *, tries: int = 60, pause: float = 0.25):
    for _ in range(tries):
        if predicate():
            return True
        time.sleep(pause)
    return False


def test_a_socket_on_a_killed_server_is_swept_and_offers_go_to_live_agents(alpha, settings):
    settings.PRESENCE_SOCKET_TTL_SECONDS = 2
    ghost = agent_staffed(alpha, online=True)
    live = agent_staffed(alpha, online=True)
    tokens = {agent.id: AgentToken.issue(user=agent.user)[1] for agent in (ghost, live)}

    async def hold_open(server, agent, stop: asyncio.Event):
        ws = await agent_socket(server, token=tokens[agent.id])
        await ws.send('{"type": "presence", "presence": "online"}')
        await frame_of(ws, "presence")
        await stop.wait()
        return ws

    with ServerProcess(env=BEAT) as doomed:
        loop = asyncio.new_event_loop()
        ghost_ws = loop.run_until_complete(agent_socket(doomed, token=tokens[ghost.id]))
        row = AgentSocket.objects.get(agent=ghost)
        # Its heartbeat runs: last_seen moves while the server lives.
        assert wait_for(lambda: AgentSocket.objects.get(pk=row.pk).last_seen > row.last_seen)
        doomed.kill()  # SIGKILL: no close frame, no disconnect handler
        ghost_ws.transport.abort()
        loop.close()

    assert AgentState.objects.get(agent=ghost).connections == 1  # what a clean close would have fixed

    with ServerProcess(env=BEAT) as server:
        stop = asyncio.Event()

        async def scenario():
            task = asyncio.create_task(hold_open(server, live, stop))
            await asyncio.sleep(0)
            # Until the TTL passes the sweep leaves the dead socket alone; then drops it.
            await asyncio.to_thread(wait_for, lambda: _swept(ghost))
            _, conversation, _ = await asyncio.to_thread(conversation_started, slug="alpha")
            await asyncio.to_thread(_enqueue_and_dispatch, alpha, conversation.id)
            stop.set()
            ws = await task
            await ws.close()
            return conversation.id

        conversation_id = asyncio.run(scenario())

    assert not AgentSocket.objects.filter(agent=ghost).exists()
    ghost_state = AgentState.objects.get(agent=ghost)
    assert ghost_state.presence == AgentState.Presence.AWAY and ghost_state.connections == 0
    entry = QueueEntry.objects.get(brand=alpha, conversation_id=conversation_id)
    assert entry.offered_agent_id == live.id


def _swept(agent) -> bool:
    from django.db import connections

    try:
        routing.presence_sweep()
        return AgentState.objects.get(agent=agent).presence == AgentState.Presence.AWAY
    finally:
        connections.close_all()


def _enqueue_and_dispatch(brand, conversation_id):
    from django.db import connections

    try:
        routing.queue_enter(brand=brand, conversation_id=conversation_id, category="shipping", customer_name="C", summary="s")
        routing.dispatch(brand=brand)
    finally:
        connections.close_all()
