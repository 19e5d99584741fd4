"""Reads on brands, and the one place a host name is resolved to a brand."""

from dataclasses import dataclass

from django.conf import settings
from django_tenants.utils import schema_context

from .models import Brand, BrandAPIKey, Domain


@dataclass(frozen=True)
class HostResolution:
    """What a Host header means: the platform, a brand, or nothing we serve."""

    kind: str  # "platform" | "brand" | "unknown"
    brand: Brand | None = None

    @property
    def is_platform(self) -> bool:
        return self.kind == "platform"

    @property
    def is_brand(self) -> bool:
        return self.kind == "brand"


def host_normalize(host: str) -> str:
    host = (host or "").strip().lower()
    if host.startswith("["):  # IPv6 literal
        return host.split("]")[0] + "]"
    return host.rsplit(":", 1)[0] if ":" in host else host


def host_resolve(*, host: str) -> HostResolution:
    """Resolve a Host header. Runs its query in the public schema whatever is current."""
    name = host_normalize(host)
    if name in platform_hosts():
        return HostResolution(kind="platform")
    with schema_context("public"):
        domain = Domain.objects.select_related("tenant").filter(domain=name).first()
    if domain is None or domain.tenant.schema_name == "public":
        return HostResolution(kind="unknown")
    return HostResolution(kind="brand", brand=domain.tenant)


def platform_hosts() -> set[str]:
    return {settings.ROOT_DOMAIN, *getattr(settings, "EXTRA_PLATFORM_HOSTS", ())}


def brand_list_active() -> list[Brand]:
    with schema_context("public"):
        return list(Brand.objects.exclude(schema_name="public").filter(status=Brand.Status.ACTIVE))


def brand_is_open(*, brand: Brand, at=None) -> bool:
    """Whether `at` (default now) falls in the brand's weekly business hours, in its time zone.

    An empty schedule means always open.
    """
    from zoneinfo import ZoneInfo

    from django.utils import timezone

    from .models import WEEKDAYS

    hours = brand.business_hours or {}
    if not any(hours.get(day) for day in WEEKDAYS):
        return True
    local = (at or timezone.now()).astimezone(ZoneInfo(brand.time_zone or "UTC"))
    minute_of_day = local.hour * 60 + local.minute
    for start, end in hours.get(WEEKDAYS[local.weekday()], []):
        start_h, start_m = (int(x) for x in start.split(":"))
        end_h, end_m = (int(x) for x in end.split(":"))
        if start_h * 60 + start_m <= minute_of_day < end_h * 60 + end_m:
            return True
    return False


def brand_next_opening(*, brand: Brand, at=None):
    """The next moment (an aware datetime in the brand's time zone) the brand opens after
    `at` (default now), within a week; None when it is open at `at` or keeps no hours."""
    from datetime import datetime, time, timedelta
    from zoneinfo import ZoneInfo

    from django.utils import timezone

    from .models import WEEKDAYS

    hours = brand.business_hours or {}
    if not any(hours.get(day) for day in WEEKDAYS):
        return None
    now = at or timezone.now()
    if brand_is_open(brand=brand, at=now):
        return None
    zone = ZoneInfo(brand.time_zone or "UTC")
    local = now.astimezone(zone)
    for days_ahead in range(8):
        day = local.date() + timedelta(days=days_ahead)
        starts = sorted(start for start, _ in hours.get(WEEKDAYS[day.weekday()], []))
        for start in starts:
            hour, minute = (int(x) for x in start.split(":"))
            opening = datetime.combine(day, time(hour, minute), tzinfo=zone)
            if opening > local:
                return opening
    return None


# last_used_at is written at most once a minute per key: a write per request would make
# every brand API read a write on one hot row.
API_KEY_TOUCH_SECONDS = 60


def api_key_get_by_raw(*, raw) -> BrandAPIKey | None:
    """The usable (not revoked, not expired) key with this raw value, noting its use; None
    for anything else. The caller checks that it belongs to the host's brand."""
    from datetime import timedelta

    from django.utils import timezone

    if not isinstance(raw, str) or not raw.startswith(BrandAPIKey.PREFIX) or len(raw) > 200:
        return None
    with schema_context("public"):
        key = BrandAPIKey.objects.select_related("brand").filter(key_hash=BrandAPIKey.hash(raw)).first()
        now = timezone.now()
        if key is None or not key.is_usable(now=now):
            return None
        if key.last_used_at is None or key.last_used_at < now - timedelta(seconds=API_KEY_TOUCH_SECONDS):
            BrandAPIKey.objects.filter(pk=key.pk).update(last_used_at=now)
            key.last_used_at = now
    return key
