"""routing_offer_batch(): lock up to N waiting entries of a brand and offer each, in queue
order, to the least busy eligible agent, in one call.

The same rules as routing.selectors.eligible_agent_states and the least-busy order of
routing.services (kept in step by tests/routing). Python did this one statement per
offer; with several routers the per-offer Python work, not PostgreSQL, was the limit.
"""

from django.db import migrations

CREATE = r"""
DROP FUNCTION IF EXISTS routing_offer_batch(bigint, integer, timestamptz, timestamptz, text[], bigint[]);
CREATE FUNCTION routing_offer_batch(
    p_brand bigint, p_size integer, p_now timestamptz, p_expires timestamptz,
    p_skip_categories text[], p_skip_entries bigint[]
) RETURNS TABLE (
    entry_id bigint, offered_agent bigint, conversation_id integer, category varchar,
    customer_name varchar, summary varchar, declined_agent_ids integer[]
) AS $$
DECLARE
    entry record;
    picked bigint;
BEGIN
    FOR entry IN
        SELECT q.id, q.category, q.declined_agent_ids, q.conversation_id, q.customer_name, q.summary
        FROM public.routing_queueentry q
        WHERE q.brand_id = p_brand AND q.state = 'waiting'
          AND NOT (q.category = ANY (p_skip_categories))
          AND NOT (q.id = ANY (p_skip_entries))
        ORDER BY q.priority DESC, q.entered_at, q.id
        LIMIT p_size
        FOR UPDATE SKIP LOCKED
    LOOP
        SELECT s.agent_id INTO picked
        FROM public.routing_agentstate s
        JOIN public.helpdesk_agentprofile p ON p.id = s.agent_id
        JOIN public.helpdesk_staffing st ON st.agent_id = s.agent_id
        WHERE st.brand_id = p_brand AND st.role = 'agent' AND s.presence = 'online'
          AND s.active_chats < p.max_concurrent_chats
          AND (coalesce(array_length(st.categories, 1), 0) = 0 OR st.categories @> ARRAY[entry.category]::varchar[])
          AND NOT (s.agent_id = ANY (coalesce(entry.declined_agent_ids, '{}')))
        ORDER BY s.active_chats, s.idle_since ASC NULLS FIRST, s.agent_id
        LIMIT 1
        FOR UPDATE OF s SKIP LOCKED;

        -- What the caller needs for its events, so it need not read the entries again.
        entry_id := entry.id;
        conversation_id := entry.conversation_id;
        category := entry.category;
        customer_name := entry.customer_name;
        summary := entry.summary;
        declined_agent_ids := entry.declined_agent_ids;
        IF picked IS NULL THEN
            -- The first entry nobody can take ends the batch; the caller works out why.
            offered_agent := NULL;
            RETURN NEXT;
            RETURN;
        END IF;
        UPDATE public.routing_agentstate SET active_chats = active_chats + 1, last_assigned_at = p_now WHERE agent_id = picked;
        UPDATE public.routing_queueentry SET state = 'offered', offered_agent_id = picked, offer_expires_at = p_expires WHERE id = entry.id;
        offered_agent := picked;
        RETURN NEXT;
    END LOOP;
END;
$$ LANGUAGE plpgsql;
"""

DROP = "DROP FUNCTION IF EXISTS routing_offer_batch(bigint, integer, timestamptz, timestamptz, text[], bigint[]);"


class Migration(migrations.Migration):
    dependencies = [("routing", "0001_initial")]

    operations = [migrations.RunSQL(CREATE, DROP)]
