"""Agent time across brands, for invoicing the brands and judging the service (every brand
schema's AgentSegment rows, read together; the public schema's presence intervals).

**Billable handle time, with concurrent chats split fairly.** At every moment an agent
holds n chats, each of those chats is billed 1/n of that moment to its brand. An agent
holding an acme chat and a globex chat for ten minutes bills five minutes to each; the
same agent alone on one acme chat bills the whole ten. So an agent's billable time over
all brands equals the time they spent with at least one chat open (never more than the
wall clock), and a transfer splits a chat between the agents who held it (chat.segments).

Logged-in time is the time the agent's presence was online; occupancy is the share of it
spent with at least one chat; chats per hour is the conversations they held divided by
their logged-in hours.
"""

from collections import defaultdict

from django.db import connection
from django.utils import timezone
from psycopg import sql

from helpdesk.models import AgentProfile
from routing.models import AgentState
from tenants.models import Brand

from .reports import Period


def _segments_sql(brands: list[Brand]) -> str:
    parts = [
        f"SELECT {index} AS b, agent_id, conversation_id, greatest(started_at, %(start)s) AS s, "
        f"least(coalesce(ended_at, %(now)s), %(end)s) AS e "
        f"FROM {sql.Identifier(brand.schema_name).as_string(None)}.chat_agentsegment "
        f"WHERE started_at < %(end)s AND coalesce(ended_at, %(now)s) > %(start)s"
        for index, brand in enumerate(brands)
    ]
    return " UNION ALL ".join(parts)


def _split_sql(brands: list[Brand]) -> str:
    """Per agent: billable seconds per brand (columns b0..bn) and seconds with any chat."""
    brand_counts = ", ".join(f"sum(d) FILTER (WHERE b = {i}) OVER w AS n{i}" for i in range(len(brands)))
    brand_sums = ", ".join(f"sum(dt * coalesce(n{i}, 0) / n)" for i in range(len(brands)))
    return f"""
    WITH seg AS ({_segments_sql(brands)}),
    pts AS (SELECT agent_id, s AS t, 1 AS d, b FROM seg WHERE e > s
            UNION ALL SELECT agent_id, e AS t, -1 AS d, b FROM seg WHERE e > s),
    run AS (
        -- Ends sort before starts at the same instant, so a chat handed over at 10:00
        -- never counts as two at once.
        SELECT agent_id, sum(d) OVER w AS n, {brand_counts},
               extract(epoch FROM lead(t) OVER w - t) AS dt
        FROM pts
        WINDOW w AS (PARTITION BY agent_id ORDER BY t, d ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
    )
    SELECT agent_id, {brand_sums}, sum(dt) FROM run WHERE n > 0 AND dt IS NOT NULL GROUP BY agent_id
    """


def _chats_sql(brands: list[Brand]) -> str:
    """Conversations per agent and brand, and per brand (-1 as the agent: a transferred
    chat is one conversation for the brand, one for each agent who held it)."""
    return (
        f"WITH seg AS ({_segments_sql(brands)}) "
        "SELECT b, agent_id, count(DISTINCT conversation_id) FROM seg GROUP BY b, agent_id "
        "UNION ALL SELECT b, -1, count(DISTINCT conversation_id) FROM seg GROUP BY b"
    )


_ONLINE = """
SELECT agent_id, sum(extract(epoch FROM least(coalesce(ended_at, %(now)s), %(end)s) - greatest(started_at, %(start)s)))
FROM routing_presenceinterval
WHERE presence = %(online)s AND started_at < %(end)s AND coalesce(ended_at, %(now)s) > %(start)s
GROUP BY agent_id
"""


def _csat_sql(brands: list[Brand]) -> str:
    return " UNION ALL ".join(
        f"SELECT {i} AS b, v.agent_id, sum(v.rating), count(v.rating) FROM {sql.Identifier(brand.schema_name).as_string(None)}.surveys_survey v "
        f"JOIN {sql.Identifier(brand.schema_name).as_string(None)}.chat_conversation c ON c.id = v.conversation_id "
        f"WHERE c.created_at >= %(start)s AND c.created_at < %(end)s AND v.agent_id IS NOT NULL GROUP BY v.agent_id"
        for i, brand in enumerate(brands)
    )


def agent_time_report(*, brands: list[Brand], period: Period, now=None) -> dict:
    """Per agent and brand: billable handle time and chats; per agent: logged-in time,
    occupancy, chats per hour, CSAT; per brand: agent hours used."""
    brands = sorted(brands, key=lambda b: b.slug)
    if not brands:
        return {"agents": [], "brands": [], "period": _period_payload(period)}
    params = {"start": period.start, "end": period.end, "now": now or timezone.now(), "online": AgentState.Presence.ONLINE}
    with connection.cursor() as cursor:
        cursor.execute(_split_sql(brands), params)
        split = {row[0]: (row[1:-1], row[-1]) for row in cursor.fetchall()}
        cursor.execute(_chats_sql(brands), params)
        chats = {(b, agent_id): n for b, agent_id, n in cursor.fetchall()}
        brand_chats = {b: n for (b, agent_id), n in chats.items() if agent_id == -1}
        cursor.execute(_ONLINE, params)
        online = dict(cursor.fetchall())
        cursor.execute(_csat_sql(brands), params)
        csat = defaultdict(lambda: [0, 0])
        for _, agent_id, total, count in cursor.fetchall():
            csat[agent_id][0] += total or 0
            csat[agent_id][1] += count
    agent_ids = set(split) | set(online) | {agent_id for _, agent_id in chats if agent_id != -1}
    names = dict(AgentProfile.objects.filter(id__in=agent_ids).values_list("id", "display_name"))
    agents = []
    brand_totals = {brand.slug: {"brand": brand.slug, "name": brand.name, "billable_seconds": 0.0, "chats": 0, "agents": 0} for brand in brands}
    for agent_id in sorted(agent_ids, key=lambda a: names.get(a, "")):
        per_brand_seconds, busy = split.get(agent_id, ([0.0] * len(brands), 0.0))
        logged_in = float(online.get(agent_id) or 0.0)
        agent_chats = sum(chats.get((i, agent_id), 0) for i in range(len(brands)))
        per_brand = []
        for index, brand in enumerate(brands):
            seconds = float(per_brand_seconds[index] or 0.0)
            count = chats.get((index, agent_id), 0)
            if seconds or count:
                per_brand.append({"brand": brand.slug, "billable_seconds": round(seconds, 1), "chats": count})
                totals = brand_totals[brand.slug]
                totals["billable_seconds"] += seconds
                totals["agents"] += 1
        ratings = csat.get(agent_id, [0, 0])
        agents.append({
            "agent_id": agent_id,
            "name": names.get(agent_id, f"agent {agent_id}"),
            "brands": per_brand,
            "billable_seconds": round(sum(b["billable_seconds"] for b in per_brand), 1),
            "busy_seconds": round(float(busy or 0.0), 1),
            "logged_in_seconds": round(logged_in, 1),
            "occupancy": round(float(busy or 0.0) / logged_in, 4) if logged_in else None,
            "chats": agent_chats,
            "chats_per_hour": round(agent_chats / (logged_in / 3600), 2) if logged_in else None,
            "csat": round(ratings[0] / ratings[1], 2) if ratings[1] else None,
        })
    for index, brand in enumerate(brands):
        brand_totals[brand.slug]["chats"] = brand_chats.get(index, 0)
    for totals in brand_totals.values():
        totals["billable_seconds"] = round(totals["billable_seconds"], 1)
        totals["billable_hours"] = round(totals["billable_seconds"] / 3600, 2)
    return {"period": _period_payload(period), "agents": agents, "brands": list(brand_totals.values())}


def _period_payload(period: Period) -> dict:
    return {"first_day": period.first_day.isoformat(), "last_day": period.last_day.isoformat(), "time_zone": period.time_zone}
