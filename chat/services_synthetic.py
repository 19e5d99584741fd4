"""A busy brand's history, made up in bulk for measuring the reports (brand schema, plus
the brand's rows of the public routing tables). Set-based SQL, one statement per table
and day: a year of 500,000 conversations is minutes, not hours.

The shape is a real help desk's: more chats by day than by night, about a third deflected
by an article, most of the rest chatted, a few abandoned; waits, first replies and handle
times drawn from skewed distributions; one in twenty chats transferred; six in ten surveys
answered. Agents work shifts, so their presence intervals overlap their chats.
"""

from datetime import date, datetime, time, timedelta, timezone as dt_timezone

from django.db import connection, transaction
from psycopg import sql

from helpdesk.models import AgentProfile
from tenants.models import Brand

# One day of conversations for one brand, from a day's start (UTC) and a count. Rows are
# numbered per day (n); every "random" draw is a hash of the day and n, so a run is
# repeatable and needs no client-side loop.
_DAY_SQL = """
WITH base AS (
    SELECT n, %(day)s::timestamptz
           + make_interval(secs => 86400 * (0.15 + 0.75 * ((hashint8(n * 7 + %(seed)s) & 65535) / 65536.0))) AS created_at,
           (hashint8(n * 13 + %(seed)s) & 1023) / 1024.0 AS r_outcome,
           (hashint8(n * 17 + %(seed)s) & 1023) / 1024.0 AS r_wait,
           (hashint8(n * 19 + %(seed)s) & 1023) / 1024.0 AS r_handle,
           (hashint8(n * 23 + %(seed)s) & 1023) / 1024.0 AS r_survey,
           abs(hashint8(n * 29 + %(seed)s)) %% %(agents)s AS agent_index,
           abs(hashint8(n * 31 + %(seed)s)) %% %(categories)s AS category_index
    FROM generate_series(1, %(count)s) n
),
drawn AS (
    SELECT *,
           CASE WHEN r_outcome < 0.32 THEN 'resolved_by_article' WHEN r_outcome < 0.37 THEN 'abandoned'
                WHEN r_outcome < 0.40 THEN 'suggesting' ELSE 'ended' END AS state,
           -- skewed: most waits short, some long
           (5 + 600 * r_wait * r_wait * r_wait) AS wait_s,
           (60 + 1500 * r_handle * r_handle) AS handle_s
    FROM base
)
INSERT INTO {s}.chat_conversation (state, token_hash, customer_name, customer_email, customer_external_id, identity_verified,
    category_id, summary, product_id, custom_fields, suggested_article_ids, resolved_article_id, agent_id, agent_name,
    last_seq, customer_read_seq, agent_read_seq, created_at, queued_at, quoted_wait_seconds, assigned_at, first_agent_reply_at,
    ended_at, ended_by, last_activity_at, locale, customer_time_zone, suggestion_scores)
SELECT d.state, md5(%(seed)s::text || ':' || d.n::text || ':' || %(day)s::text), 'Customer ' || d.n, 'c' || d.n || '@example.com', '', false,
    (%(category_ids)s::bigint[])[d.category_index + 1], 'A problem', '', '{{}}'::jsonb,
    ARRAY[(%(article_ids)s::int[])[(d.n %% %(articles)s) + 1]], CASE WHEN d.state = 'resolved_by_article' THEN (%(article_ids)s::int[])[(d.n %% %(articles)s) + 1] END,
    CASE WHEN d.state = 'ended' THEN (%(agent_ids)s::int[])[d.agent_index + 1] END,
    CASE WHEN d.state = 'ended' THEN 'Agent ' || d.agent_index ELSE '' END,
    CASE WHEN d.state = 'ended' THEN 6 ELSE 1 END, 0, 0,
    d.created_at,
    CASE WHEN d.state IN ('ended', 'abandoned') THEN d.created_at + interval '40 seconds' END,
    CASE WHEN d.state = 'ended' THEN round(d.wait_s * (0.6 + 0.8 * d.r_survey))::int END,
    CASE WHEN d.state = 'ended' THEN d.created_at + interval '40 seconds' + make_interval(secs => d.wait_s) END,
    CASE WHEN d.state = 'ended' THEN d.created_at + interval '40 seconds' + make_interval(secs => d.wait_s + 10 + 50 * d.r_handle) END,
    CASE WHEN d.state = 'ended' THEN d.created_at + interval '40 seconds' + make_interval(secs => d.wait_s + d.handle_s)
         WHEN d.state IN ('abandoned', 'resolved_by_article') THEN d.created_at + make_interval(secs => 60 + d.wait_s) END,
    CASE WHEN d.state = 'ended' THEN 'agent' WHEN d.state IN ('abandoned', 'resolved_by_article') THEN 'customer' ELSE '' END,
    d.created_at, 'en', 'Europe/Berlin', '{{}}'::jsonb
FROM drawn d
RETURNING id, state, agent_id, agent_name, assigned_at, ended_at, created_at, queued_at, quoted_wait_seconds, category_id
"""


def _schema(brand: Brand) -> str:
    return sql.Identifier(brand.schema_name).as_string(None)


def synthetic_day_insert(*, brand: Brand, day: date, count: int, agent_ids: list[int], category_ids: list[int], article_ids: list[int], seed: int) -> int:
    """One day of a brand's conversations with their messages, segments, surveys and queue
    entries. Returns the conversations made."""
    start = datetime.combine(day, time.min, tzinfo=dt_timezone.utc)
    s = _schema(brand)
    params = {
        "day": start, "count": count, "seed": seed + day.toordinal() * 1000, "agents": len(agent_ids), "agent_ids": agent_ids,
        "categories": len(category_ids), "category_ids": category_ids, "articles": len(article_ids), "article_ids": article_ids,
    }
    with transaction.atomic(), connection.cursor() as cursor:
        # IF NOT EXISTS and TRUNCATE: inside an outer transaction (a test) the table outlives
        # this block, since ON COMMIT waits for the outer commit.
        cursor.execute("CREATE TEMP TABLE IF NOT EXISTS made (id bigint, state text, agent_id int, agent_name text, assigned_at timestamptz, ended_at timestamptz, created_at timestamptz, queued_at timestamptz, quoted int, category_id bigint) ON COMMIT DROP")
        cursor.execute("TRUNCATE made")
        cursor.execute(f"WITH rows AS ({_DAY_SQL.format(s=s)}) INSERT INTO made SELECT * FROM rows", params)
        # Messages: the customer's question, then (for chats) a system line and four replies.
        cursor.execute(f"""
            INSERT INTO {s}.chat_message (conversation_id, seq, client_msg_id, sender, is_internal, agent_id, author_name, body, sent_at)
            SELECT m.id, g.seq, NULL, CASE WHEN g.seq = 1 OR g.seq %% 2 = 1 THEN 'customer' WHEN g.seq = 2 THEN 'system' ELSE 'agent' END,
                   false, CASE WHEN g.seq > 2 AND g.seq %% 2 = 0 THEN m.agent_id END, coalesce(m.agent_name, ''),
                   'Message ' || g.seq, m.created_at + make_interval(secs => g.seq * 30)
            FROM made m CROSS JOIN LATERAL generate_series(1, CASE WHEN m.state = 'ended' THEN 6 ELSE 1 END) AS g(seq)
        """, {})
        # Segments: one per chat; one in twenty handed to the next agent half way.
        cursor.execute(f"""
            INSERT INTO {s}.chat_agentsegment (conversation_id, agent_id, agent_name, started_at, ended_at, end_reason)
            SELECT id, agent_id, agent_name, assigned_at,
                   CASE WHEN id %% 20 = 0 THEN assigned_at + (ended_at - assigned_at) / 2 ELSE ended_at END,
                   CASE WHEN id %% 20 = 0 THEN 'transferred' ELSE 'ended' END
            FROM made WHERE state = 'ended'
            UNION ALL
            SELECT id, (%(agent_ids)s::int[])[((array_position(%(agent_ids)s::int[], agent_id)) %% %(agents)s) + 1], 'Next agent',
                   assigned_at + (ended_at - assigned_at) / 2, ended_at, 'ended'
            FROM made WHERE state = 'ended' AND id %% 20 = 0
        """, params)
        cursor.execute(f"""
            INSERT INTO {s}.surveys_survey (conversation_id, agent_id, requested_at, email_due_at, emailed_at, email_token_hash, rating, comment, answered_at, answered_via)
            SELECT id, agent_id, ended_at, ended_at + interval '15 minutes', NULL, '',
                   CASE WHEN id %% 10 < 6 THEN 1 + (hashint8(id) & 3) + (CASE WHEN id %% 3 = 0 THEN 1 ELSE 0 END) END,
                   CASE WHEN id %% 50 = 0 THEN 'Thanks for the help' ELSE '' END,
                   CASE WHEN id %% 10 < 6 THEN ended_at + interval '1 minute' END, CASE WHEN id %% 10 < 6 THEN 'chat' ELSE '' END
            FROM made WHERE state = 'ended'
        """, {})
        # Wrap-ups for seven chats in ten, one of the brand's tags each.
        cursor.execute(f"""
            INSERT INTO {s}.chat_wrapup (conversation_id, disposition, agent_id, wrapped_at)
            SELECT id, (ARRAY['resolved', 'resolved', 'resolved', 'follow_up', 'not_resolved'])[1 + id %% 5], agent_id, ended_at + interval '30 seconds'
            FROM made WHERE state = 'ended' AND id %% 10 < 7
        """, {})
        cursor.execute(f"""
            INSERT INTO {s}.chat_wrapup_tags (wrapup_id, tag_id)
            SELECT w.id, t.id FROM {s}.chat_wrapup w JOIN made m ON m.id = w.conversation_id
            JOIN LATERAL (SELECT id FROM {s}.chat_tag ORDER BY id OFFSET (m.id %% 5) LIMIT 1) t ON true
        """, {})
        cursor.execute(f"""
            INSERT INTO public.routing_queueentry (brand_id, conversation_id, category, priority, state, entered_at, customer_name, summary,
                offered_agent_id, offer_expires_at, declined_agent_ids, agent_id, assigned_at, finished_at, quoted_seconds, quoted_raw_seconds, quoted_position)
            SELECT %(brand_id)s, m.id, c.slug, 0, CASE WHEN m.state = 'ended' THEN 'done' ELSE 'left' END, m.queued_at, 'Customer', 'A problem',
                   NULL, NULL, '{{}}', m.agent_id, m.assigned_at, m.ended_at, m.quoted, m.quoted, CASE WHEN m.quoted IS NOT NULL THEN 1 + (m.id %% 8) END
            FROM made m JOIN {s}.knowledge_category c ON c.id = m.category_id WHERE m.queued_at IS NOT NULL
        """, {**params, "brand_id": brand.id})
    return count


def synthetic_shifts_insert(*, agents: list[AgentProfile], day: date) -> None:
    """Each agent online 08:00-17:00 UTC with an hour away at noon."""
    start = datetime.combine(day, time.min, tzinfo=dt_timezone.utc)
    with connection.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO public.routing_presenceinterval (agent_id, presence, started_at, ended_at) VALUES (%s, %s, %s, %s)",
            [
                row
                for agent in agents
                for row in (
                    (agent.id, "online", start + timedelta(hours=8), start + timedelta(hours=12)),
                    (agent.id, "away", start + timedelta(hours=12), start + timedelta(hours=13)),
                    (agent.id, "online", start + timedelta(hours=13), start + timedelta(hours=17)),
                )
            ],
        )
