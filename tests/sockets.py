"""Real websockets against the ASGI application, for every socket test.

`sockets` (a fixture in tests/conftest.py) opens them and disconnects every one at the
end of the test, whatever the test did, so no consumer outlives its test.
"""

from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from config.asgi import application
from helpdesk.models import AgentToken


async def frames_until(communicator, frame_type, timeout=3):
    """Frames up to and including the first of `frame_type`: (that frame, all seen)."""
    seen = []
    while True:
        frame = await communicator.receive_json_from(timeout=timeout)
        seen.append(frame)
        if frame["type"] == frame_type:
            return frame, seen


class Sockets:
    def __init__(self):
        self.opened: list[WebsocketCommunicator] = []

    async def open(self, path: str, *, host: str, headers=()) -> tuple[WebsocketCommunicator, bool, int | None]:
        communicator = WebsocketCommunicator(application, path, headers=[(b"host", host.encode()), *headers])
        self.opened.append(communicator)
        connected, code = await communicator.connect()
        return communicator, connected, code

    async def widget(self, conversation_id, *, host: str = "alpha.localhost"):
        return await self.open(f"/ws/widget/v1/conversations/{conversation_id}/", host=host)

    async def widget_authed(self, conversation_id, token, *, after_seq=0, host="alpha.localhost"):
        communicator, connected, _ = await self.widget(conversation_id, host=host)
        assert connected
        await communicator.send_json_to({"type": "auth", "token": token, "after_seq": after_seq})
        ok = await communicator.receive_json_from()
        assert ok["type"] == "auth.ok", ok
        return communicator, ok

    async def agent(self, *, host: str = "localhost", headers=()):
        return await self.open("/ws/agent/v1/", host=host, headers=headers)

    async def agent_authed(self, agent, *, host: str = "localhost"):
        """The agent's socket, authenticated with a fresh agent token."""
        _, raw = await database_sync_to_async(AgentToken.issue)(user=agent.user)
        communicator, connected, _ = await self.agent(host=host)
        assert connected
        await communicator.send_json_to({"type": "auth", "token": raw})
        await frames_until(communicator, "auth.ok")
        return communicator

    async def close_all(self):
        for communicator in self.opened:
            try:
                await communicator.disconnect()
            except Exception:  # already closed by the server, or its task already failed
                pass
