"""Writes on brands (public schema): creation (schema and domain), suspension, settings,
API keys."""

import re
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction
from django_tenants.utils import schema_exists

from .models import Brand, BrandAPIKey, Domain, validate_business_hours


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


@dataclass(frozen=True)
class APIKeyIssued:
    key: BrandAPIKey
    raw: str  # shown once; only its hash is stored


def api_key_issue(*, brand: Brand, name: str, access: str = BrandAPIKey.Access.READ, resources: list[str] | None = None, expires_at=None) -> APIKeyIssued:
    """A new brand API key. The raw key is returned once and never stored."""
    if access not in BrandAPIKey.Access.values:
        raise BrandError(f"Unknown access {access!r}.")
    unknown = [r for r in resources or [] if r not in BrandAPIKey.Resource.values]
    if unknown:
        raise BrandError(f"Unknown resource {unknown[0]!r}.")
    if brand.schema_name == "public":
        raise BrandError("The platform itself has no brand API keys.")
    raw = BrandAPIKey.new_raw()
    key = BrandAPIKey.objects.create(
        brand=brand, name=name, prefix=raw[:10], key_hash=BrandAPIKey.hash(raw), access=access,
        resources=sorted(set(resources or [])), expires_at=expires_at,
    )
    return APIKeyIssued(key=key, raw=raw)


def api_key_revoke(*, key: BrandAPIKey, now=None) -> BrandAPIKey:
    """Revoke a key at once (idempotent: a revoked key keeps its first revocation time)."""
    from django.utils import timezone

    BrandAPIKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(revoked_at=now or timezone.now())
    key.refresh_from_db()
    return key


def brand_business_hours_set(*, brand: Brand, business_hours: dict) -> Brand:
    """Replace the brand's weekly hours (validated as in the admin)."""
    from django.core.exceptions import ValidationError

    try:
        validate_business_hours(business_hours)
    except ValidationError as error:
        raise BrandError(error.messages[0]) from None
    Brand.objects.filter(pk=brand.pk).update(business_hours=business_hours)
    brand.business_hours = business_hours
    return brand


BRAND_EDITABLE = ("name", "plan", "primary_color", "locale", "time_zone", "business_hours", "routing_policy", "offer_timeout_seconds", "max_queue_length")


def brand_update(*, brand: Brand, changes: dict) -> Brand:
    """Change a brand's settings (not its slug: it is in the schema name and the host)."""
    from django.core.exceptions import ValidationError

    for name, value in changes.items():
        if name in BRAND_EDITABLE:
            setattr(brand, name, value)
    try:
        brand.full_clean()
    except ValidationError as error:
        field, messages = next(iter(error.message_dict.items()))
        raise BrandError(f"{field}: {messages[0]}") from None
    brand.save(update_fields=[name for name in changes if name in BRAND_EDITABLE] or None)
    return brand


def domain_add(*, brand: Brand, domain: str) -> Domain:
    """An extra host name for a brand (a custom domain). Never a platform host."""
    from .selectors import host_normalize, platform_hosts

    name = host_normalize(domain)
    if not name or name in platform_hosts():
        raise BrandError("That host name cannot serve a brand.")
    if Domain.objects.filter(domain=name).exists():
        raise BrandError(f"{name} already serves a brand.")
    return Domain.objects.create(domain=name, tenant=brand, is_primary=False)


def domain_remove(*, domain: Domain) -> None:
    if domain.is_primary:
        raise BrandError("The primary domain stays; add another and make it primary in the admin first.")
    domain.delete()


def idempotency_records_prune(*, now=None) -> int:
    """Forget Idempotency-Key answers older than API_IDEMPOTENCY_HOURS (a retry later than
    that creates anew, as documented). Public schema; returns how many were deleted."""
    from datetime import timedelta

    from django.utils import timezone

    from .models import IdempotencyRecord

    cutoff = (now or timezone.now()) - timedelta(hours=settings.API_IDEMPOTENCY_HOURS)
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted
