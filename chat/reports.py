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
from datetime import date, datetime, timedelta, timezone as dt_timezone

from django.db import connection, transaction
from django.utils import timezone
from psycopg import sql

from tenants.models import Brand

from .billing import agent_time_report
from .models import Conversation, ReportRollup
from .report_periods import ROLLUP_LOOKBACK, Period

COMMENT_LIMIT = 20
POSITION_BUCKETS = [(1, 1, "1"), (2, 2, "2"), (3, 3, "3"), (4, 5, "4-5"), (6, 10, "6-10"), (11, 10**9, "11+")]
# The histograms' bins: 60 of equal width in log(1 + seconds) up to a day (each about 21 %
# wider than the one before), one below zero (never used) and one for a day or more.
HIST_TOP_SECONDS = 86400
HIST_BINS = 60


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


# Every roll-up source is written once, with `{window}` standing for the rows it adds up:
# a roll-up's [from, to), or a report's live edges (see _Windows).

# Per UTC hour and category, in ReportBucket's column order.
_BUCKET_ROWS = """
SELECT to_timestamp(floor(extract(epoch FROM c.created_at) / 3600) * 3600) AS bucket, c.category_id,
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
WHERE {window}
GROUP BY 1, 2
"""
_BUCKET_COLUMNS = (
    "bucket, category_id, conversations, resolved, chatted, abandoned, left_early, queued, wait_count, wait_sum, "
    "first_count, first_sum, handle_count, handle_sum, surveys, rating_1, rating_2, rating_3, rating_4, rating_5"
)

# Durations per UTC day, metric (1 wait, 2 first response, 3 handle time) and bin.
_BIN_ROWS = """
SELECT to_timestamp(floor(extract(epoch FROM c.created_at) / 86400) * 86400) AS day, m.metric,
       width_bucket(ln(1 + greatest(m.seconds, 0)), 0, ln(86401), 60) AS bin, count(*)
FROM {s}.chat_conversation c
CROSS JOIN LATERAL (VALUES
    (1, extract(epoch FROM c.assigned_at - c.queued_at)::float8),
    (2, extract(epoch FROM c.first_agent_reply_at - c.assigned_at)::float8),
    (3, CASE WHEN c.state = 'ended' THEN extract(epoch FROM c.ended_at - c.assigned_at)::float8 END)
) AS m(metric, seconds)
WHERE {window} AND m.seconds IS NOT NULL
GROUP BY 1, 2, 3
"""

# Suggestions shown and articles that solved, per UTC day.
_ARTICLE_ROWS = """
SELECT to_timestamp(floor(extract(epoch FROM c.created_at) / 86400) * 86400) AS day, shown.article_id, count(*),
       count(*) FILTER (WHERE c.resolved_article_id = shown.article_id)
FROM {s}.chat_conversation c CROSS JOIN LATERAL unnest(c.suggested_article_ids) AS shown(article_id)
WHERE {window} AND c.suggested_article_ids <> '{{}}'
GROUP BY 1, 2
"""

# Quoted against real waits of the brand's served customers, per UTC day (by queue entry).
_QUOTE_ROWS = """
SELECT to_timestamp(floor(extract(epoch FROM c.created_at) / 86400) * 86400) AS day, coalesce(c.quoted_position, 0),
       width_bucket(ln(1 + abs(c.quoted - c.actual)), 0, ln(86401), 60), count(*), count(*) FILTER (WHERE c.actual <= c.quoted),
       sum(abs(c.quoted - c.actual)), sum(c.quoted - c.actual)
FROM (SELECT entered_at AS created_at, quoted_position, quoted_seconds::float8 AS quoted,
             extract(epoch FROM assigned_at - entered_at)::float8 AS actual
      FROM public.routing_queueentry
      WHERE brand_id = %(brand_id)s AND quoted_seconds IS NOT NULL AND assigned_at IS NOT NULL) c
WHERE {window}
GROUP BY 1, 2, 3
"""

_ROLLUPS = (
    # (table, columns, rows, unit seconds)
    ("chat_reportbucket", _BUCKET_COLUMNS, _BUCKET_ROWS, 3600),
    ("chat_reportdurationbin", "day, metric, bin, count", _BIN_ROWS, 86400),
    ("chat_reportarticleday", "day, article_id, shown, resolved", _ARTICLE_ROWS, 86400),
    ("chat_reportquoteday", "day, position, bin, served, within, absolute_sum, signed_sum", _QUOTE_ROWS, 86400),
)

_LIVE_WINDOW = (
    "((c.created_at >= %(live_a_from)s AND c.created_at < %(live_a_to)s) OR (c.created_at >= %(live_b_from)s AND c.created_at < %(live_b_to)s))"
)
_ROLLUP_WINDOW = "c.created_at >= %(from)s AND c.created_at < %(to)s"


def _floor(moment: datetime, unit: int) -> datetime:
    return datetime.fromtimestamp(int(moment.timestamp()) // unit * unit, tz=dt_timezone.utc)


def _ceil(moment: datetime, unit: int) -> datetime:
    floored = _floor(moment, unit)
    return floored if floored == moment else floored + timedelta(seconds=unit)


def _windows(*, period: Period, rolled, unit: int) -> dict:
    """The rolled-up units wholly inside the period and before the last roll-up, and the
    two live edges around them (either may be empty)."""
    inner_start = _ceil(period.start, unit)
    inner_end = min(_floor(period.end, unit), rolled) if rolled else inner_start
    if inner_end <= inner_start:
        inner_start = inner_end = period.start
    return {"rolled_from": inner_start, "rolled_to": inner_end, "live_a_from": period.start, "live_a_to": inner_start, "live_b_from": inner_end, "live_b_to": period.end}


def _source(table: str, columns: str, rows: str, unit_column: str) -> str:
    return (
        f"WITH src AS (SELECT {columns} FROM {{s}}.{table} WHERE {unit_column} >= %(rolled_from)s AND {unit_column} < %(rolled_to)s "
        f"UNION ALL (" + rows.replace("{window}", _LIVE_WINDOW) + ")) "
    )


_RATINGS = "ARRAY[coalesce(sum(rating_1), 0), coalesce(sum(rating_2), 0), coalesce(sum(rating_3), 0), coalesce(sum(rating_4), 0), coalesce(sum(rating_5), 0)]::bigint[]"
_BUCKETS = _source("chat_reportbucket", _BUCKET_COLUMNS, _BUCKET_ROWS, "bucket")

_TOTALS = _BUCKETS + f"""
SELECT sum(conversations)::bigint, sum(resolved)::bigint, sum(chatted)::bigint, sum(abandoned)::bigint, sum(left_early)::bigint, sum(queued)::bigint,
       sum(wait_count)::bigint, sum(wait_sum)::float8, sum(first_count)::bigint, sum(first_sum)::float8,
       sum(handle_count)::bigint, sum(handle_sum)::float8, sum(surveys)::bigint, {_RATINGS}
FROM src
"""

_BY_CATEGORY = _BUCKETS + f"""
SELECT k.slug, k.name, sum(conversations)::bigint, sum(resolved)::bigint, sum(queued)::bigint,
       sum(wait_sum)::float8 / nullif(sum(wait_count), 0), {_RATINGS}
FROM src JOIN {{s}}.knowledge_category k ON k.id = src.category_id
GROUP BY k.slug, k.name, k.position ORDER BY k.position, k.name
"""

_BY_LOCAL_HOUR = _BUCKETS + """
SELECT (bucket AT TIME ZONE %(tz)s)::date, extract(hour FROM bucket AT TIME ZONE %(tz)s)::int,
       sum(conversations)::bigint, sum(resolved)::bigint, sum(chatted)::bigint, sum(wait_sum)::float8, sum(wait_count)::bigint
FROM src GROUP BY 1, 2
"""

_BINS = _source("chat_reportdurationbin", "day, metric, bin, count", _BIN_ROWS, "day") + """
SELECT metric, bin, sum(count)::bigint FROM src GROUP BY 1, 2
"""

_BY_ARTICLE = _source("chat_reportarticleday", "day, article_id, shown, resolved", _ARTICLE_ROWS, "day") + """
SELECT a.slug, a.title, sum(src.shown)::bigint, sum(src.resolved)::bigint
FROM src JOIN {s}.knowledge_article a ON a.id = src.article_id
GROUP BY a.slug, a.title ORDER BY 4 DESC, 3 DESC, a.title LIMIT 50
"""

_QUOTES = _source("chat_reportquoteday", "day, position, bin, served, within, absolute_sum, signed_sum", _QUOTE_ROWS, "day") + """
SELECT position, bin, sum(served)::bigint, sum(within)::bigint, sum(absolute_sum)::float8, sum(signed_sum)::float8 FROM src GROUP BY 1, 2
"""

_BY_DISPOSITION = """
SELECT disposition, count(*) FROM {s}.chat_wrapup WHERE wrapped_at >= %(start)s AND wrapped_at < %(end)s GROUP BY 1 ORDER BY 2 DESC
"""

_BY_TAG = """
SELECT t.slug, t.name, count(*)
FROM {s}.chat_wrapup w JOIN {s}.chat_wrapup_tags wt ON wt.wrapup_id = w.id JOIN {s}.chat_tag t ON t.id = wt.tag_id
WHERE w.wrapped_at >= %(start)s AND w.wrapped_at < %(end)s GROUP BY t.slug, t.name ORDER BY 3 DESC, t.name
"""

# SLA clocks that ran out in the period (a due time inside it), by target: met or breached.
_SLA = """
SELECT kind, count(*), count(*) FILTER (WHERE breached_at IS NOT NULL)
FROM {s}.sla_slaclock WHERE due_at >= %(start)s AND due_at < %(end)s AND (stopped_at IS NOT NULL OR breached_at IS NOT NULL)
GROUP BY kind ORDER BY kind
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
    base = {"start": period.start, "end": period.end, "tz": period.time_zone, "limit": COMMENT_LIMIT, "brand_id": brand.id}
    hourly = {**base, **_windows(period=period, rolled=rolled, unit=3600)}
    daily = {**base, **_windows(period=period, rolled=rolled, unit=86400)}
    (total, deflected, chatted, abandoned, left_early, queued, wait_n, wait_sum, first_n, first_sum,
     handle_n, handle_sum, surveys, ratings) = _rows(_TOTALS, hourly, schema=schema)[0]
    hist = _histograms(_rows(_BINS, daily, schema=schema))
    ratings = list(ratings or [0] * 5)
    answered = sum(ratings)
    by_hour = [[0] * 24 for _ in range(7)]
    days: dict[date, list] = {}
    for day, hour, n, d, c, waited, waited_n in _rows(_BY_LOCAL_HOUR, hourly, schema=schema):
        by_hour[day.isoweekday() - 1][hour] += n
        tally = days.setdefault(day, [0, 0, 0, 0.0, 0])
        for index, value in enumerate((n, d, c, waited, waited_n)):
            tally[index] += value or 0
    # Agent time on this brand is the cross-brand fair split (chat.billing).
    others = list(Brand.objects.exclude(schema_name="public"))
    agent_rows = agent_time_report(brands=others, period=period)["agents"]
    return {
        "brand": brand.slug,
        "period": {"first_day": period.first_day.isoformat(), "last_day": period.last_day.isoformat(), "time_zone": period.time_zone},
        "outcomes": {
            "conversations": total or 0, "resolved_by_article": deflected or 0, "chatted": chatted or 0,
            "abandoned_in_queue": abandoned or 0, "left_before_queueing": left_early or 0,
            "offline_messages": _rows(_OFFLINE, base, schema=schema)[0][0],
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
                for r, comment, at, cid, agent in _rows(_COMMENTS, base, schema=schema)
            ],
        },
        "by_category": [
            {
                "category": slug, "name": name, "conversations": n, "resolved_by_article": d, "queued": q,
                "deflection_rate": round(d / (d + q), 4) if d + q else None, "average_wait": _seconds(wait), "csat": _csat_average(category_ratings),
            }
            for slug, name, n, d, q, wait, category_ratings in _rows(_BY_CATEGORY, hourly, schema=schema)
        ],
        "by_article": [
            {"article": slug, "title": title, "shown": shown, "resolved": solved, "deflection_rate": round(solved / shown, 4) if shown else None}
            for slug, title, shown, solved in _rows(_BY_ARTICLE, daily, schema=schema)
        ],
        "by_agent": [
            {
                "agent_id": row["agent_id"], "name": row["name"], "conversations": mine["chats"], "held_seconds": mine["billable_seconds"],
                "csat": row["brand_csat"].get(brand.slug), "surveys_answered": row["brand_answered"].get(brand.slug, 0),
            }
            for row in agent_rows
            for mine in row["brands"] if mine["brand"] == brand.slug
        ],
        "sla": [
            {"target": kind, "clocks": n, "breached": breached, "compliance": round((n - breached) / n, 4) if n else None}
            for kind, n, breached in _rows(_SLA, base, schema=schema)
        ],
        # Wrap-ups recorded in the period, by the reason the agent gave.
        "by_disposition": [{"disposition": d or "none", "conversations": n} for d, n in _rows(_BY_DISPOSITION, base, schema=schema)],
        "by_tag": [{"tag": slug, "name": name, "conversations": n} for slug, name, n in _rows(_BY_TAG, base, schema=schema)],
        "by_weekday_hour": by_hour,  # [Monday..Sunday][0..23], local time
        "trend": [
            {"day": day.isoformat(), "conversations": n, "resolved_by_article": d, "chatted": c, "average_wait": round(waited / waited_n, 1) if waited_n else None}
            for day, (n, d, c, waited, waited_n) in sorted(days.items())
        ],
        "wait_accuracy": _wait_accuracy(brand=brand, params=daily),
    }


def report_buckets_roll_up(*, now=None, since=None) -> int:
    """Recompute the current brand's roll-ups from `since` (default: ROLLUP_LOOKBACK before
    the last roll-up, or the first conversation) up to the start of today (UTC); a report
    adds up what came after from the conversations. Returns the hourly buckets written.
    In the brand's schema; two roll-ups of one brand at once wait for each other."""
    from tenants.models import Brand as BrandModel

    until = _floor(now or timezone.now(), 86400)
    schema = connection.schema_name
    quoted = sql.Identifier(schema).as_string(None)
    brand = BrandModel.objects.get(schema_name=schema)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext('report-rollup:' || %s))", [schema])
        rolled = _rolled_up_until(schema)
        if since is None:
            if rolled is not None:
                since = rolled - ROLLUP_LOOKBACK
            else:
                since = Conversation.objects.order_by("created_at").values_list("created_at", flat=True).first() or until
        since = _floor(since, 86400)
        params = {"from": since, "to": until, "brand_id": brand.id}
        written = 0
        with connection.cursor() as cursor:
            for table, columns, rows, unit in _ROLLUPS:
                unit_column = columns.split(",")[0]
                cursor.execute(f"DELETE FROM {quoted}.{table} WHERE {unit_column} >= %s AND {unit_column} < %s", [since, until])
                cursor.execute(f"INSERT INTO {quoted}.{table} ({columns}) " + rows.replace("{window}", _ROLLUP_WINDOW).format(s=quoted), params)
                if table == "chat_reportbucket":
                    written = cursor.rowcount
        ReportRollup.objects.update_or_create(pk=1, defaults={"rolled_up_until": until})
    return written


_RECENT_QUOTES = """
SELECT quoted_seconds, extract(epoch FROM assigned_at - entered_at), quoted_position
FROM public.routing_queueentry
WHERE brand_id = %(brand_id)s AND quoted_seconds IS NOT NULL AND assigned_at IS NOT NULL
  AND entered_at >= %(start)s AND entered_at < %(end)s
ORDER BY entered_at DESC LIMIT %(sample)s
"""


def wait_accuracy(*, brand: Brand, period: Period) -> dict:
    """Each quoted wait beside the real one, for customers who were served: how often they
    waited no longer than told, and the error by the place they were quoted at."""
    params = {"start": period.start, "end": period.end, "brand_id": brand.id, **_windows(period=period, rolled=_rolled_up_until(brand.schema_name), unit=86400)}
    return _wait_accuracy(brand=brand, params=params)


def _wait_accuracy(*, brand: Brand, params: dict, sample: int = 200) -> dict:
    buckets = {label: [0, 0.0, 0] for _, _, label in POSITION_BUCKETS}
    served = within = 0
    absolute = signed = 0.0
    errors = [0] * (HIST_BINS + 2)
    for position, bin_index, count, ok, abs_sum, signed_sum in _rows(_QUOTES, params, schema=brand.schema_name):
        served, within, absolute, signed = served + count, within + ok, absolute + abs_sum, signed + signed_sum
        errors[min(max(bin_index, 0), HIST_BINS + 1)] += count
        label = next((label for low, high, label in POSITION_BUCKETS if low <= position <= high), None)
        if label is not None:
            bucket = buckets[label]
            bucket[0], bucket[1], bucket[2] = bucket[0] + count, bucket[1] + abs_sum, bucket[2] + ok
    pairs = _rows(_RECENT_QUOTES, {**params, "sample": sample}, schema=brand.schema_name)
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
