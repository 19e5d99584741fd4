"""Socket handshakes: the agent socket takes only origins we serve (no cross-site
websocket hijacking with the agent's session cookie), the widget socket any origin,
Host headers are parsed strictly, and unknown paths are refused at the handshake."""

import pytest
from channels.db import database_sync_to_async
from django.test import Client

from tenants.middleware import WS_CLOSE_FORBIDDEN_ORIGIN, WS_CLOSE_UNKNOWN_HOST
from tests.chat.helpers import conversation_started
from tests.factories import agent_staffed
from tests.sockets import frames_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


def _session_cookie():
    agent = agent_staffed("alpha")
    client = Client()
    client.force_login(agent.user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


@pytest.mark.parametrize("origin", [b"http://evil.example", b"null", b"http://localhost.evil.example", b"http://alpha.localhost:8200@evil.com", b"file://", None])
async def test_agent_socket_with_the_session_cookie_refuses_foreign_origins(sockets, origin):
    cookie = await database_sync_to_async(_session_cookie)()
    headers = [(b"cookie", cookie)] + ([(b"origin", origin)] if origin is not None else [])
    _, connected, code = await sockets.agent(headers=headers)
    assert not connected and code == WS_CLOSE_FORBIDDEN_ORIGIN


@pytest.mark.parametrize("origin", [b"http://localhost", b"http://localhost:8000", b"https://alpha.localhost"])
async def test_agent_socket_takes_the_platform_and_brand_origins(sockets, origin):
    cookie = await database_sync_to_async(_session_cookie)()
    ws, connected, _ = await sockets.agent(headers=[(b"cookie", cookie), (b"origin", origin)])
    assert connected
    ok, _ = await frames_until(ws, "auth.ok")
    assert ok["brands"] == ["alpha"]


async def test_widget_socket_takes_any_origin(sockets):
    _, conversation, token = await database_sync_to_async(conversation_started)()
    ws, connected, _ = await sockets.open(f"/ws/widget/v1/conversations/{conversation.id}/", host="alpha.localhost", headers=[(b"origin", b"https://shop.example")])
    assert connected
    await ws.send_json_to({"type": "auth", "token": token, "after_seq": 0})
    assert (await ws.receive_json_from())["type"] == "auth.ok"


@pytest.mark.parametrize("host", ["alpha.localhost:8200@evil.com", "alpha.localhost@evil.com", "alpha.localhost:abc", "evil.com#alpha.localhost", "alpha.localhost/x", ""])
async def test_malformed_hosts_are_refused(sockets, host):
    _, conversation, _ = await database_sync_to_async(conversation_started)()
    _, connected, code = await sockets.open(f"/ws/widget/v1/conversations/{conversation.id}/", host=host)
    assert not connected and code == WS_CLOSE_UNKNOWN_HOST


@pytest.mark.parametrize("path", ["/ws/nope/", "/ws/widget/v1/conversations/abc/", "/ws/agent/v2/", "/"])
async def test_unknown_paths_are_refused_at_the_handshake(sockets, path):
    _, connected, code = await sockets.open(path, host="alpha.localhost")
    assert not connected and code == 4404
