"""What a brand keeps outside its schema (files in storage, a search index, caches) goes
with it. django-tenants drops the schema, and the rows with it, when a brand is deleted;
each app that keeps something elsewhere registers a cleanup here, by schema name."""

import logging
from collections.abc import Callable
from functools import partial

from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver
from django_tenants.signals import post_schema_sync

from tenants.models import Brand

logger = logging.getLogger(__name__)

_cleanups: list[Callable[[str], None]] = []


def on_brand_gone(cleanup: Callable[[str], None]) -> Callable[[str], None]:
    """Register cleanup(schema_name). It runs once a brand's delete commits (a delete rolled
    back keeps everything), and when a brand is created under a schema name, for whatever
    an earlier brand of that name left (deleted before this existed, or by SQL): a brand
    made anew under a deleted one's slug starts empty."""
    _cleanups.append(cleanup)
    return cleanup


def _cleanup_run(cleanup: Callable[[str], None], schema: str) -> None:
    # A storage or cache outage must neither fail a delete that has committed nor undo a
    # brand being created; what was not cleared is cleared when the name is next used.
    try:
        cleanup(schema)
    except Exception:
        logger.exception("Could not clear %s of brand schema %s", cleanup.__qualname__, schema)


@receiver(post_delete, sender=Brand)
def _brand_deleted(sender, instance: Brand, **kwargs) -> None:
    for cleanup in _cleanups:
        transaction.on_commit(partial(_cleanup_run, cleanup, instance.schema_name))


@receiver(post_schema_sync)
def _brand_created(sender, tenant, **kwargs) -> None:
    for cleanup in _cleanups:
        _cleanup_run(cleanup, tenant.schema_name)
