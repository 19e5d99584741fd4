"""Conversations and messages through the brand API, with brand B's rows around."""

import pytest
from django_tenants.utils import schema_context

from chat.models import Conversation, Message
from tests.api.conftest import BrandAPI, issue
from tests.chat.helpers import conversation_active, conversation_started
from tests.factories import agent_staffed

pytestmark = pytest.mark.django_db


def ids(response):
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def test_list_is_the_brands_own(api_alpha, seeded):
    assert sorted(ids(api_alpha.get("conversations"))) == sorted([seeded["alpha"]["waiting"].id, seeded["alpha"]["handled"].id])


def test_filters(api_alpha, seeded):
    handled, waiting = seeded["alpha"]["handled"], seeded["alpha"]["waiting"]
    assert ids(api_alpha.get("conversations", {"state": "ended"})) == [handled.id]
    assert sorted(ids(api_alpha.get("conversations?state=ended&state=suggesting"))) == sorted([handled.id, waiting.id])
    assert ids(api_alpha.get("conversations", {"agent": seeded["alpha"]["agent"].id})) == [handled.id]
    assert ids(api_alpha.get("conversations", {"agent": seeded["beta"]["agent"].id})) == []
    assert len(ids(api_alpha.get("conversations", {"category": "shipping"}))) == 2
    assert ids(api_alpha.get("conversations", {"category": "returns"})) == []
    after = handled.created_at.isoformat()
    assert ids(api_alpha.get("conversations", {"created_after": after})) == [handled.id]
    assert ids(api_alpha.get("conversations", {"created_before": after})) == [waiting.id]
    assert ids(api_alpha.get("conversations", {"ended_after": after})) == [handled.id]


def test_filters_by_wrap_up_tag_disposition_and_sla_breach(api_alpha, seeded):
    from django.utils import timezone

    from chat.models import Tag, WrapUp
    from sla.models import SlaClock, SlaEvent, SlaKind

    handled, waiting = seeded["alpha"]["handled"], seeded["alpha"]["waiting"]
    with schema_context("brand_alpha"):
        wrap = WrapUp.objects.create(conversation_id=handled.id, disposition="resolved", agent_id=seeded["alpha"]["agent"].id, wrapped_at=timezone.now())
        wrap.tags.add(Tag.objects.create(slug="refund", name="Refund"))
        now = timezone.now()
        clock = SlaClock.objects.create(conversation_id=handled.id, kind=SlaKind.FIRST_REPLY, started_at=now, target_seconds=60, warn_at=now, due_at=now, breached_at=now)
        SlaEvent.objects.create(clock=clock, conversation_id=handled.id, kind=SlaKind.FIRST_REPLY, started_at=now, due_at=now, breached_at=now)
    assert ids(api_alpha.get("conversations", {"tag": "refund"})) == [handled.id]
    assert ids(api_alpha.get("conversations", {"disposition": "resolved"})) == [handled.id]
    assert ids(api_alpha.get("conversations", {"sla_breached": "true"})) == [handled.id]
    assert ids(api_alpha.get("conversations", {"sla_breached": "false"})) == [waiting.id]
    assert api_alpha.get("conversations", {"disposition": "nonsense"}).status_code == 400


def test_ordering(api_alpha, seeded):
    newest_first = ids(api_alpha.get("conversations"))
    assert ids(api_alpha.get("conversations", {"ordering": "created_at"})) == newest_first[::-1]


def test_bad_filter_is_400_json(api_alpha, seeded):
    response = api_alpha.get("conversations", {"state": "nonsense"})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid" and "state" in body["errors"]


def test_cursor_pagination_walks_every_row_once(api_alpha, alpha):
    for n in range(5):
        conversation_started(slug="alpha", name=f"Page {n}")
    seen, url = [], "conversations?page_size=2"
    for _ in range(10):
        response = api_alpha.get(url)
        body = response.json()
        assert len(body["results"]) <= 2
        seen += [row["id"] for row in body["results"]]
        if not body["next"]:
            break
        url = body["next"].split("/api/v1/", 1)[1]
    assert len(seen) == 5 == len(set(seen))
    assert api_alpha.get("conversations", {"cursor": "garbage"}).status_code == 404


def test_detail_has_messages_segments_and_timings(api_alpha, seeded):
    handled = seeded["alpha"]["handled"]
    response = api_alpha.get(f"conversations/{handled.id}")
    assert response.status_code == 200
    body = response.json()
    assert body["state"] == "ended" and body["category"] == "shipping"
    assert [m["body"] for m in body["messages"] if m["sender"] == "agent"] == ["How can I help?"]
    assert body["segments"][0]["agent_id"] == seeded["alpha"]["agent"].id and body["segments"][0]["end_reason"] == "ended"
    assert body["timings"]["wait_seconds"] is not None and body["timings"]["first_response_seconds"] is not None
    assert body["first_agent_reply_at"] and body["assigned_at"] and body["queued_at"]


def test_brand_b_objects_are_404(api_alpha, seeded):
    # Ids are per schema: take a beta conversation whose id alpha has no row for.
    with schema_context("brand_alpha"):
        alpha_ids = set(Conversation.objects.values_list("id", flat=True))
    beta_id = next(c.id for c in (seeded["beta"]["handled"], seeded["beta"]["waiting"]) if c.id not in alpha_ids)
    for path in [f"conversations/{beta_id}", f"conversations/{beta_id}/messages", f"conversations/{beta_id}/transcript"]:
        response = api_alpha.get(path)
        assert response.status_code == 404, path
        assert response.json()["code"] == "not_found"


def test_transcript(api_alpha, seeded):
    handled = seeded["alpha"]["handled"]
    body = api_alpha.get(f"conversations/{handled.id}/transcript").json()
    assert "How can I help?" in body["text"] and "Alpha Outdoor" in body["text"]


def test_messages_after_seq(api_alpha, seeded):
    handled = seeded["alpha"]["handled"]
    everything = api_alpha.get(f"conversations/{handled.id}/messages").json()
    assert everything["last_seq"] >= 2 and everything["has_more"] is False
    later = api_alpha.get(f"conversations/{handled.id}/messages", {"after_seq": 1}).json()
    assert [m["seq"] for m in later["messages"]] == [m["seq"] for m in everything["messages"]][1:]
    assert api_alpha.get(f"conversations/{handled.id}/messages", {"after_seq": "x"}).json()["code"] == "bad_seq"


def test_bot_posts_once_per_client_msg_id(api_alpha, alpha):
    agent = agent_staffed("alpha")
    _, conversation, _ = conversation_active(agent=agent, slug="alpha")
    path = f"conversations/{conversation.id}/messages"
    first = api_alpha.post(path, {"sender": "bot", "body": "Hello from the bot", "client_msg_id": "bot-1"})
    assert first.status_code == 201, first.content
    again = api_alpha.post(path, {"sender": "bot", "body": "Hello from the bot", "client_msg_id": "bot-1"})
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    assert first.json()["author"] == "alpha test key" and first.json()["sender"] == "system"
    with schema_context("brand_alpha"):
        assert Message.objects.filter(conversation=conversation, client_msg_id="bot-1").count() == 1


def test_on_behalf_of_the_holding_agent_only(api_alpha, alpha):
    holder, other = agent_staffed("alpha"), agent_staffed("alpha")
    _, conversation, _ = conversation_active(agent=holder, slug="alpha")
    path = f"conversations/{conversation.id}/messages"
    refused = api_alpha.post(path, {"sender": "agent", "agent_id": other.id, "body": "Me too"})
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
    sent = api_alpha.post(path, {"sender": "agent", "agent_id": holder.id, "body": "On it", "client_msg_id": "c-1"})
    assert sent.status_code == 201 and sent.json()["seq"] > 0
    with schema_context("brand_alpha"):
        assert Conversation.objects.get(pk=conversation.id).first_agent_reply_at is not None


def test_agent_of_another_brand_cannot_be_impersonated(api_alpha, alpha, beta):
    beta_agent = agent_staffed("beta")
    holder = agent_staffed("alpha")
    _, conversation, _ = conversation_active(agent=holder, slug="alpha")
    response = api_alpha.post(f"conversations/{conversation.id}/messages", {"sender": "agent", "agent_id": beta_agent.id, "body": "hi"})
    assert response.status_code == 400 and response.json()["code"] == "invalid"


def test_message_in_a_finished_chat_is_409(api_alpha, seeded):
    handled = seeded["alpha"]["handled"]
    response = api_alpha.post(f"conversations/{handled.id}/messages", {"sender": "bot", "body": "late"})
    assert response.status_code == 409 and response.json()["code"] == "bad_state"


def test_read_key_cannot_post_messages(api_alpha_read, seeded):
    handled = seeded["alpha"]["handled"]
    assert api_alpha_read.post(f"conversations/{handled.id}/messages", {"sender": "bot", "body": "x"}).status_code == 403


def test_messages_scope_is_its_own(alpha, seeded):
    api = BrandAPI(slug="alpha", key=issue("alpha", resources=["conversations"]))
    handled = seeded["alpha"]["handled"]
    assert api.get(f"conversations/{handled.id}").status_code == 200
    assert api.get(f"conversations/{handled.id}/messages").status_code == 403
