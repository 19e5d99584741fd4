"""Many sockets on one server process (issue 11): 1,000 conversations, 2,000 sockets, agents
replying, and a ramp to the socket count at which p95 passes 250 ms.

The real stack: one uvicorn process serving config.asgi against a database of its own.
The bench creates the brands and agents (tenants.services.brand_create, agents in bulk),
then starts every conversation through the widget API (`POST /api/widget/v1/conversations`,
then `.../escalate`); routing offers each chat to an agent and the agent accepts it
through the agent API. Each conversation has one customer socket (the widget socket).

The split of sockets: agents hold AGENT_CAPACITY chats (10) each, and each agent has as
many agent sockets open (the workspace open in several tabs or on several devices), so
sockets = 2 x conversations: 1,000 customer sockets + 100 agents x 10 agent sockets.
The agent socket carries every chat the agent holds, so each message reaches the
customer and all ten of the agent's sockets (11 frames out per message). Each of an
agent's chats is answered from one of its sockets (chat i from socket i); latency is
taken at that socket.

Traffic: every customer sends one message every INTERVAL_SECONDS (5 s), spread evenly,
so 1,000 conversations send 200 messages/s in all, whatever the server does (open loop);
the client plays the agents, who reply to each customer message as soon as it arrives
(another 200/s). Latency: the sender's `message.send` to the other side's socket
receiving that `message` frame, both directions, time.monotonic in this one client
process. A message is acknowledged when the sender's own socket gets it back (the server
sends it to both sides after it is stored); lost = acknowledged but never received by
the other side after the drain: must be 0 (the bench exits 1 otherwise).

Baseline, same run, same uvicorn settings, same client code, same counts and rates:
bench/echo_server.py, a pure ASGI app that relays each message to the conversation's
sockets from memory. The two take turns step by step (echo first), so a spell of load
from elsewhere on this shared machine falls on both rather than on one.

The ramp: socket counts SOCKET_STEPS, each step adding conversations (on a brand of its
own, so the new brand's queue events reach no socket already open) and keeping the
earlier ones open and talking. The knee is the first step whose p95 (both directions
together) passes 250 ms.

Past the knee (and past HEADLINE_SOCKETS) the real server is not driven further: its
queue only grows. The echo goes on to the last step.

Also measured: the server's PostgreSQL connections (pg_stat_activity by application
name, as tests/reliability/servers.py counts them), its RSS and CPU (psutil; the CPU per
message is the figure that depends least on the rest of this shared machine), and this
client's CPU and event-loop lag, to show whether the client kept up.

All traffic goes to 127.0.0.1; Redis database 9 with a channel-layer prefix of its own.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field

from bench.message_latency import free_port

DATABASE = "helpdesk_bench_load_sockets"
REDIS_DB = "9"  # channel layer, cache and broker of the bench server: nobody else's
CHANNEL_LAYER_PREFIX = "bench-load-sockets."
SOCKET_STEPS = (200, 400, 600, 800, 1000, 2000, 3000, 4000)
HEADLINE_SOCKETS = 2000
AGENT_CAPACITY = 10  # chats per agent, and agent sockets per agent
INTERVAL_SECONDS = 5.0  # each customer sends one message this often
WARMUP_SECONDS = 5.0
MEASURE_SECONDS = 20.0
DRAIN_SECONDS = 10.0  # after sending stops, wait this long without a frame arriving before counting losses
DRAIN_LIMIT = 180.0
KNEE_MS = 250.0
# Setup requests in flight at once (conversation start, escalate, accept), and sockets
# being opened at once: enough to keep the server busy, few enough not to time out.
SETUP_CONCURRENCY = 8
CONNECT_CONCURRENCY = 50
AGENT_PASSWORD = "bench-pass-123"

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PYTHON = sys.executable


def _percentile(ordered: list[float], q: float) -> float:
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


# --- The servers ------------------------------------------------------------------------------

class Server:
    """One uvicorn process; both sides get the same command line but the application."""

    def __init__(self, *, name: str, app: str, env: dict):
        self.name = name
        self.port = free_port()
        self.application_name = f"bench-load-sockets-{self.port}"
        self.env = {**env, "PGAPPNAME": self.application_name}
        self.app = app
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [PYTHON, "-m", "uvicorn", self.app, "--host", "127.0.0.1", "--port", str(self.port), "--ws", "websockets",
             "--lifespan", "off", "--log-level", "warning", "--no-access-log", "--backlog", "4096"],
            cwd=HERE, env=self.env,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} server exited with {self.process.returncode}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"{self.name} server did not start")

    def rss_mib(self) -> float:
        import psutil

        return psutil.Process(self.process.pid).memory_info().rss / 2**20

    def cpu_seconds(self) -> float:
        import psutil

        times = psutil.Process(self.process.pid).cpu_times()
        return times.user + times.system

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


# --- Who talks to whom --------------------------------------------------------------------------

@dataclass
class Chat:
    id: int
    brand: str  # slug; also the customer's host
    customer_auth: dict
    agent: int  # index into Plan.agents
    answering_socket: int  # which of the agent's sockets answers this chat

    @property
    def key(self) -> tuple[str, int]:
        return self.brand, self.id  # conversation ids are per brand schema


@dataclass
class Agent:
    auth: dict
    chats: list[int] = field(default_factory=list)


@dataclass
class Plan:
    chats: list[Chat] = field(default_factory=list)
    agents: list[Agent] = field(default_factory=list)


def _echo_grow(plan: Plan, *, conversations: int, capacity: int) -> None:
    """The echo server keeps nothing: a customer's token is its conversation id, an
    agent's names the conversations it holds."""
    first = len(plan.chats)
    for start in range(first, first + conversations, capacity):
        ids = list(range(start + 1, min(start + capacity, first + conversations) + 1))
        agent_index = len(plan.agents)
        plan.agents.append(Agent(auth={"type": "auth", "token": "agent:" + ",".join(map(str, ids))}, chats=ids))
        for j, conversation_id in enumerate(ids):
            plan.chats.append(Chat(id=conversation_id, brand="echo", customer_auth={"type": "auth", "token": str(conversation_id), "after_seq": 0},
                                   agent=agent_index, answering_socket=j))


def _http(port: int, method: str, path: str, *, host: str, body: dict | None = None, token: str | None = None, attempts: int = 3) -> dict:
    headers = {"Host": f"{host}:{port}", "Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    for attempt in range(attempts):
        request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            if exc.code < 500 or attempt == attempts - 1:
                raise RuntimeError(f"{method} {path}: {exc.code} {exc.read()[:300]!r}") from None
        except (urllib.error.URLError, TimeoutError):
            if attempt == attempts - 1:
                raise
        time.sleep(0.5 * (attempt + 1))
    raise AssertionError("unreachable")


def _real_grow(plan: Plan, *, port: int, step: int, conversations: int, capacity: int, timings: dict) -> None:
    """A brand of its own for this step, its agents online, `conversations` chats started
    and escalated through the widget API and accepted through the agent API."""
    from django.db import connections, transaction
    from django_tenants.utils import schema_context

    from helpdesk.models import AgentProfile, AgentToken, Staffing, User
    from knowledge.models import Category
    from routing import services as routing
    from routing.models import AgentState, QueueEntry
    from tenants.models import WEEKDAYS, Brand
    from tenants.services import brand_create

    try:
        slug = f"load{step}"
        brand = brand_create(
            name=f"Load {step}", slug=slug, max_queue_length=100_000, offer_timeout_seconds=3600, offline_when_no_agent=False,
            max_wait_seconds=None, business_hours={day: [["00:00", "23:59"]] for day in WEEKDAYS},
        ).brand
        with schema_context(brand.schema_name):
            Category.objects.get_or_create(slug="general", defaults={"name": "General", "position": 0})
        agent_count = -(-conversations // capacity)
        with transaction.atomic():
            users = User.objects.bulk_create(
                [User(username=f"load-{step}-agent-{i}", email=f"load-{step}-agent-{i}@example.com") for i in range(agent_count)]
            )
            agents = AgentProfile.objects.bulk_create(
                [AgentProfile(user=u, display_name=f"Agent {step}.{i}", max_concurrent_chats=capacity) for i, u in enumerate(users)]
            )
            Staffing.objects.bulk_create([Staffing(agent=a, brand=brand, role=Staffing.Role.AGENT, categories=[]) for a in agents])
        tokens = {a.id: AgentToken.issue(user=a.user, label="load bench")[1] for a in agents}
        for agent in agents:
            routing.presence_set(agent=agent, presence=AgentState.Presence.ONLINE)
        connections.close_all()

        host = f"{slug}.localhost"

        def start(i: int) -> tuple[int, str, int]:
            created = _http(port, "POST", "/api/widget/v1/conversations", host=host, body={
                "name": f"Customer {step}.{i}", "email": f"c{step}-{i}@example.com", "customer_id": f"C-{step}-{i}",
                "category": "general", "summary": "Where is my parcel?", "product_id": "",
                "client_key": f"load-{step}-{i:06d}-{os.getpid()}",
            })
            _http(port, "POST", f"/api/widget/v1/conversations/{created['id']}/escalate", host=host, body={}, token=created["token"])
            return created["id"], created["token"], created["last_seq"]

        phase = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(SETUP_CONCURRENCY) as pool:
            started = list(pool.map(start, range(conversations)))
        timings["started and escalated"] = time.monotonic() - phase
        offered = dict(QueueEntry.objects.filter(brand=brand).values_list("conversation_id", "offered_agent_id"))
        for _ in range(5):
            if all(offered.get(cid) for cid, _, _ in started):
                break
            routing.dispatch(brand=brand)
            offered = dict(QueueEntry.objects.filter(brand=brand).values_list("conversation_id", "offered_agent_id"))
        missing = [cid for cid, _, _ in started if not offered.get(cid)]
        if missing:
            raise RuntimeError(f"{len(missing)} conversations of step {step} were offered to nobody")
        connections.close_all()

        def accept(item: tuple[int, str, int]) -> None:
            conversation_id = item[0]
            _http(port, "POST", f"/api/agent/v1/brands/{slug}/conversations/{conversation_id}/accept", host="localhost", body={},
                  token=tokens[offered[conversation_id]])

        phase = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(SETUP_CONCURRENCY) as pool:
            list(pool.map(accept, started))
        timings["accepted"] = time.monotonic() - phase

        by_agent: dict[int, list[tuple[int, str, int]]] = {a.id: [] for a in agents}
        for item in started:
            by_agent[offered[item[0]]].append(item)
        for agent in agents:
            held = sorted(by_agent[agent.id])
            agent_index = len(plan.agents)
            plan.agents.append(Agent(auth={"type": "auth", "token": tokens[agent.id]}, chats=[cid for cid, _, _ in held]))
            for j, (conversation_id, token, last_seq) in enumerate(held):
                # accepting the chat added a system line; the socket's catch-up sends it
                plan.chats.append(Chat(id=conversation_id, brand=slug, customer_auth={"type": "auth", "token": token, "after_seq": last_seq},
                                       agent=agent_index, answering_socket=j % capacity))
    finally:
        connections.close_all()


# --- The client ------------------------------------------------------------------------------

@dataclass
class Record:
    sent: float
    direction: str  # "c2a" or "a2c"
    counted: bool
    acked: float | None = None
    received: float | None = None


class Fleet:
    """One side's open sockets, the traffic over them and what it measured."""

    def __init__(self, *, name: str, port: int, capacity: int):
        self.name = name
        self.port = port
        self.capacity = capacity
        self.plan = Plan()
        self.customer_sockets: dict[tuple, object] = {}  # chat key -> socket
        self.agent_sockets: dict[int, list] = {}  # agent index -> its sockets
        self.chats: dict[tuple, Chat] = {}
        self.records: dict[str, Record] = {}
        self.copies: dict[str, int] = {}
        self.errors: dict[str, int] = {}
        self.readers: list[asyncio.Task] = []
        self.counting = False
        self.serial = 0

    @property
    def sockets(self) -> int:
        return len(self.customer_sockets) + sum(len(s) for s in self.agent_sockets.values())

    async def _open(self, host: str, path: str, auth: dict):
        import websockets

        ws = await websockets.connect(
            f"ws://{host}:{self.port}{path}", host="127.0.0.1", port=self.port, max_queue=None, open_timeout=60,
            ping_interval=None, compression=None, close_timeout=2,
        )
        await ws.send(json.dumps(auth))
        async with asyncio.timeout(60):
            while True:
                frame = json.loads(await ws.recv())
                if frame["type"] == "auth.ok":
                    return ws
                if frame["type"] == "error":
                    raise RuntimeError(f"{path}: {frame}")

    async def connect_new(self) -> None:
        """Open the sockets of every chat and agent in the plan not open yet."""
        gate = asyncio.Semaphore(CONNECT_CONCURRENCY)

        async def gated(coro):
            async with gate:
                return await coro

        new_agents = [i for i in range(len(self.plan.agents)) if i not in self.agent_sockets]
        new_chats = [c for c in self.plan.chats if c.key not in self.customer_sockets]
        for agent_index in new_agents:
            agent = self.plan.agents[agent_index]
            sockets = await asyncio.gather(*(gated(self._open("localhost", "/ws/agent/v1/", agent.auth)) for _ in range(self.capacity)))
            self.agent_sockets[agent_index] = list(sockets)
            for j, ws in enumerate(sockets):
                self.readers.append(asyncio.create_task(self._agent_reader(ws, agent_index, j)))
        opened = await asyncio.gather(
            *(gated(self._open(f"{c.brand}.localhost", f"/ws/widget/v1/conversations/{c.id}/", c.customer_auth)) for c in new_chats)
        )
        for chat, ws in zip(new_chats, opened):
            self.chats[chat.key] = chat
            self.customer_sockets[chat.key] = ws
            self.readers.append(asyncio.create_task(self._customer_reader(ws, chat)))

    def _error(self, frame: dict) -> None:
        code = str(frame.get("code"))
        self.errors[code] = self.errors.get(code, 0) + 1

    async def _customer_reader(self, ws, chat: Chat) -> None:
        try:
            async for raw in ws:
                now = time.monotonic()
                frame = json.loads(raw)
                kind = frame.get("type")
                if kind == "message":
                    record = self.records.get(frame.get("client_msg_id"))
                    if record is None:
                        continue
                    if frame.get("sender") == "customer" and record.acked is None:
                        record.acked = now
                    elif frame.get("sender") == "agent" and record.received is None:
                        record.received = now
                elif kind == "error":
                    self._error(frame)
        except Exception as exc:  # a socket that dies shows as lost messages, and here
            self.errors[f"customer socket: {type(exc).__name__}"] = self.errors.get(f"customer socket: {type(exc).__name__}", 0) + 1

    async def _agent_reader(self, ws, agent_index: int, socket_index: int) -> None:
        try:
            async for raw in ws:
                now = time.monotonic()
                frame = json.loads(raw)
                kind = frame.get("type")
                if kind == "message":
                    key = frame.get("client_msg_id")
                    record = self.records.get(key)
                    if record is None:
                        continue
                    chat = self.chats.get((frame.get("brand"), frame.get("conversation_id")))
                    answering = chat is not None and chat.answering_socket == socket_index and chat.agent == agent_index
                    if frame.get("sender") == "customer":
                        self.copies[key] = self.copies.get(key, 0) + 1
                        if answering and record.received is None:
                            record.received = now
                            await self._reply(ws, chat, key, record.counted)
                    elif frame.get("sender") == "agent" and answering and record.acked is None:
                        record.acked = now
                elif kind == "error":
                    self._error(frame)
        except Exception as exc:
            self.errors[f"agent socket: {type(exc).__name__}"] = self.errors.get(f"agent socket: {type(exc).__name__}", 0) + 1

    async def _reply(self, ws, chat: Chat, key: str, counted: bool) -> None:
        reply = f"r{key}"
        self.records[reply] = Record(sent=time.monotonic(), direction="a2c", counted=counted)
        await ws.send(json.dumps({"type": "message.send", "brand": chat.brand, "conversation_id": chat.id, "client_msg_id": reply,
                                  "body": "Thanks for waiting: it left the depot this morning."}))

    async def _send(self, chat: Chat) -> None:
        self.serial += 1
        key = f"c{chat.brand}-{chat.id}-{self.serial}"
        self.records[key] = Record(sent=time.monotonic(), direction="c2a", counted=self.counting)
        await self.customer_sockets[chat.key].send(json.dumps({"type": "message.send", "client_msg_id": key, "body": "Hello, where is my parcel?"}))

    async def run_step(self, *, interval: float, warmup: float, measure: float, drain: float, sample) -> dict:
        """Every conversation open sends once per `interval`, evenly spread (open loop);
        only messages sent during the `measure` window after `warmup` are counted. Then
        wait up to `drain` for every message to arrive."""
        import psutil

        self.records.clear()
        self.copies.clear()
        self.errors.clear()
        chats = [self.chats[key] for key in self.customer_sockets]
        rate = len(chats) / interval
        samples: list[dict] = []
        lags: list[float] = []
        me = psutil.Process()
        first = await sample()
        started = time.monotonic()
        measure_from, measure_to = started + warmup, started + warmup + measure
        sent = 0
        cpu_from = None
        next_sample = measure_from
        while True:
            now = time.monotonic()
            if now >= measure_to:
                break
            if not self.counting and now >= measure_from:
                self.counting = True
                cpu_from = (me.cpu_times(), now)
            due = int((now - started) * rate)
            while sent < due:
                await self._send(chats[sent % len(chats)])
                sent += 1
            if self.counting and now >= next_sample:
                next_sample = now + 1.0
                samples.append(await sample())
            tick = time.monotonic()
            await asyncio.sleep(0.005)
            lags.append(time.monotonic() - tick - 0.005)
        self.counting = False
        cpu_to = (me.cpu_times(), time.monotonic())
        client_cpu = ((cpu_to[0].user + cpu_to[0].system) - (cpu_from[0].user + cpu_from[0].system)) / (cpu_to[1] - cpu_from[1])
        # A late message is not a lost one: keep waiting while frames still arrive, and
        # give up only after `drain` seconds without progress (or DRAIN_LIMIT in all).
        drain_started = last_progress = time.monotonic()
        arrived = -1
        while time.monotonic() - last_progress < drain and time.monotonic() - drain_started < DRAIN_LIMIT:
            done = sum(1 for r in self.records.values() if r.received is not None and r.acked is not None)
            if done == len(self.records):
                break
            if done != arrived:
                arrived, last_progress = done, time.monotonic()
            await asyncio.sleep(0.2)
        drained = time.monotonic() - drain_started
        measured = list(samples)
        samples.append(await sample())
        # Server CPU per message over the whole step, until the last message arrived:
        # every message the step sent was handled by then, however far behind the server
        # fell, and it depends far less on the rest of this shared machine than latency.
        cpu_per_message_ms = (samples[-1]["cpu"] - first["cpu"]) * 1000 / max(1, len(self.records))
        figures = self._figures(chats=len(chats), samples=samples, lags=lags, client_cpu=client_cpu, measure=measure)
        figures["drained_seconds"] = drained
        figures["cpu_per_message_ms"] = cpu_per_message_ms
        # The server's share of a core while measuring: near 100 % it was the bottleneck
        # itself; well under while latency grew, it was waiting (for the database, or
        # for a core the rest of this shared machine held).
        figures["server_cpu"] = (
            (measured[-1]["cpu"] - measured[0]["cpu"]) / (measured[-1]["at"] - measured[0]["at"]) if len(measured) > 1 else float("nan")
        )
        return figures

    def _figures(self, *, chats: int, samples: list[dict], lags: list[float], client_cpu: float, measure: float) -> dict:
        latencies = {"c2a": [], "a2c": []}
        for record in self.records.values():
            if record.counted and record.received is not None:
                latencies[record.direction].append((record.received - record.sent) * 1000)
        both = sorted(latencies["c2a"] + latencies["a2c"])
        lost = sum(1 for r in self.records.values() if r.acked is not None and r.received is None)
        unacked = sum(1 for r in self.records.values() if r.acked is None)
        missing_copies = sum(max(0, self.capacity - self.copies.get(k, 0)) for k, r in self.records.items() if r.direction == "c2a" and r.acked is not None)
        counted = sum(1 for r in self.records.values() if r.counted)
        ordered_lags = sorted(lags)
        return {
            "sockets": self.sockets, "conversations": chats,
            "messages": counted, "rate": counted / measure,
            "p50": _percentile(both, 0.50), "p95": _percentile(both, 0.95), "p99": _percentile(both, 0.99),
            "p95_c2a": _percentile(sorted(latencies["c2a"]), 0.95), "p95_a2c": _percentile(sorted(latencies["a2c"]), 0.95),
            "lost": lost, "unacked": unacked, "missing_copies": missing_copies, "errors": dict(self.errors),
            "rss_mib": max(s["rss_mib"] for s in samples), "db_connections": max(s["db_connections"] for s in samples),
            "client_cpu": client_cpu, "loop_lag_p99_ms": _percentile(ordered_lags, 0.99) * 1000,
        }

    async def close(self) -> None:
        for task in self.readers:
            task.cancel()
        sockets = list(self.customer_sockets.values()) + [ws for group in self.agent_sockets.values() for ws in group]
        for start in range(0, len(sockets), 200):
            await asyncio.gather(*(ws.close() for ws in sockets[start:start + 200]), return_exceptions=True)


# --- Running it all -----------------------------------------------------------------------------

def _db_connections(dsn: str, application_name: str) -> int:
    import psycopg

    with psycopg.connect(dsn, autocommit=True, application_name="bench-load-sockets-probe") as conn:
        return conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s OR (application_name = 'helpdesk-socket-messages' AND datname = current_database())",
            [application_name],
        ).fetchone()[0]


def _fmt(value: float, unit: str = "ms") -> str:
    return "n/a" if value != value else f"{value:,.1f} {unit}"


def _per_core(cpu_per_message_ms: float) -> str:
    # A step too short for the process clock to tick (a smoke run) measures no CPU at all.
    if not cpu_per_message_ms or cpu_per_message_ms != cpu_per_message_ms:
        return "n/a"
    return f"{1000 / cpu_per_message_ms:,.0f}"


def _ratio(ours: float, echo: float) -> str:
    if ours != ours or echo != echo or echo == 0:
        return "n/a"
    return f"{ours / echo:.2f}x"


async def _ramp(args, real: Server, echo: Server, dsn: str) -> list[tuple[dict, dict]]:
    fleets = {"echo": Fleet(name="echo", port=echo.port, capacity=args.capacity), "ours": Fleet(name="ours", port=real.port, capacity=args.capacity)}
    servers = {"echo": echo, "ours": real}
    rows = []
    knee_reached = False
    try:
        for step, sockets in enumerate(args.steps, start=1):
            conversations = sockets // 2
            figures = {}
            for side in ("echo", "ours"):
                if side == "ours" and knee_reached and sockets > args.headline:
                    continue
                fleet = fleets[side]
                grow = conversations - len(fleet.plan.chats)
                setup_started = time.monotonic()
                timings: dict[str, float] = {}
                if side == "echo":
                    _echo_grow(fleet.plan, conversations=grow, capacity=args.capacity)
                else:
                    await asyncio.to_thread(_real_grow, fleet.plan, port=real.port, step=step, conversations=grow, capacity=args.capacity, timings=timings)
                phase = time.monotonic()
                await fleet.connect_new()
                timings["sockets opened"] = time.monotonic() - phase
                setup = time.monotonic() - setup_started
                server = servers[side]

                async def sample(server=server, side=side):
                    connections = await asyncio.to_thread(_db_connections, dsn, server.application_name) if side == "ours" else 0
                    return {"rss_mib": server.rss_mib(), "db_connections": connections, "cpu": server.cpu_seconds(), "at": time.monotonic()}

                result = await fleet.run_step(interval=args.interval, warmup=args.warmup, measure=args.measure, drain=args.drain, sample=sample)
                result["setup_seconds"] = setup
                figures[side] = result
                print(
                    f"  {side:>4} {result['sockets']:>5} sockets: {result['rate']:6.1f} msg/s  p50 {_fmt(result['p50'])}  p95 {_fmt(result['p95'])}  "
                    f"p99 {_fmt(result['p99'])}  lost {result['lost']}  unacked {result['unacked']}  rss {result['rss_mib']:.0f} MiB  "
                    f"db {result['db_connections']}  server cpu {result['server_cpu']:.0%} ({result['cpu_per_message_ms']:.2f} ms/msg)  client cpu {result['client_cpu']:.0%}  loop lag p99 {result['loop_lag_p99_ms']:.1f} ms  "
                    f"(drained in {result['drained_seconds']:.0f} s; setup {setup:.0f} s: {', '.join(f'{k} {v:.0f} s' for k, v in timings.items())}){'  errors ' + str(result['errors']) if result['errors'] else ''}",
                    flush=True,
                )
            rows.append((figures.get("ours"), figures["echo"]))
            if figures.get("ours") and figures["ours"]["p95"] > KNEE_MS:
                knee_reached = True
    finally:
        for fleet in fleets.values():
            await fleet.close()
    return rows


def _knee(rows: list[tuple[dict, dict]], side: int) -> tuple[int | None, int]:
    """The first step's socket count whose p95 passed KNEE_MS, and the largest tried."""
    tried = [row[side] for row in rows if row[side] is not None]
    for figures in tried:
        if figures["p95"] > KNEE_MS:
            return figures["sockets"], tried[-1]["sockets"]
    return None, tried[-1]["sockets"] if tried else 0


def _per_socket(rows, side: int, at: dict) -> str:
    """Memory per socket: the growth from the first step to `at` over the sockets added
    (the first step also loads what a first conversation needs, such as the models)."""
    first = rows[0][side]
    if first is None or at["sockets"] == first["sockets"]:
        return "n/a"
    return f"{(at['rss_mib'] - first['rss_mib']) * 1024 / (at['sockets'] - first['sockets']):.0f} KiB"


def _report(args, rows, idle_rss: dict) -> int:
    print(f"\nuvicorn 1 process each (--ws websockets), same settings; {args.capacity} chats and {args.capacity} agent sockets per agent; "
          f"each customer sends every {args.interval:g} s and the agent replies to each; {args.warmup:g} s warm-up, {args.measure:g} s measured per step")
    print(f"idle RSS before any socket: ours {idle_rss['ours']:.0f} MiB, echo {idle_rss['echo']:.0f} MiB\n")
    header = ("| sockets | msg/s | echo p50 / p95 / p99 | ours p50 / p95 / p99 | p95 ratio | p99 ratio | RSS echo / ours | DB conns "
              "| lost echo / ours | server CPU echo / ours | CPU per msg echo / ours | client CPU echo / ours |")
    print(header)
    print("|" + " --- |" * (header.count("|") - 1))
    for ours, echo in rows:
        echo_cells = f"{echo['p50']:.1f} / {echo['p95']:.1f} / {echo['p99']:.1f} ms"
        if ours is None:
            print(f"| {echo['sockets']:,} | {echo['rate']:.0f} | {echo_cells} | not run (past the knee) | | | {echo['rss_mib']:.0f} / - MiB | "
                  f"| {echo['lost']} / - | {echo['server_cpu']:.0%} / - | {echo['cpu_per_message_ms']:.2f} / - ms | {echo['client_cpu']:.0%} / - |")
            continue
        print(
            f"| {ours['sockets']:,} | {ours['rate']:.0f} | {echo_cells} | "
            f"{ours['p50']:.1f} / {ours['p95']:.1f} / {ours['p99']:.1f} ms | {_ratio(ours['p95'], echo['p95'])} | {_ratio(ours['p99'], echo['p99'])} | "
            f"{echo['rss_mib']:.0f} / {ours['rss_mib']:.0f} MiB | {ours['db_connections']} | {echo['lost']} / {ours['lost']} | "
            f"{echo['server_cpu']:.0%} / {ours['server_cpu']:.0%} | {echo['cpu_per_message_ms']:.2f} / {ours['cpu_per_message_ms']:.2f} ms | "
            f"{echo['client_cpu']:.0%} / {ours['client_cpu']:.0%} |"
        )
    ours_knee, ours_max = _knee(rows, 0)
    echo_knee, echo_max = _knee(rows, 1)
    headline = next(((o, e) for o, e in rows if o is not None and o["sockets"] == args.headline), None)
    print()
    if headline:
        ours, echo = headline
        print(f"At {args.headline:,} sockets ({args.headline // 2:,} conversations):")
        print(f"    p95 {ours['p95']:.1f} ms vs echo {echo['p95']:.1f} ms: {_ratio(ours['p95'], echo['p95'])}   "
              f"(customer to agent {ours['p95_c2a']:.1f} ms, agent to customer {ours['p95_a2c']:.1f} ms)")
        print(f"    p99 {ours['p99']:.1f} ms vs echo {echo['p99']:.1f} ms: {_ratio(ours['p99'], echo['p99'])}")
        print(f"    server RSS {ours['rss_mib']:.0f} MiB vs echo {echo['rss_mib']:.0f} MiB: {_ratio(ours['rss_mib'], echo['rss_mib'])}   "
              f"(per socket from the first step: ours {_per_socket(rows, 0, ours)}, echo {_per_socket(rows, 1, echo)})")
        print(f"    PostgreSQL connections held by the server: {ours['db_connections']} (most seen while measuring)")
        # A whole core for the server saturates near 1000 / this many msg/s.
        ours_cpu, echo_cpu = ours["cpu_per_message_ms"], echo["cpu_per_message_ms"]
        print(f"    server CPU per message (stored and sent to its {args.capacity + 1} sockets): ours {ours_cpu:.2f} ms, echo {echo_cpu:.2f} ms: "
              f"{_ratio(ours_cpu, echo_cpu)}; a whole core would carry about {_per_core(ours_cpu)} msg/s (ours) and {_per_core(echo_cpu)} (echo)")
    ours_text = f"{ours_knee:,} sockets" if ours_knee else f"not reached up to {ours_max:,}"
    echo_text = f"{echo_knee:,} sockets" if echo_knee else f"not reached up to {echo_max:,}"
    if ours_knee and echo_knee:
        knee_ratio = f"{ours_knee / echo_knee:.2f}x"
    elif ours_knee:
        knee_ratio = f"<= {ours_knee / echo_max:.2f}x (echo never passed)"
    elif echo_knee:
        knee_ratio = f">= {ours_max / echo_knee:.2f}x"
    else:
        knee_ratio = "n/a (neither passed)"
    print(f"p95 passes {KNEE_MS:.0f} ms at: ours {ours_text}, echo {echo_text}; knee ratio {knee_ratio}")
    lost = sum(o["lost"] for o, _ in rows if o) + sum(e["lost"] for _, e in rows)
    unacked = sum(o["unacked"] for o, _ in rows if o) + sum(e["unacked"] for _, e in rows)
    copies = sum(o["missing_copies"] for o, _ in rows if o) + sum(e["missing_copies"] for _, e in rows)
    errors: dict = {}
    for pair in rows:
        for figures in pair:
            for code, n in (figures or {}).get("errors", {}).items():
                errors[code] = errors.get(code, 0) + n
    print(f"lost messages (acknowledged, never received by the other side): {lost}   never acknowledged: {unacked}   "
          f"agent-socket copies missing: {copies}   error frames: {errors or 0}")
    busiest = max((f["client_cpu"] for pair in rows for f in pair if f), default=0)
    print(f"client: one asyncio process, at most {busiest:.0%} of a core while measuring")
    if lost:
        print(f"FAIL: {lost} lost messages")
        return 1
    return 0


def _parse(argv: list[str]):
    parser = argparse.ArgumentParser(prog="python -m bench.load_sockets", description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", default=",".join(map(str, SOCKET_STEPS)), help="socket counts of the ramp, comma-separated (even)")
    parser.add_argument("--headline", type=int, default=HEADLINE_SOCKETS)
    parser.add_argument("--capacity", type=int, default=AGENT_CAPACITY)
    parser.add_argument("--interval", type=float, default=INTERVAL_SECONDS)
    parser.add_argument("--warmup", type=float, default=WARMUP_SECONDS)
    parser.add_argument("--measure", type=float, default=MEASURE_SECONDS)
    parser.add_argument("--drain", type=float, default=DRAIN_SECONDS)
    parser.add_argument("--database", default=DATABASE)
    args = parser.parse_args(argv)
    args.steps = [int(s) for s in args.steps.split(",")]
    if any(s % (2 * args.capacity) for s in args.steps):
        parser.error(f"every step must be a multiple of {2 * args.capacity} (conversations in whole agents)")
    return args


def main(argv: list[str]) -> int:
    args = _parse(argv)
    env_overrides = {
        "REDIS_DB_CHANNELS": REDIS_DB, "REDIS_DB_CACHE": REDIS_DB, "REDIS_DB_BROKER": REDIS_DB, "CHANNEL_LAYER_PREFIX": CHANNEL_LAYER_PREFIX,
        # Every conversation comes from 127.0.0.1 and each agent accepts ten chats at once.
        "RATE_CONVERSATION_CREATE_IP": "1000000/minute", "RATE_CONVERSATION_CREATE_BRAND": "1000000/minute",
        "API_RATE_PER_CALLER": "1000000/min", "API_RATE_PER_IP": "1000000/min",
    }
    os.environ.update(env_overrides)
    from django.apps import apps

    if not apps.ready:
        from bench.django_setup import setup

        setup(database=args.database)
    from django.conf import settings
    from django.db import connections

    db = settings.DATABASES["default"]
    host, port = db["HOST"] or "127.0.0.1", db["PORT"] or 5432
    dsn = f"host={host} port={port} dbname={db['NAME']} user={db['USER']}"
    env = {**os.environ, **env_overrides, "DATABASE_URL": f"postgres://{db['USER']}@{host}:{port}/{db['NAME']}",
           "DJANGO_SETTINGS_MODULE": "config.settings.local", "DEBUG": "false", "LOG_LEVEL": "WARNING"}
    connections.close_all()
    real = Server(name="ours", app="config.asgi:application", env=env)
    echo = Server(name="echo", app="bench.echo_server:application", env=env)
    try:
        real.start()
        echo.start()
        time.sleep(0.5)
        idle_rss = {"ours": real.rss_mib(), "echo": echo.rss_mib()}
        try:
            import uvloop

            runner = uvloop.run
        except ImportError:
            runner = asyncio.run
        rows = runner(_ramp(args, real, echo, dsn))
    finally:
        real.stop()
        echo.stop()
    return _report(args, rows, idle_rss)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
