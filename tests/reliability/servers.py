"""A real server process for the reliability battery: uvicorn serving config.asgi in a
subprocess against this test run's database, Redis prefix and channel layer, so a test can
burst it, SIGKILL it and count its PostgreSQL connections like an operator would."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from django.conf import settings
from django.db import connection

BASE_DIR = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServerProcess:
    """`with ServerProcess(env={...}) as server:` starts uvicorn and waits until it answers."""

    def __init__(self, *, env: dict | None = None, port: int | None = None):
        self.port = port or free_port()
        self.env = dict(
            os.environ,
            DJANGO_SETTINGS_MODULE="config.settings.test",
            TEST_RUN_ID=settings.RUN_ID,
            TEST_WORKER="true",
            # The server's connections show under this name in pg_stat_activity.
            PGAPPNAME=self.application_name,
            **(env or {}),
        )
        self.process: subprocess.Popen | None = None

    @property
    def application_name(self) -> str:
        return f"reliability-server-{self.port}"

    def __enter__(self):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "config.asgi:application", "--host", "127.0.0.1", "--port", str(self.port), "--lifespan", "off", "--ws", "websockets", "--log-level", "warning"],
            cwd=BASE_DIR, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.process.stderr.read().decode()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("server did not start")

    def kill(self, sig=signal.SIGKILL) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(timeout=15)

    def __exit__(self, *exc):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def get(self, path: str, *, host: str = "localhost", headers: dict | None = None, data: bytes | None = None, method: str | None = None) -> tuple[int, dict, bytes]:
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=data, method=method, headers={"Host": host, **(headers or {})})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, dict(exc.headers), exc.read()

    def db_connections(self) -> int:
        """This server's PostgreSQL connections (both pools), as pg_stat_activity shows."""
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = %s OR (application_name = 'helpdesk-socket-messages' AND datname = current_database())", [self.application_name])
            return cursor.fetchone()[0]


# --- Clients ---------------------------------------------------------------------------
import asyncio  # noqa: E402
import json  # noqa: E402

import websockets  # noqa: E402
from django.db import connections  # noqa: E402


async def agent_socket(server: ServerProcess, *, token: str | None = None, cookie: str | None = None, origin: str | None = "http://localhost", host: str = "localhost"):
    """An agent socket on the server, authenticated by token frame or session cookie."""
    headers = {"Host": host}
    if origin is not None:
        headers["Origin"] = origin
    if cookie:
        headers["Cookie"] = cookie
    ws = await websockets.connect(f"ws://127.0.0.1:{server.port}/ws/agent/v1/", additional_headers=headers, origin=None, ping_interval=None)
    if token:
        await ws.send(json.dumps({"type": "auth", "token": token}))
    await frame_of(ws, "auth.ok")
    return ws


async def frame_of(ws, frame_type: str, timeout: float = 10.0) -> dict:
    """The next frame of that type (frames of other types before it are skipped)."""
    async with asyncio.timeout(timeout):
        while True:
            frame = json.loads(await ws.recv())
            if frame["type"] == frame_type:
                return frame


async def frames_until(ws, frame_type: str, timeout: float = 10.0) -> list[dict]:
    seen = []
    async with asyncio.timeout(timeout):
        while True:
            seen.append(json.loads(await ws.recv()))
            if seen[-1]["type"] == frame_type:
                return seen


async def closed_with(ws, timeout: float = 10.0) -> int:
    """Wait for the server to close the socket; its close code."""
    async with asyncio.timeout(timeout):
        try:
            while True:
                await ws.recv()
        except websockets.ConnectionClosed as exc:
            return exc.rcvd.code if exc.rcvd else None


async def in_thread(fn, /, **kwargs):
    """A service call from another thread (its own database connection), as an admin's
    request would make it, while the test's event loop keeps reading sockets."""

    def call():
        try:
            return fn(**kwargs)
        finally:
            connections.close_all()

    return await asyncio.to_thread(call)
