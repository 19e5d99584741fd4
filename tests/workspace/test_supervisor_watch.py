"""A supervisor watching a chat live on the agent socket (real Redis and PostgreSQL): they
get its frames, whisper to the agent in a private note the customer never sees, cannot
reply in public, and neither the customer nor the agent is told anything."""

import pytest
from channels.db import database_sync_to_async
from django_tenants.utils import schema_context

from chat.models import Conversation
from helpdesk.models import AgentToken, Staffing
from tests.chat.helpers import conversation_active, conversation_started
from tests.factories import agent_staffed, next_ids_aligned
from tests.sockets import frames_until

pytestmark = [pytest.mark.django_db(transaction=True)]


def _reload(conversation):
    with schema_context("brand_alpha"):
        return Conversation.objects.get(pk=conversation.id)


async def _quiet(communicator, seconds=0.5):
    """Every frame that arrives within `seconds` (the socket has nothing more to say)."""
    frames = []
    # receive_nothing, not a receive that times out: a timed-out receive cancels the consumer.
    while not await communicator.receive_nothing(timeout=seconds):
        frames.append(await communicator.receive_json_from())
    return frames


@pytest.mark.asyncio
async def test_a_supervisor_watches_and_whispers_without_the_customer_or_agent_being_affected(sockets):
    agent = await database_sync_to_async(agent_staffed)("alpha", display_name="Holder")
    supervisor = await database_sync_to_async(agent_staffed)("alpha", role=Staffing.Role.SUPERVISOR, display_name="Sup")
    _, conversation, token = await database_sync_to_async(conversation_active)(agent=agent)
    customer, _ = await sockets.widget_authed(conversation.id, token)
    agent_ws = await sockets.agent_authed(agent)
    await _quiet(customer)
    await _quiet(agent_ws)
    before = await database_sync_to_async(_reload)(conversation)

    watcher = await sockets.agent_authed(supervisor)
    await watcher.send_json_to({"type": "watch", "brand": "alpha", "conversation_id": conversation.id, "after_seq": 0})
    watching, missed = await frames_until(watcher, "watching")
    assert watching == {"type": "watching", "brand": "alpha", "conversation_id": conversation.id, "agent_id": agent.id}
    # Live frames both ways reach the watcher.
    await customer.send_json_to({"type": "message.send", "client_msg_id": "c-1", "body": "Still waiting on my parcel"})
    live, _ = await frames_until(watcher, "message")
    while live["body"] != "Still waiting on my parcel":
        live, _ = await frames_until(watcher, "message")
    assert live["sender"] == "customer" and live["brand"] == "alpha"

    # A public reply from the watcher is refused; the whisper is a note for agents only.
    await watcher.send_json_to({"type": "message.send", "brand": "alpha", "conversation_id": conversation.id, "client_msg_id": "s-1", "body": "Hello customer"})
    refused, _ = await frames_until(watcher, "error")
    assert refused["code"] == "forbidden"
    await watcher.send_json_to({"type": "message.send", "brand": "alpha", "conversation_id": conversation.id, "client_msg_id": "s-2", "body": "Offer a refund", "internal": True})
    whisper, _ = await frames_until(agent_ws, "message", timeout=5)
    while whisper["body"] != "Offer a refund":
        whisper, _ = await frames_until(agent_ws, "message", timeout=5)
    assert whisper["internal"] is True and whisper["author"] == "Sup"

    customer_saw = await _quiet(customer)
    assert all(f.get("body") != "Offer a refund" and f.get("body") != "Hello customer" for f in customer_saw)
    assert not [f for f in customer_saw if f["type"] in ("agent.joined", "agent.left", "read")]
    agent_saw = await _quiet(agent_ws)
    assert not [f for f in agent_saw if f["type"] in ("conversation.unassigned", "agent.joined", "agent.left")]
    after = await database_sync_to_async(_reload)(conversation)
    assert (after.agent_id, after.state, after.agent_read_seq, after.customer_read_seq) == (agent.id, "active", before.agent_read_seq, before.customer_read_seq)

    # Unwatching stops the frames.
    await watcher.send_json_to({"type": "unwatch", "brand": "alpha", "conversation_id": conversation.id})
    await frames_until(watcher, "unwatched")
    await customer.send_json_to({"type": "message.send", "client_msg_id": "c-2", "body": "Hello?"})
    assert not [f for f in await _quiet(watcher) if f["type"] == "message"]


@pytest.mark.asyncio
async def test_only_a_supervisor_of_that_brand_may_watch(sockets):
    holder = await database_sync_to_async(agent_staffed)("alpha")
    colleague = await database_sync_to_async(agent_staffed)("alpha")
    beta_supervisor = await database_sync_to_async(agent_staffed)("alpha", "beta", role=Staffing.Role.AGENT)
    await database_sync_to_async(next_ids_aligned)(Conversation, "brand_alpha", "brand_beta")
    _, conversation, _ = await database_sync_to_async(conversation_active)(agent=holder)
    _, in_beta, _ = await database_sync_to_async(conversation_started)(slug="beta")
    assert conversation.id == in_beta.id  # ids repeat across brands
    for who, brand, conversation_id in ((colleague, "alpha", conversation.id), (beta_supervisor, "beta", in_beta.id), (colleague, "beta", in_beta.id)):
        ws = await sockets.agent_authed(who)
        await ws.send_json_to({"type": "watch", "brand": brand, "conversation_id": conversation_id, "after_seq": 0})
        error, _ = await frames_until(ws, "error")
        assert error["code"] == "not_found"
    alpha_supervisor = await database_sync_to_async(agent_staffed)("alpha", role=Staffing.Role.SUPERVISOR)
    ws = await sockets.agent_authed(alpha_supervisor)
    await ws.send_json_to({"type": "watch", "brand": "beta", "conversation_id": in_beta.id, "after_seq": 0})
    assert (await frames_until(ws, "error"))[0]["code"] == "not_found"
    await ws.send_json_to({"type": "watch", "brand": "alpha", "conversation_id": conversation.id, "after_seq": "x"})
    assert (await frames_until(ws, "error"))[0]["code"] == "bad_seq"


def test_supervisor_overview_lists_the_waiting_chats_with_their_waits(client, alpha):
    from chat import services

    supervisor = agent_staffed(alpha, role=Staffing.Role.SUPERVISOR)
    brand, conversation, _ = conversation_started(slug="alpha", name="Wanda Waiting")
    with schema_context(brand.schema_name):
        services.conversation_escalate(brand=brand, conversation=conversation)
    _, raw = AgentToken.issue(user=supervisor.user)
    data = client.get("/api/agent/v1/supervisor/overview", HTTP_AUTHORIZATION=f"Bearer {raw}", HTTP_HOST="localhost").json()
    waiting = data["brands"][0]["waiting"]
    assert [(w["conversation_id"], w["customer_name"]) for w in waiting] == [(conversation.id, "Wanda Waiting")]
    assert waiting[0]["waited_seconds"] >= 0
    assert data["brands"][0]["csat"] == {"window_hours": 24, "answered": 0, "average": None, "satisfied_percent": None}


def test_supervisor_overview_counts_csat_of_the_last_day_per_brand(client, alpha):
    from surveys.services import survey_answer
    from tests.workspace.test_inbox import end

    supervisor = agent_staffed(alpha, role=Staffing.Role.SUPERVISOR)
    agent = agent_staffed(alpha, capacity=3)
    for rating in (5, 4, 2):
        brand, conversation, _ = conversation_active(agent=agent)
        end(brand, conversation, agent)
        with schema_context(brand.schema_name):
            survey_answer(conversation_id=conversation.id, rating=rating, comment="", via="chat")
    _, raw = AgentToken.issue(user=supervisor.user)
    csat = client.get("/api/agent/v1/supervisor/overview", HTTP_AUTHORIZATION=f"Bearer {raw}", HTTP_HOST="localhost").json()["brands"][0]["csat"]
    assert csat == {"window_hours": 24, "answered": 3, "average": 3.67, "satisfied_percent": 67}
