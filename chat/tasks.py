"""Celery interfaces to chat services. Tasks take ids and run in their brand's schema
(tenant-schemas-celery enters the schema the task was sent from)."""

from celery import shared_task

from . import services


@shared_task(name="chat.tasks.outbox_send", acks_late=True, autoretry_for=(), ignore_result=True)
def outbox_send(email_ids: list[int] | None = None) -> int:
    return services.outbox_deliver(email_ids=email_ids)
