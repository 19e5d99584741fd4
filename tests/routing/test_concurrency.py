"""Many routers and agents at once against the real database.

Eight threads, each with its own connection, queue ~200 chats over two brands and act for
~20 agents: dispatch, accept, decline, expire offers, end chats, leave the queue, go away and
come back. A checker thread keeps taking consistent snapshots while they run. Afterwards:
no chat was ever held by two agents, no agent was ever over capacity (by their counter and
by recounting the queue rows), and no chat waits while an eligible agent has room.
"""

import random
import threading
import time
from collections import Counter, defaultdict
from datetime import timedelta

import pytest
from django.db import connection, connections, transaction
from django.db.models import F
from django.utils import timezone

from helpdesk.models import AgentProfile
from routing import services
from routing.selectors import capacity_violations
from routing.models import AgentState, QueueEntry
from routing.selectors import eligible_agent_states
from tenants.models import Brand
from tests.factories import AgentFactory, StaffingFactory

THREADS = 8
CHATS = 200
AGENTS = 20
# Ending stops after this many chats, so the run finishes with a queue and full agents:
# the final check then has something to look at.
ENDS = 80
# The run is bounded by count (CHATS queued, ENDS ended, no offer left open), not by the
# clock: on a busy machine it takes longer, not less far. The guard only stops a hang.
HANG_GUARD_SECONDS = 900.0
CATEGORIES = {"alpha": ["general", "shipping", "returns"], "beta": ["setup", "warranty", "repairs"]}

SNAPSHOT_SQL = """
SELECT s.agent_id, s.active_chats, p.max_concurrent_chats,
       (SELECT count(*) FROM routing_queueentry e
         WHERE (e.state = 'offered' AND e.offered_agent_id = s.agent_id)
            OR (e.state = 'assigned' AND e.agent_id = s.agent_id))
FROM routing_agentstate s JOIN helpdesk_agentprofile p ON p.id = s.agent_id
"""


class Log:
    def __init__(self):
        self.lock = threading.Lock()
        self.offers = Counter()  # (brand_id, conversation_id) -> offers made
        self.declines = Counter()  # successful declines and expiries
        self.accepts = defaultdict(list)  # (brand_id, conversation_id) -> agents who got it
        self.errors = []
        self.violations = []
        self.snapshots = 0
        self.ends = 0

    def add(self, counter, key):
        with self.lock:
            counter[key] += 1


@pytest.fixture
def log(monkeypatch):
    log = Log()
    offer_batch, offer_decline = services._offer_batch, services.offer_decline

    def recording_offer_batch(**kwargs):
        offers, reason = offer_batch(**kwargs)
        for offer in offers:  # returned after their transaction committed
            log.add(log.offers, (offer.brand_id, offer.conversation_id))
        return offers, reason

    def recording_offer_decline(*, agent, brand, conversation_id, expired=False, now=None):
        # The decline commits before it re-dispatches, so count it before any new offer
        # could be seen: count first, take it back if nothing was declined.
        log.add(log.declines, (brand.id, conversation_id))
        done = offer_decline(agent=agent, brand=brand, conversation_id=conversation_id, expired=expired, now=now)
        if not done:
            log.add(log.declines, (brand.id, conversation_id))
            with log.lock:
                log.declines[(brand.id, conversation_id)] -= 2
        return done

    monkeypatch.setattr(services, "_offer_batch", recording_offer_batch)
    monkeypatch.setattr(services, "offer_decline", recording_offer_decline)
    return log


def _accept_and_record(log, *, agent, brand, conversation_id):
    """Accept (an offer or a manual pick) and log who got the chat; refusals are expected."""
    try:
        with transaction.atomic():
            entry = services.offer_accept(agent=agent, brand=brand, conversation_id=conversation_id)
            with log.lock:
                log.accepts[(brand.id, conversation_id)].append(entry.agent_id)
    except services.RoutingError:
        pass


def _setup():
    alpha, beta = Brand.objects.get(slug="alpha"), Brand.objects.get(slug="beta")
    Brand.objects.filter(pk=alpha.pk).update(routing_policy=Brand.RoutingPolicy.LEAST_BUSY, offer_timeout_seconds=30)
    Brand.objects.filter(pk=beta.pk).update(routing_policy=Brand.RoutingPolicy.ROUND_ROBIN, offer_timeout_seconds=30)
    rng = random.Random(7)
    agents = []
    for index in range(AGENTS):
        agent = AgentFactory(max_concurrent_chats=rng.choice([1, 2, 3, 4]))
        brands = [alpha, beta] if index % 3 == 0 else [alpha if index % 3 == 1 else beta]
        for brand in brands:
            categories = [] if rng.random() < 0.6 else [rng.choice(CATEGORIES[brand.slug])]
            StaffingFactory(agent=agent, brand=brand, categories=categories)
        if index % 4:  # a quarter start away and come online during the run
            services.presence_set(agent=agent, presence=AgentState.Presence.ONLINE)
        agents.append(agent.id)
    return [alpha.id, beta.id], agents


def _worker(seed, brand_ids, agent_ids, next_chat, log, deadline):
    rng = random.Random(seed)
    brands = {b.id: b for b in Brand.objects.filter(id__in=brand_ids)}
    agents = {a.id: a for a in AgentProfile.objects.filter(id__in=agent_ids)}
    try:
        while time.monotonic() < deadline:
            with log.lock:
                conversation_id = next_chat[0] if next_chat[0] <= CHATS else None
                next_chat[0] += conversation_id is not None
            roll = rng.random()
            if conversation_id is not None and roll < 0.35:
                brand = brands[rng.choice(brand_ids)]
                services.queue_enter(
                    brand=brand, conversation_id=conversation_id, category=rng.choice(CATEGORIES[brand.slug]),
                    customer_name="C", summary="s", priority=rng.choice([0, 0, 0, 1]),
                )
                services.dispatch(brand=brand)
                continue
            elif conversation_id is not None:
                with log.lock:
                    next_chat[0] -= 1  # not used this round
            open_entries = list(
                QueueEntry.objects.filter(state__in=["waiting", "offered", "assigned"]).values_list(
                    "brand_id", "conversation_id", "state", "offered_agent_id", "agent_id"
                )
            )
            if next_chat[0] > CHATS and log.ends >= ENDS and not any(e[2] == "offered" for e in open_entries):
                break
            if not open_entries:
                continue
            brand_id, conversation_id, state, offered_to, holder = rng.choice(open_entries)
            brand = brands[brand_id]
            action = rng.random()
            if state == "offered" and action < 0.7:
                agent = agents[offered_to] if rng.random() < 0.9 else agents[rng.choice(agent_ids)]
                _accept_and_record(log, agent=agent, brand=brand, conversation_id=conversation_id)
            elif state == "offered" and action < 0.85:
                services.offer_decline(agent=agents[offered_to], brand=brand, conversation_id=conversation_id)
            elif state == "offered":
                services.offers_expire(now=timezone.now() + timedelta(seconds=31))
            elif state == "waiting" and action < 0.15 and log.ends < ENDS:
                services.queue_leave(brand=brand, conversation_id=conversation_id)
            elif state == "waiting" and action < 0.3:
                agent = agents[rng.choice(agent_ids)]  # a manual pick, often refused
                _accept_and_record(log, agent=agent, brand=brand, conversation_id=conversation_id)
            elif state == "waiting" and action < 0.4:
                agent = agents[rng.choice(agent_ids)]
                presence = AgentState.Presence.AWAY if rng.random() < 0.5 else AgentState.Presence.ONLINE
                services.presence_set(agent=agent, presence=presence)
                if presence == AgentState.Presence.AWAY:
                    services.presence_set(agent=agent, presence=AgentState.Presence.ONLINE)
            elif state == "waiting":
                services.dispatch(brand=brand)
            elif state == "assigned" and action < 0.5 and log.ends < ENDS:
                with log.lock:
                    log.ends += 1
                with transaction.atomic():
                    freed = services.chat_release(brand=brand, conversation_id=conversation_id)
                if freed:
                    services.dispatch_for_agent(agent_id=freed)
    except Exception as exc:  # surfaced by the test, with the thread's traceback
        import traceback

        log.errors.append(traceback.format_exc() or repr(exc))
    finally:
        connection.close()


def _checker(log, stop):
    try:
        while not stop.is_set():
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                    cursor.execute(SNAPSHOT_SQL)
                    rows = cursor.fetchall()
            log.snapshots += 1
            for agent_id, active, maximum, held in rows:
                if active > maximum or held > maximum or active != held:
                    log.violations.append((agent_id, active, maximum, held))
            time.sleep(0.01)
    except Exception:
        import traceback

        log.errors.append(traceback.format_exc())
    finally:
        connection.close()


@pytest.mark.django_db(transaction=True)
def test_many_routers_never_double_assign_or_overfill(log):
    brand_ids, agent_ids = _setup()
    next_chat = [1]
    deadline = time.monotonic() + HANG_GUARD_SECONDS
    stop = threading.Event()
    checker = threading.Thread(target=_checker, args=(log, stop))
    workers = [threading.Thread(target=_worker, args=(seed, brand_ids, agent_ids, next_chat, log, deadline)) for seed in range(THREADS)]
    checker.start()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(HANG_GUARD_SECONDS + 30)
    stop.set()
    checker.join(10)
    connections.close_all()

    states = Counter(QueueEntry.objects.values_list("state", flat=True))
    print(f"offers {sum(log.offers.values())}, declines {sum(log.declines.values())}, accepts {len(log.accepts)}, snapshots {log.snapshots}, final {dict(states)}")
    assert not log.errors, log.errors[0]
    assert next_chat[0] > CHATS, "the hang guard stopped the run before every chat was queued"
    assert log.snapshots > 10
    assert log.violations == []
    assert capacity_violations() == 0
    # One agent per chat: chats never come back to the queue here, so each is accepted once,
    # and a chat is offered again only after an offer of it was declined or expired.
    assert {key: agents for key, agents in log.accepts.items() if len(agents) > 1} == {}
    assert sum(log.offers.values()) > 100
    reoffered = {key: n for key, n in log.offers.items() if n > 1 + log.declines[key]}
    assert reoffered == {}
    for entry in QueueEntry.objects.filter(state="assigned"):
        assert log.accepts[(entry.brand_id, entry.conversation_id)] == [entry.agent_id]

    # Nothing waits while an eligible agent has room (no sweep has run).
    assert states["waiting"] > 0
    for entry in QueueEntry.objects.filter(state="waiting").select_related("brand"):
        if entry.brand.routing_policy == Brand.RoutingPolicy.MANUAL:
            continue
        free = (
            eligible_agent_states(brand_id=entry.brand_id, category=entry.category)
            .exclude(agent_id__in=entry.declined_agent_ids or [0])
            .filter(active_chats__lt=F("agent__max_concurrent_chats"))
        )
        assert not free.exists(), f"{entry} waits while agents {list(free.values_list('agent_id', flat=True))} have room"
