"""Figures for one brand over a period (brand schema, plus the brand's rows of the public
routing tables). Every figure is one SQL aggregate, so a year of a busy brand is read in
well under a second (docs/reports.md gives the definitions, docs/benchmarks.md the times).

A period is a range of local dates in a time zone: [first day 00:00, day after the last
day 00:00) in that zone. "By hour" and "by weekday" are local too.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import connection
from psycopg import sql

from tenants.models import Brand

MAX_PERIOD_DAYS = 400
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


# (queued -> assigned), (assigned -> first agent reply), (assigned -> ended): seconds.
_DURATIONS = """
SELECT count(wait), avg(wait), percentile_cont(0.5) WITHIN GROUP (ORDER BY wait), percentile_cont(0.9) WITHIN GROUP (ORDER BY wait),
       count(first_reply), avg(first_reply), percentile_cont(0.5) WITHIN GROUP (ORDER BY first_reply), percentile_cont(0.9) WITHIN GROUP (ORDER BY first_reply),
       count(handle), avg(handle), percentile_cont(0.5) WITHIN GROUP (ORDER BY handle), percentile_cont(0.9) WITHIN GROUP (ORDER BY handle)
FROM (
    SELECT extract(epoch FROM assigned_at - queued_at) AS wait,
           extract(epoch FROM first_agent_reply_at - assigned_at) AS first_reply,
           CASE WHEN state = 'ended' THEN extract(epoch FROM ended_at - assigned_at) END AS handle
    FROM {s}.chat_conversation
    WHERE created_at >= %(start)s AND created_at < %(end)s AND assigned_at IS NOT NULL
) d
"""

_OUTCOMES = """
SELECT count(*) FILTER (WHERE state = 'resolved_by_article'),
       count(*) FILTER (WHERE assigned_at IS NOT NULL),
       count(*) FILTER (WHERE state = 'abandoned' AND assigned_at IS NULL AND queued_at IS NOT NULL),
       count(*) FILTER (WHERE queued_at IS NULL AND state <> 'resolved_by_article'),
       count(*) FILTER (WHERE queued_at IS NOT NULL),
       count(*)
FROM {s}.chat_conversation WHERE created_at >= %(start)s AND created_at < %(end)s
"""

_BY_CATEGORY = """
SELECT k.slug, k.name, count(*),
       count(*) FILTER (WHERE c.state = 'resolved_by_article'),
       count(*) FILTER (WHERE c.queued_at IS NOT NULL),
       avg(extract(epoch FROM c.assigned_at - c.queued_at)),
       avg(v.rating)
FROM {s}.chat_conversation c JOIN {s}.knowledge_category k ON k.id = c.category_id
LEFT JOIN {s}.surveys_survey v ON v.conversation_id = c.id
WHERE c.created_at >= %(start)s AND c.created_at < %(end)s
GROUP BY k.slug, k.name, k.position ORDER BY k.position, k.name
"""

_BY_ARTICLE = """
WITH shown AS (
    SELECT unnest(suggested_article_ids) AS article_id, (state = 'resolved_by_article') AS deflected, resolved_article_id
    FROM {s}.chat_conversation WHERE created_at >= %(start)s AND created_at < %(end)s
)
SELECT a.slug, a.title, count(*), count(*) FILTER (WHERE shown.resolved_article_id = a.id)
FROM shown JOIN {s}.knowledge_article a ON a.id = shown.article_id
GROUP BY a.slug, a.title ORDER BY 4 DESC, 3 DESC, a.title LIMIT 50
"""

_BY_AGENT = """
SELECT g.agent_id, max(g.agent_name), count(DISTINCT g.conversation_id),
       sum(extract(epoch FROM least(coalesce(g.ended_at, %(end)s), %(end)s) - greatest(g.started_at, %(start)s))),
       (SELECT avg(v.rating) FROM {s}.surveys_survey v JOIN {s}.chat_conversation c ON c.id = v.conversation_id
        WHERE v.agent_id = g.agent_id AND c.created_at >= %(start)s AND c.created_at < %(end)s),
       (SELECT count(v.rating) FROM {s}.surveys_survey v JOIN {s}.chat_conversation c ON c.id = v.conversation_id
        WHERE v.agent_id = g.agent_id AND c.created_at >= %(start)s AND c.created_at < %(end)s)
FROM {s}.chat_agentsegment g
WHERE g.started_at < %(end)s AND coalesce(g.ended_at, %(end)s) > %(start)s
GROUP BY g.agent_id ORDER BY 2
"""

_BY_HOUR = """
SELECT extract(isodow FROM created_at AT TIME ZONE %(tz)s)::int, extract(hour FROM created_at AT TIME ZONE %(tz)s)::int, count(*)
FROM {s}.chat_conversation WHERE created_at >= %(start)s AND created_at < %(end)s GROUP BY 1, 2
"""

_TREND = """
SELECT (created_at AT TIME ZONE %(tz)s)::date AS day, count(*),
       count(*) FILTER (WHERE state = 'resolved_by_article'), count(*) FILTER (WHERE assigned_at IS NOT NULL),
       avg(extract(epoch FROM assigned_at - queued_at))
FROM {s}.chat_conversation WHERE created_at >= %(start)s AND created_at < %(end)s GROUP BY 1 ORDER BY 1
"""

_CSAT = """
SELECT v.rating, count(*) FROM {s}.surveys_survey v JOIN {s}.chat_conversation c ON c.id = v.conversation_id
WHERE c.created_at >= %(start)s AND c.created_at < %(end)s GROUP BY v.rating
"""

_COMMENTS = """
SELECT v.rating, v.comment, v.answered_at, c.id, c.agent_name FROM {s}.surveys_survey v JOIN {s}.chat_conversation c ON c.id = v.conversation_id
WHERE c.created_at >= %(start)s AND c.created_at < %(end)s AND v.comment <> '' ORDER BY v.answered_at DESC LIMIT %(limit)s
"""

_OFFLINE = "SELECT count(*) FROM {s}.chat_offlinemessage WHERE created_at >= %(start)s AND created_at < %(end)s"


def brand_report(*, brand: Brand, period: Period) -> dict:
    """Every figure of the brand's report for the period."""
    params = {"start": period.start, "end": period.end, "tz": period.time_zone, "limit": COMMENT_LIMIT}
    schema = brand.schema_name
    deflected, chatted, abandoned, left_early, queued, total = _rows(_OUTCOMES, params, schema=schema)[0]
    offline = _rows(_OFFLINE, params, schema=schema)[0][0]
    durations = _rows(_DURATIONS, params, schema=schema)[0]
    ratings = dict(_rows(_CSAT, params, schema=schema))
    requested = sum(ratings.values())
    answered = sum(count for rating, count in ratings.items() if rating is not None)
    by_hour = [[0] * 24 for _ in range(7)]
    for weekday, hour, count in _rows(_BY_HOUR, params, schema=schema):
        by_hour[weekday - 1][hour] = count
    return {
        "brand": brand.slug,
        "period": {"first_day": period.first_day.isoformat(), "last_day": period.last_day.isoformat(), "time_zone": period.time_zone},
        "outcomes": {
            "conversations": total, "resolved_by_article": deflected, "chatted": chatted,
            "abandoned_in_queue": abandoned, "left_before_queueing": left_early, "offline_messages": offline,
        },
        # Of the customers who saw suggestions and decided: how many an article sent home.
        "deflection_rate": round(deflected / (deflected + queued), 4) if deflected + queued else None,
        "queue_wait": _stats(durations[0:4]),
        "first_response": _stats(durations[4:8]),
        "handle_time": _stats(durations[8:12]),
        "csat": {
            "average": round(sum(r * c for r, c in ratings.items() if r is not None) / answered, 2) if answered else None,
            "distribution": {str(r): ratings.get(r, 0) for r in range(1, 6)},
            "requested": requested, "answered": answered,
            "response_rate": round(answered / requested, 4) if requested else None,
            "comments": [
                {"rating": r, "comment": comment, "answered_at": at.isoformat(), "conversation_id": cid, "agent": agent}
                for r, comment, at, cid, agent in _rows(_COMMENTS, params, schema=schema)
            ],
        },
        "by_category": [
            {
                "category": slug, "name": name, "conversations": n, "resolved_by_article": d, "queued": q,
                "deflection_rate": round(d / (d + q), 4) if d + q else None, "average_wait": _seconds(wait),
                "csat": round(float(csat), 2) if csat is not None else None,
            }
            for slug, name, n, d, q, wait, csat in _rows(_BY_CATEGORY, params, schema=schema)
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
            {"day": day.isoformat(), "conversations": n, "resolved_by_article": d, "chatted": c, "average_wait": _seconds(wait)}
            for day, n, d, c, wait in _rows(_TREND, params, schema=schema)
        ],
        "wait_accuracy": wait_accuracy(brand=brand, period=period),
    }


_ACCURACY = """
SELECT quoted_seconds, extract(epoch FROM assigned_at - entered_at), quoted_position
FROM {p}.routing_queueentry
WHERE brand_id = %(brand_id)s AND quoted_seconds IS NOT NULL AND assigned_at IS NOT NULL
  AND entered_at >= %(start)s AND entered_at < %(end)s
"""

_ACCURACY_SUMMARY = """
SELECT count(*), count(*) FILTER (WHERE actual <= quoted), avg(abs(quoted - actual)), avg(quoted - actual),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY abs(quoted - actual))
FROM (SELECT quoted_seconds AS quoted, extract(epoch FROM assigned_at - entered_at) AS actual
      FROM {p}.routing_queueentry
      WHERE brand_id = %(brand_id)s AND quoted_seconds IS NOT NULL AND assigned_at IS NOT NULL
        AND entered_at >= %(start)s AND entered_at < %(end)s) q
"""

_ACCURACY_BY_POSITION = """
SELECT quoted_position, count(*), avg(abs(quoted_seconds - extract(epoch FROM assigned_at - entered_at))),
       count(*) FILTER (WHERE extract(epoch FROM assigned_at - entered_at) <= quoted_seconds)
FROM {p}.routing_queueentry
WHERE brand_id = %(brand_id)s AND quoted_seconds IS NOT NULL AND assigned_at IS NOT NULL AND quoted_position IS NOT NULL
  AND entered_at >= %(start)s AND entered_at < %(end)s
GROUP BY quoted_position
"""


def wait_accuracy(*, brand: Brand, period: Period, sample: int = 200) -> dict:
    """Each quoted wait beside the real one, for customers who were served: how often they
    waited no longer than told, and the error by the place they were quoted at."""
    params = {"brand_id": brand.id, "start": period.start, "end": period.end}
    served, within, mean_abs, mean_signed, median_abs = _rows(_ACCURACY_SUMMARY, params, schema=brand.schema_name)[0]
    buckets = {label: [0, 0.0, 0] for _, _, label in POSITION_BUCKETS}
    for position, count, error, ok in _rows(_ACCURACY_BY_POSITION, params, schema=brand.schema_name):
        label = next(label for low, high, label in POSITION_BUCKETS if low <= position <= high)
        bucket = buckets[label]
        bucket[1] = (bucket[1] * bucket[0] + float(error) * count) / (bucket[0] + count)
        bucket[0] += count
        bucket[2] += ok
    pairs = _rows(_ACCURACY + " ORDER BY entered_at DESC LIMIT %(sample)s", {**params, "sample": sample}, schema=brand.schema_name)
    return {
        "served": served,
        "share_within_quote": round(within / served, 4) if served else None,
        "mean_absolute_error": _seconds(mean_abs), "mean_signed_error": _seconds(mean_signed), "median_absolute_error": _seconds(median_abs),
        "by_position": [
            {"position": label, "served": n, "mean_absolute_error": round(error, 1) if n else None, "share_within_quote": round(ok / n, 4) if n else None}
            for label, (n, error, ok) in buckets.items()
        ],
        "recent": [{"quoted": quoted, "actual": _seconds(actual), "position": position} for quoted, actual, position in pairs],
    }
