"""Writes on routing: presence, entering and leaving the queue, offers, assignment.

Locking order, everywhere: the queue entry first, then the agent's state. Both are taken
with SELECT ... FOR UPDATE (SKIP LOCKED where another router may hold them), so two
routers never offer one chat twice and never push an agent over capacity.
"""

import logging
import time
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from helpdesk.models import AgentProfile, Staffing
from realtime import events
from realtime.publish import events_batched, publish_on_commit
from tenants.models import Brand
from tenants.selectors import brand_list_active

from .models import AgentSocket, AgentState, PresenceInterval, QueueEntry, RoundRobinCursor
from .selectors import eligible_agent_states

logger = logging.getLogger(__name__)

PRESENCE_GRACE = timedelta(seconds=60)
# A router that found every eligible agent locked by another router retries this often,
# so a chat is never left waiting merely because two routers raced.
LOCK_RETRIES = 20


class RoutingError(Exception):
    def __init__(self, detail: str, code: str):
        super().__init__(detail)
        self.detail = detail
        self.code = code


def agent_state_get(*, agent: AgentProfile) -> AgentState:
    state, _ = AgentState.objects.get_or_create(agent=agent)
    return state


# --- Presence -------------------------------------------------------------------------

def presence_set(*, agent: AgentProfile, presence: str) -> AgentState:
    if presence not in AgentState.Presence.values:
        raise RoutingError(f"Unknown presence {presence!r}.", "bad_presence")
    with transaction.atomic():
        agent_state_get(agent=agent)
        state = AgentState.objects.select_for_update().get(agent=agent)
        changed = state.presence != presence
        state.presence = presence
        state.away_due_at = None
        if changed:
            state.presence_changed_at = timezone.now()
            _presence_interval_record(agent_id=agent.id, presence=presence, at=state.presence_changed_at)
        if presence == AgentState.Presence.ONLINE and state.idle_since is None and state.active_chats == 0:
            state.idle_since = timezone.now()
        state.save()
        publish_on_commit(events.presence_changed(agent_id=agent.id, presence=presence))
    if presence == AgentState.Presence.ONLINE:
        dispatch_for_agent(agent_id=agent.id)
    return state


def _presence_interval_record(*, agent_id: int, presence: str, at) -> None:
    """Close the agent's open interval and open one for the new presence (none for offline),
    and tell the agent's brands, whose supervisors watch who is online. Runs in the
    transaction that changes the presence, under its row lock."""
    PresenceInterval.objects.filter(agent_id=agent_id, ended_at__isnull=True).update(ended_at=at)
    if presence != AgentState.Presence.OFFLINE:
        PresenceInterval.objects.create(agent_id=agent_id, presence=presence, started_at=at)
    brands = Brand.objects.filter(staffings__agent_id=agent_id, status=Brand.Status.ACTIVE)
    publish_on_commit(*(events.queue_changed(brand=brand) for brand in brands))


def _socket_ttl() -> timedelta:
    return timedelta(seconds=settings.PRESENCE_SOCKET_TTL_SECONDS)


def _connections_recount(*, agent_id: int, now) -> AgentState | None:
    """Inside a transaction: lock the agent's state and set its count from the live rows;
    the last one gone starts the grace period of an online agent."""
    state = AgentState.objects.select_for_update().filter(agent_id=agent_id).first()
    if state is None:
        return None
    state.connections = AgentSocket.objects.filter(agent_id=agent_id).count()
    if state.connections:
        state.away_due_at = None
    elif state.presence == AgentState.Presence.ONLINE and state.away_due_at is None:
        state.away_due_at = now + PRESENCE_GRACE
    state.save(update_fields=["connections", "away_due_at"])
    return state


def agent_connected(*, agent: AgentProfile, socket_id: str) -> None:
    """A socket of the agent opened: a row that its heartbeat keeps fresh."""
    now = timezone.now()
    with transaction.atomic():
        agent_state_get(agent=agent)
        # The agent's state first, then its sockets, everywhere: one lock order, so two
        # of these (or a TRUNCATE in tests) never deadlock.
        AgentState.objects.select_for_update().filter(agent=agent).first()
        AgentSocket.objects.update_or_create(channel_name=socket_id, defaults={"agent": agent, "connected_at": now, "last_seen": now})
        _connections_recount(agent_id=agent.id, now=now)


def agent_socket_heartbeat(*, agent_id: int, socket_id: str, now=None) -> None:
    """The consumer's periodic proof of life. A row the sweep took meanwhile (a database
    outage longer than the TTL) comes back, since the socket is evidently alive."""
    now = now or timezone.now()
    if AgentSocket.objects.filter(channel_name=socket_id).update(last_seen=now):
        return
    with transaction.atomic():
        if AgentState.objects.select_for_update().filter(agent_id=agent_id).first() is None:
            return
        AgentSocket.objects.update_or_create(channel_name=socket_id, defaults={"agent_id": agent_id, "connected_at": now, "last_seen": now})
        _connections_recount(agent_id=agent_id, now=now)


def agent_disconnected(*, agent_id: int, socket_id: str) -> None:
    """The last connection closing starts the grace period; the sweep turns it to away."""
    with transaction.atomic():
        AgentState.objects.select_for_update().filter(agent_id=agent_id).first()
        AgentSocket.objects.filter(channel_name=socket_id).delete()
        _connections_recount(agent_id=agent_id, now=timezone.now())


def presence_sweep(*, now=None) -> int:
    """Sockets that stopped beating are dropped; agents whose grace period ran out go away
    (no new chats are routed to them).

    An agent left without a live socket because its sockets died (not closed) goes away
    at once: the TTL already gave its clients time to reconnect elsewhere, and until they
    do, an offer would go to nobody."""
    now = now or timezone.now()
    stale = AgentSocket.objects.filter(last_seen__lt=now - _socket_ttl())
    for agent_id in set(stale.values_list("agent_id", flat=True)):
        with transaction.atomic():
            AgentState.objects.select_for_update().filter(agent_id=agent_id).first()
            AgentSocket.objects.filter(agent_id=agent_id, last_seen__lt=now - _socket_ttl()).delete()
            state = _connections_recount(agent_id=agent_id, now=now)
            if state is not None and state.connections == 0 and state.away_due_at is not None:
                AgentState.objects.filter(agent_id=agent_id).update(away_due_at=now)
    count = 0
    for agent_id in AgentState.objects.filter(away_due_at__lte=now, connections=0).values_list("agent_id", flat=True):
        with transaction.atomic():
            state = AgentState.objects.select_for_update(skip_locked=True).filter(agent_id=agent_id, away_due_at__lte=now, connections=0).first()
            if state is None:
                continue
            state.presence = AgentState.Presence.AWAY
            state.presence_changed_at = now
            _presence_interval_record(agent_id=agent_id, presence=AgentState.Presence.AWAY, at=now)
            state.away_due_at = None
            state.save(update_fields=["presence", "presence_changed_at", "away_due_at"])
            publish_on_commit(events.presence_changed(agent_id=agent_id, presence=AgentState.Presence.AWAY))
            count += 1
    return count


# --- The queue ------------------------------------------------------------------------

def queue_enter(*, brand: Brand, conversation_id: int, category: str, customer_name: str, summary: str, priority: int = 0) -> QueueEntry:
    entry, created = QueueEntry.objects.get_or_create(
        brand=brand,
        conversation_id=conversation_id,
        defaults={"category": category, "customer_name": customer_name, "summary": summary[:300], "priority": priority, "entered_at": timezone.now()},
    )
    if not created and entry.state in (QueueEntry.State.LEFT, QueueEntry.State.DONE):
        raise RoutingError("This conversation has already left the queue.", "not_queued")
    publish_on_commit(events.queue_changed(brand=brand))
    return entry


def queue_leave(*, brand: Brand, conversation_id: int) -> None:
    """The customer gave up waiting. Releases any offer's reserved capacity."""
    with transaction.atomic():
        entry = QueueEntry.objects.select_for_update().filter(brand=brand, conversation_id=conversation_id).first()
        if entry is None or entry.state not in (QueueEntry.State.WAITING, QueueEntry.State.OFFERED):
            return
        offered_agent_id = entry.offered_agent_id if entry.state == QueueEntry.State.OFFERED else None
        entry.state = QueueEntry.State.LEFT
        entry.finished_at = timezone.now()
        entry.offered_agent = None
        entry.save(update_fields=["state", "finished_at", "offered_agent"])
        if offered_agent_id:
            _release_capacity(agent_id=offered_agent_id)
            publish_on_commit(events.offer_withdrawn(agent_id=offered_agent_id, brand=brand, conversation_id=conversation_id, reason="left"))
        publish_on_commit(events.queue_changed(brand=brand))
    if offered_agent_id:
        dispatch_for_agent(agent_id=offered_agent_id)


def _release_capacity(*, agent_id: int) -> None:
    state = AgentState.objects.select_for_update().get(agent_id=agent_id)
    state.active_chats = max(0, state.active_chats - 1)
    if state.active_chats == 0:
        state.idle_since = timezone.now()
    state.save(update_fields=["active_chats", "idle_since"])


# --- Dispatch -------------------------------------------------------------------------

@dataclass(frozen=True)
class Offer:
    brand_id: int
    conversation_id: int
    agent_id: int


def _pick_agent(*, brand: Brand, entry: QueueEntry) -> AgentState | None:
    candidates = (
        eligible_agent_states(brand_id=brand.id, category=entry.category)
        .filter(active_chats__lt=F("agent__max_concurrent_chats"))
        .exclude(agent_id__in=entry.declined_agent_ids or [0])
        # One staffing row per agent and brand, so the join yields each agent once.
        .select_for_update(skip_locked=True, of=("self",))
    )
    if brand.routing_policy == Brand.RoutingPolicy.ROUND_ROBIN:
        cursor, _ = RoundRobinCursor.objects.get_or_create(brand=brand)
        cursor = RoundRobinCursor.objects.select_for_update().get(pk=cursor.pk)
        state = candidates.filter(agent_id__gt=cursor.last_agent_id).order_by("agent_id").first() or candidates.order_by("agent_id").first()
        if state is not None:
            cursor.last_agent_id = state.agent_id
            cursor.save(update_fields=["last_agent_id"])
        return state
    return candidates.order_by("active_chats", F("idle_since").asc(nulls_first=True), "agent_id").first()


def _free_agent_exists(*, brand: Brand, entry: QueueEntry, excluding_declined: bool = True) -> bool:
    agents = eligible_agent_states(brand_id=brand.id, category=entry.category).filter(active_chats__lt=F("agent__max_concurrent_chats"))
    if excluding_declined:
        agents = agents.exclude(agent_id__in=entry.declined_agent_ids or [0])
    return agents.exists()


def _waiting_entry_exists(*, brand: Brand, skip_categories: set[str], skip_entries: set[int]) -> bool:
    return (
        QueueEntry.objects.filter(brand=brand, state=QueueEntry.State.WAITING)
        .exclude(category__in=skip_categories)
        .exclude(id__in=skip_entries or [0])
        .exists()
    )


@dataclass(frozen=True)
class _NoOffer:
    """Why the head entry got no agent."""

    category_full: str | None = None  # nobody in this category has room: skip the category
    entry_declined: int | None = None  # only agents who declined this entry have room: skip it
    contended: bool = False  # a free agent was locked by another router: try again, a while


# Entries locked and offered per transaction (one call to routing_offer_batch). The
# commit and the Python around each call cost more than an offer inside it, so larger
# batches are cheaper per offer (10: 0.38x of a bare SKIP LOCKED pop, 50: 0.53-0.55x in
# bench/assignment_throughput); the price is that a batch's entries and the agents it
# picked stay locked, and other routers skip them, until it commits (milliseconds).
OFFER_BATCH = 50

def _offer_round_robin(*, brand: Brand, entry: QueueEntry, now, expires_at) -> int | None:
    """Pick the next agent in turn for the locked entry and record the offer."""
    state = _pick_agent(brand=brand, entry=entry)
    if state is None:
        return None
    QueueEntry.objects.filter(pk=entry.pk).update(state=QueueEntry.State.OFFERED, offered_agent_id=state.agent_id, offer_expires_at=expires_at)
    AgentState.objects.filter(agent_id=state.agent_id).update(active_chats=F("active_chats") + 1, last_assigned_at=now)
    return state.agent_id


def _lock_and_offer(*, brand: Brand, skip_categories: set[str], skip_entries: set[int], size: int, now, expires_at) -> list[tuple[QueueEntry, int | None]]:
    """Inside the caller's transaction: lock up to `size` head waiting entries and offer
    each in order; returns (entry, agent id) pairs, the last with None when an entry found
    nobody (the batch stops there)."""
    if brand.routing_policy == Brand.RoutingPolicy.ROUND_ROBIN:
        entries = list(
            QueueEntry.objects.select_for_update(skip_locked=True)
            .filter(brand=brand, state=QueueEntry.State.WAITING)
            .exclude(category__in=skip_categories)
            .exclude(id__in=skip_entries or [0])
            .order_by("-priority", "entered_at", "id")[:size]
        )
        results = []
        for entry in entries:
            agent_id = _offer_round_robin(brand=brand, entry=entry, now=now, expires_at=expires_at)
            results.append((entry, agent_id))
            if agent_id is None:
                break
        return results
    # Least busy: the whole batch in one call (routing/migrations/0002_offer_batch_function).
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT entry_id, offered_agent, conversation_id, category, customer_name, summary, declined_agent_ids"
            " FROM routing_offer_batch(%s, %s, %s, %s, %s::text[], %s::bigint[])",
            [brand.id, size, now, expires_at, sorted(skip_categories), sorted(skip_entries)],
        )
        rows = cursor.fetchall()
    # Unsaved instances carrying the fields the events and the no-offer checks read.
    return [
        (
            QueueEntry(id=entry_id, brand=brand, conversation_id=conversation_id, category=category, customer_name=customer_name, summary=summary, declined_agent_ids=declined or []),
            agent_id,
        )
        for entry_id, agent_id, conversation_id, category, customer_name, summary, declined in rows
    ]


def _offer_batch(*, brand: Brand, skip_categories: set[str], skip_entries: set[int], size: int, now=None) -> tuple[list[Offer], _NoOffer | None]:
    """One transaction: lock up to `size` head waiting entries and offer each, in queue
    order, to one agent, stopping at the first that gets none.

    Returns the offers (committed) and why the next entry got no agent; ([], None) when no
    unlocked entry waits.
    """
    offers: list[Offer] = []
    with transaction.atomic():
        now = now or timezone.now()
        expires_at = now + timedelta(seconds=brand.offer_timeout_seconds)
        results = _lock_and_offer(brand=brand, skip_categories=skip_categories, skip_entries=skip_entries, size=size, now=now, expires_at=expires_at)
        if any(agent_id for _, agent_id in results):
            publish_on_commit(events.queue_changed(brand=brand))
        for entry, agent_id in results:
            if agent_id is None:
                if _free_agent_exists(brand=brand, entry=entry):
                    return offers, _NoOffer(category_full=entry.category, contended=True)
                # Agents who declined this chat may still take the next one of its
                # category: skipping the whole category here would leave that one waiting.
                if entry.declined_agent_ids and _free_agent_exists(brand=brand, entry=entry, excluding_declined=False):
                    return offers, _NoOffer(entry_declined=entry.id)
                return offers, _NoOffer(category_full=entry.category)
            publish_on_commit(events.offer_created(
                agent_id=agent_id, brand=brand, conversation_id=entry.conversation_id, category=entry.category,
                customer_name=entry.customer_name, summary=entry.summary, expires_at=expires_at,
            ))
            offers.append(Offer(brand_id=brand.id, conversation_id=entry.conversation_id, agent_id=agent_id))
    return offers, None


def dispatch(*, brand: Brand, limit: int = 1000, now=None) -> list[Offer]:
    """Offer waiting chats to eligible agents until one side runs out.

    `now` is the sweep's clock (tests move it); offers expire one offer timeout after it."""
    if brand.routing_policy == Brand.RoutingPolicy.MANUAL or not brand.is_active:
        return []
    with events_batched():
        return _dispatch(brand=brand, limit=limit, now=now)


def _dispatch(*, brand: Brand, limit: int, now=None) -> list[Offer]:
    offers: list[Offer] = []
    exhausted: set[str] = set()
    declined: set[int] = set()
    retries = 0
    while len(offers) < limit:
        made, reason = _offer_batch(brand=brand, skip_categories=exhausted, skip_entries=declined, size=min(OFFER_BATCH, limit - len(offers)), now=now)
        offers += made
        if reason is None:
            if made:
                continue
            # Every waiting entry left may be locked by another router that has not yet
            # seen the agent who just freed up (its pick ran before our commit). Skipping
            # them for good would leave a chat waiting beside a free agent (a lost
            # wake-up), so wait for those routers to finish and look again.
            if retries < LOCK_RETRIES and _waiting_entry_exists(brand=brand, skip_categories=exhausted, skip_entries=declined):
                retries += 1
                time.sleep(0.002 * retries)
                continue
            break
        if reason.contended and retries < LOCK_RETRIES:
            retries += 1
            time.sleep(0.005 * retries)
        elif reason.entry_declined is not None:
            declined.add(reason.entry_declined)
        else:
            exhausted.add(reason.category_full)
    return offers


def dispatch_for_agent(*, agent_id: int, now=None) -> list[Offer]:
    """An agent freed up or came online: try every brand they are staffed on."""
    offers = []
    brand_ids = Staffing.objects.filter(agent_id=agent_id, role=Staffing.Role.AGENT).values_list("brand_id", flat=True)
    for brand in Brand.objects.filter(id__in=list(brand_ids), status=Brand.Status.ACTIVE):
        offers += dispatch(brand=brand, now=now)
    return offers


# --- Offers ---------------------------------------------------------------------------

def offer_accept(*, agent: AgentProfile, brand: Brand, conversation_id: int) -> QueueEntry:
    """Accept an offer, or pick a waiting chat directly (manual pick).

    Must run inside the caller's transaction, which also updates the conversation.
    """
    entry = QueueEntry.objects.select_for_update().filter(brand=brand, conversation_id=conversation_id).first()
    if entry is None:
        raise RoutingError("This chat is not in the queue.", "not_found")
    if entry.state == QueueEntry.State.OFFERED and entry.offered_agent_id == agent.id:
        pass  # capacity was reserved when the offer was made
    elif entry.state == QueueEntry.State.WAITING:
        if not eligible_agent_states(brand_id=brand.id, category=entry.category).filter(agent=agent).exists():
            raise RoutingError("You are not online for this brand and category.", "not_eligible")
        state = AgentState.objects.select_for_update().select_related("agent").get(agent=agent)
        if state.active_chats >= agent.max_concurrent_chats:
            raise RoutingError("You are at your chat capacity.", "at_capacity")
        state.active_chats += 1
        state.last_assigned_at = timezone.now()
        state.save(update_fields=["active_chats", "last_assigned_at"])
    else:
        raise RoutingError("This chat has already been taken or has left the queue.", "already_taken")
    entry.state = QueueEntry.State.ASSIGNED
    entry.agent = agent
    entry.offered_agent = None
    entry.offer_expires_at = None
    entry.assigned_at = timezone.now()
    entry.save(update_fields=["state", "agent", "offered_agent", "offer_expires_at", "assigned_at"])
    publish_on_commit(events.queue_changed(brand=brand))
    return entry


def offer_decline(*, agent: AgentProfile, brand: Brand, conversation_id: int, expired: bool = False, now=None) -> bool:
    """The agent passed on the offer (or let it lapse: `expired`). The chat goes to someone
    else; the agent is not offered it again until the brand's cool-down has passed and
    nobody else could take it (declines_forgive)."""
    now = now or timezone.now()
    with transaction.atomic():
        entry = QueueEntry.objects.select_for_update().filter(brand=brand, conversation_id=conversation_id).first()
        if entry is None or entry.state != QueueEntry.State.OFFERED or entry.offered_agent_id != agent.id:
            return False
        entry.state = QueueEntry.State.WAITING
        entry.offered_agent = None
        entry.offer_expires_at = None
        entry.declined_agent_ids = sorted({*entry.declined_agent_ids, agent.id})
        entry.last_declined_at = now
        entry.save(update_fields=["state", "offered_agent", "offer_expires_at", "declined_agent_ids", "last_declined_at"])
        _release_capacity(agent_id=agent.id)
        publish_on_commit(events.offer_withdrawn(agent_id=agent.id, brand=brand, conversation_id=conversation_id, reason="expired" if expired else "declined"))
    dispatch(brand=brand, now=now)
    dispatch_for_agent(agent_id=agent.id, now=now)
    return True


def offers_expire(*, now=None) -> int:
    """Offers not accepted in time go to the next agent."""
    now = now or timezone.now()
    expired = QueueEntry.objects.filter(state=QueueEntry.State.OFFERED, offer_expires_at__lte=now).select_related("brand", "offered_agent")
    count = 0
    for entry in list(expired):
        if entry.offered_agent and offer_decline(agent=entry.offered_agent, brand=entry.brand, conversation_id=entry.conversation_id, expired=True, now=now):
            count += 1
    return count


def declines_forgive(*, now=None) -> list[Brand]:
    """Waiting chats that only agents who passed on them could take: once the brand's
    cool-down since the last pass has run, those agents may be offered them again.

    Without this a chat every staffed agent had declined or missed sat in the queue for
    good beside a free agent. A chat some other free agent could take keeps its list:
    dispatch offers it to that agent first. Returns the brands to dispatch again.
    """
    now = now or timezone.now()
    waiting = (
        QueueEntry.objects.filter(state=QueueEntry.State.WAITING, brand__status=Brand.Status.ACTIVE, last_declined_at__isnull=False)
        .exclude(declined_agent_ids=[])
        .select_related("brand")
    )
    brands: dict[int, Brand] = {}
    for entry in list(waiting):
        if entry.last_declined_at > now - timedelta(seconds=entry.brand.reoffer_cooldown_seconds):
            continue
        with transaction.atomic():
            locked = QueueEntry.objects.select_for_update(skip_locked=True).filter(pk=entry.pk, state=QueueEntry.State.WAITING).first()
            if locked is None or _free_agent_exists(brand=entry.brand, entry=locked):
                continue
            locked.declined_agent_ids = []
            locked.save(update_fields=["declined_agent_ids"])
        brands[entry.brand_id] = entry.brand
    return list(brands.values())


def routing_tick(*, now=None) -> dict:
    """One sweep of routing's deadlines, on one clock: lapsed offers move on, agents past
    their grace period go away, declines past their cool-down are forgiven, and every
    brand is dispatched once more (a safety net so nothing waits while an agent is free).

    The liveness promise rests on this order: a chat whose offer lapsed at `now` is
    offered again in the same tick, to anyone free (tests/routing/test_liveness.py)."""
    now = now or timezone.now()
    result = {"offers_expired": offers_expire(now=now), "agents_away": presence_sweep(now=now)}
    result["declines_forgiven"] = len(declines_forgive(now=now))
    for brand in brand_list_active():
        try:
            dispatch(brand=brand, now=now)
        except Exception:  # one brand's trouble must not stop the others' sweep
            logger.exception("Dispatch sweep failed for %s", brand.schema_name)
    return result


def queue_push(*, brand: Brand, conversation_id: int, to_agent: AgentProfile) -> QueueEntry:
    """A supervisor gives a waiting chat to a named agent: it is theirs at once, past any
    decline of theirs, as long as they are staffed on the brand, online and have room.
    An offer to someone else is withdrawn. Runs inside the caller's transaction, which
    also updates the conversation."""
    entry = QueueEntry.objects.select_for_update().filter(brand=brand, conversation_id=conversation_id).first()
    if entry is None or entry.state not in (QueueEntry.State.WAITING, QueueEntry.State.OFFERED):
        raise RoutingError("This chat is no longer waiting in the queue.", "not_queued")
    if not Staffing.objects.filter(agent=to_agent, brand=brand, role=Staffing.Role.AGENT).exists():
        raise RoutingError("That agent is not staffed on this brand.", "not_eligible")
    previous = entry.offered_agent_id if entry.state == QueueEntry.State.OFFERED else None
    if previous == to_agent.id:
        pass  # already offered to them: the reserved place becomes the chat
    else:
        _place_reserve(to_agent=to_agent, also_locked=[previous] if previous else [])
        if previous:
            _release_capacity(agent_id=previous)
            publish_on_commit(events.offer_withdrawn(agent_id=previous, brand=brand, conversation_id=conversation_id, reason="pushed"))
    entry.state = QueueEntry.State.ASSIGNED
    entry.agent = to_agent
    entry.offered_agent = None
    entry.offer_expires_at = None
    entry.assigned_at = timezone.now()
    entry.save(update_fields=["state", "agent", "offered_agent", "offer_expires_at", "assigned_at"])
    publish_on_commit(events.queue_changed(brand=brand))
    return entry


def chat_release(*, brand: Brand, conversation_id: int) -> int | None:
    """The chat ended: free the agent's capacity. Returns the agent id to re-dispatch for.

    Runs inside the caller's transaction.
    """
    entry = QueueEntry.objects.select_for_update().filter(brand=brand, conversation_id=conversation_id).first()
    if entry is None:
        return None
    agent_id = None
    if entry.state == QueueEntry.State.ASSIGNED and entry.agent_id:
        agent_id = entry.agent_id
    elif entry.state == QueueEntry.State.OFFERED and entry.offered_agent_id:
        agent_id = entry.offered_agent_id
    if entry.state in (QueueEntry.State.WAITING, QueueEntry.State.OFFERED):
        entry.state = QueueEntry.State.LEFT
    elif entry.state == QueueEntry.State.ASSIGNED:
        entry.state = QueueEntry.State.DONE
    entry.finished_at = timezone.now()
    entry.save(update_fields=["state", "finished_at"])
    if agent_id:
        _release_capacity(agent_id=agent_id)
    publish_on_commit(events.queue_changed(brand=brand))
    return agent_id


def _place_reserve(*, to_agent: AgentProfile, also_locked: list[int]) -> None:
    """Inside the caller's transaction: take a place with a named agent (a transfer or a
    supervisor's push), who must be online and below capacity. The other agent's row is
    locked with theirs, in id order: two moves crossing between the same pair would
    otherwise each hold one row and wait for the other (a deadlock)."""
    ids = sorted({to_agent.id, *also_locked})
    states = {row.agent_id: row for row in AgentState.objects.select_for_update().filter(agent_id__in=ids).order_by("agent_id")}
    state = states.get(to_agent.id)
    if state is None or state.presence != AgentState.Presence.ONLINE:
        raise RoutingError("That agent is not online.", "not_eligible")
    if state.active_chats >= to_agent.max_concurrent_chats:
        raise RoutingError("That agent is at capacity.", "at_capacity")
    state.active_chats += 1
    state.last_assigned_at = timezone.now()
    state.save(update_fields=["active_chats", "last_assigned_at"])


def chat_transfer(*, brand: Brand, conversation_id: int, from_agent_id: int, to_agent: AgentProfile | None, category: str | None) -> QueueEntry:
    """Move an assigned chat to another agent (directly) or back to the queue under a
    category (routing picks the agent). Runs inside the caller's transaction."""
    entry = QueueEntry.objects.select_for_update().get(brand=brand, conversation_id=conversation_id)
    if entry.state != QueueEntry.State.ASSIGNED:
        raise RoutingError("Only a chat in progress can be transferred.", "not_active")
    if to_agent is not None:
        if to_agent.id == from_agent_id:
            raise RoutingError("The chat is already yours.", "same_agent")
        if not Staffing.objects.filter(agent=to_agent, brand=brand).exists():
            raise RoutingError("That agent is not staffed on this brand.", "not_eligible")
        _place_reserve(to_agent=to_agent, also_locked=[from_agent_id])
        entry.agent = to_agent
        entry.assigned_at = timezone.now()
    else:
        entry.state = QueueEntry.State.WAITING
        entry.agent = None
        entry.assigned_at = None
        entry.priority = max(entry.priority, 1)  # a transferred customer has waited already
        entry.declined_agent_ids = [from_agent_id]
        # As a decline: if nobody else can take it, it comes back after the cool-down.
        entry.last_declined_at = timezone.now()
    if category:
        entry.category = category
    entry.save()
    _release_capacity(agent_id=from_agent_id)
    publish_on_commit(events.queue_changed(brand=brand))
    return entry


def presence_ensure_online(*, agent: AgentProfile) -> None:
    if agent_state_get(agent=agent).presence != AgentState.Presence.ONLINE:
        presence_set(agent=agent, presence=AgentState.Presence.ONLINE)


def queue_quote_record(*, brand: Brand, conversation_id: int, place) -> None:
    """Keep the wait first quoted to a customer beside the entry, so the estimator learns
    from its own errors (its raw figure) and reports compare it with the real wait."""
    QueueEntry.objects.filter(brand=brand, conversation_id=conversation_id, quoted_seconds__isnull=True).update(
        quoted_seconds=place.eta_seconds, quoted_raw_seconds=place.raw_seconds, quoted_position=place.position
    )
