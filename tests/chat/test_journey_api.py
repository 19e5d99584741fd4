"""The journey through the widget and agent APIs and sockets, without a browser."""

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client
from django_tenants.utils import schema_context

from chat.models import Conversation, Message
from config.asgi import application
from knowledge.models import Article, Category
from routing.models import AgentState
from tests.factories import AgentFactory, StaffingFactory

BRAND = {"HTTP_HOST": "alpha.localhost"}
PLATFORM = {"HTTP_HOST": "localhost"}


def start_conversation(client, **overrides):
    data = {"name": "Dana Customer", "email": "dana@example.com", "customer_id": "C-1", "category": "shipping", "summary": "Where is my parcel?", "product_id": "P-9"}
    data.update(overrides)
    return client.post("/api/widget/v1/conversations", data, content_type="application/json", **BRAND)


def agent_token(client, agent):
    response = client.post("/api/agent/v1/auth/token", {"username": agent.user.username, "password": "test-pass-123"}, content_type="application/json", **PLATFORM)
    assert response.status_code == 201, response.content
    return {"HTTP_AUTHORIZATION": f"Bearer {response.json()['token']}", **PLATFORM}


@pytest.fixture
def staffed_agent(alpha):
    agent = AgentFactory(display_name="Alice Agent", user__username="alice_t")
    StaffingFactory(agent=agent, brand=alpha)
    return agent


@pytest.mark.django_db(transaction=True)
def test_journey_over_http(alpha, staffed_agent):
    with schema_context("brand_alpha"):
        Article.objects.create(slug="parcel-tracking", title="Track your parcel", category=Category.objects.get(slug="shipping"), summary="Where is my parcel and how to track it", body="Use the tracking link.")
        from knowledge.search import search_index_rebuild

        search_index_rebuild()
    client = Client()
    created = start_conversation(client)
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["state"] == "suggesting"
    assert body["suggestions"][0]["slug"] == "parcel-tracking"
    auth = {"HTTP_AUTHORIZATION": f"Bearer {body['token']}", **BRAND}
    url = f"/api/widget/v1/conversations/{body['id']}"

    headers = agent_token(client, staffed_agent)
    assert client.post("/api/agent/v1/presence", {"presence": "online"}, content_type="application/json", **headers).status_code == 200

    escalated = client.post(f"{url}/escalate", **auth)
    assert escalated.status_code == 200, escalated.content
    # The only agent is free: the chat is offered at once.
    queue = client.get("/api/agent/v1/queue", **headers).json()["queue"]
    assert queue[0]["offered_to_me"] is True
    accepted = client.post(f"/api/agent/v1/brands/alpha/conversations/{body['id']}/accept", **headers)
    assert accepted.status_code == 200, accepted.content

    sent = client.post(f"{url}/messages", {"client_msg_id": "m1", "body": "Hello?"}, content_type="application/json", **auth)
    assert sent.status_code == 201
    again = client.post(f"{url}/messages", {"client_msg_id": "m1", "body": "Hello?"}, content_type="application/json", **auth)
    assert again.status_code == 200 and again.json()["seq"] == sent.json()["seq"]
    reply = client.post(f"/api/agent/v1/brands/alpha/conversations/{body['id']}/messages", {"body": "Hi Dana"}, content_type="application/json", **headers)
    assert reply.status_code == 201
    note = client.post(f"/api/agent/v1/brands/alpha/conversations/{body['id']}/messages", {"body": "VIP", "internal": True}, content_type="application/json", **headers)
    assert note.status_code == 201

    customer_view = client.get(f"{url}/messages?after_seq=0", **auth).json()["messages"]
    # The question from the form opens the transcript, as the customer's first message.
    assert customer_view[0]["seq"] == 1 and customer_view[0]["sender"] == "customer"
    assert [m["body"] for m in customer_view[1:] if m["sender"] != "system"] == ["Hello?", "Hi Dana"]
    assert [m["seq"] for m in customer_view] == sorted(m["seq"] for m in customer_view)

    ended = client.post(f"/api/agent/v1/brands/alpha/conversations/{body['id']}/end", **headers)
    assert ended.status_code == 200 and ended.json()["state"] == "ended"
    assert AgentState.objects.get(agent=staffed_agent).active_chats == 0
    survey = client.post(f"{url}/survey", {"rating": 5, "comment": "Great"}, content_type="application/json", **auth)
    assert survey.status_code == 200
    assert client.post(f"{url}/survey", {"rating": 4}, content_type="application/json", **auth).status_code == 409


@pytest.mark.django_db(transaction=True)
def test_resolved_by_article_and_leaving_the_queue(alpha):
    client = Client()
    body = start_conversation(client).json()
    auth = {"HTTP_AUTHORIZATION": f"Bearer {body['token']}", **BRAND}
    url = f"/api/widget/v1/conversations/{body['id']}"
    assert client.post(f"{url}/resolve", {"article_id": 999}, content_type="application/json", **auth).status_code == 400

    second = start_conversation(client).json()
    auth2 = {"HTTP_AUTHORIZATION": f"Bearer {second['token']}", **BRAND}
    url2 = f"/api/widget/v1/conversations/{second['id']}"
    escalated = client.post(f"{url2}/escalate", **auth2).json()
    assert escalated["position"] == 1 and escalated["eta_seconds"] > 0
    assert client.post(f"{url2}/leave", **auth2).json()["state"] == "abandoned"


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_sockets_carry_messages_both_ways(alpha, staffed_agent):
    client = Client()
    body = await database_sync_to_async(lambda: start_conversation(client).json())()
    auth = {"HTTP_AUTHORIZATION": f"Bearer {body['token']}", **BRAND}
    headers = await database_sync_to_async(agent_token)(client, staffed_agent)

    agent_ws = WebsocketCommunicator(application, "/ws/agent/v1/", headers=[(b"host", b"localhost")])
    assert (await agent_ws.connect())[0]
    await agent_ws.send_json_to({"type": "auth", "token": headers["HTTP_AUTHORIZATION"][7:]})
    assert (await agent_ws.receive_json_from())["type"] == "auth.ok"
    await agent_ws.send_json_to({"type": "presence", "presence": "online"})

    customer = WebsocketCommunicator(application, f"/ws/widget/v1/conversations/{body['id']}/", headers=[(b"host", b"alpha.localhost")])
    assert (await customer.connect())[0]
    await customer.send_json_to({"type": "auth", "token": body["token"], "after_seq": 0})
    assert (await customer.receive_json_from())["type"] == "auth.ok"

    await database_sync_to_async(lambda: client.post(f"/api/widget/v1/conversations/{body['id']}/escalate", **auth))()
    frames = []
    while True:
        frame = await agent_ws.receive_json_from(timeout=5)
        frames.append(frame)
        if frame["type"] == "offer":
            break
    await database_sync_to_async(lambda: client.post(f"/api/agent/v1/brands/alpha/conversations/{body['id']}/accept", **headers))()

    seen = []
    while not any(f["type"] == "agent.joined" for f in seen):
        seen.append(await customer.receive_json_from(timeout=5))
    await customer.send_json_to({"type": "message.send", "client_msg_id": "c-1", "body": "<script>alert(1)</script>"})
    while True:
        frame = await agent_ws.receive_json_from(timeout=5)
        if frame["type"] == "message" and frame["sender"] == "customer":
            assert frame["body"] == "<script>alert(1)</script>" and frame["brand"] == "alpha"
            break
    await agent_ws.send_json_to({"type": "message.send", "brand": "alpha", "conversation_id": body["id"], "client_msg_id": "a-1", "body": "Hi!"})
    while True:
        frame = await customer.receive_json_from(timeout=5)
        if frame["type"] == "message" and frame["sender"] == "agent":
            assert frame["body"] == "Hi!"
            break
    await customer.disconnect()
    await agent_ws.disconnect()

    def stored():
        with schema_context("brand_alpha"):
            return Conversation.objects.get(pk=body["id"]).state, Message.objects.filter(conversation_id=body["id"], sender="customer").count()

    assert await database_sync_to_async(stored)() == ("active", 2)  # the question, then the socket's message
