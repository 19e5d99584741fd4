"""Chat's periodic sweep. Beat schedules carry no schema, so the sweep runs in public and
enters each brand's schema itself; the outbox's own task is in chat.outbox."""

import logging

from celery import shared_task
from django_tenants.utils import schema_context

from tenants.selectors import brand_list_active

from .customer_emails import survey_emails_queue
from .attachments import attachments_unsent_prune
from .billing import agent_time_buckets_roll_up
from .escalations import queue_escalations_raise
from .inactivity import agents_silent_handle, conversations_end_inactive, conversations_warn_inactive
from .outbox import outbox_deliver
from .reports import report_buckets_roll_up

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


@shared_task(name="chat.tasks.reports_roll_up", acks_late=True, ignore_result=True)
def reports_roll_up() -> int:
    """Every brand's report buckets and the agent-time buckets, up to the last whole
    quarter hour (idempotent: each run rewrites the look-back window)."""
    written = 0
    for brand in brand_list_active():
        try:
            with schema_context(brand.schema_name):
                written += report_buckets_roll_up()
        except Exception:  # one brand's trouble must not stop the others' roll-up
            logger.exception("Report roll-up failed for %s", brand.schema_name)
    # Agent time is split across brands, so it is rolled up for all of them at once, in public.
    written += agent_time_buckets_roll_up()
    return written


@shared_task(name="chat.tasks.attachments_prune", acks_late=True, ignore_result=True)
def attachments_prune() -> int:
    """Every brand's files uploaded and never sent, after ATTACHMENT_UNSENT_HOURS."""
    pruned = 0
    for brand in brand_list_active():
        try:
            with schema_context(brand.schema_name):
                pruned += attachments_unsent_prune()
        except Exception:  # one brand's trouble must not stop the others' pruning
            logger.exception("Attachment pruning failed for %s", brand.schema_name)
    return pruned
