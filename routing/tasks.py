"""Periodic sweeps. Beat schedules carry no schema, so these run in public and enter
each brand's schema themselves for brand work."""

import logging

from celery import shared_task
from django_tenants.utils import schema_context

from tenants.selectors import brand_list_active

from . import services

logger = logging.getLogger(__name__)


@shared_task(name="routing.tasks.deadlines_sweep", acks_late=True, ignore_result=True)
def deadlines_sweep() -> dict:
    """Expired offers go to the next agent; agents past their grace period go away;
    idle chats end; due survey emails and unsent emails go out."""
    from chat import services as chat_services

    result = {"offers_expired": services.offers_expire(), "agents_away": services.presence_sweep(), "ended": 0, "surveys": 0, "emails": 0}
    for brand in brand_list_active():
        try:
            with schema_context(brand.schema_name):
                result["ended"] += chat_services.conversations_end_inactive(brand=brand)
                result["surveys"] += chat_services.survey_emails_queue(brand=brand)
                result["emails"] += chat_services.outbox_deliver()
                services.dispatch(brand=brand)  # a safety net: nothing waits while an agent is free
        except Exception:  # one brand's trouble must not stop the others' sweep
            logger.exception("Sweep failed for %s", brand.schema_name)
    return result
