"""Agent sockets survive database errors: with every backend of the database terminated
while an agent socket is open, the next frame is retried once on a fresh connection; while
the database refuses connections the frame gets an `error` frame `unavailable`, the socket
stays open, and works again once the database is back."""

import asyncio
import json

import psycopg
import pytest
from django.db import connection

from helpdesk.models import AgentToken
from tests.chat.helpers import conversation_active
from tests.factories import agent_staffed

from .servers import ServerProcess, agent_socket, frame_of

pytestmark = pytest.mark.django_db(transaction=True)


def terminate_every_backend(*, refuse_new: bool | None = None) -> None:
    """Like an operator from the maintenance database: kill every backend of the test
    database (the test's own included), and refuse new ones if asked."""
    params = connection.settings_dict
    name = params["NAME"]
    with psycopg.connect(host=params["HOST"], port=params["PORT"] or 5432, user=params["USER"], dbname="postgres", autocommit=True) as admin:
        if refuse_new is not None:
            admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {"false" if refuse_new else "true"}')
        if refuse_new is not False:
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", [name])


def send_frame(ws, client_msg_id, conversation_id):
    return ws.send(json.dumps({"type": "message.send", "brand": "alpha", "conversation_id": conversation_id, "client_msg_id": client_msg_id, "body": f"after {client_msg_id}"}))


async def reply(ws, client_msg_id) -> dict:
    """The message echoed for that id, or the error frame about it."""
    async with asyncio.timeout(20):
        while True:
            frame = json.loads(await ws.recv())
            if frame.get("client_msg_id") == client_msg_id and frame["type"] in ("message", "error"):
                return frame


def test_agent_socket_survives_terminated_backends_and_a_refusing_database(alpha):
    agent = agent_staffed(alpha)
    _, conversation, _ = conversation_active(agent=agent, slug="alpha")
    _, token = AgentToken.issue(user=agent.user)
    connection.close()  # the operator's kill takes the test's own connection too

    async def scenario(server):
        ws = await agent_socket(server, token=token)
        await send_frame(ws, "before", conversation.id)
        before = await reply(ws, "before")

        terminate_every_backend()
        await send_frame(ws, "killed", conversation.id)
        killed = await reply(ws, "killed")

        terminate_every_backend(refuse_new=True)
        try:
            await send_frame(ws, "refused", conversation.id)
            refused = await reply(ws, "refused")
        finally:
            terminate_every_backend(refuse_new=False)

        await send_frame(ws, "back", conversation.id)
        back = await reply(ws, "back")
        await ws.send(json.dumps({"type": "presence", "presence": "online"}))
        await frame_of(ws, "presence")
        await ws.close()
        return before, killed, refused, back

    try:
        with ServerProcess(env={"DB_POOL_TIMEOUT": "2"}) as server:
            before, killed, refused, back = asyncio.run(scenario(server))
    finally:
        terminate_every_backend(refuse_new=False)
        # This process's pool lost its idle connections to the same kill.
        if connection.pool is not None:
            connection.pool.check()

    assert before["type"] == "message"
    assert killed["type"] == "message" and killed["body"] == "after killed"
    assert refused["type"] == "error" and refused["code"] == "unavailable"
    assert back["type"] == "message" and back["body"] == "after back"
