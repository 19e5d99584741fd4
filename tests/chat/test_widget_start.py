"""Starting a chat through the widget API: one click makes one conversation (the
idempotency key), the brand's choice of pre-chat fields, the question as the first
message, writing while queued, and the offline offer when no agent can come."""

import threading
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from channels.db import database_sync_to_async
from django.db import connection
from django.test import Client
from django_tenants.utils import schema_context

from chat.models import Conversation, Message, OfflineMessage
from tenants.models import WEEKDAYS, Brand
from tenants.selectors import brand_next_opening
from tests.factories import agent_staffed

BRAND = {"HTTP_HOST": "alpha.localhost"}
FORM = {"name": "Dana Customer", "email": "dana@example.com", "category": "shipping", "summary": "Where is my parcel?"}
KEY = "k" * 8 + "0123456789abcdef"


def create(client, data=None, *, key=None, host=BRAND):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post("/api/widget/v1/conversations", data or FORM, content_type="application/json", **host, **headers)


def count(schema="brand_alpha"):
    with schema_context(schema):
        return Conversation.objects.count()


@pytest.mark.django_db(transaction=True)
def test_the_same_key_gives_the_same_conversation_and_token(alpha, beta):
    client = Client()
    first = create(client, key=KEY)
    again = create(client, key=KEY)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"] and again.json()["token"] == first.json()["token"]
    # The token answered the second time opens the conversation.
    opened = client.get(f"/api/widget/v1/conversations/{first.json()['id']}", HTTP_AUTHORIZATION=f"Bearer {again.json()['token']}", **BRAND)
    assert opened.status_code == 200
    assert count() == 1
    # The key is the brand's: beta's conversation with the same key is its own, with another token.
    other = create(client, {**FORM, "category": "setup"}, key=KEY, host={"HTTP_HOST": "beta.localhost"})
    assert other.status_code == 201 and other.json()["token"] != first.json()["token"]
    assert count("brand_beta") == 1 and count() == 1
    # Without a key every request is a new conversation, as before.
    assert create(client).status_code == 201 and count() == 2


@pytest.mark.django_db(transaction=True)
def test_many_clicks_at_once_make_one_conversation(alpha):
    answers = []

    def click():
        answers.append(create(Client(), key=KEY))
        connection.close()

    threads = [threading.Thread(target=click) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(a.status_code for a in answers) == [200] * 5 + [201]
    assert len({a.json()["token"] for a in answers}) == 1
    assert count() == 1


@pytest.mark.django_db
def test_a_bad_key_is_refused_clearly(alpha):
    response = create(Client(), key="short")
    assert response.status_code == 400 and response.json()["code"] == "bad_client_key"
    assert count() == 0


@pytest.mark.django_db(transaction=True)
def test_the_brand_chooses_the_fields_and_the_question_opens_the_transcript(alpha):
    Brand.objects.filter(pk=alpha.pk).update(prechat_fields={"name": "optional", "email": "hidden", "category": "hidden", "customer_id": "required"})
    client = Client()
    config = client.get("/api/widget/v1/config", **BRAND).json()
    assert config["prechat_fields"] == {"name": "optional", "email": "hidden", "customer_id": "required", "product_id": "optional", "category": "hidden"}
    missing = create(client, {"summary": "Broken zip"})
    assert missing.status_code == 400 and set(missing.json()["errors"]) == {"customer_id"}
    # A hidden email is not stored even when sent; the topic falls back to the brand's first.
    created = create(client, {"summary": "Broken zip", "customer_id": "C-9", "email": "x@example.com"})
    assert created.status_code == 201, created.content
    with schema_context("brand_alpha"):
        conversation = Conversation.objects.get()
        assert (conversation.customer_name, conversation.customer_email, conversation.category.slug) == ("Guest", "", "general")
        first = Message.objects.get(conversation=conversation)
        assert (first.seq, first.sender, first.body, conversation.last_seq) == (1, "customer", "Broken zip", 1)


@pytest.mark.django_db(transaction=True)
def test_the_customer_writes_while_queued_and_the_agent_reads_it_on_joining(alpha):
    client = Client()
    body = create(client).json()
    auth = {"HTTP_AUTHORIZATION": f"Bearer {body['token']}", **BRAND}
    url = f"/api/widget/v1/conversations/{body['id']}"
    too_early = client.post(f"{url}/messages", {"body": "hello?", "client_msg_id": "a"}, content_type="application/json", **auth)
    assert too_early.status_code == 409  # still reading the suggestions
    assert client.post(f"{url}/escalate", **auth).json()["state"] == "queued"
    sent = client.post(f"{url}/messages", {"body": "Order 123, if that helps", "client_msg_id": "b"}, content_type="application/json", **auth)
    assert sent.status_code == 201, sent.content
    agent = agent_staffed("alpha", online=True)
    from chat import services

    with schema_context("brand_alpha"):
        services.conversation_accept(agent=agent, brand=alpha, conversation_id=body["id"])
        bodies = list(Message.objects.filter(conversation_id=body["id"]).values_list("seq", "sender", "body"))
    assert bodies[0] == (1, "customer", "Where is my parcel?")
    assert (3, "customer", "Order 123, if that helps") in bodies
    assert [seq for seq, _, _ in bodies] == list(range(1, len(bodies) + 1))


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_no_agent_with_the_workspace_open_means_the_offline_form(alpha, sockets):
    await database_sync_to_async(lambda: Brand.objects.filter(pk=alpha.pk).update(offline_when_no_agent=True))()
    # Online over HTTP only: presence without a socket is not someone who will see the offer.
    agent = await database_sync_to_async(agent_staffed)("alpha", online=True)
    client = Client()

    def start_and_escalate():
        body = create(client).json()
        return client.post(f"/api/widget/v1/conversations/{body['id']}/escalate", HTTP_AUTHORIZATION=f"Bearer {body['token']}", **BRAND)

    refused = await database_sync_to_async(start_and_escalate)()
    assert refused.status_code == 409 and refused.json()["code"] == "no_agents"
    assert "Leave us a message" in refused.json()["detail"]
    left = await database_sync_to_async(lambda: client.post("/api/widget/v1/offline-messages", FORM, content_type="application/json", **BRAND))()
    assert left.status_code == 201

    def offline_reasons():
        with schema_context("brand_alpha"):
            return list(OfflineMessage.objects.values_list("reason", flat=True))

    assert await database_sync_to_async(offline_reasons)() == ["no_agents"]
    # With the workspace open (a live agent socket) the same start is queued.
    await sockets.agent_authed(agent)
    queued = await database_sync_to_async(start_and_escalate)()
    assert queued.status_code == 200 and queued.json()["state"] == "queued"


@pytest.mark.django_db(transaction=True)
def test_a_wait_over_the_brands_limit_offers_the_offline_form(alpha):
    Brand.objects.filter(pk=alpha.pk).update(max_wait_seconds=1)
    client = Client()
    body = create(client).json()
    refused = client.post(f"/api/widget/v1/conversations/{body['id']}/escalate", HTTP_AUTHORIZATION=f"Bearer {body['token']}", **BRAND)
    assert refused.status_code == 409 and refused.json()["code"] == "wait_too_long"


@pytest.mark.django_db(transaction=True)
def test_a_closed_brand_says_when_it_opens(alpha):
    # Open one day only, two days from today in Berlin: closed now, whatever the time.
    berlin = ZoneInfo("Europe/Berlin")
    day = WEEKDAYS[(datetime.now(berlin).weekday() + 2) % 7]
    Brand.objects.filter(pk=alpha.pk).update(business_hours={day: [["09:00", "17:00"]]}, time_zone="Europe/Berlin")
    config = Client().get("/api/widget/v1/config", **BRAND).json()
    assert config["availability"] == "closed" and config["offline_form"] is True
    opening = datetime.fromisoformat(config["next_opening"]).astimezone(berlin)
    assert (WEEKDAYS[opening.weekday()], opening.strftime("%H:%M")) == (day, "09:00")


def test_next_opening_in_the_brands_time_zone():
    brand = Brand(name="x", slug="x", time_zone="Europe/Berlin", business_hours={"mon": [["09:00", "17:00"]], "wed": [["13:00", "15:00"], ["08:00", "10:00"]]})
    berlin = ZoneInfo("Europe/Berlin")
    # Tuesday evening: Wednesday's earlier interval comes first, whatever their order.
    assert brand_next_opening(brand=brand, at=datetime(2026, 12, 1, 20, 0, tzinfo=berlin)) == datetime(2026, 12, 2, 8, 0, tzinfo=berlin)
    # Wednesday between the two intervals: the afternoon one.
    assert brand_next_opening(brand=brand, at=datetime(2026, 12, 2, 11, 0, tzinfo=berlin)) == datetime(2026, 12, 2, 13, 0, tzinfo=berlin)
    # Open now: nothing to wait for.
    assert brand_next_opening(brand=brand, at=datetime(2026, 11, 30, 10, 0, tzinfo=berlin)) is None
    assert brand_next_opening(brand=Brand(name="y", slug="y", business_hours={}), at=datetime(2026, 12, 1, tzinfo=berlin)) is None
