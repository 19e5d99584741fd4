"""A real server process for the reliability battery: uvicorn serving config.asgi in a
subprocess against this test run's database, Redis prefix and channel layer, so a test can
burst it, SIGKILL it and count its PostgreSQL connections like an operator would."""

import abc
import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import websockets
from django.conf import settings
from django.db import connection, connections

from tests.ports import free_port

BASE_DIR = Path(__file__).resolve().parents[2]


def http_request(port: int, path: str, *, host: str = "localhost", headers: dict | None = None, data: bytes | None = None, method: str | None = None) -> tuple[int, dict, bytes]:
    """One HTTP request to 127.0.0.1:port with that Host header: status, headers, body."""
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method, headers={"Host": host, **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


class ServerProcess:
    """`with ServerProcess(env={...}) as server:` starts uvicorn and waits until it answers."""

    def __init__(self, *, env: dict | None = None, port: int | None = None, args: tuple[str, ...] = ()):
        self.port = port or free_port()
        self.args = tuple(args)
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
            [sys.executable, "-m", "uvicorn", "config.asgi:application", "--host", "127.0.0.1", "--port", str(self.port), "--lifespan", "off", "--ws", "websockets", "--log-level", "warning", *self.args],
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
        return http_request(self.port, path, host=host, headers=headers, data=data, method=method)

    def db_connections(self) -> int:
        """This server's PostgreSQL connections (both pools), as pg_stat_activity shows."""
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = %s OR (application_name = 'helpdesk-socket-messages' AND datname = current_database())", [self.application_name])
            return cursor.fetchone()[0]



# --- nginx in front ----------------------------------------------------------------------
NGINX = "/usr/sbin/nginx"

# The configuration docs/scaling.md shows, with the test's ports and folders filled in.
# One upstream, round robin; a server that refuses connections is skipped for the next
# (`proxy_next_upstream error timeout`, a 2 s connect timeout) and left out for
# `fail_timeout`; sockets may stay quiet for an hour. X-Upstream names the server that
# answered, so a test can tell where each socket landed.
NGINX_CONF = """\
daemon off;
master_process on;
worker_processes 1;
{user}
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;

events {{
    worker_connections 512;
}}

http {{
    access_log {prefix}/access.log;
    client_body_temp_path {prefix}/client_body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;

    # A websocket handshake asks the upstream to upgrade; any other request closes.
    map $http_upgrade $connection_upgrade {{
        default upgrade;
        ''      close;
    }}

    upstream helpdesk {{
{servers}
    }}

    server {{
        listen 127.0.0.1:{port};

        location / {{
            proxy_pass http://helpdesk;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            # The brand is resolved from Host; Origin passes through untouched.
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_connect_timeout 2s;
            proxy_next_upstream error timeout;
            proxy_read_timeout 1h;
            proxy_send_timeout 1h;
            add_header X-Upstream $upstream_addr always;
        }}
    }}
}}
"""


class NginxProxy:
    """`with NginxProxy(servers, prefix=tmp_path) as proxy:` runs Debian's nginx on a free
    loopback port in front of the servers (its own config, pid, logs and temp folders
    under `prefix`; never the system service) and stops it on exit."""

    def __init__(self, servers: list[ServerProcess], *, prefix: Path, port: int | None = None):
        self.servers = servers
        self.prefix = Path(prefix)
        self.port = port or free_port()
        self.process: subprocess.Popen | None = None

    @property
    def config(self) -> str:
        upstreams = "\n".join(f"        server 127.0.0.1:{server.port} max_fails=1 fail_timeout=10s;" for server in self.servers)
        # As root, the master would hand the workers to `nobody`, who cannot enter the
        # test's temp folders.
        user = "user root;" if os.geteuid() == 0 else ""
        return NGINX_CONF.format(user=user, prefix=self.prefix, servers=upstreams, port=self.port)

    def __enter__(self):
        self.prefix.mkdir(parents=True, exist_ok=True)
        (self.prefix / "nginx.conf").write_text(self.config)
        self.process = subprocess.Popen([NGINX, "-c", str(self.prefix / "nginx.conf"), "-p", str(self.prefix)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"nginx exited: {self.process.stderr.read().decode()[-2000:]} {self.error_log()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.1)
        self.__exit__()
        raise RuntimeError("nginx did not start")

    def __exit__(self, *exc):
        if self.process and self.process.poll() is None:
            self.process.terminate()  # SIGTERM: fast shutdown, open sockets are cut
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def error_log(self) -> str:
        path = self.prefix / "error.log"
        return path.read_text() if path.exists() else ""

    def get(self, path: str, *, host: str = "localhost", headers: dict | None = None, data: bytes | None = None, method: str | None = None) -> tuple[int, dict, bytes]:
        return http_request(self.port, path, host=host, headers=headers, data=data, method=method)

    def server_of(self, upstream_addr: str | None) -> ServerProcess | None:
        """The server an `X-Upstream` value names: its last address (nginx lists every
        server it tried, `127.0.0.1:A, 127.0.0.1:B`, when it moved on from a dead one)."""
        if not upstream_addr:
            return None
        last = upstream_addr.split(",")[-1].strip()
        return next((server for server in self.servers if last == f"127.0.0.1:{server.port}"), None)


# --- Clients ---------------------------------------------------------------------------


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


# --- Clients that resume as the pages' JavaScript does -----------------------------------
class ResumingClient(abc.ABC):
    """A chat client that keeps what static/common/socket.js and the chat screens keep:
    every message by `seq` (a frame whose seq it holds is a replay, dropped), the messages
    it sent that no `message` frame has confirmed yet (`pending`, sent again with the same
    `client_msg_id` after every `auth.ok`), and, when `reconnect` is on, a new socket after
    a drop that resumes with the highest seq it holds. A seq beyond the next one means the
    channel layer missed something: it asks for the gap (the widget's `fillGap`).

    Waits are bounded by counts (`wait_until` a condition), with a generous hang guard."""

    sender: str = ""
    resends_on_auth = True  # pending messages go again over the socket after auth.ok

    def __init__(self, proxy: NginxProxy, *, reconnect: bool, name: str):
        self.proxy = proxy
        self.reconnect = reconnect
        self.name = name
        self.messages: dict[int, dict] = {}
        self.replays = 0  # frames for a seq already held, identical to it
        self.conflicts: list[tuple[dict, dict]] = []  # one seq, two different messages
        self.pending: dict[str, str] = {}  # client_msg_id -> body, in send order
        self.acked: dict[str, int] = {}  # client_msg_id -> seq it was stored under
        self.frames: list[dict] = []
        self.upstreams: list[str | None] = []  # X-Upstream of each socket's handshake
        self.drops = 0
        self.gap_fills = 0
        self.resent = 0  # pending messages sent again after an auth.ok
        self.ws = None
        self.authenticated = False
        self.stopped = False
        self.changed = asyncio.Event()
        self.reader: asyncio.Task | None = None
        self.filler: asyncio.Task | None = None
        self.sent = 0

    # What each kind of client says (WidgetClient, AgentClient).
    @abc.abstractmethod
    def url(self) -> str:
        """The socket's URL."""

    @abc.abstractmethod
    def headers(self) -> dict:
        """The handshake's headers (Host, Origin, cookie)."""

    @abc.abstractmethod
    def auth_frame(self) -> dict:
        """The first frame, which authenticates the socket."""

    @abc.abstractmethod
    def send_frame(self, client_msg_id: str, body: str) -> dict:
        """The frame that sends one message."""

    @abc.abstractmethod
    async def gap_fill(self, after_seq: int) -> None:
        """Read the stored messages after `after_seq` over HTTP, as the page does on a gap."""

    async def authenticated_again(self) -> None:
        """After each auth.ok, before the pending messages go again."""

    def mine(self, frame: dict) -> bool:
        return True

    # --- The socket --------------------------------------------------------------------
    @property
    def last_seq(self) -> int:
        return max(self.messages, default=0)

    @property
    def contiguous_seq(self) -> int:
        seq = 0
        while seq + 1 in self.messages:
            seq += 1
        return seq

    @property
    def server(self) -> "ServerProcess | None":
        return self.proxy.server_of(self.upstreams[-1] if self.upstreams else None)

    async def start(self, *, avoid: "ServerProcess | None" = None, tries: int = 8) -> None:
        """Open the socket; with `avoid`, open it again (round robin moves on) until it
        lands on another server."""
        for _ in range(tries):
            await self._open()
            if avoid is None or self.server is not avoid:
                break
            await self.ws.close()
        assert avoid is None or self.server is not avoid, f"{self.name}: every socket landed on {avoid.port}: {self.upstreams}"
        self.reader = asyncio.create_task(self._read())

    async def _open(self) -> None:
        # The URL's host is the Host header (a second Host header is a 400 at nginx); the
        # connection itself goes to the proxy on loopback.
        ws = await websockets.connect(self.url(), host="127.0.0.1", port=self.proxy.port, additional_headers=self.headers(), origin=None, proxy=None, ping_interval=None, open_timeout=30)
        self.upstreams.append(ws.response.headers.get("X-Upstream"))
        self.ws = ws
        self.authenticated = False
        await ws.send(json.dumps(self.auth_frame()))

    async def _read(self) -> None:
        delay = 0.4
        while not self.stopped:
            try:
                async for raw in self.ws:
                    await self._handle(json.loads(raw))
            except websockets.ConnectionClosed:
                pass
            self.ws = None
            self.authenticated = False
            self.drops += 1
            self._notify()
            if self.stopped or not self.reconnect:
                return
            # Reconnect as ReconnectingSocket does: back off, doubling up to a ceiling.
            while not self.stopped:
                await asyncio.sleep(delay)
                try:
                    await self._open()
                    delay = 0.4
                    break
                except (OSError, TimeoutError, websockets.InvalidHandshake):
                    delay = min(delay * 2, 5.0)

    async def _handle(self, frame: dict) -> None:
        self.frames.append(frame)
        if frame["type"] == "auth.ok":
            self.authenticated = True
            await self.authenticated_again()
            if self.resends_on_auth:
                for client_msg_id, body in list(self.pending.items()):
                    if await self.send(self.send_frame(client_msg_id, body)):
                        self.resent += 1
        elif frame["type"] == "message" and self.mine(frame):
            self.record(frame)
        self._notify()

    def record(self, frame: dict) -> None:
        seq = frame["seq"]
        held = self.messages.get(seq)
        if held is not None:
            if (held["id"], held["client_msg_id"], held["body"]) == (frame["id"], frame["client_msg_id"], frame["body"]):
                self.replays += 1
            else:
                self.conflicts.append((held, frame))
        else:
            self.messages[seq] = frame
        if frame["sender"] == self.sender and frame.get("client_msg_id") in self.pending:
            del self.pending[frame["client_msg_id"]]
            self.acked[frame["client_msg_id"]] = seq
        if self.contiguous_seq < self.last_seq and (self.filler is None or self.filler.done()):
            self.filler = asyncio.create_task(self._fill())

    async def _fill(self) -> None:
        for _ in range(5):
            if self.contiguous_seq >= self.last_seq:
                return
            self.gap_fills += 1
            before = self.contiguous_seq
            await self.gap_fill(before)
            with contextlib.suppress(AssertionError):
                await self.wait_until(lambda: self.contiguous_seq > before, timeout=10, what="the gap filled")
            await asyncio.sleep(0.2)

    async def send(self, frame: dict) -> bool:
        """Send a frame if the socket is open and authenticated (as ReconnectingSocket.send)."""
        if self.ws is None or not self.authenticated:
            return False
        try:
            await self.ws.send(json.dumps(frame))
            return True
        except websockets.ConnectionClosed:
            return False

    def _notify(self) -> None:
        self.changed.set()

    # --- What a test does with it ------------------------------------------------------
    async def say(self, body: str) -> str:
        """Send a message (kept pending until the server confirms it); its client_msg_id."""
        self.sent += 1
        client_msg_id = f"{self.name}-{self.sent}"
        self.pending[client_msg_id] = body
        await self.deliver(client_msg_id, body)
        return client_msg_id

    async def deliver(self, client_msg_id: str, body: str) -> None:
        await self.send(self.send_frame(client_msg_id, body))

    async def wait_until(self, predicate, *, timeout: float = 90.0, what: str = "") -> None:
        """Until predicate() holds; `timeout` only guards against a hang."""
        try:
            async with asyncio.timeout(timeout):
                while not predicate():
                    self.changed.clear()
                    # Woken by this client's frames; the short timeout re-checks conditions
                    # that also read another client's state.
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self.changed.wait(), 0.2)
        except TimeoutError:
            raise AssertionError(f"{self.name}: no {what or 'condition'} within {timeout} s; {self.describe()}") from None

    def describe(self) -> str:
        return (
            f"on {self.upstreams}, drops {self.drops}, authenticated {self.authenticated}, pending {list(self.pending)}, "
            f"seqs {sorted(self.messages)}, acked {self.acked}, last frames {[f['type'] + ':' + str(f.get('code', f.get('seq', ''))) for f in self.frames[-12:]]}"
        )

    def frame_seen(self, frame_type: str) -> dict | None:
        return next((frame for frame in self.frames if frame["type"] == frame_type), None)

    def client_msg_ids_from(self, sender: str) -> dict[str, int]:
        """client_msg_id -> seq of the messages from `sender` this client holds."""
        return {m["client_msg_id"]: seq for seq, m in self.messages.items() if m["sender"] == sender and m["client_msg_id"]}

    async def stop(self) -> None:
        self.stopped = True
        for task in (self.reader, self.filler, *getattr(self, "posts", ())):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        if self.ws is not None:
            await self.ws.close()


class WidgetClient(ResumingClient):
    """The customer's chat page: static/chat/socket.js, frames.js, screens/live-chat.js."""

    sender = "customer"

    def __init__(self, proxy: NginxProxy, *, brand_host: str, conversation_id: int, token: str, reconnect: bool = True, name: str = "customer"):
        super().__init__(proxy, reconnect=reconnect, name=name)
        self.host = f"{brand_host}:{proxy.port}"
        self.conversation_id = conversation_id
        self.token = token

    def url(self) -> str:
        return f"ws://{self.host}/ws/widget/v1/conversations/{self.conversation_id}/"

    def headers(self) -> dict:
        return {"Origin": "https://shop.example"}

    def auth_frame(self) -> dict:
        return {"type": "auth", "token": self.token, "after_seq": self.last_seq}

    def send_frame(self, client_msg_id: str, body: str) -> dict:
        return {"type": "message.send", "client_msg_id": client_msg_id, "body": body}

    async def gap_fill(self, after_seq: int) -> None:
        # fillGap: GET .../messages?after_seq=N over HTTP (through the proxy too).
        path = f"/api/widget/v1/conversations/{self.conversation_id}/messages?after_seq={after_seq}"
        status, _, body = await asyncio.to_thread(self.proxy.get, path, host=self.host, headers={"Authorization": f"Bearer {self.token}"})
        if status == 200:
            for frame in json.loads(body)["messages"]:
                self.record(frame)
            self._notify()


class AgentClient(ResumingClient):
    """The workspace: static/workspace/socket.js and the chat tab, with an agent token.
    After every auth.ok it subscribes to its chat with the highest seq it holds
    (`resubscribeTabs`). A gap is asked for the same way (`subscribe` with the last seq
    before it), which the workspace's chat tab does not do yet: a customer message stored
    by a server killed before it published is then missing from the agent's tab until it
    subscribes again (docs/reliability.md, "Not yet done")."""

    sender = "agent"

    def __init__(self, proxy: NginxProxy, *, token: str, origin: str | None = None, reconnect: bool = False, replies: str = "socket", name: str = "agent"):
        super().__init__(proxy, reconnect=reconnect, name=name)
        self.token = token
        self.origin = origin or f"http://localhost:{proxy.port}"
        self.brand: str | None = None
        self.conversation_id: int | None = None
        # "socket": message.send frames. "http": POST .../messages as the chat tab sends a
        # reply, sent again with the same client_msg_id until a 200/201 answers.
        self.replies = replies
        self.resends_on_auth = replies == "socket"
        self.posts: set[asyncio.Task] = set()
        self.http_failures: list = []  # (client_msg_id, status or error) of each failed POST
        self.http_stored_before_failure: list[str] = []  # a retry found it stored (200)

    async def deliver(self, client_msg_id: str, body: str) -> None:
        if self.replies == "socket":
            return await super().deliver(client_msg_id, body)
        task = asyncio.create_task(self._post_until_confirmed(client_msg_id, body))
        self.posts.add(task)
        task.add_done_callback(self.posts.discard)

    async def _post_until_confirmed(self, client_msg_id: str, body: str, tries: int = 40) -> None:
        path = f"/api/agent/v1/brands/{self.brand}/conversations/{self.conversation_id}/messages"
        data = json.dumps({"body": body, "client_msg_id": client_msg_id, "internal": False}).encode()
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}
        delay = 0.4
        for _ in range(tries):
            try:
                status, _, answer = await asyncio.to_thread(self.proxy.get, path, host=f"localhost:{self.proxy.port}", method="POST", data=data, headers=headers)
            except OSError as exc:  # the proxy cut the connection
                status, answer = repr(exc), b""
            if status in (200, 201):
                if status == 200 and any(failed == client_msg_id for failed, _ in self.http_failures):
                    self.http_stored_before_failure.append(client_msg_id)
                self.record(json.loads(answer))
                self._notify()
                return
            # A 502/504 (the process died under the request, nginx does not pass a POST on)
            # or a cut connection: the message may be stored; the same client_msg_id makes
            # sending it again safe.
            self.http_failures.append((client_msg_id, status))
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)

    def url(self) -> str:
        return f"ws://localhost:{self.proxy.port}/ws/agent/v1/"

    def headers(self) -> dict:
        return {"Origin": self.origin}

    def auth_frame(self) -> dict:
        return {"type": "auth", "token": self.token}

    def send_frame(self, client_msg_id: str, body: str) -> dict:
        return {"type": "message.send", "brand": self.brand, "conversation_id": self.conversation_id, "client_msg_id": client_msg_id, "body": body, "internal": False}

    def mine(self, frame: dict) -> bool:
        return frame.get("conversation_id") == self.conversation_id and self.conversation_id is not None

    async def open_chat(self, *, brand: str, conversation_id: int) -> None:
        self.brand, self.conversation_id = brand, conversation_id
        await self.send(self.subscribe_frame(0))

    def subscribe_frame(self, after_seq: int) -> dict:
        return {"type": "subscribe", "brand": self.brand, "conversation_id": self.conversation_id, "after_seq": after_seq}

    async def authenticated_again(self) -> None:
        if self.conversation_id is not None:
            await self.send(self.subscribe_frame(self.last_seq))

    async def gap_fill(self, after_seq: int) -> None:
        await self.send(self.subscribe_frame(after_seq))
