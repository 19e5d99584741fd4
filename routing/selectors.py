"""Reads on routing: eligibility, queue positions, wait estimates, agents' load."""

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import F, Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from helpdesk.models import Staffing

from .estimates import EXIT_WINDOW, HISTORY_WINDOW, QueueHistory, wait_quote
from .models import AgentState, QueueEntry

RECENT_HISTORY_MAX_AGE = timedelta(days=14)


def eligible_agent_states(*, brand_id: int, category: str):
    """Online, active agents staffed (as agents) on the brand for the category.

    A disabled user is never offered a chat, whatever their presence row still says
    (routing_offer_batch, migration 0004, has the same rule)."""
    staffed = Q(agent__staffings__brand_id=brand_id, agent__staffings__role=Staffing.Role.AGENT) & (
        Q(agent__staffings__categories__len=0) | Q(agent__staffings__categories__contains=[category])
    )
    return AgentState.objects.filter(staffed, presence=AgentState.Presence.ONLINE, agent__user__is_active=True)


def connected_agent_exists(*, brand_id: int, category: str) -> bool:
    """Whether an agent who could take the chat is online with a live connection: presence
    set over HTTP alone is not someone who will see the offer."""
    return eligible_agent_states(brand_id=brand_id, category=category).filter(connections__gt=0).exists()


def wait_quote_for_newcomer(*, brand_id: int, category: str) -> int:
    """The wait a customer joining the category's queue now would be quoted, in seconds."""
    ahead = waiting_entries(brand_id=brand_id).filter(category=category).count()
    load = eligible_agent_states(brand_id=brand_id, category=category).aggregate(capacity=Sum("agent__max_concurrent_chats"), busy=Sum("active_chats"))
    eta, _ = wait_quote(
        position=ahead + 1, eligible_capacity=load["capacity"] or 0, busy_slots=load["busy"] or 0,
        history=queue_history(brand_id=brand_id, category=category), now=timezone.now().timestamp(),
    )
    return int(round(eta))


def waiting_entries(*, brand_id: int):
    return QueueEntry.objects.filter(brand_id=brand_id, state=QueueEntry.State.WAITING).order_by("-priority", "entered_at", "id")


def queue_history(*, brand_id: int, category: str) -> QueueHistory:
    """The brand and category's recent past for the wait estimate, oldest first: handle
    times of ended chats, and the last queue exits, whether routed (with the raw quote the
    customer was given) or given up. Without the abandons the estimator cannot tell a queue
    nobody leaves from one half the customers abandon."""
    since = timezone.now() - RECENT_HISTORY_MAX_AGE
    recent = QueueEntry.objects.filter(brand_id=brand_id, category=category)
    handles = (
        recent.filter(state=QueueEntry.State.DONE, finished_at__gte=since, assigned_at__isnull=False)
        .order_by("-finished_at").values_list("assigned_at", "finished_at")[:HISTORY_WINDOW]
    )
    exited = Q(assigned_at__isnull=False) | Q(state=QueueEntry.State.LEFT, finished_at__isnull=False)
    exits = (
        recent.filter(exited).annotate(exited_at=Coalesce("assigned_at", "finished_at")).filter(exited_at__gte=since)
        .order_by("-exited_at").values_list("entered_at", "exited_at", "assigned_at", "quoted_raw_seconds")[:EXIT_WINDOW]
    )
    served, abandons = [], []
    for entered, exited_at, assigned, raw in reversed(exits):
        waited = max(0.0, (exited_at - entered).total_seconds())
        if assigned is not None:
            served.append((exited_at.timestamp(), waited, raw))
        else:
            abandons.append((exited_at.timestamp(), waited))
    return QueueHistory(
        handle_seconds=[(finished - assigned).total_seconds() for assigned, finished in reversed(handles)],
        served=served,
        abandons=abandons,
    )


@dataclass(frozen=True)
class QueuePlace:
    conversation_id: int
    position: int
    eta_seconds: int
    raw_seconds: float  # the estimator's figure before its bias correction (kept with the quote)


def queue_places(*, brand_id: int) -> list[QueuePlace]:
    """Every waiting conversation's position and estimated wait, per category.

    Position counts everyone ahead in the brand's queue; the wait estimate uses the
    capacity that can serve this category and its recent handle times.
    """
    entries = list(waiting_entries(brand_id=brand_id).values_list("conversation_id", "category"))
    per_category: dict[str, tuple[int, int, QueueHistory]] = {}
    places = []
    ahead_by_category: dict[str, int] = {}
    now = timezone.now().timestamp()
    for index, (conversation_id, category) in enumerate(entries, start=1):
        if category not in per_category:
            load = eligible_agent_states(brand_id=brand_id, category=category).aggregate(
                capacity=Sum("agent__max_concurrent_chats"), busy=Sum("active_chats")
            )
            per_category[category] = (load["capacity"] or 0, load["busy"] or 0, queue_history(brand_id=brand_id, category=category))
        capacity, busy, history = per_category[category]
        ahead_by_category[category] = ahead_by_category.get(category, 0) + 1
        eta, raw = wait_quote(position=ahead_by_category[category], eligible_capacity=capacity, busy_slots=busy, history=history, now=now)
        places.append(QueuePlace(conversation_id=conversation_id, position=index, eta_seconds=int(round(eta)), raw_seconds=raw))
    return places


def queue_place(*, brand_id: int, conversation_id: int) -> QueuePlace | None:
    return next((p for p in queue_places(brand_id=brand_id) if p.conversation_id == conversation_id), None)


def queue_length(*, brand_id: int) -> int:
    return QueueEntry.objects.filter(brand_id=brand_id, state__in=[QueueEntry.State.WAITING, QueueEntry.State.OFFERED]).count()


def capacity_violations() -> int:
    """Agents holding more chats than their capacity (never more than zero)."""
    return AgentState.objects.filter(active_chats__gt=F("agent__max_concurrent_chats")).count()
