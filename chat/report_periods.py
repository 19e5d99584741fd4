"""Report periods: local dates in a time zone, and the bounds every report shares."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

MAX_PERIOD_DAYS = 400
QUARTER_SECONDS = 900
# Conversations change after the hour they started in (an outcome, a survey answered by
# email days later): every roll-up recomputes this far back.
ROLLUP_LOOKBACK = timedelta(days=8)
# Chats end within minutes (inactivity ends them), so a segment that overlaps a period
# started at most this long before it; the bound lets the started_at index do the work.
MAX_SEGMENT_SPAN = timedelta(days=2)


class ReportError(ValueError):
    """A period that cannot be reported on; the message says why."""


@dataclass(frozen=True)
class Period:
    first_day: date
    last_day: date
    time_zone: str

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first_day, time.min, tzinfo=ZoneInfo(self.time_zone))

    @property
    def end(self) -> datetime:
        return datetime.combine(self.last_day + timedelta(days=1), time.min, tzinfo=ZoneInfo(self.time_zone))


def period_parse(*, first_day, last_day, time_zone) -> Period:
    """A period from request parameters (ISO dates, an IANA zone name)."""
    try:
        first = date.fromisoformat(str(first_day))
        last = date.fromisoformat(str(last_day))
    except ValueError:
        raise ReportError("Dates are YYYY-MM-DD.") from None
    try:
        ZoneInfo(str(time_zone))
    except Exception:
        raise ReportError("Unknown time zone; use a name like Europe/Berlin.") from None
    if last < first:
        raise ReportError("The period ends before it starts.")
    if (last - first).days >= MAX_PERIOD_DAYS:
        raise ReportError(f"Report on at most {MAX_PERIOD_DAYS} days at a time.")
    return Period(first, last, str(time_zone))


