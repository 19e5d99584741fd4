"""The bare baseline for bench/load_sockets.py: a pure ASGI websocket app, no Django, no
database, no Redis, served by the same uvicorn with the same settings as config.asgi.

It speaks just enough of docs/protocol.md for the same load client to drive it: the
widget socket `/ws/widget/v1/conversations/{id}/` and the agent socket `/ws/agent/v1/`,
each authenticated by a first `auth` frame that gets `auth.ok`; a `message.send` comes
back as a `message` frame (seq, client_msg_id, sender, body, conversation_id, brand) to
every socket in that conversation, the sender's included, as the real server does.
There is nothing to look up, so the tokens carry it: a customer's token is its
conversation id, an agent's is `agent:<id1>,<id2>,...` (the conversations it holds).

Each socket has its own outgoing queue and writer task, as a Channels consumer has its
own inbox: a slow socket delays only itself. State lives in this process's memory.

Run: `uvicorn bench.echo_server:application`.
"""

import asyncio
import json
from collections import defaultdict
from datetime import datetime, timezone

# conversation id -> the outgoing queues of the sockets in it
_members: dict[int, set[asyncio.Queue]] = defaultdict(set)
_seqs: dict[int, int] = defaultdict(int)


def _publish(conversation_id: int, frame: dict) -> None:
    text = json.dumps(frame)
    for queue in _members.get(conversation_id, ()):
        queue.put_nowait(text)


def _message(conversation_id: int, frame: dict, sender: str, brand: str | None) -> dict | None:
    if not isinstance(frame.get("body"), str) or not isinstance(frame.get("client_msg_id"), str):
        return None
    _seqs[conversation_id] += 1
    return {
        "type": "message", "seq": _seqs[conversation_id], "id": _seqs[conversation_id], "client_msg_id": frame["client_msg_id"],
        "sender": sender, "author": sender, "body": frame["body"], "internal": False,
        "sent_at": datetime.now(timezone.utc).isoformat(), "brand": brand, "conversation_id": conversation_id,
    }


def _route(path: str) -> tuple[str, int | None] | None:
    parts = [p for p in path.split("/") if p]
    if parts == ["ws", "agent", "v1"]:
        return "agent", None
    if len(parts) == 5 and parts[:4] == ["ws", "widget", "v1", "conversations"] and parts[4].isdigit():
        return "customer", int(parts[4])
    return None


async def application(scope, receive, send):
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            pass
        await send({"type": "lifespan.shutdown.complete"})
        return
    if scope["type"] != "websocket":
        await send({"type": "http.response.start", "status": 404, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"echo: websockets only"})
        return
    route = _route(scope["path"])
    if (await receive())["type"] != "websocket.connect":
        return
    if route is None:
        await send({"type": "websocket.close", "code": 4404})
        return
    role, conversation_id = route
    # The brand is the host's first label, as the real server takes it from the Host.
    host = dict(scope.get("headers") or []).get(b"host", b"").decode("latin-1")
    host_brand = host.split(".", 1)[0] if "." in host else None
    await send({"type": "websocket.accept"})

    outgoing: asyncio.Queue = asyncio.Queue()
    joined: list[int] = []

    async def writer():
        while True:
            text = await outgoing.get()
            await send({"type": "websocket.send", "text": text})

    writing = asyncio.create_task(writer())
    try:
        while True:
            event = await receive()
            if event["type"] == "websocket.disconnect":
                return
            try:
                frame = json.loads(event.get("text") or "")
            except ValueError:
                continue
            if not isinstance(frame, dict):
                continue
            if frame.get("type") == "auth" and not joined:
                token = str(frame.get("token", ""))
                if role == "customer":
                    joined = [conversation_id]
                else:
                    joined = [int(c) for c in token.removeprefix("agent:").split(",") if c.isdigit()]
                for c in joined:
                    _members[c].add(outgoing)
                outgoing.put_nowait(json.dumps({"type": "auth.ok", "conversation_id": conversation_id, "state": "active", "last_seq": 0}))
            elif frame.get("type") == "message.send" and joined:
                target = conversation_id if role == "customer" else frame.get("conversation_id")
                brand = host_brand if role == "customer" else frame.get("brand")
                if target in joined:
                    message = _message(target, frame, role, brand)
                    if message is not None:
                        _publish(target, message)
    finally:
        for c in joined:
            _members[c].discard(outgoing)
        writing.cancel()
