"""Presence: an agent whose last socket closes goes away after the grace period, unless
they reconnect first; away agents get no new chats. Sockets are rows by channel name
kept alive by a heartbeat; one that stops beating is dropped by the sweep."""

from datetime import timedelta

import pytest
from django.utils import timezone

from routing import services
from routing.models import AgentState, QueueEntry
from tests.factories import AgentFactory, StaffingFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent(alpha):
    agent = AgentFactory()
    StaffingFactory(agent=agent, brand=alpha)
    services.agent_connected(agent=agent, socket_id="tab-1")
    services.presence_set(agent=agent, presence=AgentState.Presence.ONLINE)
    return agent


def presence(agent) -> str:
    return AgentState.objects.get(agent=agent).presence


def after_grace():
    return timezone.now() + services.PRESENCE_GRACE + timedelta(seconds=1)


def test_last_connection_closing_goes_away_after_the_grace_period(agent, alpha):
    services.agent_disconnected(agent_id=agent.id, socket_id="tab-1")
    assert presence(agent) == AgentState.Presence.ONLINE  # still within the grace period
    assert services.presence_sweep() == 0
    assert services.presence_sweep(now=after_grace()) == 1
    state = AgentState.objects.get(agent=agent)
    assert state.presence == AgentState.Presence.AWAY and state.away_due_at is None
    # An away agent is not offered new chats.
    services.queue_enter(brand=alpha, conversation_id=1, category="general", customer_name="C", summary="s")
    assert services.dispatch(brand=alpha) == []
    assert QueueEntry.objects.get(brand=alpha, conversation_id=1).state == QueueEntry.State.WAITING


def test_reconnecting_within_the_grace_period_cancels_it(agent):
    services.agent_disconnected(agent_id=agent.id, socket_id="tab-1")
    services.agent_connected(agent=agent, socket_id="tab-2")
    assert AgentState.objects.get(agent=agent).away_due_at is None
    services.agent_socket_heartbeat(agent_id=agent.id, socket_id="tab-2", now=after_grace())
    assert services.presence_sweep(now=after_grace()) == 0
    assert presence(agent) == AgentState.Presence.ONLINE


def test_one_of_several_connections_closing_keeps_the_agent_online(agent):
    services.agent_connected(agent=agent, socket_id="tab-2")  # a second tab
    services.agent_disconnected(agent_id=agent.id, socket_id="tab-1")
    assert AgentState.objects.get(agent=agent).away_due_at is None
    services.agent_socket_heartbeat(agent_id=agent.id, socket_id="tab-2", now=after_grace())
    assert services.presence_sweep(now=after_grace()) == 0
    services.agent_disconnected(agent_id=agent.id, socket_id="tab-2")
    assert services.presence_sweep(now=after_grace()) == 1
    assert presence(agent) == AgentState.Presence.AWAY


def test_an_offline_agent_disconnecting_stays_offline(agent):
    services.presence_set(agent=agent, presence=AgentState.Presence.OFFLINE)
    services.agent_disconnected(agent_id=agent.id, socket_id="tab-1")
    assert services.presence_sweep(now=after_grace()) == 0
    assert presence(agent) == AgentState.Presence.OFFLINE


def test_a_socket_that_stops_beating_is_dropped_and_the_agent_goes_away(agent, alpha):
    # The server holding "tab-1" died: no close, no more heartbeats.
    ttl = timedelta(seconds=services.settings.PRESENCE_SOCKET_TTL_SECONDS)
    assert services.presence_sweep(now=timezone.now() + ttl / 2) == 0
    assert services.presence_sweep(now=timezone.now() + ttl + timedelta(seconds=1)) == 1
    state = AgentState.objects.get(agent=agent)
    assert state.presence == AgentState.Presence.AWAY and state.connections == 0
    assert not agent.sockets.exists()


def test_a_beating_socket_keeps_the_agent_while_a_dead_one_goes(agent):
    services.agent_connected(agent=agent, socket_id="tab-2")
    later = timezone.now() + timedelta(seconds=services.settings.PRESENCE_SOCKET_TTL_SECONDS + 1)
    services.agent_socket_heartbeat(agent_id=agent.id, socket_id="tab-2", now=later)
    assert services.presence_sweep(now=later) == 0
    state = AgentState.objects.get(agent=agent)
    assert state.presence == AgentState.Presence.ONLINE and state.connections == 1
    assert list(agent.sockets.values_list("channel_name", flat=True)) == ["tab-2"]
