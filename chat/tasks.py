"""Chat's periodic sweep. Beat schedules carry no schema, so the sweep runs in public and
enters each brand's schema itself; the outbox's own task is in chat.outbox."""

import logging

from celery import shared_task
from django_tenants.utils import schema_context

from tenants.selectors import brand_list_active

from .customer_emails import survey_emails_queue
from .escalations import queue_escalations_raise
from .outbox import outbox_deliver
from .inactivity import agents_silent_handle, conversations_end_inactive, conversations_warn_inactive

logger = logging.getLogger(__name__)


@shared_task(name="chat.tasks.chat_sweep", acks_late=True, ignore_result=True)
def chat_sweep() -> dict:
    """Quiet chats are warned, then end; silent agents are asked, then their chats move;
    chats nobody took in time are escalated; due survey emails and unsent emails go out."""
    result = {"warned": 0, "ended": 0, "agents_asked": 0, "chats_moved": 0, "escalated": 0, "surveys": 0, "emails": 0}
    for brand in brand_list_active():
        try:
            with schema_context(brand.schema_name):
                # Ending first: a chat warned long ago ends before it could be warned again.
                result["ended"] += conversations_end_inactive(brand=brand)
                result["warned"] += conversations_warn_inactive(brand=brand)
                silent = agents_silent_handle(brand=brand)
                result["agents_asked"] += silent["asked"]
                result["chats_moved"] += silent["moved"]
                result["escalated"] += queue_escalations_raise(brand=brand)
                result["surveys"] += survey_emails_queue(brand=brand)
                result["emails"] += outbox_deliver()
        except Exception:  # one brand's trouble must not stop the others' sweep
            logger.exception("Chat sweep failed for %s", brand.schema_name)
    return result
