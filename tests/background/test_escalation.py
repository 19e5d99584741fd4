"""A chat nobody accepts within the brand's limit is escalated once to the brand's
supervisors (a live alert on their socket, an email through the outbox) and moves up the
queue; a supervisor can push it to a named agent. Brand schemas: chat; public: routing."""

import time
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context

from chat import services
from chat.escalations import ESCALATED_PRIORITY, queue_escalations_raise
from chat.models import Conversation, Message, OutboundEmail
from config.celery import app
from helpdesk.models import Staffing
from routing import services as routing
from routing.models import QueueEntry
from tenants.models import Brand
from tests.chat.helpers import conversation_started
from tests.factories import agent_staffed
from tests.reliability.test_celery_worker import smtp_port, worker  # noqa: F401 (fixtures)
from tests.sockets import frames_until
from tests.workspace.test_agent_api import auth_for

LIMIT = 120


def queued(slug="alpha"):
    brand, conversation, token = conversation_started(slug=slug)
    Brand.objects.filter(pk=brand.pk).update(escalate_after_seconds=LIMIT)
    brand.refresh_from_db()
    with schema_context(brand.schema_name):
        services.conversation_escalate(brand=brand, conversation=conversation)
    connection.set_schema_to_public()
    return brand, conversation, token


def escalate(brand, *, after):
    with schema_context(brand.schema_name):
        return queue_escalations_raise(brand=brand, now=timezone.now() + after)


def supervisor_of(*brands, email):
    return agent_staffed(*brands, role=Staffing.Role.SUPERVISOR, user__email=email)


def escalation_emails(brand):
    with schema_context(brand.schema_name):
        return list(OutboundEmail.objects.filter(kind="queue_escalated").values_list("to", flat=True))


@pytest.mark.django_db
def test_a_chat_nobody_takes_is_escalated_once_and_moves_up(alpha):
    supervisor_of(alpha, email="sue@example.com")
    brand, conversation, _ = queued()
    assert escalate(brand, after=timedelta(seconds=LIMIT - 5)) == 0
    assert escalate(brand, after=timedelta(seconds=LIMIT + 1)) == 1
    assert escalate(brand, after=timedelta(seconds=LIMIT + 60)) == 0  # once
    entry = QueueEntry.objects.get(brand=brand, conversation_id=conversation.id)
    assert entry.escalated_at is not None and entry.priority == ESCALATED_PRIORITY
    assert escalation_emails(brand) == ["sue@example.com"]


@pytest.mark.django_db
def test_escalation_reaches_only_the_brands_own_supervisors(alpha, beta):
    supervisor_of(alpha, email="alpha-sup@example.com")
    supervisor_of(beta, email="beta-sup@example.com")
    brand, _, _ = queued("alpha")
    escalate(brand, after=timedelta(seconds=LIMIT + 1))
    assert escalation_emails(brand) == ["alpha-sup@example.com"]
    beta_brand = Brand.objects.get(slug="beta")
    assert escalate(beta_brand, after=timedelta(seconds=LIMIT + 1)) == 0  # alpha's chat is not beta's
    assert escalation_emails(beta_brand) == []


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_the_supervisor_sees_the_escalation_live(sockets):
    alpha = await database_sync_to_async(Brand.objects.get)(slug="alpha")
    supervisor = await database_sync_to_async(supervisor_of)(alpha, email="sue@example.com")
    other_brand_supervisor = await database_sync_to_async(supervisor_of)("beta", email="bob@example.com")
    sup_ws = await sockets.agent_authed(supervisor)
    beta_ws = await sockets.agent_authed(other_brand_supervisor)
    brand, conversation, _ = await database_sync_to_async(queued)()
    await database_sync_to_async(escalate)(brand, after=timedelta(seconds=LIMIT + 1))
    alert, _ = await frames_until(sup_ws, "alert")
    assert (alert["kind"], alert["brand"], alert["conversation_id"]) == ("queue.escalated", "alpha", conversation.id)
    assert "Dana Customer" in alert["detail"]
    assert await beta_ws.receive_nothing(timeout=0.5)


@pytest.mark.django_db(transaction=True)
def test_the_escalation_email_goes_out_once_from_a_real_worker(alpha, smtp_port, worker):  # noqa: F811
    """The beat's chat sweep, run twice by a separate worker process: one email."""
    _, inbox = smtp_port
    supervisor_of(alpha, email="sue@example.com")
    brand, conversation, _ = queued()
    # The chat entered the queue longer ago than the limit (the worker's clock is real).
    QueueEntry.objects.filter(brand=brand, conversation_id=conversation.id).update(entered_at=timezone.now() - timedelta(seconds=LIMIT + 1))
    for _ in range(2):
        app.send_task("chat.tasks.chat_sweep")
    deadline = time.time() + 30
    while time.time() < deadline and not inbox.messages:
        assert worker.poll() is None, worker.stdout.read().decode()[-2000:]
        time.sleep(0.2)
    time.sleep(2)  # the second sweep's turn: it must find nothing left to send
    assert [m["to"] for m in inbox.messages] == [["sue@example.com"]]
    assert escalation_emails(brand) == ["sue@example.com"]


@pytest.mark.django_db(transaction=True)
def test_a_supervisor_pushes_a_waiting_chat_to_a_named_agent(client, alpha):
    supervisor = supervisor_of(alpha, email="sue@example.com")
    agent = agent_staffed(alpha, online=True)
    brand, conversation, _ = queued()
    routing.offer_decline(agent=agent, brand=brand, conversation_id=conversation.id)  # passed on it
    url = f"/api/agent/v1/brands/alpha/conversations/{conversation.id}/push"

    assert client.post(url, {"to_agent_id": agent.id}, content_type="application/json", **auth_for(agent)).status_code == 404  # agents cannot
    bad = client.post(url, {"to_agent_id": "x"}, content_type="application/json", **auth_for(supervisor))
    assert bad.status_code == 400
    stranger = agent_staffed("beta", online=True)
    refused = client.post(url, {"to_agent_id": stranger.id}, content_type="application/json", **auth_for(supervisor))
    assert refused.status_code == 400 and refused.json()["code"] == "not_eligible"

    pushed = client.post(url, {"to_agent_id": agent.id}, content_type="application/json", **auth_for(supervisor))
    assert pushed.status_code == 200, pushed.content
    assert pushed.json()["agent"]["id"] == agent.id
    entry = QueueEntry.objects.get(brand=brand, conversation_id=conversation.id)
    assert (entry.state, entry.agent_id) == (QueueEntry.State.ASSIGNED, agent.id)
    with schema_context(brand.schema_name):
        assert Conversation.objects.get(pk=conversation.id).state == Conversation.State.ACTIVE
        assert Message.objects.filter(conversation_id=conversation.id, body__contains="joined the chat").exists()
    again = client.post(url, {"to_agent_id": agent.id}, content_type="application/json", **auth_for(supervisor))
    assert again.status_code == 409 and again.json()["code"] == "bad_state"


@pytest.mark.django_db(transaction=True)
def test_a_push_to_an_agent_at_capacity_is_refused(client, alpha):
    supervisor = supervisor_of(alpha, email="sue@example.com")
    full = agent_staffed(alpha, online=True, capacity=1)
    queued()  # offered to the only agent: their one place is taken
    brand, conversation, _ = queued()
    url = f"/api/agent/v1/brands/alpha/conversations/{conversation.id}/push"
    refused = client.post(url, {"to_agent_id": full.id}, content_type="application/json", **auth_for(supervisor))
    assert refused.status_code == 409 and refused.json()["code"] == "at_capacity"
