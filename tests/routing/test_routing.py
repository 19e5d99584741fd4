"""Routing rules against the real database: who is eligible, which agent a policy picks,
the queue's order, what triggers an offer, timeouts and declines, and brand isolation.

Routing lives in the public schema and only knows conversation ids, so these tests drive
routing.services directly with made-up conversation ids.
"""

from datetime import timedelta
from itertools import count

import pytest
from django.db import transaction
from django.utils import timezone

from helpdesk.models import Staffing
from routing import services
from routing.selectors import capacity_violations
from routing.models import AgentState, QueueEntry
from routing.selectors import eligible_agent_states, queue_places
from tenants.models import Brand
from tests.factories import agent_staffed

pytestmark = pytest.mark.django_db

_conversation_ids = count(1000)


def enqueue(brand, *, category="general", priority=0, entered_at=None, dispatch=True):
    conversation_id = next(_conversation_ids)
    entry = services.queue_enter(
        brand=brand, conversation_id=conversation_id, category=category, customer_name="Cus", summary="help", priority=priority
    )
    if entered_at is not None:
        QueueEntry.objects.filter(pk=entry.pk).update(entered_at=entered_at)
    if dispatch:
        services.dispatch(brand=brand)
    return conversation_id


def entry_of(brand, conversation_id) -> QueueEntry:
    return QueueEntry.objects.get(brand=brand, conversation_id=conversation_id)


def load(agent) -> int:
    return AgentState.objects.get(agent=agent).active_chats


def accept(agent, brand, conversation_id):
    with transaction.atomic():
        return services.offer_accept(agent=agent, brand=brand, conversation_id=conversation_id)


def end(brand, conversation_id):
    with transaction.atomic():
        freed = services.chat_release(brand=brand, conversation_id=conversation_id)
    if freed:
        services.dispatch_for_agent(agent_id=freed)


def set_policy(brand, policy):
    Brand.objects.filter(pk=brand.pk).update(routing_policy=policy)
    brand.refresh_from_db()


# --- Eligibility ------------------------------------------------------------------------

def eligible_ids(brand, category):
    return set(eligible_agent_states(brand_id=brand.id, category=category).values_list("agent_id", flat=True))


def test_eligibility_needs_online_agent_staffing_and_category(alpha, beta):
    online = agent_staffed(alpha, online=True)
    offline = agent_staffed(alpha, online=False)
    away = agent_staffed(alpha, online=True)
    services.presence_set(agent=away, presence=AgentState.Presence.AWAY)
    supervisor = agent_staffed(alpha, role=Staffing.Role.SUPERVISOR, online=True)
    shipping_only = agent_staffed(alpha, categories=["shipping"], online=True)
    beta_only = agent_staffed(beta, online=True)

    assert eligible_ids(alpha, "general") == {online.id}
    assert eligible_ids(alpha, "shipping") == {online.id, shipping_only.id}
    assert offline.id not in eligible_ids(alpha, "shipping") and supervisor.id not in eligible_ids(alpha, "shipping")
    assert eligible_ids(beta, "setup") == {beta_only.id}


def test_capacity_counts_chats_across_brands(alpha, beta):
    agent = agent_staffed(alpha, beta, capacity=2, online=True)
    a = enqueue(alpha)
    b = enqueue(beta, category="setup")
    assert entry_of(alpha, a).offered_agent_id == agent.id
    assert entry_of(beta, b).offered_agent_id == agent.id
    assert load(agent) == 2
    third = enqueue(alpha)
    assert entry_of(alpha, third).state == QueueEntry.State.WAITING
    # A manual pick is refused at capacity too.
    with pytest.raises(services.RoutingError) as error:
        accept(agent, alpha, third)
    assert error.value.code == "at_capacity"
    assert capacity_violations() == 0


# --- Policies ---------------------------------------------------------------------------

def test_least_busy_with_ties_to_the_longest_idle(alpha):
    busy = agent_staffed(alpha, capacity=5, online=True)
    first = enqueue(alpha)
    assert entry_of(alpha, first).offered_agent_id == busy.id
    idle_long = agent_staffed(alpha, capacity=5, online=True)
    idle_short = agent_staffed(alpha, capacity=5, online=True)
    now = timezone.now()
    AgentState.objects.filter(agent=idle_long).update(idle_since=now - timedelta(minutes=30))
    AgentState.objects.filter(agent=idle_short).update(idle_since=now - timedelta(minutes=1))
    second = enqueue(alpha)
    assert entry_of(alpha, second).offered_agent_id == idle_long.id
    third = enqueue(alpha)
    assert entry_of(alpha, third).offered_agent_id == idle_short.id
    # Now everyone has one chat: the next goes to a least-busy one again, never to 2.
    enqueue(alpha)
    assert sorted([load(busy), load(idle_long), load(idle_short)]) == [1, 1, 2]


def test_round_robin_takes_turns(alpha):
    set_policy(alpha, Brand.RoutingPolicy.ROUND_ROBIN)
    agents = sorted([agent_staffed(alpha, capacity=5, online=True) for _ in range(3)], key=lambda a: a.id)
    offered = [entry_of(alpha, enqueue(alpha)).offered_agent_id for _ in range(6)]
    ids = [a.id for a in agents]
    assert offered == ids + ids


def test_manual_policy_makes_no_offers_but_allows_picks(alpha):
    set_policy(alpha, Brand.RoutingPolicy.MANUAL)
    agent = agent_staffed(alpha, online=True)
    conversation_id = enqueue(alpha)
    assert entry_of(alpha, conversation_id).state == QueueEntry.State.WAITING
    assert services.dispatch_for_agent(agent_id=agent.id) == []
    entry = accept(agent, alpha, conversation_id)
    assert entry.state == QueueEntry.State.ASSIGNED and entry.agent_id == agent.id
    assert load(agent) == 1
    other = agent_staffed(alpha, online=True)
    with pytest.raises(services.RoutingError) as error:
        accept(other, alpha, conversation_id)
    assert error.value.code == "already_taken"


def test_pick_by_an_ineligible_agent_is_refused(alpha, beta):
    set_policy(alpha, Brand.RoutingPolicy.MANUAL)
    conversation_id = enqueue(alpha)
    for outsider in (agent_staffed(beta, online=True), agent_staffed(alpha, online=False), agent_staffed(alpha, categories=["returns"], online=True)):
        with pytest.raises(services.RoutingError) as error:
            accept(outsider, alpha, conversation_id)
        assert error.value.code == "not_eligible"


# --- Queue order ------------------------------------------------------------------------

def test_queue_order_is_priority_then_entry_time(alpha):
    now = timezone.now()
    old = enqueue(alpha, entered_at=now - timedelta(minutes=10), dispatch=False)
    new = enqueue(alpha, entered_at=now - timedelta(minutes=1), dispatch=False)
    urgent = enqueue(alpha, priority=5, entered_at=now, dispatch=False)
    assert [p.conversation_id for p in queue_places(brand_id=alpha.id)] == [urgent, old, new]
    agent = agent_staffed(alpha, capacity=1, online=True)  # coming online offers the head of the queue
    assert entry_of(alpha, urgent).offered_agent_id == agent.id
    accept(agent, alpha, urgent)
    end(alpha, urgent)
    assert entry_of(alpha, old).offered_agent_id == agent.id
    assert entry_of(alpha, new).state == QueueEntry.State.WAITING


# --- Triggers ---------------------------------------------------------------------------

def test_offer_on_queueing(alpha):
    agent = agent_staffed(alpha, online=True)
    conversation_id = enqueue(alpha)
    entry = entry_of(alpha, conversation_id)
    assert entry.state == QueueEntry.State.OFFERED and entry.offered_agent_id == agent.id
    assert entry.offer_expires_at > timezone.now()
    assert load(agent) == 1


def test_offer_when_an_agent_frees_up(alpha):
    agent = agent_staffed(alpha, capacity=1, online=True)
    first = enqueue(alpha)
    accept(agent, alpha, first)
    second = enqueue(alpha)
    assert entry_of(alpha, second).state == QueueEntry.State.WAITING
    end(alpha, first)
    assert entry_of(alpha, first).state == QueueEntry.State.DONE
    assert entry_of(alpha, second).offered_agent_id == agent.id
    assert load(agent) == 1


def test_offer_when_an_agent_comes_online(alpha):
    conversation_id = enqueue(alpha)
    agent = agent_staffed(alpha, online=False)
    assert entry_of(alpha, conversation_id).state == QueueEntry.State.WAITING
    services.presence_set(agent=agent, presence=AgentState.Presence.ONLINE)
    assert entry_of(alpha, conversation_id).offered_agent_id == agent.id


def test_transfer_back_to_the_queue_offers_to_another_agent(alpha):
    first = agent_staffed(alpha, capacity=2, online=True)
    conversation_id = enqueue(alpha)
    accept(first, alpha, conversation_id)
    second = agent_staffed(alpha, capacity=2, online=True)
    AgentState.objects.filter(agent=second).update(active_chats=1)  # busier than first after release
    with transaction.atomic():
        services.chat_transfer(brand=alpha, conversation_id=conversation_id, from_agent_id=first.id, to_agent=None, category="shipping")
    services.dispatch(brand=alpha)
    entry = entry_of(alpha, conversation_id)
    assert entry.category == "shipping"
    assert entry.state == QueueEntry.State.OFFERED and entry.offered_agent_id == second.id  # never back to the sender
    assert load(first) == 0 and load(second) == 2


def test_transfer_to_an_agent_moves_the_load(alpha):
    first, second = agent_staffed(alpha, online=True), agent_staffed(alpha, online=True)
    conversation_id = enqueue(alpha)
    holder = entry_of(alpha, conversation_id).offered_agent_id
    giver, taker = (first, second) if holder == first.id else (second, first)
    accept(giver, alpha, conversation_id)
    with transaction.atomic():
        services.chat_transfer(brand=alpha, conversation_id=conversation_id, from_agent_id=giver.id, to_agent=taker, category=None)
    entry = entry_of(alpha, conversation_id)
    assert entry.state == QueueEntry.State.ASSIGNED and entry.agent_id == taker.id
    assert load(giver) == 0 and load(taker) == 1


# --- Timeouts and declines --------------------------------------------------------------

def test_offer_timeout_goes_to_the_next_agent(alpha):
    first = agent_staffed(alpha, online=True)
    conversation_id = enqueue(alpha)
    assert entry_of(alpha, conversation_id).offered_agent_id == first.id
    second = agent_staffed(alpha, online=True)
    assert services.offers_expire() == 0  # not yet due
    assert services.offers_expire(now=timezone.now() + timedelta(seconds=alpha.offer_timeout_seconds + 1)) == 1
    entry = entry_of(alpha, conversation_id)
    assert entry.offered_agent_id == second.id and first.id in entry.declined_agent_ids
    assert load(first) == 0 and load(second) == 1


def test_decline_goes_to_the_next_agent_and_never_back(alpha):
    first = agent_staffed(alpha, online=True)
    conversation_id = enqueue(alpha)
    assert services.offer_decline(agent=first, brand=alpha, conversation_id=conversation_id)
    entry = entry_of(alpha, conversation_id)
    assert entry.state == QueueEntry.State.WAITING and entry.offered_agent_id is None  # nobody else yet
    assert load(first) == 0
    second = agent_staffed(alpha, online=True)
    entry = entry_of(alpha, conversation_id)
    assert entry.offered_agent_id == second.id
    assert services.offer_decline(agent=second, brand=alpha, conversation_id=conversation_id)
    services.dispatch(brand=alpha)
    entry = entry_of(alpha, conversation_id)
    assert entry.state == QueueEntry.State.WAITING and set(entry.declined_agent_ids) == {first.id, second.id}
    # A stale decline (no open offer to this agent) does nothing.
    assert not services.offer_decline(agent=first, brand=alpha, conversation_id=conversation_id)


def test_leaving_the_queue_frees_the_offered_agent(alpha):
    agent = agent_staffed(alpha, capacity=1, online=True)
    offered = enqueue(alpha)
    waiting = enqueue(alpha)
    services.queue_leave(brand=alpha, conversation_id=offered)
    assert entry_of(alpha, offered).state == QueueEntry.State.LEFT
    assert entry_of(alpha, waiting).offered_agent_id == agent.id
    assert load(agent) == 1


# --- Brands stay apart ------------------------------------------------------------------

def test_an_alpha_agent_is_never_offered_beta_chats(alpha, beta):
    alpha_agent = agent_staffed(alpha, capacity=10, online=True)
    beta_chats = [enqueue(beta, category="setup") for _ in range(3)]
    services.dispatch_for_agent(agent_id=alpha_agent.id)
    assert all(entry_of(beta, c).state == QueueEntry.State.WAITING for c in beta_chats)
    with pytest.raises(services.RoutingError):
        accept(alpha_agent, beta, beta_chats[0])
    beta_agent = agent_staffed(beta, capacity=10, online=True)
    assert {entry_of(beta, c).offered_agent_id for c in beta_chats} == {beta_agent.id}
    assert load(alpha_agent) == 0


def test_wait_estimate_uses_abandonments(alpha):
    """Customers who gave up feed the estimate (docs/wait_estimate.md): a queue where many
    leave moves faster for those who stay than one where nobody leaves."""
    agent = agent_staffed(alpha, capacity=1, online=True)
    busy = enqueue(alpha)
    accept(agent, alpha, busy)
    now = timezone.now()
    for _ in range(10):  # recent handle times of 10 minutes
        c = enqueue(alpha, dispatch=False)
        QueueEntry.objects.filter(brand=alpha, conversation_id=c).update(
            state=QueueEntry.State.DONE, entered_at=now - timedelta(minutes=12), assigned_at=now - timedelta(minutes=11), finished_at=now - timedelta(minutes=1)
        )
    waiting = [enqueue(alpha, dispatch=False) for _ in range(5)]
    before = {p.conversation_id: p.eta_seconds for p in queue_places(brand_id=alpha.id)}
    for _ in range(30):  # many customers gave up after about a minute
        c = enqueue(alpha, dispatch=False)
        QueueEntry.objects.filter(brand=alpha, conversation_id=c).update(
            state=QueueEntry.State.LEFT, entered_at=now - timedelta(minutes=3), finished_at=now - timedelta(minutes=2)
        )
    after = {p.conversation_id: p.eta_seconds for p in queue_places(brand_id=alpha.id)}
    assert after[waiting[-1]] < before[waiting[-1]]


def test_a_chat_declined_by_the_free_agent_does_not_block_the_next_one(alpha):
    """The head chat was declined by the only agent with room: the next chat of the same
    category must still go to that agent (the category is not "full")."""
    agent = agent_staffed(alpha, capacity=2, online=True)
    now = timezone.now()
    first = enqueue(alpha, entered_at=now - timedelta(minutes=5))
    assert services.offer_decline(agent=agent, brand=alpha, conversation_id=first)
    second = enqueue(alpha, entered_at=now)
    assert entry_of(alpha, first).state == QueueEntry.State.WAITING
    assert entry_of(alpha, second).offered_agent_id == agent.id


def test_batched_offers_respect_capacity_and_queue_order(alpha):
    """One dispatch offers many chats in batches; each agent is filled to capacity, never
    beyond, and the oldest chats go first."""
    agents = [agent_staffed(alpha, capacity=3, online=True) for _ in range(4)]
    now = timezone.now()
    chats = [enqueue(alpha, entered_at=now - timedelta(seconds=100 - i), dispatch=False) for i in range(30)]
    offers = services.dispatch(brand=alpha)
    assert [o.conversation_id for o in offers] == chats[:12]
    assert sorted(load(a) for a in agents) == [3, 3, 3, 3]
    assert all(entry_of(alpha, c).state == QueueEntry.State.WAITING for c in chats[12:])
    assert capacity_violations() == 0
