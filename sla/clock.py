"""Business time (pure Python, no schema): a target counted only inside the brand's
weekly hours, in its time zone, skipping its holidays. The same hours format as
tenants.models.validate_business_hours and tenants.selectors.brand_is_open."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from tenants.models import WEEKDAYS

# A brand with hours but a year of holidays ahead is not a promise any clock can keep:
# past this many days the target falls back to plain time, so a due time always exists.
MAX_DAYS = 400


def _minutes(value: str) -> int:
    hours, minutes = value.split(":")
    return int(hours) * 60 + int(minutes)


def business_deadline(*, start: datetime, seconds: float, hours: dict, time_zone: str, holidays: set[date]) -> datetime:
    """The moment `seconds` of business time have passed since `start`.

    An empty schedule means always open (as brand_is_open says), so plain time."""
    if seconds <= 0 or not any((hours or {}).get(day) for day in WEEKDAYS):
        return start + timedelta(seconds=seconds)
    zone = ZoneInfo(time_zone or "UTC")
    local = start.astimezone(zone)
    remaining = timedelta(seconds=seconds)
    day = local.date()
    for _ in range(MAX_DAYS):
        if day not in holidays:
            for opens, closes in sorted(hours.get(WEEKDAYS[day.weekday()], []), key=lambda pair: _minutes(pair[0])):
                window_start = datetime.combine(day, time(), tzinfo=zone) + timedelta(minutes=_minutes(opens))
                window_end = datetime.combine(day, time(), tzinfo=zone) + timedelta(minutes=_minutes(closes))
                begin = max(window_start, local)
                if begin >= window_end:
                    continue
                if begin + remaining <= window_end:
                    return (begin + remaining).astimezone(start.tzinfo)
                remaining -= window_end - begin
        day += timedelta(days=1)
    return start + timedelta(seconds=seconds)
