"""No chat left waiting: the liveness promise of routing, driven through the sweep itself
(routing.services.routing_tick) on a clock the test moves, one beat interval at a time.

The promise: while an eligible agent is online, connected and has room, a chat is never
left unserved (neither offered to a connected agent nor assigned) for longer than one
offer timeout plus one sweep, whatever the agents do with their offers: decline them,
let them lapse, or drop their connection. Bounded by a count of sweeps, not wall-clock.
"""

from datetime import timedelta
from itertools import count

import pytest
from django.conf import settings
from django.utils import timezone

from routing import services
from routing.models import AgentSocket, AgentState, QueueEntry
from tenants.models import Brand
from tests.factories import agent_staffed

pytestmark = pytest.mark.django_db

SWEEP = timedelta(seconds=settings.CELERY_BEAT_SCHEDULE["routing-sweep"]["schedule"])
OFFER_TIMEOUT = 30
TICKS = 60  # five simulated minutes: several rounds of offers for every behaviour

_conversation_ids = count(50_000)


def brand_with_timeouts(brand: Brand, *, cooldown: int = OFFER_TIMEOUT, policy: str = Brand.RoutingPolicy.LEAST_BUSY) -> Brand:
    Brand.objects.filter(pk=brand.pk).update(offer_timeout_seconds=OFFER_TIMEOUT, reoffer_cooldown_seconds=cooldown, routing_policy=policy)
    brand.refresh_from_db()
    return brand


def connected_agents(brand, n):
    agents = [agent_staffed(brand, online=True) for _ in range(n)]
    for agent in agents:
        services.agent_connected(agent=agent, socket_id=f"liveness-{agent.id}")
    return agents


def free_connected_agent_exists(brand, entry) -> bool:
    """The promise's condition: someone eligible, online, connected and with room (an
    offer's reserved place counts as room for the chat it is reserved for)."""
    for state in AgentState.objects.filter(agent__staffings__brand=brand, presence=AgentState.Presence.ONLINE, connections__gt=0).select_related("agent"):
        reserved = 1 if entry.state == QueueEntry.State.OFFERED and entry.offered_agent_id == state.agent_id else 0
        if state.active_chats - reserved < state.agent.max_concurrent_chats:
            return True
    return False


def served(entry) -> bool:
    if entry.state == QueueEntry.State.ASSIGNED:
        return True
    return entry.state == QueueEntry.State.OFFERED and AgentState.objects.filter(agent_id=entry.offered_agent_id, connections__gt=0).exists()


def longest_unserved(brand, *, agents_act) -> tuple[timedelta, list[int]]:
    """Queue one chat and sweep TICKS times; after each sweep the agents act on the
    chat's offer. Returns the longest span it was left unserved while a free connected
    agent existed, and the agents it was offered to, one per offer."""
    conversation_id = next(_conversation_ids)
    services.queue_enter(brand=brand, conversation_id=conversation_id, category="general", customer_name="Cus", summary="help")
    now = timezone.now()
    services.dispatch(brand=brand, now=now)
    unserved_since, longest, offers, last_offer = None, timedelta(0), [], None
    for _ in range(TICKS):
        now += SWEEP
        # Live sockets beat (every 10 s in a real workspace): the sweep's clock moves on
        # here, so the beat must too, or every socket would look dead.
        AgentSocket.objects.update(last_seen=now)
        services.routing_tick(now=now)
        entry = QueueEntry.objects.get(brand=brand, conversation_id=conversation_id)
        if entry.state == QueueEntry.State.OFFERED and (entry.offered_agent_id, entry.offer_expires_at) != last_offer:
            offers.append(entry.offered_agent_id)
            last_offer = (entry.offered_agent_id, entry.offer_expires_at)
        # A chat offered at this sweep was served, even when the agent passes at once.
        offered_now = served(entry)
        agents_act(entry=entry, now=now)
        entry.refresh_from_db()
        if offered_now or served(entry) or not free_connected_agent_exists(brand, entry):
            if unserved_since is not None:
                longest = max(longest, now - unserved_since)
            unserved_since = None
        elif unserved_since is None:
            unserved_since = now
        if entry.state == QueueEntry.State.OFFERED and (entry.offered_agent_id, entry.offer_expires_at) != last_offer:
            offers.append(entry.offered_agent_id)
            last_offer = (entry.offered_agent_id, entry.offer_expires_at)
    if unserved_since is not None:
        longest = max(longest, now - unserved_since)
    return longest, offers


BOUND = timedelta(seconds=OFFER_TIMEOUT) + SWEEP


def test_an_agent_who_declines_is_offered_the_chat_again_after_the_cool_down(alpha):
    brand = brand_with_timeouts(alpha)
    (agent,) = connected_agents(brand, 1)

    def decline(*, entry, now):
        if entry.state == QueueEntry.State.OFFERED:
            assert services.offer_decline(agent=agent, brand=brand, conversation_id=entry.conversation_id, now=now)

    longest, offers = longest_unserved(brand, agents_act=decline)
    assert longest <= BOUND
    # Offered, declined, offered again once per cool-down: the chat never goes quiet.
    assert len(offers) >= TICKS * SWEEP.total_seconds() // (2 * OFFER_TIMEOUT)


@pytest.mark.parametrize("policy", [Brand.RoutingPolicy.LEAST_BUSY, Brand.RoutingPolicy.ROUND_ROBIN])
def test_every_agent_declining_in_turn_still_leaves_no_chat_waiting(alpha, policy):
    brand = brand_with_timeouts(alpha, policy=policy)
    agents = connected_agents(brand, 3)
    by_id = {a.id: a for a in agents}

    def decline(*, entry, now):
        if entry.state == QueueEntry.State.OFFERED:
            services.offer_decline(agent=by_id[entry.offered_agent_id], brand=brand, conversation_id=entry.conversation_id, now=now)

    longest, offers = longest_unserved(brand, agents_act=decline)
    assert longest <= BOUND
    assert set(offers) == set(by_id) and len(offers) >= len(agents) * 2


@pytest.mark.parametrize("policy", [Brand.RoutingPolicy.LEAST_BUSY, Brand.RoutingPolicy.ROUND_ROBIN])
def test_an_offer_left_to_lapse_comes_back_to_the_same_agent(alpha, policy):
    brand = brand_with_timeouts(alpha, policy=policy)
    connected_agents(brand, 1)

    longest, offers = longest_unserved(brand, agents_act=lambda **_: None)
    assert longest <= BOUND
    assert len(offers) >= TICKS * SWEEP.total_seconds() // (2 * OFFER_TIMEOUT + SWEEP.total_seconds())


def test_an_agent_who_drops_off_does_not_hold_the_chat_from_a_connected_colleague(alpha):
    brand = brand_with_timeouts(alpha)
    agents = connected_agents(brand, 2)
    dropped = []

    def first_holder_disconnects(*, entry, now):
        if entry.state == QueueEntry.State.OFFERED and not dropped:
            services.agent_disconnected(agent_id=entry.offered_agent_id, socket_id=f"liveness-{entry.offered_agent_id}")
            dropped.append(entry.offered_agent_id)

    longest, offers = longest_unserved(brand, agents_act=first_holder_disconnects)
    assert longest <= BOUND
    stayed = next(a for a in agents if a.id != dropped[0])
    # The one who stayed keeps being offered the chat; the one who left went away.
    assert offers[0] == dropped[0] and offers[1:] and set(offers[1:]) <= {stayed.id, dropped[0]}
    assert offers[-3:] == [stayed.id] * 3
    assert AgentState.objects.get(agent_id=dropped[0]).presence == AgentState.Presence.AWAY


def test_a_free_colleague_gets_the_chat_before_the_decliner_is_asked_again(alpha):
    brand = brand_with_timeouts(alpha)
    decliner = agent_staffed(brand, online=True)
    services.agent_connected(agent=decliner, socket_id="liveness-decliner")
    conversation_id = next(_conversation_ids)
    services.queue_enter(brand=brand, conversation_id=conversation_id, category="general", customer_name="Cus", summary="help")
    now = timezone.now()
    services.dispatch(brand=brand, now=now)
    services.offer_decline(agent=decliner, brand=brand, conversation_id=conversation_id, now=now)
    colleague = agent_staffed(brand, online=True)
    services.agent_connected(agent=colleague, socket_id="liveness-colleague")
    later = now + timedelta(seconds=OFFER_TIMEOUT + 1)
    # The colleague, holding the offer, is past the cool-down: the decliner stays passed.
    QueueEntry.objects.filter(brand=brand, conversation_id=conversation_id).update(offer_expires_at=later + SWEEP)
    services.routing_tick(now=later)
    entry = QueueEntry.objects.get(brand=brand, conversation_id=conversation_id)
    assert entry.offered_agent_id == colleague.id
    assert entry.declined_agent_ids == [decliner.id]


def test_without_a_cool_down_run_out_the_decliner_is_not_asked_again(alpha):
    """The cool-down is real: the agent who declined is left alone until it has run."""
    brand = brand_with_timeouts(alpha)
    (agent,) = connected_agents(brand, 1)
    conversation_id = next(_conversation_ids)
    services.queue_enter(brand=brand, conversation_id=conversation_id, category="general", customer_name="Cus", summary="help")
    now = timezone.now()
    services.dispatch(brand=brand, now=now)
    services.offer_decline(agent=agent, brand=brand, conversation_id=conversation_id, now=now)
    AgentSocket.objects.update(last_seen=now + timedelta(seconds=OFFER_TIMEOUT - 1))  # the socket beats
    services.routing_tick(now=now + timedelta(seconds=OFFER_TIMEOUT - 1))
    assert QueueEntry.objects.get(brand=brand, conversation_id=conversation_id).state == QueueEntry.State.WAITING
    AgentSocket.objects.update(last_seen=now + timedelta(seconds=OFFER_TIMEOUT))
    services.routing_tick(now=now + timedelta(seconds=OFFER_TIMEOUT))
    entry = QueueEntry.objects.get(brand=brand, conversation_id=conversation_id)
    assert (entry.state, entry.offered_agent_id) == (QueueEntry.State.OFFERED, agent.id)


def test_forgiving_declines_in_one_brand_leaves_another_brand_alone(alpha, beta):
    alpha_brand, beta_brand = brand_with_timeouts(alpha), brand_with_timeouts(beta, cooldown=3600)
    alpha_agent, beta_agent = agent_staffed(alpha_brand, online=True), agent_staffed(beta_brand, online=True)
    now = timezone.now()
    ids = {}
    for brand, agent in ((alpha_brand, alpha_agent), (beta_brand, beta_agent)):
        ids[brand.slug] = next(_conversation_ids)
        services.queue_enter(brand=brand, conversation_id=ids[brand.slug], category="general", customer_name="Cus", summary="help")
        services.dispatch(brand=brand, now=now)
        services.offer_decline(agent=agent, brand=brand, conversation_id=ids[brand.slug], now=now)
    services.routing_tick(now=now + timedelta(seconds=OFFER_TIMEOUT))
    assert QueueEntry.objects.get(brand=alpha_brand, conversation_id=ids["alpha"]).offered_agent_id == alpha_agent.id
    beta_entry = QueueEntry.objects.get(brand=beta_brand, conversation_id=ids["beta"])
    assert (beta_entry.state, beta_entry.declined_agent_ids) == (QueueEntry.State.WAITING, [beta_agent.id])
