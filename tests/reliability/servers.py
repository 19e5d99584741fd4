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
