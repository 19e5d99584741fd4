"""Housekeeping of the integration APIs (public schema)."""

from celery import shared_task

from .services import idempotency_records_prune


@shared_task(name="tenants.tasks.idempotency_prune", acks_late=True, ignore_result=True)
def idempotency_prune() -> int:
    return idempotency_records_prune()
