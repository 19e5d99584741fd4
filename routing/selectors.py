"""Reads on routing: eligibility, queue positions, wait estimates, agents' load."""

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import F, Q, Sum
from django.utils import timezone

from helpdesk.models import Staffing

from .estimates import estimate_wait_seconds
from .models import AgentState, QueueEntry

RECENT_HANDLE_WINDOW = 100
RECENT_HANDLE_MAX_AGE = timedelta(days=14)


def eligible_agent_states(*, brand_id: int, category: str):
    """Online agents staffed (as agents) on the brand for the category, below capacity."""
    staffed = Q(agent__staffings__brand_id=brand_id, agent__staffings__role=Staffing.Role.AGENT) & (
        Q(agent__staffings__categories__len=0) | Q(agent__staffings__categories__contains=[category])
    )
    return AgentState.objects.filter(staffed, presence=AgentState.Presence.ONLINE)


def waiting_entries(*, brand_id: int):
    return QueueEntry.objects.filter(brand_id=brand_id, state=QueueEntry.State.WAITING).order_by("-priority", "entered_at", "id")


def recent_handle_seconds(*, brand_id: int, category: str) -> list[float]:
    since = timezone.now() - RECENT_HANDLE_MAX_AGE
    rows = (
        QueueEntry.objects.filter(brand_id=brand_id, category=category, state=QueueEntry.State.DONE, finished_at__gte=since, assigned_at__isnull=False)
        .order_by("-finished_at")
        .values_list("assigned_at", "finished_at")[:RECENT_HANDLE_WINDOW]
    )
    return [(finished - assigned).total_seconds() for assigned, finished in rows]


def recent_waits_seconds(*, brand_id: int, category: str) -> list[float]:
    since = timezone.now() - RECENT_HANDLE_MAX_AGE
    rows = (
        QueueEntry.objects.filter(brand_id=brand_id, category=category, assigned_at__isnull=False, assigned_at__gte=since)
        .order_by("-assigned_at")
        .values_list("entered_at", "assigned_at")[:RECENT_HANDLE_WINDOW]
    )
    return [(assigned - entered).total_seconds() for entered, assigned in rows]


def recent_abandon_waits_seconds(*, brand_id: int, category: str) -> list[float]:
    """Waits of customers who gave up (left the queue never assigned), same window as the
    served waits: without them the estimator cannot tell a queue nobody leaves from one
    half the customers abandon, and keeps the abandonment rate at its prior."""
    since = timezone.now() - RECENT_HANDLE_MAX_AGE
    rows = (
        QueueEntry.objects.filter(
            brand_id=brand_id, category=category, state=QueueEntry.State.LEFT, assigned_at__isnull=True, finished_at__gte=since
        )
        .order_by("-finished_at")
        .values_list("entered_at", "finished_at")[:RECENT_HANDLE_WINDOW]
    )
    return [max(0.0, (finished - entered).total_seconds()) for entered, finished in rows]


@dataclass(frozen=True)
class QueuePlace:
    conversation_id: int
    position: int
    eta_seconds: int


def queue_places(*, brand_id: int) -> list[QueuePlace]:
    """Every waiting conversation's position and estimated wait, per category.

    Position counts everyone ahead in the brand's queue; the wait estimate uses the
    capacity that can serve this category and its recent handle times.
    """
    entries = list(waiting_entries(brand_id=brand_id).values_list("conversation_id", "category"))
    capacity_cache: dict[str, tuple[int, int, list[float], list[float], list[float]]] = {}
    places = []
    ahead_by_category: dict[str, int] = {}
    for index, (conversation_id, category) in enumerate(entries, start=1):
        if category not in capacity_cache:
            agg = eligible_agent_states(brand_id=brand_id, category=category).aggregate(
                capacity=Sum("agent__max_concurrent_chats"), busy=Sum("active_chats")
            )
            capacity_cache[category] = (
                agg["capacity"] or 0,
                agg["busy"] or 0,
                recent_handle_seconds(brand_id=brand_id, category=category),
                recent_waits_seconds(brand_id=brand_id, category=category),
                recent_abandon_waits_seconds(brand_id=brand_id, category=category),
            )
        capacity, busy, handles, waits, abandons = capacity_cache[category]
        ahead_by_category[category] = ahead_by_category.get(category, 0) + 1
        eta = estimate_wait_seconds(
            position=ahead_by_category[category],
            eligible_capacity=capacity,
            busy_slots=busy,
            recent_handle_times=handles,
            recent_waits=waits,
            recent_abandon_waits=abandons,
        )
        places.append(QueuePlace(conversation_id=conversation_id, position=index, eta_seconds=int(round(eta))))
    return places


def queue_place(*, brand_id: int, conversation_id: int) -> QueuePlace | None:
    return next((p for p in queue_places(brand_id=brand_id) if p.conversation_id == conversation_id), None)


def queue_length(*, brand_id: int) -> int:
    return QueueEntry.objects.filter(brand_id=brand_id, state__in=[QueueEntry.State.WAITING, QueueEntry.State.OFFERED]).count()


def agent_has_capacity(state: AgentState) -> bool:
    return state.active_chats < state.agent.max_concurrent_chats


def over_capacity_agents():
    return AgentState.objects.filter(active_chats__gt=F("agent__max_concurrent_chats"))
