"""Presence: an agent whose last socket closes goes away after the grace period, unless
they reconnect first; away agents get no new chats."""

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
    services.agent_connected(agent=agent)
    services.presence_set(agent=agent, presence=AgentState.Presence.ONLINE)
    return agent


def presence(agent) -> str:
    return AgentState.objects.get(agent=agent).presence


def after_grace():
    return timezone.now() + services.PRESENCE_GRACE + timedelta(seconds=1)


def test_last_connection_closing_goes_away_after_the_grace_period(agent, alpha):
    services.agent_disconnected(agent_id=agent.id)
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
    services.agent_disconnected(agent_id=agent.id)
    services.agent_connected(agent=agent)
    assert AgentState.objects.get(agent=agent).away_due_at is None
    assert services.presence_sweep(now=after_grace()) == 0
    assert presence(agent) == AgentState.Presence.ONLINE


def test_one_of_several_connections_closing_keeps_the_agent_online(agent):
    services.agent_connected(agent=agent)  # a second tab
    services.agent_disconnected(agent_id=agent.id)
    assert AgentState.objects.get(agent=agent).away_due_at is None
    assert services.presence_sweep(now=after_grace()) == 0
    services.agent_disconnected(agent_id=agent.id)
    assert services.presence_sweep(now=after_grace()) == 1
    assert presence(agent) == AgentState.Presence.AWAY


def test_an_offline_agent_disconnecting_stays_offline(agent):
    services.presence_set(agent=agent, presence=AgentState.Presence.OFFLINE)
    services.agent_disconnected(agent_id=agent.id)
    assert services.presence_sweep(now=after_grace()) == 0
    assert presence(agent) == AgentState.Presence.OFFLINE
