"""Nothing acknowledged is lost across a server restart: messages stored while nobody
was connected arrive, exactly once, when each side resumes with its last seq."""

import asyncio
import json
import os
import threading
import time

import pytest
import uvicorn
import websockets
from django.db import connection

from helpdesk.models import AgentToken
from tests.chat.helpers import conversation_active
from tests.factories import AgentFactory, StaffingFactory
from tests.ports import free_port

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


class Server:
    """uvicorn serving the real ASGI app in a thread; start and stop it like a process."""

    def __init__(self, port: int):
        from config.asgi import application

        self.server = uvicorn.Server(uvicorn.Config(application, host="127.0.0.1", port=port, log_level="warning", lifespan="off", ws="websockets"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self):
        self.thread.start()
        deadline = time.time() + 10
        while not self.server.started and time.time() < deadline:
            time.sleep(0.05)
        assert self.server.started
        return self

    def __exit__(self, *exc):
        self.server.should_exit = True
        self.thread.join(timeout=10)


async def collect(ws, until_type: str, timeout: float = 5.0) -> list[dict]:
    frames = []
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        frames.append(frame)
        if frame["type"] == until_type:
            return frames


async def customer_session(port, conversation_id, token, after_seq, send_bodies=()):
    uri = f"ws://127.0.0.1:{port}/ws/widget/v1/conversations/{conversation_id}/"
    async with websockets.connect(uri, additional_headers={"Host": "alpha.localhost"}) as ws:
        await ws.send(json.dumps({"type": "auth", "token": token, "after_seq": after_seq}))
        ok = json.loads(await ws.recv())
        assert ok["type"] == "auth.ok"
        backlog = []
        while len(backlog) < ok["last_seq"] - after_seq:
            backlog.append(json.loads(await asyncio.wait_for(ws.recv(), 5)))
        acks = []
        for index, body in enumerate(send_bodies):
            await ws.send(json.dumps({"type": "message.send", "client_msg_id": f"r{index}", "body": body}))
            frames = await collect(ws, "message")
            while frames[-1].get("client_msg_id") != f"r{index}":
                frames = await collect(ws, "message")
            acks.append(frames[-1])
        return ok, backlog, acks


@pytest.mark.django_db(transaction=True)
def test_messages_survive_a_restart_and_resume_exactly(alpha):
    agent = AgentFactory(display_name="Rita Restart")
    StaffingFactory(agent=agent, brand=alpha)
    _, conversation, token = conversation_active(agent=agent)
    _, agent_token = AgentToken.issue(user=agent.user)
    connection.set_schema_to_public()
    port = free_port()

    with Server(port):
        ok, backlog, acks = asyncio.run(customer_session(port, conversation.id, token, after_seq=0, send_bodies=["one", "two"]))
    last_seen = acks[-1]["seq"]
    assert [a["body"] for a in acks] == ["one", "two"]

    with Server(port):
        # The agent was never connected: after the restart it asks for everything it missed.
        async def agent_resumes():
            async with websockets.connect(f"ws://127.0.0.1:{port}/ws/agent/v1/", additional_headers={"Host": "localhost"}) as ws:
                await ws.send(json.dumps({"type": "auth", "token": agent_token}))
                await collect(ws, "auth.ok")
                await ws.send(json.dumps({"type": "subscribe", "brand": "alpha", "conversation_id": conversation.id, "after_seq": 0}))
                await collect(ws, "subscribed")
                missed = [json.loads(await asyncio.wait_for(ws.recv(), 5)) for _ in range(last_seen)]
                await ws.send(json.dumps({"type": "message.send", "brand": "alpha", "conversation_id": conversation.id, "client_msg_id": "a1", "body": "back after restart"}))
                await collect(ws, "message")
                return missed

        missed = asyncio.run(agent_resumes())
        assert [m["seq"] for m in missed] == list(range(1, last_seen + 1))
        # seq 1 is the question from the form, the transcript's first customer message.
        assert [m["body"] for m in missed if m["sender"] == "customer"] == ["Where is my parcel?", "one", "two"]

        # The customer resumes from the last seq it saw: exactly the agent's new message.
        ok, backlog, _ = asyncio.run(customer_session(port, conversation.id, token, after_seq=last_seen))
        assert [m["body"] for m in backlog] == ["back after restart"]
        assert backlog[0]["seq"] == last_seen + 1
