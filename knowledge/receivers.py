"""The help center keeps two things outside the brand's schema: its search index folder
and each process's ranker. They go when the brand is deleted, and any left over under a
schema name are cleared when a brand is created with it (a brand made anew under a
deleted one's slug starts empty)."""

from functools import partial

from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver
from django_tenants.signals import post_schema_sync

from tenants.models import Brand

from .search import search_index_drop
from .suggest import ranker_forget


def _brand_search_forget(schema: str) -> None:
    search_index_drop(schema=schema)
    ranker_forget(schema=schema)


@receiver(post_delete, sender=Brand)
def brand_deleted_search_forget(sender, instance: Brand, **kwargs) -> None:
    # After the commit: a delete rolled back must still find its index.
    transaction.on_commit(partial(_brand_search_forget, instance.schema_name))


@receiver(post_schema_sync)
def brand_created_search_forget(sender, tenant, **kwargs) -> None:
    _brand_search_forget(tenant.schema_name)
