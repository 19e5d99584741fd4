"""The SLA sweep. Beat schedules carry no schema, so it runs in public and enters each
brand's schema itself; one brand's trouble does not stop the others'."""

import logging

from celery import shared_task
from django_tenants.utils import schema_context

from tenants.selectors import brand_list_active

from .services import sla_sweep_brand

logger = logging.getLogger(__name__)


@shared_task(name="sla.tasks.sla_sweep", acks_late=True, ignore_result=True)
def sla_sweep() -> dict:
    result = {"started": 0, "kept": 0, "warned": 0, "breached": 0}
    for brand in brand_list_active():
        try:
            with schema_context(brand.schema_name):
                for key, value in sla_sweep_brand(brand=brand).items():
                    result[key] += value
        except Exception:
            logger.exception("SLA sweep failed for %s", brand.schema_name)
    return result
