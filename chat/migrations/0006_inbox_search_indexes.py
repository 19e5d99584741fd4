"""Full-text search for the workspace inbox, in each brand's schema (django-tenants runs
this migration once per brand, so every index holds one brand's rows only).

Two GIN indexes on tsvector expressions rather than stored columns: no extra column to
write on the message hot path (chat.async_messages inserts with a hand-written statement),
and the query in chat.search uses the very same expressions (SEARCH_* constants there), so
the planner can use them. The 'simple' configuration: brands write in many languages, and
customers search for names, order numbers and product IDs that stemming would mangle.
"""

from django.db import migrations

MESSAGE_INDEX = "chat_message_body_fts"
CONVERSATION_INDEX = "chat_conversation_fts"


class Migration(migrations.Migration):

    dependencies = [
        ("chat", "0005_wrap_up_tags"),
    ]

    operations = [
        migrations.RunSQL(
            f"CREATE INDEX {MESSAGE_INDEX} ON chat_message USING gin (to_tsvector('simple'::regconfig, body))",
            f"DROP INDEX {MESSAGE_INDEX}",
        ),
        migrations.RunSQL(
            f"CREATE INDEX {CONVERSATION_INDEX} ON chat_conversation USING gin (to_tsvector('simple'::regconfig, "
            "customer_name || ' ' || customer_email || ' ' || customer_external_id || ' ' || product_id || ' ' || summary))",
            f"DROP INDEX {CONVERSATION_INDEX}",
        ),
    ]
