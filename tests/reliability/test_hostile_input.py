"""Hostile input never gets a 500 or a dead socket: every POST endpoint of the widget and
agent APIs, fed bodies with wrong types, NUL, lone surrogates, Infinity and 50,000-deep
nesting, answers 4xx JSON; socket frames like that get an `error` frame and the socket
stays usable."""

import json

import pytest
from channels.db import database_sync_to_async
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from tests.chat.helpers import PRECHAT, conversation_active
from tests.factories import agent_staffed
from tests.sockets import frames_until

HOSTILE = [
    '{"category": []}', '{"category": {}}', '{"identity": 123}', '{"up_to_seq": Infinity}', '{"up_to_seq": NaN}',
    '{"body": "\\ud800"}', '{"body": "a\\u0000b"}', '{"client_msg_id": "x\\u0000"}', '{"custom_fields": {"k": "\\u0000"}}',
    '{"custom_fields": []}', '{"brand": ["alpha"]}', '{"agent_id": {}}', '{"rating": [5]}', '{"presence": 7}',
    '{"after_seq": 1e999}', "[" * 50_000 + "]" * 50_000, '{"a":' * 40 + "1" + "}" * 40, "null", "[]", '"text"', "not json", "",
    json.dumps({**PRECHAT, "category": ["shipping"]}), json.dumps({**PRECHAT, "category": {"x": 1}, "identity": 123}),
    json.dumps({**PRECHAT, "category": "shipping", "custom_fields": {"order": "1\u0000"}}),
]


def post_paths(urlconf, values):
    """Every API route in the urlconf whose view takes POST, with its parameters filled."""
    paths = []

    def walk(patterns, prefix):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                view = getattr(pattern.callback, "view_class", None)
                route = prefix + str(pattern.pattern)
                if view is not None and hasattr(view, "post") and route.startswith("api/"):
                    for name, value in values.items():
                        route = route.replace(f"<int:{name}>", str(value)).replace(f"<slug:{name}>", str(value)).replace(f"<{name}>", str(value))
                    paths.append("/" + route)

    walk(get_resolver(urlconf).url_patterns, "")
    return paths


@pytest.mark.django_db
def test_every_post_endpoint_answers_hostile_bodies_without_a_5xx(alpha):
    agent = agent_staffed(alpha)
    _, conversation, token = conversation_active(agent=agent)
    values = {"conversation_id": conversation.id, "id": conversation.id, "brand": "alpha", "message_id": 1}
    widget = Client(HTTP_HOST="alpha.localhost", HTTP_AUTHORIZATION=f"Bearer {token}", raise_request_exception=False)
    agent_client = Client(HTTP_HOST="localhost", raise_request_exception=False)
    agent_client.force_login(agent.user)
    targets = [(widget, p) for p in post_paths("config.urls_tenant", values)] + [(agent_client, p) for p in post_paths("config.urls_public", values)]
    assert len(targets) >= 15, targets
    failures = []
    for client, path in targets:
        for body in HOSTILE:
            response = client.post(path, body, content_type="application/json")
            if response.status_code >= 500 or (response.status_code >= 400 and "json" not in response.get("Content-Type", "")):
                failures.append((path, body[:60], response.status_code))
    assert failures == [], "\n".join(map(str, failures))


FRAMES = [
    '{"type": "read", "brand": "alpha", "conversation_id": 1, "up_to_seq": Infinity}',
    '{"type": "message.send", "brand": "alpha", "conversation_id": 1, "client_msg_id": "s", "body": "\\ud800"}',
    '{"type": "message.send", "brand": "alpha", "conversation_id": 1, "client_msg_id": "n", "body": "a\\u0000"}',
    '{"type": "message.send", "brand": ["alpha"], "conversation_id": 1, "body": "x"}',
    '{"type": "message.send", "brand": {"a": 1}, "conversation_id": [1], "body": "x"}',
    '{"type": "subscribe", "brand": "alpha", "conversation_id": {}, "after_seq": []}',
    '{"type": "presence", "presence": ["online"]}',
    '{"type": "typing", "brand": 7, "conversation_id": null}',
    '{"type": "read", "up_to_seq": NaN}',
    '{"type": "x", "deep": ' + "[" * 5000 + "]" * 5000 + "}",
]
# What is hostile to the customer's socket (it has no brand or conversation fields).
CUSTOMER_FRAMES = [
    '{"type": "read", "up_to_seq": Infinity}', '{"type": "read", "up_to_seq": NaN}', '{"type": "read", "up_to_seq": [1]}',
    '{"type": "message.send", "client_msg_id": "s", "body": "\\ud800"}', '{"type": "message.send", "client_msg_id": "n", "body": "a\\u0000"}',
    '{"type": "message.send", "client_msg_id": {}, "body": ["x"]}', '{"type": "auth", "token": 5}',
    '{"type": "x", "deep": ' + "[" * 5000 + "]" * 5000 + "}",
]


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_hostile_frames_get_error_frames_and_sockets_stay_usable(sockets):
    agent = await database_sync_to_async(agent_staffed)("alpha")
    _, conversation, token = await database_sync_to_async(conversation_active)(agent=agent)
    agent_ws = await sockets.agent_authed(agent)
    customer, _ = await sockets.widget_authed(conversation.id, token)
    for ws, frames in ((agent_ws, FRAMES), (customer, CUSTOMER_FRAMES)):
        for raw in frames:
            await ws.send_to(text_data=raw.replace('"conversation_id": 1', f'"conversation_id": {conversation.id}'))
            try:
                error, _ = await frames_until(ws, "error")
            except TimeoutError:
                raise AssertionError(f"no error frame for {raw[:80]}") from None
            assert error["code"] and error["detail"], raw
    await agent_ws.send_json_to({"type": "message.send", "brand": "alpha", "conversation_id": conversation.id, "client_msg_id": "ok", "body": "still here"})
    frame, _ = await frames_until(agent_ws, "message")
    assert frame["body"] == "still here"
