"""Routing's periodic sweep (public schema: routing state is platform-wide)."""

import logging

from celery import shared_task

from tenants.selectors import brand_list_active

from . import services

logger = logging.getLogger(__name__)


@shared_task(name="routing.tasks.routing_sweep", acks_late=True, ignore_result=True)
def routing_sweep() -> dict:
    """Expired offers go to the next agent; agents past their grace period go away; every
    brand is dispatched once more, a safety net so nothing waits while an agent is free."""
    result = {"offers_expired": services.offers_expire(), "agents_away": services.presence_sweep()}
    for brand in brand_list_active():
        try:
            services.dispatch(brand=brand)
        except Exception:  # one brand's trouble must not stop the others' sweep
            logger.exception("Dispatch sweep failed for %s", brand.schema_name)
    return result
