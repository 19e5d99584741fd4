import pytest
from django_tenants.utils import schema_context

from chat.models import Conversation, Message
from helpdesk.models import AgentToken, Staffing
from tests.chat.helpers import conversation_active, conversation_started
from tests.factories import AgentFactory, StaffingFactory, next_ids_aligned


def auth_for(agent):
    _, raw = AgentToken.issue(user=agent.user)
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}", "HTTP_HOST": "localhost"}


@pytest.fixture
def alpha_agent(alpha):
    agent = AgentFactory(display_name="Alpha Only")
    StaffingFactory(agent=agent, brand=alpha)
    return agent


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "method, suffix",
    [("get", ""), ("post", "/accept"), ("post", "/decline"), ("get", "/messages"), ("post", "/messages"), ("post", "/read"), ("post", "/end"), ("post", "/transfer"), ("post", "/reassign")],
)
def test_a_brand_the_agent_does_not_serve_looks_like_no_brand(client, alpha_agent, method, suffix):
    next_ids_aligned(Conversation, "brand_alpha", "brand_beta")
    _, conversation, _ = conversation_started(slug="beta")
    _, in_alpha, _ = conversation_started(slug="alpha")
    assert in_alpha.id == conversation.id  # ids repeat across brands: the agent's own brand has this id too
    headers = auth_for(alpha_agent)
    response = getattr(client, method)(f"/api/agent/v1/brands/beta/conversations/{conversation.id}{suffix}", {}, content_type="application/json", **headers)
    assert response.status_code == 404 and response.json()["detail"]
    missing = getattr(client, method)(f"/api/agent/v1/brands/nosuch/conversations/1{suffix}", {}, content_type="application/json", **headers)
    assert missing.status_code == 404 and missing.json() == response.json()


@pytest.mark.django_db(transaction=True)
def test_queue_lists_only_the_agents_brands(client, alpha_agent):
    for slug in ("alpha", "beta"):
        brand, conversation, _ = conversation_started(slug=slug)
        with schema_context(brand.schema_name):
            from chat import services

            services.conversation_escalate(brand=brand, conversation=conversation)
    queue = client.get("/api/agent/v1/queue", **auth_for(alpha_agent)).json()["queue"]
    assert [(item["brand"], item["category_name"]) for item in queue] == [("alpha", "Shipping")]


@pytest.mark.django_db
def test_agent_api_requires_an_agent(client):
    assert client.get("/api/agent/v1/me", HTTP_HOST="localhost").status_code == 401
    assert client.get("/api/agent/v1/me", HTTP_HOST="localhost", HTTP_AUTHORIZATION="Bearer nope").status_code in (401, 403)
    bad = client.post("/api/agent/v1/auth/token", {"username": "x", "password": "y"}, content_type="application/json", HTTP_HOST="localhost")
    assert bad.status_code == 400 and bad.json()["code"] == "bad_credentials"
    # The agent API is only on the platform host.
    assert client.get("/api/agent/v1/me", HTTP_HOST="alpha.localhost").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_only_the_holding_agent_replies_but_colleagues_may_add_notes(client, alpha, alpha_agent):
    colleague = AgentFactory(display_name="Colleague")
    StaffingFactory(agent=colleague, brand=alpha)
    _, conversation, _ = conversation_active(agent=alpha_agent)
    url = f"/api/agent/v1/brands/alpha/conversations/{conversation.id}/messages"
    reply = client.post(url, {"body": "I'll take it"}, content_type="application/json", **auth_for(colleague))
    assert reply.status_code == 403
    note = client.post(url, {"body": "FYI: VIP", "internal": True}, content_type="application/json", **auth_for(colleague))
    assert note.status_code == 201 and note.json()["internal"] is True


@pytest.mark.django_db(transaction=True)
def test_supervisor_reassigns_and_the_note_is_theirs(client, alpha, alpha_agent):
    supervisor = AgentFactory(display_name="Sue Supervisor")
    StaffingFactory(agent=supervisor, brand=alpha, role=Staffing.Role.SUPERVISOR)
    _, conversation, _ = conversation_active(agent=alpha_agent)
    url = f"/api/agent/v1/brands/alpha/conversations/{conversation.id}/reassign"

    assert client.post(url, {}, content_type="application/json", **auth_for(alpha_agent)).status_code == 404  # agents cannot
    taken = client.post(url, {}, content_type="application/json", **auth_for(supervisor))
    assert taken.status_code == 200, taken.content
    assert taken.json()["agent"]["name"] == "Sue Supervisor"
    with schema_context("brand_alpha"):
        note = Message.objects.get(conversation_id=conversation.id, is_internal=True)
    assert note.author_name == "Sue Supervisor" and "reassigned" in note.body
    overview = client.get("/api/agent/v1/supervisor/overview", **auth_for(supervisor)).json()["brands"]
    assert overview[0]["brand"] == "alpha" and overview[0]["chats"][0]["agent_name"] == "Sue Supervisor"


@pytest.mark.django_db(transaction=True)
def test_agents_pick_up_offline_messages_of_their_brands_and_reply_once(client, alpha, beta, alpha_agent, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    form = {"name": "Olga", "email": "olga@example.com", "summary": "Are you open on Sunday?"}
    assert client.post("/api/widget/v1/offline-messages", {**form, "category": "general"}, content_type="application/json", HTTP_HOST="alpha.localhost").status_code == 201
    assert client.post("/api/widget/v1/offline-messages", {**form, "category": "setup"}, content_type="application/json", HTTP_HOST="beta.localhost").status_code == 201

    headers = auth_for(alpha_agent)
    listed = client.get("/api/agent/v1/offline-messages", **headers).json()["offline_messages"]
    assert [(m["brand"], m["summary"]) for m in listed] == [("alpha", "Are you open on Sunday?")]  # not beta's

    url = f"/api/agent/v1/brands/alpha/offline-messages/{listed[0]['id']}/reply"
    replied = client.post(url, {"body": "Yes, 10:00 to 16:00."}, content_type="application/json", **headers)
    assert replied.status_code == 200, replied.content
    assert client.post(url, {"body": "again"}, content_type="application/json", **headers).status_code == 409
    assert client.get("/api/agent/v1/offline-messages", **headers).json()["offline_messages"] == []
    # Beta's message cannot be answered through alpha, nor by an agent not on beta.
    assert client.post(f"/api/agent/v1/brands/beta/offline-messages/{listed[0]['id']}/reply", {"body": "x"}, content_type="application/json", **headers).status_code == 404

    from django.core import mail

    assert [m.to for m in mail.outbox] == [["olga@example.com"]]
    assert "Yes, 10:00 to 16:00." in mail.outbox[0].body and "Alpha Only" in mail.outbox[0].body
