"""A brand's files (chat attachments, logo) live in storage, outside its schema: they go
when the brand is deleted (django-tenants drops the schema, and the rows with it), and any
left over under a schema name are cleared when a brand is created with it, so no file
outlives its brand or reaches a later one."""

import logging
from functools import partial

from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver
from django_tenants.signals import post_schema_sync

from tenants.models import Brand
from tenants.storage import brand_files_delete

logger = logging.getLogger(__name__)


def _brand_files_delete(schema: str) -> None:
    deleted = brand_files_delete(schema)
    if deleted:
        logger.info("Deleted %d file(s) of brand schema %s", deleted, schema)


@receiver(post_delete, sender=Brand)
def brand_deleted_files_delete(sender, instance: Brand, **kwargs) -> None:
    # After the commit: a delete rolled back must still find its files.
    transaction.on_commit(partial(_brand_files_delete, instance.schema_name))


@receiver(post_schema_sync)
def brand_created_files_clear(sender, tenant, **kwargs) -> None:
    _brand_files_delete(tenant.schema_name)
