"""Agent time across brands, for invoicing the brands and judging the service (every brand
schema's AgentSegment rows, read together; the public schema's presence intervals and
agent-time buckets).

**Billable handle time, with concurrent chats split fairly.** At every moment an agent
holds n chats, each of those chats is billed 1/n of that moment to its brand. An agent
holding an acme chat and a globex chat for ten minutes bills five minutes to each; the
same agent alone on one acme chat bills the whole ten. So an agent's billable time over
all brands equals the time they spent with at least one chat open (never more than the
wall clock), and a transfer splits a chat between the agents who held it (chat.segments).

Computed in one pass: every segment start and end as an event (plus every quarter-hour
boundary, so no interval spans two quarters), a running count of open chats per agent and
per brand, each interval billed `length × brand's open chats / all open chats`. Quarters
before the last roll-up (routing.models.AgentTimeBucket, every few minutes) are read from
there; the rest is computed from the segments when the report asks.

Logged-in time is the time the agent's presence was online; occupancy is the share of it
spent with at least one chat; chats per hour is the segments they started divided by their
logged-in hours.
"""

from collections import defaultdict
from datetime import datetime, timezone as dt_timezone

from django.db import connection, transaction
from django.utils import timezone
from psycopg import sql

from helpdesk.models import AgentProfile
from routing.models import AgentState, AgentTimeRollup
from tenants.models import Brand

from .report_periods import MAX_SEGMENT_SPAN, QUARTER_SECONDS, ROLLUP_LOOKBACK, Period


def _quarter(moment: datetime) -> datetime:
    return datetime.fromtimestamp(int(moment.timestamp()) // QUARTER_SECONDS * QUARTER_SECONDS, tz=dt_timezone.utc)


def _schema(brand: Brand) -> str:
    return sql.Identifier(brand.schema_name).as_string(None)


def _segments_sql(brands: list[Brand]) -> str:
    """Every brand's segments overlapping [start, end), clipped to it, with the brand's
    index. `earliest` bounds started_at so the index does the work (chats are short)."""
    return " UNION ALL ".join(
        f"SELECT {index} AS b, agent_id, conversation_id, end_reason, started_at, ended_at, greatest(started_at, %(start)s) AS s, "
        f"least(coalesce(ended_at, %(now)s), %(end)s) AS e "
        f"FROM {_schema(brand)}.chat_agentsegment "
        f"WHERE started_at < %(end)s AND started_at >= %(earliest)s AND coalesce(ended_at, %(now)s) > %(start)s"
        for index, brand in enumerate(brands)
    )


def _split_sql(brands: list[Brand]) -> str:
    """(agent, quarter, brand id, billable seconds) for the fair split over [start, end)."""
    counts = ", ".join(f"sum(d) FILTER (WHERE b = {i}) OVER w AS n{i}" for i in range(len(brands)))
    shares = ", ".join(f"(sum(dt * coalesce(n{i}, 0) / n))::float8 AS c{i}" for i in range(len(brands)))
    unpivot = ", ".join(f"({brand.id}, r.c{i})" for i, brand in enumerate(brands))
    return f"""
    WITH seg AS ({_segments_sql(brands)}),
    pts AS (
        SELECT agent_id, s AS t, 1 AS d, b FROM seg WHERE e > s
        UNION ALL SELECT agent_id, e AS t, -1 AS d, b FROM seg WHERE e > s
        -- Quarter-hour boundaries split intervals, so each falls in one bucket.
        UNION ALL SELECT DISTINCT agent_id, q, 0, -1 FROM seg,
            generate_series(to_timestamp(ceil(extract(epoch FROM s) / 900) * 900), e, interval '15 minutes') AS q WHERE e > s
    ),
    run AS (
        -- Ends sort before starts at the same instant, so a chat handed over at 10:00
        -- never counts as two at once.
        SELECT agent_id, t, sum(d) OVER w AS n, {counts}, extract(epoch FROM lead(t) OVER w - t)::float8 AS dt
        FROM pts
        WINDOW w AS (PARTITION BY agent_id ORDER BY t, d ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
    ),
    r AS (
        SELECT agent_id, to_timestamp(floor(extract(epoch FROM t) / 900) * 900) AS bucket, {shares}
        FROM run WHERE n > 0 AND dt > 0 GROUP BY 1, 2
    )
    SELECT r.agent_id, r.bucket, v.brand_id, v.seconds FROM r CROSS JOIN LATERAL (VALUES {unpivot}) AS v(brand_id, seconds) WHERE v.seconds > 0
    """


def _segments_started_sql(brands: list[Brand]) -> str:
    return f"""
    WITH seg AS ({_segments_sql(brands)})
    SELECT agent_id, to_timestamp(floor(extract(epoch FROM started_at) / 900) * 900), ({_brand_ids_case(brands)}), count(*)
    FROM seg WHERE started_at >= %(start)s GROUP BY 1, 2, 3
    """


def _brand_ids_case(brands: list[Brand]) -> str:
    return "CASE b " + " ".join(f"WHEN {i} THEN {brand.id}" for i, brand in enumerate(brands)) + " END"


def _ratings_sql(brands: list[Brand]) -> str:
    return " UNION ALL ".join(
        f"SELECT v.agent_id, to_timestamp(floor(extract(epoch FROM c.ended_at) / 900) * 900), {brand.id}, sum(v.rating)::int, count(v.rating)::int "
        f"FROM {_schema(brand)}.surveys_survey v JOIN {_schema(brand)}.chat_conversation c ON c.id = v.conversation_id "
        f"WHERE c.ended_at >= %(start)s AND c.ended_at < %(end)s AND v.agent_id IS NOT NULL AND v.rating IS NOT NULL GROUP BY 1, 2"
        for brand in brands
    )


def _params(*, start, end, now) -> dict:
    return {"start": start, "end": end, "now": now, "earliest": start - MAX_SEGMENT_SPAN, "online": AgentState.Presence.ONLINE}


def agent_time_buckets_roll_up(*, now=None, since=None) -> int:
    """Recompute the agent-time buckets of every brand from `since` (default: the look-back
    before the last roll-up) to the last whole quarter hour. In public. Returns rows written."""
    now = now or timezone.now()
    until = _quarter(now)
    brands = list(Brand.objects.exclude(schema_name="public").order_by("id"))
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext('agent-time-rollup'))")
        state = AgentTimeRollup.objects.first()
        if since is None:
            since = (state.rolled_up_until - ROLLUP_LOOKBACK) if state else until - ROLLUP_LOOKBACK
        since = _quarter(since)
        written = 0
        if brands and since < until:
            params = _params(start=since, end=until, now=now)
            with connection.cursor() as cursor:
                cursor.execute("DELETE FROM routing_agenttimebucket WHERE bucket >= %s AND bucket < %s", [since, until])
                cursor.execute(
                    "INSERT INTO routing_agenttimebucket (agent_id, bucket, brand_id, billable_seconds, segments, rating_sum, rating_count) "
                    f"SELECT agent_id, bucket, brand_id, seconds, 0, 0, 0 FROM ({_split_sql(brands)}) split",
                    params,
                )
                written = cursor.rowcount
                cursor.execute(
                    "INSERT INTO routing_agenttimebucket (agent_id, bucket, brand_id, billable_seconds, segments, rating_sum, rating_count) "
                    f"SELECT agent_id, b, brand, 0, n, 0, 0 FROM ({_segments_started_sql(brands)}) AS started(agent_id, b, brand, n) "
                    "ON CONFLICT (bucket, agent_id, brand_id) DO UPDATE SET segments = EXCLUDED.segments",
                    params,
                )
                cursor.execute(
                    "INSERT INTO routing_agenttimebucket (agent_id, bucket, brand_id, billable_seconds, segments, rating_sum, rating_count) "
                    f"SELECT agent_id, b, brand, 0, 0, total, n FROM ({_ratings_sql(brands)}) AS rated(agent_id, b, brand, total, n) "
                    "ON CONFLICT (bucket, agent_id, brand_id) DO UPDATE SET rating_sum = EXCLUDED.rating_sum, rating_count = EXCLUDED.rating_count",
                    params,
                )
        AgentTimeRollup.objects.update_or_create(pk=1, defaults={"rolled_up_until": until})
    return written


_ROLLED = """
SELECT agent_id, brand_id, sum(billable_seconds)::float8, sum(segments)::int, sum(rating_sum)::int, sum(rating_count)::int
FROM routing_agenttimebucket WHERE bucket >= %(start)s AND bucket < %(cut)s AND brand_id = ANY(%(brand_ids)s) GROUP BY 1, 2
"""

_ONLINE = """
SELECT agent_id, sum(extract(epoch FROM least(coalesce(ended_at, %(now)s), %(end)s) - greatest(started_at, %(start)s)))::float8
FROM routing_presenceinterval
WHERE presence = %(online)s AND started_at < %(end)s AND coalesce(ended_at, %(now)s) > %(start)s
GROUP BY agent_id
"""


def _chats_ended_sql(brands: list[Brand]) -> str:
    """Per brand: the conversations whose last segment ended in the period."""
    return " UNION ALL ".join(
        f"SELECT {brand.id}, count(*) FROM {_schema(brand)}.chat_agentsegment "
        f"WHERE end_reason = 'ended' AND ended_at >= %(start)s AND ended_at < %(end)s"
        for brand in brands
    )


def agent_time_report(*, brands: list[Brand], period: Period, now=None) -> dict:
    """Per agent and brand: billable handle time and chats; per agent: logged-in time,
    occupancy, chats per hour, CSAT; per brand: agent hours used, conversations completed."""
    brands = sorted(brands, key=lambda b: b.slug)
    if not brands:
        return {"agents": [], "brands": [], "period": _period_payload(period)}
    now = now or timezone.now()
    state = AgentTimeRollup.objects.first()
    cut = min(max(state.rolled_up_until, period.start), period.end) if state else period.start
    per = defaultdict(lambda: [0.0, 0, 0, 0])  # (agent, brand id) -> billable, segments, rating sum, rating count
    with connection.cursor() as cursor:
        cursor.execute(_ROLLED, {"start": period.start, "cut": cut, "brand_ids": [b.id for b in brands]})
        for agent_id, brand_id, seconds, segments, rating_sum, rating_count in cursor.fetchall():
            row = per[(agent_id, brand_id)]
            row[0] += seconds or 0.0
            row[1] += segments
            row[2] += rating_sum
            row[3] += rating_count
        if cut < period.end:
            live = _params(start=cut, end=period.end, now=now)
            cursor.execute(_split_sql(brands), live)
            for agent_id, _, brand_id, seconds in cursor.fetchall():
                per[(agent_id, brand_id)][0] += seconds
            cursor.execute(_segments_started_sql(brands), live)
            for agent_id, _, brand_id, n in cursor.fetchall():
                per[(agent_id, brand_id)][1] += n
            cursor.execute(_ratings_sql(brands), live)
            for agent_id, _, brand_id, total, n in cursor.fetchall():
                per[(agent_id, brand_id)][2] += total
                per[(agent_id, brand_id)][3] += n
        window = _params(start=period.start, end=period.end, now=now)
        cursor.execute(_ONLINE, window)
        online = dict(cursor.fetchall())
        cursor.execute(_chats_ended_sql(brands), window)
        completed = dict(cursor.fetchall())
    agent_ids = {agent_id for agent_id, _ in per} | set(online)
    names = dict(AgentProfile.objects.filter(id__in=agent_ids).values_list("id", "display_name"))
    brand_totals = {brand.id: {"brand": brand.slug, "name": brand.name, "billable_seconds": 0.0, "chats": completed.get(brand.id, 0), "agents": 0} for brand in brands}
    agents = []
    for agent_id in sorted(agent_ids, key=lambda a: names.get(a, "")):
        rows = [(brand, per.get((agent_id, brand.id))) for brand in brands]
        per_brand = [
            {"brand": brand.slug, "billable_seconds": round(row[0], 1), "chats": row[1]}
            for brand, row in rows if row and (row[0] or row[1])
        ]
        for brand, row in rows:
            if row and (row[0] or row[1]):
                brand_totals[brand.id]["billable_seconds"] += row[0]
                brand_totals[brand.id]["agents"] += 1
        busy = sum(row[0] for _, row in rows if row)
        chats = sum(row[1] for _, row in rows if row)
        rating_sum = sum(row[2] for _, row in rows if row)
        rating_count = sum(row[3] for _, row in rows if row)
        logged_in = float(online.get(agent_id) or 0.0)
        brand_ratings = {brand.slug: row for brand, row in rows if row and row[3]}
        agents.append({
            "agent_id": agent_id,
            "name": names.get(agent_id, f"agent {agent_id}"),
            "brands": per_brand,
            "billable_seconds": round(busy, 1),
            "busy_seconds": round(busy, 1),
            "logged_in_seconds": round(logged_in, 1),
            "occupancy": round(busy / logged_in, 4) if logged_in else None,
            "chats": chats,
            "chats_per_hour": round(chats / (logged_in / 3600), 2) if logged_in else None,
            "csat": round(rating_sum / rating_count, 2) if rating_count else None,
            "brand_csat": {slug: round(row[2] / row[3], 2) for slug, row in brand_ratings.items()},
            "brand_answered": {slug: row[3] for slug, row in brand_ratings.items()},
        })
    for totals in brand_totals.values():
        totals["billable_seconds"] = round(totals["billable_seconds"], 1)
        totals["billable_hours"] = round(totals["billable_seconds"] / 3600, 2)
    return {"period": _period_payload(period), "agents": agents, "brands": list(brand_totals.values())}


def _period_payload(period: Period) -> dict:
    return {"first_day": period.first_day.isoformat(), "last_day": period.last_day.isoformat(), "time_zone": period.time_zone}
