"""Two server processes behind nginx (Debian's, on loopback, started by the test): a
customer on one server and an agent on the other chat live; SIGKILLing the server that
holds one side, while both sides have messages in flight, moves that side's client to the
other server with nothing lost, nothing stored twice, and the other side's socket intact.

The clients do what the pages' JavaScript does (tests/reliability/servers.py,
`ResumingClient`): reconnect, resume with `after_seq`, send unconfirmed messages again with
the same `client_msg_id` (over the socket, or, for the agent's replies over HTTP, after a
502), and ask for a gap in the seqs. Waits are for counts of frames,
each with a generous guard against a hang (the machine is slow and shared)."""

import asyncio
import json
import uuid

import pytest
import websockets
from django_tenants.utils import schema_context

from chat.models import Conversation, Message
from tests.chat.helpers import PRECHAT
from tests.factories import PASSWORD, agent_staffed

from .servers import AgentClient, NginxProxy, ServerProcess, WidgetClient

pytestmark = pytest.mark.django_db(transaction=True)

# As docs/scaling.md runs uvicorn behind nginx: REMOTE_ADDR from X-Forwarded-For, but only
# when the proxy (here on loopback) sent it.
BEHIND_PROXY = ("--proxy-headers", "--forwarded-allow-ips", "127.0.0.1")
LIVE, BURST, AFTER = 3, 5, 3  # messages per side: exchanged live, in flight at the kill, sent after it


@pytest.fixture
def proxy(tmp_path):
    with ServerProcess(args=BEHIND_PROXY) as first, ServerProcess(args=BEHIND_PROXY) as second:
        with NginxProxy([first, second], prefix=tmp_path / "nginx") as nginx:
            yield nginx


def _post(proxy: NginxProxy, path: str, *, host: str, body: dict | None = None, headers: dict | None = None) -> tuple[int, dict]:
    status, _, raw = proxy.get(path, host=host, method="POST", data=json.dumps(body or {}).encode(), headers={"Content-Type": "application/json", **(headers or {})})
    return status, json.loads(raw or b"{}")


async def _chat_started(proxy: NginxProxy, agent_user, *, reconnect_customer: bool, reconnect_agent: bool, replies: str):
    """The agent's socket on one server, the customer's on the other, the chat accepted."""
    platform, brand_host = f"localhost:{proxy.port}", f"alpha.localhost:{proxy.port}"
    status, body = await asyncio.to_thread(_post, proxy, "/api/agent/v1/auth/token", host=platform, body={"username": agent_user.username, "password": PASSWORD})
    assert status == 201, body
    agent = AgentClient(proxy, token=body["token"], reconnect=reconnect_agent, replies=replies)
    await agent.start()
    await agent.wait_until(lambda: agent.authenticated, what="agent auth.ok")
    await agent.send({"type": "presence", "presence": "online"})
    await agent.wait_until(lambda: agent.frame_seen("presence"), what="presence")

    status, started = await asyncio.to_thread(
        _post, proxy, "/api/widget/v1/conversations", host=brand_host,
        body={**PRECHAT, "category": "shipping"}, headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    assert status == 201, started
    customer = WidgetClient(proxy, brand_host="alpha.localhost", conversation_id=started["id"], token=started["token"], reconnect=reconnect_customer)
    await customer.start(avoid=agent.server)
    await customer.wait_until(lambda: customer.authenticated, what="customer auth.ok")
    assert {agent.server, customer.server} == set(proxy.servers), (agent.upstreams, customer.upstreams)

    bearer = {"Authorization": f"Bearer {started['token']}"}
    status, place = await asyncio.to_thread(_post, proxy, f"/api/widget/v1/conversations/{started['id']}/escalate", host=brand_host, headers=bearer)
    assert status == 200, place
    await agent.wait_until(lambda: any(f["type"] == "offer" and f["conversation_id"] == started["id"] for f in agent.frames), what="the offer")
    status, accepted = await asyncio.to_thread(
        _post, proxy, f"/api/agent/v1/brands/alpha/conversations/{started['id']}/accept", host=platform, headers={"Authorization": f"Bearer {agent.token}"},
    )
    assert status == 200, accepted
    await agent.open_chat(brand="alpha", conversation_id=started["id"])
    await customer.wait_until(lambda: customer.frame_seen("agent.joined"), what="agent.joined")
    return customer, agent


def _holds_everything_from(client, other) -> bool:
    return set(other.acked) <= set(client.client_msg_ids_from(other.sender)) and not other.pending


async def _scenario(proxy: NginxProxy, agent_user, *, killed: str, replies: str) -> dict:
    customer, agent = await _chat_started(proxy, agent_user, reconnect_customer=killed == "customer", reconnect_agent=killed == "agent", replies=replies)
    victim, survivor = (customer, agent) if killed == "customer" else (agent, customer)
    try:
        # Live: each side receives the other's messages as they are sent.
        for index in range(LIVE):
            await customer.say(f"customer live {index}")
            await agent.say(f"agent live {index}")
        await customer.wait_until(lambda: _holds_everything_from(customer, agent) and not customer.pending, what="live messages")
        await agent.wait_until(lambda: _holds_everything_from(agent, customer), what="live messages")
        assert len(customer.acked) == len(agent.acked) == LIVE

        # In flight: both sides send without waiting, and the victim's server dies under them.
        doomed, surviving, survivor_socket = victim.server, survivor.server, survivor.ws
        for index in range(BURST):
            await victim.say(f"{victim.name} in flight {index}")
            await survivor.say(f"{survivor.name} in flight {index}")
        await asyncio.to_thread(doomed.kill)  # SIGKILL: no close frame, nothing flushed
        for index in range(AFTER):
            await survivor.say(f"{survivor.name} after the kill {index}")
            await victim.say(f"{victim.name} after the kill {index}")  # pending until it is back

        # The victim is back through nginx, on the surviving server; everything confirmed.
        await victim.wait_until(lambda: victim.drops >= 1 and victim.authenticated and victim.server is surviving, timeout=120, what="the victim back on the survivor")
        await victim.wait_until(lambda: not victim.pending and _holds_everything_from(victim, survivor), timeout=120, what="the victim caught up")
        await survivor.wait_until(lambda: not survivor.pending and _holds_everything_from(survivor, victim), timeout=120, what="the survivor caught up")
        return {
            "conversation_id": customer.conversation_id,
            "customer": customer, "agent": agent, "victim": victim, "survivor": survivor,
            "doomed": doomed, "surviving": surviving,
            "survivor_kept_its_socket": survivor.ws is survivor_socket and survivor.ws.state is websockets.protocol.State.OPEN,
        }
    finally:
        await customer.stop()
        await agent.stop()


@pytest.mark.parametrize("killed", ["customer", "agent"])
@pytest.mark.parametrize("replies", ["socket", "http"])
def test_killing_one_server_moves_its_side_to_the_other_with_nothing_lost(alpha, proxy, killed, replies):
    """`replies`: the agent replies with socket frames, or over HTTP as the chat tab does
    (each POST goes round robin through nginx, so some meet the dying process)."""
    agent_profile = agent_staffed(alpha)
    outcome = asyncio.run(_scenario(proxy, agent_profile.user, killed=killed, replies=replies))
    customer, agent, victim, survivor = outcome["customer"], outcome["agent"], outcome["victim"], outcome["survivor"]

    # The survivor never lost its socket; the victim came back on the surviving server.
    assert outcome["survivor_kept_its_socket"] and survivor.drops == 0
    assert proxy.server_of(survivor.upstreams[-1]) is outcome["surviving"]
    assert victim.drops >= 1 and outcome["doomed"] is not outcome["surviving"]
    # What it sent over its socket after the kill could not be confirmed before it was
    # back: sent again.
    assert victim.resent >= AFTER or (victim is agent and replies == "http")
    assert proxy.server_of(victim.upstreams[-1]) is outcome["surviving"]

    with schema_context(alpha.schema_name):
        stored = list(Message.objects.filter(conversation_id=outcome["conversation_id"]).order_by("seq"))
        conversation = Conversation.objects.get(pk=outcome["conversation_id"])
    # Sequences are contiguous and every message each side sent is stored exactly once,
    # under the seq its sender was told.
    assert [m.seq for m in stored] == list(range(1, len(stored) + 1)) and conversation.last_seq == len(stored)
    for client in (customer, agent):
        mine = [m for m in stored if m.sender == client.sender and m.client_msg_id]
        assert sorted(m.client_msg_id for m in mine) == sorted(client.acked), client.name
        assert {m.client_msg_id: m.seq for m in mine} == client.acked
        assert len(client.acked) == LIVE + BURST + AFTER
    # Both sides hold every stored message, each once, as stored (no conflicting frames).
    for client in (customer, agent):
        assert not client.conflicts, client.conflicts
        assert {seq: (m["id"], m["body"]) for seq, m in client.messages.items()} == {m.seq: (m.id, m.body) for m in stored}, client.name


def test_host_and_origin_pass_through_nginx(alpha, proxy):
    """The brand comes from the Host nginx passes on, and the agent socket's Origin
    allow-list still refuses a foreign page behind the proxy."""
    agent_profile = agent_staffed(alpha)
    status, headers, _ = proxy.get("/api/widget/v1/config", host=f"alpha.localhost:{proxy.port}")
    assert status == 200 and proxy.server_of(headers.get("X-Upstream")) is not None
    status, _, _ = proxy.get("/api/widget/v1/config", host=f"nobody.localhost:{proxy.port}")
    assert status == 404

    status, body = _post(proxy, "/api/agent/v1/auth/token", host=f"localhost:{proxy.port}", body={"username": agent_profile.user.username, "password": PASSWORD})
    assert status == 201, body

    async def handshakes():
        refused = []
        for origin in ("http://evil.example", "null", f"http://localhost.evil.example:{proxy.port}"):
            with pytest.raises(websockets.InvalidStatus) as refusal:
                await websockets.connect(f"ws://localhost:{proxy.port}/ws/agent/v1/", host="127.0.0.1", port=proxy.port, additional_headers={"Origin": origin}, origin=None, proxy=None, open_timeout=30)
            refused.append((refusal.value.response.status_code, refusal.value.response.headers.get("X-Upstream")))
        for origin in (f"http://localhost:{proxy.port}", f"http://alpha.localhost:{proxy.port}"):
            agent = AgentClient(proxy, token=body["token"], origin=origin)
            await agent.start()
            try:
                await agent.wait_until(lambda: agent.authenticated, what=f"auth.ok from {origin}")
            finally:
                await agent.stop()
        return refused

    refused = asyncio.run(handshakes())
    # Refused by the application (it answered through nginx), not by the proxy.
    assert all(status == 403 and proxy.server_of(upstream) is not None for status, upstream in refused), refused
