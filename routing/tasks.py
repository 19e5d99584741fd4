"""Routing's periodic sweep (public schema: routing state is platform-wide)."""

from celery import shared_task

from . import services


@shared_task(name="routing.tasks.routing_sweep", acks_late=True, ignore_result=True)
def routing_sweep() -> dict:
    """Expired offers go to the next agent; agents past their grace period go away;
    declines past their cool-down are forgiven; every brand is dispatched once more."""
    return services.routing_tick()
