"""Writes on routing: presence, entering and leaving the queue, offers, assignment.

Locking order, everywhere: the queue entry first, then the agent's state. Both are taken
with SELECT ... FOR UPDATE (SKIP LOCKED where another router may hold them), so two
routers never offer one chat twice and never push an agent over capacity.
"""

import logging
import time
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from chat.realtime import agent_group, brand_queue_group, publish_on_commit
from helpdesk.models import AgentProfile, Staffing
from tenants.models import Brand

from .models import AgentState, QueueEntry, RoundRobinCursor
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
        if presence == AgentState.Presence.ONLINE and state.idle_since is None and state.active_chats == 0:
            state.idle_since = timezone.now()
        state.save()
        publish_on_commit(agent_group(agent_id=agent.id), {"type": "presence.changed", "presence": presence})
    if presence == AgentState.Presence.ONLINE:
        dispatch_for_agent(agent_id=agent.id)
    return state


def agent_connected(*, agent: AgentProfile) -> None:
    with transaction.atomic():
        agent_state_get(agent=agent)
        AgentState.objects.filter(agent=agent).update(connections=F("connections") + 1, away_due_at=None)


def agent_disconnected(*, agent_id: int) -> None:
    """The last connection closing starts the grace period; the sweep turns it to away."""
    with transaction.atomic():
        state = AgentState.objects.select_for_update().filter(agent_id=agent_id).first()
        if state is None:
            return
        state.connections = max(0, state.connections - 1)
        if state.connections == 0 and state.presence == AgentState.Presence.ONLINE:
            state.away_due_at = timezone.now() + PRESENCE_GRACE
        state.save(update_fields=["connections", "away_due_at"])


def presence_sweep(*, now=None) -> int:
    """Agents whose grace period ran out go away (no new chats are routed to them)."""
    now = now or timezone.now()
    count = 0
    for agent_id in AgentState.objects.filter(away_due_at__lte=now, connections=0).values_list("agent_id", flat=True):
        with transaction.atomic():
            state = AgentState.objects.select_for_update(skip_locked=True).filter(agent_id=agent_id, away_due_at__lte=now, connections=0).first()
            if state is None:
                continue
            state.presence = AgentState.Presence.AWAY
            state.presence_changed_at = now
            state.away_due_at = None
            state.save(update_fields=["presence", "presence_changed_at", "away_due_at"])
            publish_on_commit(agent_group(agent_id=agent_id), {"type": "presence.changed", "presence": "away"})
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
    publish_on_commit(brand_queue_group(schema=brand.schema_name), {"type": "queue.changed", "brand": brand.slug})
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
            publish_on_commit(agent_group(agent_id=offered_agent_id), {"type": "offer.withdrawn", "brand": brand.slug, "conversation_id": conversation_id})
        publish_on_commit(brand_queue_group(schema=brand.schema_name), {"type": "queue.changed", "brand": brand.slug})
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


def _eligible_agent_exists(*, brand: Brand, entry: QueueEntry) -> bool:
    return (
        eligible_agent_states(brand_id=brand.id, category=entry.category)
        .filter(active_chats__lt=F("agent__max_concurrent_chats"))
        .exclude(agent_id__in=entry.declined_agent_ids or [0])
        .exists()
    )


def _offer_next(*, brand: Brand, skip_categories: set[str]) -> tuple[Offer | None, str | None, bool]:
    """One transaction: lock the head waiting entry and offer it to one agent.

    Returns (offer, category with no free agent, whether an agent was skipped only
    because another router held its lock).
    """
    with transaction.atomic():
        entry = (
            QueueEntry.objects.select_for_update(skip_locked=True)
            .filter(brand=brand, state=QueueEntry.State.WAITING)
            .exclude(category__in=skip_categories)
            .order_by("-priority", "entered_at", "id")
            .first()
        )
        if entry is None:
            return None, None, False
        state = _pick_agent(brand=brand, entry=entry)
        if state is None:
            return None, entry.category, _eligible_agent_exists(brand=brand, entry=entry)
        now = timezone.now()
        entry.state = QueueEntry.State.OFFERED
        entry.offered_agent_id = state.agent_id
        entry.offer_expires_at = now + timedelta(seconds=brand.offer_timeout_seconds)
        entry.save(update_fields=["state", "offered_agent", "offer_expires_at"])
        state.active_chats += 1
        state.last_assigned_at = now
        state.save(update_fields=["active_chats", "last_assigned_at"])
        publish_on_commit(
            agent_group(agent_id=state.agent_id),
            {
                "type": "offer.created",
                "brand": brand.slug,
                "brand_name": brand.name,
                "conversation_id": entry.conversation_id,
                "category": entry.category,
                "customer_name": entry.customer_name,
                "summary": entry.summary,
                "expires_at": entry.offer_expires_at.isoformat(),
            },
        )
        publish_on_commit(brand_queue_group(schema=brand.schema_name), {"type": "queue.changed", "brand": brand.slug})
        return Offer(brand_id=brand.id, conversation_id=entry.conversation_id, agent_id=state.agent_id), None, False


def dispatch(*, brand: Brand, limit: int = 1000) -> list[Offer]:
    """Offer waiting chats to eligible agents until one side runs out."""
    if brand.routing_policy == Brand.RoutingPolicy.MANUAL or not brand.is_active:
        return []
    offers: list[Offer] = []
    exhausted: set[str] = set()
    retries = 0
    while len(offers) < limit:
        offer, full_category, contended = _offer_next(brand=brand, skip_categories=exhausted)
        if offer is not None:
            offers.append(offer)
            continue
        if full_category is None:
            break
        if contended and retries < LOCK_RETRIES:
            retries += 1
            time.sleep(0.005 * retries)
            continue
        exhausted.add(full_category)
    return offers


def dispatch_for_agent(*, agent_id: int) -> list[Offer]:
    """An agent freed up or came online: try every brand they are staffed on."""
    offers = []
    brand_ids = Staffing.objects.filter(agent_id=agent_id, role=Staffing.Role.AGENT).values_list("brand_id", flat=True)
    for brand in Brand.objects.filter(id__in=list(brand_ids), status=Brand.Status.ACTIVE):
        offers += dispatch(brand=brand)
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
    publish_on_commit(brand_queue_group(schema=brand.schema_name), {"type": "queue.changed", "brand": brand.slug})
    return entry


def offer_decline(*, agent: AgentProfile, brand: Brand, conversation_id: int, expired: bool = False) -> bool:
    with transaction.atomic():
        entry = QueueEntry.objects.select_for_update().filter(brand=brand, conversation_id=conversation_id).first()
        if entry is None or entry.state != QueueEntry.State.OFFERED or entry.offered_agent_id != agent.id:
            return False
        entry.state = QueueEntry.State.WAITING
        entry.offered_agent = None
        entry.offer_expires_at = None
        entry.declined_agent_ids = [*entry.declined_agent_ids, agent.id]
        entry.save(update_fields=["state", "offered_agent", "offer_expires_at", "declined_agent_ids"])
        _release_capacity(agent_id=agent.id)
        publish_on_commit(
            agent_group(agent_id=agent.id),
            {"type": "offer.withdrawn", "brand": brand.slug, "conversation_id": conversation_id, "reason": "expired" if expired else "declined"},
        )
    dispatch(brand=brand)
    dispatch_for_agent(agent_id=agent.id)
    return True


def offers_expire(*, now=None) -> int:
    """Offers not accepted in time go to the next agent."""
    now = now or timezone.now()
    expired = QueueEntry.objects.filter(state=QueueEntry.State.OFFERED, offer_expires_at__lte=now).select_related("brand", "offered_agent")
    count = 0
    for entry in list(expired):
        if entry.offered_agent and offer_decline(agent=entry.offered_agent, brand=entry.brand, conversation_id=entry.conversation_id, expired=True):
            count += 1
    return count


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
    publish_on_commit(brand_queue_group(schema=brand.schema_name), {"type": "queue.changed", "brand": brand.slug})
    return agent_id


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
        state = AgentState.objects.select_for_update().filter(agent=to_agent).first()
        if state is None or state.presence != AgentState.Presence.ONLINE:
            raise RoutingError("That agent is not online.", "not_eligible")
        if state.active_chats >= to_agent.max_concurrent_chats:
            raise RoutingError("That agent is at capacity.", "at_capacity")
        state.active_chats += 1
        state.last_assigned_at = timezone.now()
        state.save(update_fields=["active_chats", "last_assigned_at"])
        entry.agent = to_agent
        entry.assigned_at = timezone.now()
    else:
        entry.state = QueueEntry.State.WAITING
        entry.agent = None
        entry.assigned_at = None
        entry.priority = max(entry.priority, 1)  # a transferred customer has waited already
        entry.declined_agent_ids = [from_agent_id]
    if category:
        entry.category = category
    entry.save()
    _release_capacity(agent_id=from_agent_id)
    publish_on_commit(brand_queue_group(schema=brand.schema_name), {"type": "queue.changed", "brand": brand.slug})
    return entry


def capacity_violations() -> int:
    return AgentState.objects.filter(active_chats__gt=F("agent__max_concurrent_chats")).count()
