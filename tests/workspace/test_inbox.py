"""The inbox, transcripts and wrap-up through the agent API, on the real database: full-text
search inside each brand's schema, filters, scope, and a brand the agent is not staffed on
never showing."""

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from chat import services
from chat.messages import message_send
from chat.models import Conversation, Message, Tag
from helpdesk.models import AgentToken, Staffing
from surveys.services import survey_answer
from tests.chat.helpers import conversation_active
from tests.factories import agent_staffed, next_ids_aligned

pytestmark = pytest.mark.django_db(transaction=True)


def auth_for(agent):
    _, raw = AgentToken.issue(user=agent.user)
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}", "HTTP_HOST": "localhost"}


def say(brand, conversation, agent, body):
    with schema_context(brand.schema_name):
        message_send(conversation_id=conversation.id, sender=Message.Sender.AGENT, body=body, agent=agent)


def end(brand, conversation, agent):
    with schema_context(brand.schema_name):
        services.conversation_end(brand=brand, conversation_id=conversation.id, ended_by=Conversation.EndedBy.AGENT, agent=agent)


def inbox(client, headers, **params):
    response = client.get("/api/agent/v1/inbox", params, **headers)
    assert response.status_code == 200, response.content
    return [(c["brand"], c["id"]) for c in response.json()["conversations"]]


@pytest.fixture
def two_brand_chats(alpha, beta):
    """One agent on both brands with an ended chat in each, and an alpha-only agent."""
    both = agent_staffed(alpha, beta, display_name="Both Brands", capacity=3)
    next_ids_aligned(Conversation, "brand_alpha", "brand_beta")
    _, in_alpha, _ = conversation_active(agent=both, slug="alpha", name="Ana Alpha", product_id="SKU-77", summary="Tent pole snapped")
    say(alpha, in_alpha, both, "Your replacement pole ships tomorrow")
    end(alpha, in_alpha, both)
    _, in_beta, _ = conversation_active(agent=both, slug="beta", name="Ben Beta", product_id="SKU-88", summary="Router will not pair")
    say(beta, in_beta, both, "Hold the reset button for thirty seconds")
    end(beta, in_beta, both)
    assert in_alpha.id == in_beta.id  # ids repeat across brands
    return both, in_alpha, in_beta


def test_search_finds_by_message_text_product_id_and_customer_across_the_agents_brands(client, two_brand_chats):
    both, in_alpha, in_beta = two_brand_chats
    headers = auth_for(both)
    assert inbox(client, headers) == [("beta", in_beta.id), ("alpha", in_alpha.id)]
    assert inbox(client, headers, q="replacement pole") == [("alpha", in_alpha.id)]
    assert inbox(client, headers, q="thirty seconds") == [("beta", in_beta.id)]
    assert inbox(client, headers, q="SKU-88") == [("beta", in_beta.id)]
    assert inbox(client, headers, q="Ana") == [("alpha", in_alpha.id)]
    assert inbox(client, headers, q="nothing like this") == []
    assert inbox(client, headers, brand="beta") == [("beta", in_beta.id)]
    assert inbox(client, headers, state="active") == []


def test_an_agent_never_sees_a_brand_they_are_not_staffed_on(client, alpha, two_brand_chats):
    _, in_alpha, in_beta = two_brand_chats
    alpha_supervisor = agent_staffed(alpha, role=Staffing.Role.SUPERVISOR, display_name="Alpha Lead")
    headers = auth_for(alpha_supervisor)
    assert inbox(client, headers, scope="brand") == [("alpha", in_alpha.id)]
    assert inbox(client, headers, scope="brand", q="thirty seconds") == []
    assert inbox(client, headers, scope="brand", brand="beta") == []
    # Their own chats only without the brand scope: they held none.
    assert inbox(client, headers) == []
    transcript = client.get(f"/api/agent/v1/brands/beta/conversations/{in_beta.id}/transcript", **headers)
    assert transcript.status_code == 404 and transcript.json()["code"] == "not_found"


def test_a_plain_agent_cannot_widen_the_scope_to_the_brand(client, alpha, two_brand_chats):
    _, in_alpha, _ = two_brand_chats
    colleague = agent_staffed(alpha, display_name="Colleague")
    assert inbox(client, auth_for(colleague), scope="brand") == []


def test_bad_filters_get_a_clear_400(client, two_brand_chats):
    headers = auth_for(two_brand_chats[0])
    for params in ({"state": "nope"}, {"date_from": "yesterday"}, {"page": "0"}, {"agent": "x"}, {"q": "x" * 500}):
        response = client.get("/api/agent/v1/inbox", params, **headers)
        assert response.status_code == 400, params
        assert response.json()["detail"]


def test_end_with_wrap_up_stores_tags_and_disposition_and_the_inbox_filters_and_searches_them(client, alpha):
    agent = agent_staffed(alpha, display_name="Wrapper")
    with schema_context(alpha.schema_name):
        Tag.objects.create(slug="refund", name="Refund")
        Tag.objects.create(slug="damaged", name="Damaged parcel")
    _, tagged, _ = conversation_active(agent=agent, slug="alpha", name="Tia Tagged")
    _, untagged, _ = conversation_active(agent=agent, slug="alpha", name="Uma Untagged")
    end(alpha, untagged, agent)
    headers = auth_for(agent)
    base = f"/api/agent/v1/brands/alpha/conversations/{tagged.id}"

    bad = client.post(f"{base}/end", {"tags": ["no-such-tag"]}, content_type="application/json", **headers)
    assert bad.status_code == 400 and bad.json()["code"] == "bad_tags"
    with schema_context(alpha.schema_name):
        assert Conversation.objects.get(id=tagged.id).state == Conversation.State.ACTIVE  # nothing half done

    ended = client.post(f"{base}/end", {"tags": ["refund", "damaged"], "disposition": "resolved"}, content_type="application/json", **headers)
    assert ended.status_code == 200, ended.content
    assert inbox(client, headers, tag="refund") == [("alpha", tagged.id)]
    assert inbox(client, headers, disposition="resolved") == [("alpha", tagged.id)]
    assert inbox(client, headers, q="Damaged parcel") == [("alpha", tagged.id)]

    # Wrapping up the other chat after the end, and correcting it, replaces the tags.
    wrap = f"/api/agent/v1/brands/alpha/conversations/{untagged.id}/wrap-up"
    assert client.post(wrap, {"tags": ["refund"]}, content_type="application/json", **headers).status_code == 200
    corrected = client.post(wrap, {"tags": ["damaged"], "disposition": "follow_up"}, content_type="application/json", **headers)
    assert [t["slug"] for t in corrected.json()["wrap_up"]["tags"]] == ["damaged"]
    assert inbox(client, headers, tag="refund") == [("alpha", tagged.id)]


def test_only_an_agent_who_had_the_chat_wraps_it_up_and_only_once_it_ended(client, alpha):
    agent = agent_staffed(alpha, display_name="Holder")
    colleague = agent_staffed(alpha, display_name="Other")
    _, conversation, _ = conversation_active(agent=agent, slug="alpha")
    wrap = f"/api/agent/v1/brands/alpha/conversations/{conversation.id}/wrap-up"
    early = client.post(wrap, {"disposition": "resolved"}, content_type="application/json", **auth_for(agent))
    assert early.status_code == 409 and early.json()["code"] == "bad_state"
    end(alpha, conversation, agent)
    other = client.post(wrap, {"disposition": "resolved"}, content_type="application/json", **auth_for(colleague))
    assert other.status_code == 403 and other.json()["code"] == "forbidden"


def test_tags_are_per_brand(client, alpha, beta):
    agent = agent_staffed(alpha, beta)
    with schema_context(alpha.schema_name):
        Tag.objects.create(slug="refund", name="Refund")
    headers = auth_for(agent)
    assert [t["slug"] for t in client.get("/api/agent/v1/brands/alpha/tags", **headers).json()["tags"]] == ["refund"]
    assert client.get("/api/agent/v1/brands/beta/tags", **headers).json()["tags"] == []
    _, in_beta, _ = conversation_active(agent=agent, slug="beta")
    refused = client.post(f"/api/agent/v1/brands/beta/conversations/{in_beta.id}/end", {"tags": ["refund"]}, content_type="application/json", **headers)
    assert refused.status_code == 400 and refused.json()["code"] == "bad_tags"


def test_transcript_has_messages_notes_timings_survey_and_history(client, alpha):
    agent = agent_staffed(alpha, display_name="Tess")
    _, earlier, _ = conversation_active(agent=agent, slug="alpha", summary="First visit")
    end(alpha, earlier, agent)
    _, conversation, _ = conversation_active(agent=agent, slug="alpha", summary="Second visit")
    say(alpha, conversation, agent, "Hello there")
    with schema_context(alpha.schema_name):
        message_send(conversation_id=conversation.id, sender=Message.Sender.AGENT, body="Customer seems upset", agent=agent, internal=True)
    end(alpha, conversation, agent)
    with schema_context(alpha.schema_name):
        survey_answer(conversation_id=conversation.id, rating=4, comment="Quick and kind", via="chat")
    data = client.get(f"/api/agent/v1/brands/alpha/conversations/{conversation.id}/transcript", **auth_for(agent)).json()
    bodies = [(m["sender"], m["internal"], m["body"]) for m in data["messages"]]
    assert ("agent", False, "Hello there") in bodies and ("agent", True, "Customer seems upset") in bodies
    assert any(sender == "system" for sender, _, _ in bodies)
    assert data["survey"]["rating"] == 4 and data["survey"]["comment"] == "Quick and kind"
    assert data["timings"]["assigned_at"] and data["timings"]["ended_at"] and data["timings"]["duration_seconds"] is not None
    assert [s["agent_name"] for s in data["segments"]] == ["Tess"]
    assert [h["id"] for h in data["history"]] == [earlier.id]


def test_search_indexes_exist_in_each_brand_schema_and_the_query_uses_them(alpha, beta):
    for brand in (alpha, beta):
        with connection.cursor() as cursor:
            cursor.execute("SELECT indexname FROM pg_indexes WHERE schemaname = %s AND indexname LIKE %s", [brand.schema_name, "%fts"])
            assert sorted(row[0] for row in cursor.fetchall()) == ["chat_conversation_fts", "chat_message_body_fts"]
    from chat.search import ConversationFilters, conversations_search

    with schema_context(alpha.schema_name):
        queryset = conversations_search(filters=ConversationFilters(text="parcel"), mine_agent_id=None)
        with connection.cursor() as cursor:
            # The test brand holds a handful of rows, where a scan is cheaper: ask the
            # planner what it would do at scale. SET, not SET LOCAL, which needs a
            # transaction block this test may not be in.
            cursor.execute("SET enable_seqscan = off")
            try:
                sql, params = queryset.query.sql_with_params()
                cursor.execute(f"EXPLAIN {sql}", params)
                plan = "\n".join(row[0] for row in cursor.fetchall())
            finally:
                cursor.execute("RESET enable_seqscan")
    assert "chat_message_body_fts" in plan and "chat_conversation_fts" in plan, plan
