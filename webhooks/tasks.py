"""The webhook sweep: the beat's webhook_sweep runs in public and enters each brand's
schema. The delivery task itself, webhook_deliver, is in webhooks.services beside the
code that queues it."""

import logging

from celery import shared_task
from django_tenants.utils import schema_context

from tenants.selectors import brand_list_active

from .services import message_events_record, webhooks_deliver

logger = logging.getLogger(__name__)


@shared_task(name="webhooks.tasks.webhook_sweep", acks_late=True, ignore_result=True)
def webhook_sweep() -> int:
    """New messages become message.created deliveries; due retries, and deliveries the
    broker never got (it was down at commit), go out."""
    delivered = 0
    for brand in brand_list_active():
        try:
            with schema_context(brand.schema_name):
                message_events_record()
                delivered += webhooks_deliver()
        except Exception:  # one brand's trouble must not stop the others'
            logger.exception("Webhook sweep failed for %s", brand.schema_name)
    return delivered
