"""Writes on brands: creation (schema and domain), suspension."""

import re
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction
from django_tenants.utils import schema_exists

from .models import Brand, Domain


class BrandError(Exception):
    pass


def brand_schema_name(*, slug: str) -> str:
    return "brand_" + re.sub(r"[^a-z0-9]", "_", slug.lower())


def brand_host(*, slug: str) -> str:
    return f"{slug}.{settings.ROOT_DOMAIN}"


@dataclass(frozen=True)
class BrandCreated:
    brand: Brand
    seconds: float


def brand_template_ensure(*, verbosity: int = 0) -> None:
    """Create and migrate the schema new brands are cloned from.

    Cloning a migrated schema takes a fraction of the time of running every tenant
    migration for each new brand; `migrate_brands` keeps this template current.
    """
    template = settings.TENANT_BASE_SCHEMA
    if not schema_exists(template):
        with connection.cursor() as cursor:
            cursor.execute(f'CREATE SCHEMA "{template}"')
    call_command("migrate_schemas", schema_name=template, interactive=False, verbosity=verbosity)
    connection.set_schema_to_public()


def brand_create(*, name: str, slug: str, verbosity: int = 0, **fields) -> BrandCreated:
    """Create a brand: its row, its schema (cloned from the template) and its domain."""
    slug = slug.strip().lower()
    if Brand.objects.filter(slug=slug).exists():
        raise BrandError(f"A brand with the slug {slug!r} already exists.")
    started = time.perf_counter()
    if not schema_exists(settings.TENANT_BASE_SCHEMA):
        brand_template_ensure(verbosity=verbosity)
    brand = Brand(name=name, slug=slug, schema_name=brand_schema_name(slug=slug), **fields)
    brand.full_clean()
    # Brand.save() creates the schema outside any transaction we could hold open for
    # long; the domain follows in its own short transaction.
    brand.save(verbosity=verbosity)
    with transaction.atomic():
        Domain.objects.create(domain=brand_host(slug=slug), tenant=brand, is_primary=True)
    return BrandCreated(brand=brand, seconds=time.perf_counter() - started)


def brand_domain_ensure(*, brand: Brand) -> Domain:
    """Give a brand (created in the admin, say) its primary `<slug>.<root>` domain."""
    domain, _ = Domain.objects.get_or_create(
        domain=brand_host(slug=brand.slug), defaults={"tenant": brand, "is_primary": True}
    )
    return domain


def brand_set_status(*, brand_ids: list[int], status: str) -> int:
    if status not in Brand.Status.values:
        raise BrandError(f"Unknown status {status!r}.")
    return Brand.objects.filter(id__in=brand_ids).exclude(schema_name="public").update(status=status)
