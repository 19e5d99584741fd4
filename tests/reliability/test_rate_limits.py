"""Rate limits answer 429 with Retry-After: the agent token endpoint per address and per
username (the right password no longer helps once limited), conversation creation per
address and per brand (one brand's flood leaves another's allowance alone), and frames
per socket (an `error` frame `rate_limited`, then a close if the client keeps on)."""

import pytest
from django.test import Client

from realtime.socket import CLOSE_RATE_LIMITED
from tests.chat.helpers import PRECHAT
from tests.conftest import _cache_clear_this_run
from tests.factories import agent_staffed
from tests.sockets import frames_until

OPEN = "100000/minute"


@pytest.fixture
def limits(settings):
    def set_limits(**rates):
        # Counts of earlier tests live in the same cache: start from none.
        _cache_clear_this_run()
        settings.RATE_LIMITS = {**{scope: OPEN for scope in settings.RATE_LIMITS}, **rates}

    return set_limits


def token_attempt(client, username, password):
    return client.post("/api/agent/v1/auth/token", {"username": username, "password": password}, content_type="application/json", HTTP_HOST="localhost")


@pytest.mark.django_db
def test_token_endpoint_limits_per_username_across_addresses(limits):
    limits(agent_token_username="3/minute")
    agent = agent_staffed("alpha")
    answers = [token_attempt(Client(REMOTE_ADDR=f"10.0.0.{i}"), agent.user.username, "wrong") for i in range(3)]
    assert [a.status_code for a in answers] == [400, 400, 400]
    limited = token_attempt(Client(REMOTE_ADDR="10.0.0.99"), agent.user.username, "password")
    assert limited.status_code == 429 and int(limited["Retry-After"]) > 0 and limited.json()["detail"]


@pytest.mark.django_db
def test_token_endpoint_limits_per_address_across_usernames(limits):
    limits(agent_token_ip="4/minute")
    client = Client(REMOTE_ADDR="10.0.1.1")
    statuses = [token_attempt(client, f"guess{i}", "wrong").status_code for i in range(5)]
    assert statuses == [400, 400, 400, 400, 429]
    # A forged X-Forwarded-For does not buy a fresh allowance.
    assert client.post("/api/agent/v1/auth/token", {"username": "x", "password": "y"}, content_type="application/json", HTTP_HOST="localhost", HTTP_X_FORWARDED_FOR="1.2.3.4").status_code == 429


def create(client, host):
    category = {"alpha.localhost": "shipping", "beta.localhost": "setup"}[host]
    return client.post("/api/widget/v1/conversations", {**PRECHAT, "category": category}, content_type="application/json", HTTP_HOST=host)


@pytest.mark.django_db
def test_conversation_creation_limited_per_address_and_brand_apart(alpha, beta, limits):
    limits(conversation_create_ip="2/minute")
    client = Client(REMOTE_ADDR="10.0.2.1")
    assert [create(client, "alpha.localhost").status_code for _ in range(3)] == [201, 201, 429]
    # The same address on another brand has its own allowance.
    assert create(client, "beta.localhost").status_code == 201
    assert create(Client(REMOTE_ADDR="10.0.2.2"), "alpha.localhost").status_code == 201


@pytest.mark.django_db
def test_conversation_creation_limited_per_brand(alpha, beta, limits):
    limits(conversation_create_brand="3/minute")
    statuses = [create(Client(REMOTE_ADDR=f"10.0.3.{i}"), "alpha.localhost").status_code for i in range(4)]
    assert statuses == [201, 201, 201, 429]
    assert create(Client(REMOTE_ADDR="10.0.3.9"), "beta.localhost").status_code == 201


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_a_socket_flooding_frames_gets_rate_limited_then_closed(sockets, settings):
    settings.SOCKET_FRAME_RATE, settings.SOCKET_FRAME_BURST, settings.SOCKET_FRAME_STRIKES = 0.01, 5, 10
    ws, connected, _ = await sockets.agent()
    assert connected
    for _ in range(30):
        await ws.send_json_to({"type": "presence", "presence": "online"})
    answers = [await ws.receive_json_from() for _ in range(5)]
    assert {a["code"] for a in answers} == {"not_authenticated"}
    limited, _ = await frames_until(ws, "error")
    assert limited["code"] == "rate_limited"
    assert (await ws.receive_output())["code"] == CLOSE_RATE_LIMITED
