"""Reads on service levels (brand schema): for the brand API and reports."""

from .models import SlaClock, SlaEvent, SlaPolicy


def sla_policy_for(*, category_id: int | None) -> SlaPolicy | None:
    """The category's own policy, else the brand's default, else none."""
    return SlaPolicy.objects.filter(category_id=category_id).first() or SlaPolicy.objects.filter(category__isnull=True).first()


def sla_clocks_for(*, conversation_id: int) -> list[SlaClock]:
    """A conversation's due times, oldest first."""
    return list(SlaClock.objects.filter(conversation_id=conversation_id).order_by("started_at", "kind"))


def sla_breaches(*, since=None, limit: int = 100) -> list[SlaEvent]:
    events = SlaEvent.objects.all()
    if since is not None:
        events = events.filter(breached_at__gte=since)
    return list(events.order_by("-breached_at")[:limit])
