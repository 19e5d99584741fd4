"""Figures for one brand over a period (brand schema, plus the brand's rows of the public
routing tables). docs/reports.md gives the definitions, docs/benchmarks.md the times.

The conversation figures come from quarter-hour buckets (chat.models.ReportBucket) and
hourly duration bins (ReportDurationBin), rolled up every few minutes by
report_buckets_roll_up and added up from the conversations themselves for the time after
the last roll-up: a year of a busy brand is some 130,000 bucket rows instead of half a
million conversations. Medians and p90s are read off log-spaced bins (within a bin's
width, about 21 %, of the exact value, interpolated).

A period is a range of local dates in a time zone: [first day 00:00, day after the last
day 00:00) in that zone. "By hour" and "by weekday" are local too.
"""

import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone as dt_timezone
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.utils import timezone
from psycopg import sql

from tenants.models import Brand

from .models import Conversation, ReportRollup

MAX_PERIOD_DAYS = 400
QUARTER_SECONDS = 900
# The histograms' bins: 60 of equal width in log(1 + seconds) up to a day (each about 21 %
# wider than the one before), one below zero (never used) and one for a day or more.
HIST_TOP_SECONDS = 86400
HIST_BINS = 60
# Conversations change after the quarter they started in (an outcome, a survey answered by
# email days later): every roll-up recomputes this far back.
ROLLUP_LOOKBACK = timedelta(days=8)
# Chats end within minutes (inactivity ends them), so a segment that overlaps a period
# started at most this long before it; the bound lets the started_at index do the work.
MAX_SEGMENT_SPAN = timedelta(days=2)
COMMENT_LIMIT = 20
POSITION_BUCKETS = [(1, 1, "1"), (2, 2, "2"), (3, 3, "3"), (4, 5, "4-5"), (6, 10, "6-10"), (11, 10**9, "11+")]


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


def _rows(query: str, params: dict, *, schema: str) -> list[tuple]:
    """Run a query whose `{s}` is the brand schema (quoted) and `{p}` public."""
    statement = query.format(s=sql.Identifier(schema).as_string(None), p="public")
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall()


def _seconds(value) -> float | None:
    return None if value is None else round(float(value), 1)


def _stats(row) -> dict:
    count, average, p50, p90 = row
    return {"count": count, "average": _seconds(average), "p50": _seconds(p50), "p90": _seconds(p90)}


# One row per quarter hour and category, in ReportBucket's column order, for the
# conversations created in [from, to).
_BUCKET_ROWS = """
SELECT to_timestamp(floor(extract(epoch FROM c.created_at) / 900) * 900) AS bucket, c.category_id,
       count(*), count(*) FILTER (WHERE c.state = 'resolved_by_article'), count(*) FILTER (WHERE c.assigned_at IS NOT NULL),
       count(*) FILTER (WHERE c.state = 'abandoned' AND c.assigned_at IS NULL AND c.queued_at IS NOT NULL),
       count(*) FILTER (WHERE c.queued_at IS NULL AND c.state <> 'resolved_by_article'), count(*) FILTER (WHERE c.queued_at IS NOT NULL),
       count(x.wait), coalesce(sum(x.wait), 0), count(x.first_reply), coalesce(sum(x.first_reply), 0),
       count(x.handle), coalesce(sum(x.handle), 0), count(v.id),
       count(*) FILTER (WHERE v.rating = 1), count(*) FILTER (WHERE v.rating = 2), count(*) FILTER (WHERE v.rating = 3),
       count(*) FILTER (WHERE v.rating = 4), count(*) FILTER (WHERE v.rating = 5)
FROM {s}.chat_conversation c
CROSS JOIN LATERAL (
    SELECT extract(epoch FROM c.assigned_at - c.queued_at)::float8 AS wait,
           extract(epoch FROM c.first_agent_reply_at - c.assigned_at)::float8 AS first_reply,
           CASE WHEN c.state = 'ended' THEN extract(epoch FROM c.ended_at - c.assigned_at)::float8 END AS handle
) x
LEFT JOIN {s}.surveys_survey v ON v.conversation_id = c.id
WHERE c.created_at >= %(from)s AND c.created_at < %(to)s
GROUP BY 1, 2
"""

_BUCKET_COLUMNS = (
    "bucket, category_id, conversations, resolved, chatted, abandoned, left_early, queued, wait_count, wait_sum, "
    "first_count, first_sum, handle_count, handle_sum, surveys, rating_1, rating_2, rating_3, rating_4, rating_5"
)

# Durations of the conversations created in [from, to) by hour, metric (1 wait, 2 first
# response, 3 handle time) and log-spaced bin.
_BIN_ROWS = """
SELECT to_timestamp(floor(extract(epoch FROM c.created_at) / 3600) * 3600) AS hour, m.metric,
       width_bucket(ln(1 + greatest(m.seconds, 0)), 0, ln(86401), 60) AS bin, count(*)
FROM {s}.chat_conversation c
CROSS JOIN LATERAL (VALUES
    (1, extract(epoch FROM c.assigned_at - c.queued_at)::float8),
    (2, extract(epoch FROM c.first_agent_reply_at - c.assigned_at)::float8),
    (3, CASE WHEN c.state = 'ended' THEN extract(epoch FROM c.ended_at - c.assigned_at)::float8 END)
) AS m(metric, seconds)
WHERE c.created_at >= %(from)s AND c.created_at < %(to)s AND m.seconds IS NOT NULL
GROUP BY 1, 2, 3
"""

# The period's buckets: rolled-up ones before `cut`, added up from conversations after it.
_SOURCE = (
    "WITH src AS (SELECT " + _BUCKET_COLUMNS + " FROM {s}.chat_reportbucket WHERE bucket >= %(start)s AND bucket < %(cut)s "
    "UNION ALL (" + _BUCKET_ROWS + ")) "
)

_RATINGS = "ARRAY[sum(rating_1), sum(rating_2), sum(rating_3), sum(rating_4), sum(rating_5)]::bigint[]"

_TOTALS = _SOURCE + f"""
SELECT sum(conversations)::bigint, sum(resolved)::bigint, sum(chatted)::bigint, sum(abandoned)::bigint, sum(left_early)::bigint, sum(queued)::bigint,
       sum(wait_count)::bigint, sum(wait_sum)::float8, sum(first_count)::bigint, sum(first_sum)::float8,
       sum(handle_count)::bigint, sum(handle_sum)::float8, sum(surveys)::bigint, {_RATINGS}
FROM src
"""

# Percentiles: the bins of whole hours. A period in a zone whose offset is not a whole
# number of hours (India, Nepal...) reads up to 45 minutes more at each end for them.
_BINS = """
WITH bins AS (
    SELECT metric, bin, count FROM {s}.chat_reportdurationbin WHERE hour >= %(hour_start)s AND hour < %(cut)s
    UNION ALL SELECT metric, bin, count FROM (""" + _BIN_ROWS + """) live(hour, metric, bin, count)
)
SELECT metric, bin, sum(count)::bigint FROM bins GROUP BY 1, 2
"""

_BY_CATEGORY = _SOURCE + f"""
SELECT k.slug, k.name, sum(conversations)::bigint, sum(resolved)::bigint, sum(queued)::bigint,
       sum(wait_sum)::float8 / nullif(sum(wait_count), 0), {_RATINGS}
FROM src JOIN {{s}}.knowledge_category k ON k.id = src.category_id
GROUP BY k.slug, k.name, k.position ORDER BY k.position, k.name
"""

_BY_LOCAL_HOUR = _SOURCE + """
SELECT (bucket AT TIME ZONE %(tz)s)::date, extract(hour FROM bucket AT TIME ZONE %(tz)s)::int,
       sum(conversations)::bigint, sum(resolved)::bigint, sum(chatted)::bigint, sum(wait_sum)::float8, sum(wait_count)::bigint
FROM src GROUP BY 1, 2
"""

_BY_ARTICLE = """
WITH shown AS (
    SELECT unnest(suggested_article_ids) AS article_id, resolved_article_id
    FROM {s}.chat_conversation WHERE created_at >= %(start)s AND created_at < %(end)s AND suggested_article_ids <> '{{}}'
)
SELECT a.slug, a.title, count(*), count(*) FILTER (WHERE shown.resolved_article_id = a.id)
FROM shown JOIN {s}.knowledge_article a ON a.id = shown.article_id
GROUP BY a.slug, a.title ORDER BY 4 DESC, 3 DESC, a.title LIMIT 50
"""

_BY_AGENT = """
WITH held AS (
    SELECT agent_id, max(agent_name) AS name, count(DISTINCT conversation_id) AS chats,
           sum(extract(epoch FROM least(coalesce(ended_at, %(end)s), %(end)s) - greatest(started_at, %(start)s))) AS held
    FROM {s}.chat_agentsegment
    WHERE started_at < %(end)s AND started_at >= %(earliest_segment)s AND coalesce(ended_at, %(end)s) > %(start)s
    GROUP BY agent_id
),
rated AS (
    -- Surveys offered in the period (when the chat ended): no join to conversations.
    SELECT agent_id, avg(rating) AS csat, count(rating) AS answered
    FROM {s}.surveys_survey WHERE requested_at >= %(start)s AND requested_at < %(end)s GROUP BY agent_id
)
SELECT held.agent_id, held.name, held.chats, held.held, rated.csat, coalesce(rated.answered, 0)
FROM held LEFT JOIN rated USING (agent_id) ORDER BY held.name
"""

_COMMENTS = """
SELECT v.rating, v.comment, v.answered_at, c.id, c.agent_name FROM {s}.surveys_survey v JOIN {s}.chat_conversation c ON c.id = v.conversation_id
WHERE c.created_at >= %(start)s AND c.created_at < %(end)s AND v.comment <> '' ORDER BY v.answered_at DESC LIMIT %(limit)s
"""

_OFFLINE = "SELECT count(*) FROM {s}.chat_offlinemessage WHERE created_at >= %(start)s AND created_at < %(end)s"


def histogram_percentile(counts, q: float) -> float | None:
    """The q-quantile of a duration histogram (counts by HIST_BINS bin), interpolated
    within its bin on the log scale the bins are spaced on."""
    counts = list(counts or [])
    total = sum(counts)
    if not total:
        return None
    rank = q * total
    seen = 0
    for index, count in enumerate(counts):
        if count and seen + count >= rank:
            if index == 0:
                return 0.0
            if index > HIST_BINS:
                return float(HIST_TOP_SECONDS)
            width = math.log1p(HIST_TOP_SECONDS) / HIST_BINS
            low, high = (index - 1) * width, index * width
            return round(math.expm1(low + (high - low) * (rank - seen) / count), 1)
        seen += count
    return float(HIST_TOP_SECONDS)


def _histograms(rows) -> dict[int, list[int]]:
    """metric -> counts by bin, from (metric, bin, count) rows."""
    counts: dict[int, list[int]] = {metric: [0] * (HIST_BINS + 2) for metric in (1, 2, 3)}
    for metric, bin_index, count in rows:
        counts[metric][min(max(bin_index, 0), HIST_BINS + 1)] += count
    return counts


def _duration(count, total, hist) -> dict:
    return {
        "count": count or 0, "average": round(total / count, 1) if count else None,
        "p50": histogram_percentile(hist, 0.5), "p90": histogram_percentile(hist, 0.9),
    }


def _floor_hour(moment: datetime) -> datetime:
    return datetime.fromtimestamp(int(moment.timestamp()) // 3600 * 3600, tz=dt_timezone.utc)


def _csat_average(ratings) -> float | None:
    ratings = list(ratings or [])
    answered = sum(ratings)
    return round(sum((r + 1) * n for r, n in enumerate(ratings)) / answered, 2) if answered else None


def _rolled_up_until(schema: str):
    rows = _rows("SELECT rolled_up_until FROM {s}.chat_reportrollup LIMIT 1", {}, schema=schema)
    return rows[0][0] if rows else None


def brand_report(*, brand: Brand, period: Period) -> dict:
    """Every figure of the brand's report for the period (from any schema: the SQL names
    the brand's)."""
    schema = brand.schema_name
    rolled = _rolled_up_until(schema)
    cut = min(max(rolled, period.start), period.end) if rolled else period.start
    params = {
        "start": period.start, "end": period.end, "tz": period.time_zone, "limit": COMMENT_LIMIT,
        "cut": cut, "from": cut, "to": period.end, "earliest_segment": period.start - MAX_SEGMENT_SPAN,
        "hour_start": _floor_hour(period.start),
    }
    (total, deflected, chatted, abandoned, left_early, queued, wait_n, wait_sum, first_n, first_sum,
     handle_n, handle_sum, surveys, ratings) = _rows(_TOTALS, params, schema=schema)[0]
    hist = _histograms(_rows(_BINS, params, schema=schema))
    ratings = list(ratings or [0] * 5)
    answered = sum(ratings)
    by_hour = [[0] * 24 for _ in range(7)]
    days: dict[date, list] = {}
    for day, hour, n, d, c, waited, waited_n in _rows(_BY_LOCAL_HOUR, params, schema=schema):
        by_hour[day.isoweekday() - 1][hour] += n
        tally = days.setdefault(day, [0, 0, 0, 0.0, 0])
        for index, value in enumerate((n, d, c, waited, waited_n)):
            tally[index] += value or 0
    return {
        "brand": brand.slug,
        "period": {"first_day": period.first_day.isoformat(), "last_day": period.last_day.isoformat(), "time_zone": period.time_zone},
        "outcomes": {
            "conversations": total or 0, "resolved_by_article": deflected or 0, "chatted": chatted or 0,
            "abandoned_in_queue": abandoned or 0, "left_before_queueing": left_early or 0,
            "offline_messages": _rows(_OFFLINE, params, schema=schema)[0][0],
        },
        # Of the customers who saw suggestions and decided: how many an article sent home.
        "deflection_rate": round(deflected / (deflected + queued), 4) if (deflected or 0) + (queued or 0) else None,
        "queue_wait": _duration(wait_n, wait_sum, hist[1]),
        "first_response": _duration(first_n, first_sum, hist[2]),
        "handle_time": _duration(handle_n, handle_sum, hist[3]),
        "csat": {
            "average": _csat_average(ratings),
            "distribution": {str(r + 1): ratings[r] for r in range(5)},
            "requested": surveys or 0, "answered": answered,
            "response_rate": round(answered / surveys, 4) if surveys else None,
            "comments": [
                {"rating": r, "comment": comment, "answered_at": at.isoformat(), "conversation_id": cid, "agent": agent}
                for r, comment, at, cid, agent in _rows(_COMMENTS, params, schema=schema)
            ],
        },
        "by_category": [
            {
                "category": slug, "name": name, "conversations": n, "resolved_by_article": d, "queued": q,
                "deflection_rate": round(d / (d + q), 4) if d + q else None, "average_wait": _seconds(wait), "csat": _csat_average(category_ratings),
            }
            for slug, name, n, d, q, wait, category_ratings in _rows(_BY_CATEGORY, params, schema=schema)
        ],
        "by_article": [
            {"article": slug, "title": title, "shown": shown, "resolved": solved, "deflection_rate": round(solved / shown, 4) if shown else None}
            for slug, title, shown, solved in _rows(_BY_ARTICLE, params, schema=schema)
        ],
        "by_agent": [
            {
                "agent_id": agent_id, "name": name, "conversations": chats, "held_seconds": _seconds(held),
                "csat": round(float(csat), 2) if csat is not None else None, "surveys_answered": answered_count,
            }
            for agent_id, name, chats, held, csat, answered_count in _rows(_BY_AGENT, params, schema=schema)
        ],
        "by_weekday_hour": by_hour,  # [Monday..Sunday][0..23], local time
        "trend": [
            {"day": day.isoformat(), "conversations": n, "resolved_by_article": d, "chatted": c, "average_wait": round(waited / waited_n, 1) if waited_n else None}
            for day, (n, d, c, waited, waited_n) in sorted(days.items())
        ],
        "wait_accuracy": wait_accuracy(brand=brand, period=period),
    }


def report_buckets_roll_up(*, now=None, since=None) -> int:
    """Recompute the current brand's buckets and duration bins from `since` (default:
    ROLLUP_LOOKBACK before the last roll-up, or the first conversation) up to the last
    whole hour. Returns the buckets written. In the brand's schema; two roll-ups of one
    brand at once wait for each other (an advisory lock on the schema)."""
    until = _floor_hour(now or timezone.now())
    schema = connection.schema_name
    quoted = sql.Identifier(schema).as_string(None)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext('report-rollup:' || %s))", [schema])
        rolled = _rolled_up_until(schema)
        if since is None:
            if rolled is not None:
                since = rolled - ROLLUP_LOOKBACK
            else:
                since = Conversation.objects.order_by("created_at").values_list("created_at", flat=True).first() or until
        since = _floor_hour(since)
        params = {"from": since, "to": until}
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {quoted}.chat_reportbucket WHERE bucket >= %s AND bucket < %s", [since, until])
            cursor.execute(f"INSERT INTO {quoted}.chat_reportbucket ({_BUCKET_COLUMNS}) " + _BUCKET_ROWS.format(s=quoted), params)
            written = cursor.rowcount
            cursor.execute(f"DELETE FROM {quoted}.chat_reportdurationbin WHERE hour >= %s AND hour < %s", [since, until])
            cursor.execute(f"INSERT INTO {quoted}.chat_reportdurationbin (hour, metric, bin, count) " + _BIN_ROWS.format(s=quoted), params)
        ReportRollup.objects.update_or_create(pk=1, defaults={"rolled_up_until": until})
    return written


_ACCURACY = """
SELECT quoted_seconds, extract(epoch FROM assigned_at - entered_at), quoted_position
FROM {p}.routing_queueentry
WHERE brand_id = %(brand_id)s AND quoted_seconds IS NOT NULL AND assigned_at IS NOT NULL
  AND entered_at >= %(start)s AND entered_at < %(end)s
"""

# Served customers who were quoted, by the place they were quoted at: one pass.
_ACCURACY_BY_POSITION = """
SELECT coalesce(quoted_position, 0), width_bucket(ln(1 + abs(quoted - actual)), 0, ln(86401), 60), count(*),
       count(*) FILTER (WHERE actual <= quoted), sum(abs(quoted - actual)), sum(quoted - actual)
FROM (SELECT quoted_seconds AS quoted, extract(epoch FROM assigned_at - entered_at)::float8 AS actual, quoted_position
      FROM {p}.routing_queueentry
      WHERE brand_id = %(brand_id)s AND quoted_seconds IS NOT NULL AND assigned_at IS NOT NULL
        AND entered_at >= %(start)s AND entered_at < %(end)s) q
GROUP BY 1, 2
"""


def wait_accuracy(*, brand: Brand, period: Period, sample: int = 200) -> dict:
    """Each quoted wait beside the real one, for customers who were served: how often they
    waited no longer than told, and the error by the place they were quoted at."""
    params = {"brand_id": brand.id, "start": period.start, "end": period.end}
    buckets = {label: [0, 0.0, 0] for _, _, label in POSITION_BUCKETS}
    served = within = 0
    absolute = signed = 0.0
    errors = [0] * (HIST_BINS + 2)
    for position, bin_index, count, ok, abs_sum, signed_sum in _rows(_ACCURACY_BY_POSITION, params, schema=brand.schema_name):
        served, within, absolute, signed = served + count, within + ok, absolute + abs_sum, signed + signed_sum
        errors[min(max(bin_index, 0), HIST_BINS + 1)] += count
        label = next((label for low, high, label in POSITION_BUCKETS if low <= position <= high), None)
        if label is not None:
            bucket = buckets[label]
            bucket[0], bucket[1], bucket[2] = bucket[0] + count, bucket[1] + abs_sum, bucket[2] + ok
    pairs = _rows(_ACCURACY + " ORDER BY entered_at DESC LIMIT %(sample)s", {**params, "sample": sample}, schema=brand.schema_name)
    return {
        "served": served,
        "share_within_quote": round(within / served, 4) if served else None,
        "mean_absolute_error": round(absolute / served, 1) if served else None,
        "mean_signed_error": round(signed / served, 1) if served else None,
        "median_absolute_error": histogram_percentile(errors, 0.5),
        "by_position": [
            {"position": label, "served": n, "mean_absolute_error": round(error / n, 1) if n else None, "share_within_quote": round(ok / n, 4) if n else None}
            for label, (n, error, ok) in buckets.items()
        ],
        "recent": [{"quoted": quoted, "actual": _seconds(actual), "position": position} for quoted, actual, position in pairs],
    }
