"""Customer-to-agent message latency through the real stack, with 1 and with 200
concurrent conversations.

Real stack: uvicorn serving config.asgi:application (Channels, channels-redis, Postgres)
against a database of its own. Customers speak the widget socket protocol on the brand
host, agents the agent socket on the platform host; every agent is online and has
accepted its chats. Latency = from the customer's `message.send` to the agent's socket
receiving that `message` frame.

Baseline, same run, same machine: a bare relay (a plain `websockets` server in its own
process) that per message inserts a row like the chat message into PostgreSQL (psycopg,
a pool of connections), publishes it on Redis pub/sub and pushes it from the subscription
to the agent's socket. Targets: p50 within 2x, p99 within 3x.

The two take turns: ROUNDS rounds each, alternating, over sockets opened once; the
percentiles are over all of a side's rounds. A spell of load from elsewhere on this
shared machine then falls on both sides rather than on whichever ran during it.

All traffic goes to 127.0.0.1 and every wait is bounded.
"""

import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request

DATABASE = "helpdesk_bench_latency"
REDIS_CHANNEL_DB = "9"  # the channel layer's Redis database for this run: nobody else's
AGENTS = 10
AGENT_CAPACITY = 20
SOLO_MESSAGES = 100
CROWD_CONVERSATIONS = 200
CROWD_MESSAGES = 5
WARMUP_MESSAGES = 2
ROUNDS = 3  # the real stack and the relay take turns, each this many times
FRAME_TIMEOUT = 15.0
RUN_TIMEOUT = 180.0

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PYTHON = sys.executable


def free_port() -> int:
    """A free loopback port (bench/load_sockets.py uses it too)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p50 = statistics.median(ordered)
    p99 = ordered[min(len(ordered) - 1, int(round(0.99 * (len(ordered) - 1))))]
    return p50 * 1000, p99 * 1000


# --- Measuring (shared by both sides) -------------------------------------------------------

async def _measure(*, customer_sockets, agent_sockets, conversations, messages_each, customer_frame, agent_matches):
    """Every conversation sends `messages_each` messages one after the other, all
    conversations at once; returns the latencies in seconds."""
    pending: dict[str, asyncio.Future] = {}
    latencies: list[float] = []

    async def agent_reader(ws):
        try:
            async for raw in ws:
                key = agent_matches(json.loads(raw))
                future = pending.get(key) if key else None
                if future is not None and not future.done():
                    future.set_result(time.perf_counter())
        except Exception:
            pass

    async def customer_drain(ws):
        try:
            async for _ in ws:
                pass
        except Exception:
            pass

    readers = [asyncio.create_task(agent_reader(ws)) for ws in agent_sockets]
    drains = [asyncio.create_task(customer_drain(ws)) for ws in customer_sockets]

    async def converse(index, ws, conversation):
        for n in range(-WARMUP_MESSAGES, messages_each):
            key = f"m-{index}-{n}-{time.monotonic_ns()}"
            future = asyncio.get_running_loop().create_future()
            pending[key] = future
            started = time.perf_counter()
            await ws.send(json.dumps(customer_frame(conversation, key)))
            received = await asyncio.wait_for(future, FRAME_TIMEOUT)
            if n >= 0:  # the first messages of a round warm connections and caches up, on both sides
                latencies.append(received - started)
            await asyncio.sleep(0.01)

    try:
        await asyncio.wait_for(
            asyncio.gather(*(converse(i, ws, c) for i, (ws, c) in enumerate(zip(customer_sockets, conversations)))), RUN_TIMEOUT
        )
    finally:
        for task in readers + drains:
            task.cancel()
    return latencies


# --- The real stack ---------------------------------------------------------------------------

def _prepare_real(count: int):
    """Brand, agents online, `count` conversations accepted. Returns what the clients need."""
    from django.db import connection
    from django_tenants.utils import schema_context

    from chat import services as chat_services
    from helpdesk.models import AgentProfile, Staffing, User
    from knowledge.models import Category
    from routing import services as routing
    from routing.models import AgentState, QueueEntry
    from tenants.models import WEEKDAYS, Brand
    from tenants.services import brand_create

    if not Brand.objects.filter(slug="lat").exists():
        brand_create(
            name="Latency", slug="lat", max_queue_length=10_000, offer_timeout_seconds=3600,
            business_hours={day: [["00:00", "23:59"]] for day in WEEKDAYS},
        )
        with schema_context("brand_lat"):
            Category.objects.get_or_create(slug="general", defaults={"name": "General", "position": 0})
        for i in range(AGENTS):
            user = User.objects.create_user(username=f"lat-agent-{i}", email=f"lat-agent-{i}@example.com", password="bench-pass-123")
            agent = AgentProfile.objects.create(user=user, display_name=f"Agent {i}", max_concurrent_chats=AGENT_CAPACITY)
            Staffing.objects.create(agent=agent, brand=Brand.objects.get(slug="lat"), role=Staffing.Role.AGENT, categories=[])
            routing.presence_set(agent=agent, presence=AgentState.Presence.ONLINE)
    brand = Brand.objects.get(slug="lat")
    conversations = []
    with schema_context(brand.schema_name):
        from chat.models import Conversation

        for old in Conversation.objects.filter(state=Conversation.State.ACTIVE).values_list("id", flat=True):
            chat_services.conversation_end(brand=brand, conversation_id=old, ended_by="customer")
        for i in range(count):
            started = chat_services.conversation_start(
                brand=brand,
                data={"name": f"Customer {i}", "email": f"c{i}@example.com", "customer_id": f"C-{i}", "category": "general",
                      "summary": "Benchmark chat", "product_id": ""},
            )
            chat_services.conversation_escalate(brand=brand, conversation=started.conversation)
            entry = QueueEntry.objects.get(brand=brand, conversation_id=started.conversation.id)
            agent = entry.offered_agent
            if agent is None:
                raise RuntimeError(f"conversation {i} was not offered to anyone ({entry.state})")
            chat_services.conversation_accept(agent=agent, brand=brand, conversation_id=started.conversation.id)
            last_seq = type(started.conversation).objects.get(pk=started.conversation.id).last_seq
            conversations.append({"id": started.conversation.id, "token": started.token, "agent": agent.user.username, "last_seq": last_seq})
    connection.set_schema_to_public()
    return conversations


def _agent_token(port: int, username: str) -> str:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/agent/v1/auth/token",
        data=json.dumps({"username": username, "password": "bench-pass-123"}).encode(),
        headers={"Content-Type": "application/json", "Host": f"localhost:{port}"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())["token"]


class _Side:
    """One side's open sockets and how to talk through them."""

    def __init__(self, *, customer_sockets, agent_sockets, conversations, agent_matches):
        self.customer_sockets = customer_sockets
        self.agent_sockets = agent_sockets
        self.conversations = conversations
        self.agent_matches = agent_matches

    async def measure(self) -> list[float]:
        return await _measure(
            customer_sockets=self.customer_sockets, agent_sockets=self.agent_sockets, conversations=self.conversations,
            messages_each=SOLO_MESSAGES if len(self.conversations) == 1 else CROWD_MESSAGES,
            customer_frame=lambda c, key: {"type": "message.send", "client_msg_id": key, "body": "Hello, where is my parcel?"},
            agent_matches=self.agent_matches,
        )

    async def close(self) -> None:
        for ws in self.agent_sockets + self.customer_sockets:
            await ws.close()


async def _open_real(port: int, conversations: list[dict]) -> _Side:
    import websockets

    async def open_socket(host: str, path: str, auth: dict):
        ws = await asyncio.wait_for(
            websockets.connect(f"ws://{host}:{port}{path}", host="127.0.0.1", port=port, max_queue=None, open_timeout=10), 15
        )
        await ws.send(json.dumps(auth))
        while True:
            frame = json.loads(await asyncio.wait_for(ws.recv(), FRAME_TIMEOUT))
            if frame["type"] == "auth.ok":
                return ws
            if frame["type"] == "error":
                raise RuntimeError(f"{path}: {frame}")

    usernames = sorted({c["agent"] for c in conversations})
    tokens = {u: await asyncio.to_thread(_agent_token, port, u) for u in usernames}
    agent_sockets = [await open_socket("localhost", "/ws/agent/v1/", {"type": "auth", "token": tokens[u]}) for u in usernames]
    customer_sockets = []
    for c in conversations:
        customer_sockets.append(
            await open_socket("lat.localhost", f"/ws/widget/v1/conversations/{c['id']}/", {"type": "auth", "token": c["token"], "after_seq": c["last_seq"]})
        )
    return _Side(
        customer_sockets=customer_sockets, agent_sockets=agent_sockets, conversations=conversations,
        agent_matches=lambda f: f.get("client_msg_id") if f.get("type") == "message" and f.get("sender") == "customer" else None,
    )


# --- The bare relay -----------------------------------------------------------------------------

RELAY_TABLE = """
CREATE TABLE IF NOT EXISTS bench_relay_message (
    id bigserial PRIMARY KEY, conversation_id int NOT NULL, seq int NOT NULL, client_msg_id varchar(64),
    sender varchar(10) NOT NULL, body text NOT NULL, sent_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (conversation_id, seq), UNIQUE (conversation_id, client_msg_id))
"""


async def _relay_serve(port: int, dsn: str, pool_size: int) -> None:
    """Customer socket /c/<conversation>/<agent>, agent socket /a/<agent>."""
    import psycopg
    import redis.asyncio as redis
    import websockets

    pool: asyncio.Queue = asyncio.Queue()
    for _ in range(pool_size):
        pool.put_nowait(await psycopg.AsyncConnection.connect(dsn, autocommit=True))
    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
        await conn.execute(RELAY_TABLE)
    publisher = redis.Redis(host="127.0.0.1", port=6379)
    seqs: dict[int, int] = {}

    async def handler(ws):
        parts = ws.request.path.strip("/").split("/")
        if parts[0] == "a":
            pubsub = publisher.pubsub()
            await pubsub.subscribe(f"benchrelay.agent.{parts[1]}")
            try:
                async for message in pubsub.listen():
                    if message["type"] == "message":
                        await ws.send(message["data"].decode())
            finally:
                await pubsub.aclose()
            return
        conversation_id, agent_id = int(parts[1]), parts[2]
        async for raw in ws:
            frame = json.loads(raw)
            seqs[conversation_id] = seq = seqs.get(conversation_id, 0) + 1
            conn = await pool.get()
            try:
                row = await (
                    await conn.execute(
                        "INSERT INTO bench_relay_message (conversation_id, seq, client_msg_id, sender, body) VALUES (%s, %s, %s, 'customer', %s) RETURNING id, sent_at",
                        [conversation_id, seq, frame["client_msg_id"], frame["body"]],
                    )
                ).fetchone()
            finally:
                pool.put_nowait(conn)
            event = {"type": "message", "seq": seq, "id": row[0], "client_msg_id": frame["client_msg_id"], "sender": "customer", "body": frame["body"], "sent_at": row[1].isoformat()}
            await publisher.publish(f"benchrelay.agent.{agent_id}", json.dumps(event))
            await ws.send(json.dumps(event))

    async with websockets.serve(handler, "127.0.0.1", port, max_queue=None):
        await asyncio.Future()


async def _open_relay(port: int, count: int) -> _Side:
    import websockets

    agents = list(range(min(AGENTS, count)))
    agent_sockets = [await websockets.connect(f"ws://127.0.0.1:{port}/a/{a}", max_queue=None) for a in agents]
    conversations = [{"id": 100_000 * (count + 1) + i + int(time.time()) % 1000 * 1000, "agent": agents[i % len(agents)]} for i in range(count)]
    customer_sockets = [await websockets.connect(f"ws://127.0.0.1:{port}/c/{c['id']}/{c['agent']}", max_queue=None) for c in conversations]
    return _Side(
        customer_sockets=customer_sockets, agent_sockets=agent_sockets, conversations=conversations,
        agent_matches=lambda f: f.get("client_msg_id") if f.get("type") == "message" else None,
    )


async def _compare(real_port: int, relay_port: int, conversations: list[dict]) -> tuple[list[float], list[float]]:
    """Rounds of the real stack and the relay taking turns, over sockets kept open, so
    that a spell of load from elsewhere on the machine falls on both alike."""
    real = await _open_real(real_port, conversations)
    relay = await _open_relay(relay_port, len(conversations))
    await asyncio.sleep(0.5)  # let the sockets settle into their groups
    real_latencies, relay_latencies = [], []
    try:
        for _ in range(ROUNDS):
            real_latencies += await real.measure()
            relay_latencies += await relay.measure()
    finally:
        await real.close()
        await relay.close()
    return real_latencies, relay_latencies


# --- Running it all -----------------------------------------------------------------------------

def main(argv: list[str]) -> None:
    if argv[:1] == ["--relay"]:
        import logging

        logging.getLogger("websockets").setLevel(logging.CRITICAL)  # the port probe's empty connection
        asyncio.run(_relay_serve(int(argv[1]), argv[2], int(argv[3])))
        return
    os.environ["REDIS_DB_CHANNELS"] = REDIS_CHANNEL_DB
    from django.apps import apps

    if not apps.ready:
        from bench.django_setup import setup

        setup(database=DATABASE)
    # else an earlier benchmark in this process set Django up on its database, and Django
    # cannot switch once set up: the server then shares that (migrated) database.
    from django.conf import settings

    db = settings.DATABASES["default"]
    dsn = f"host={db['HOST'] or '127.0.0.1'} port={db['PORT'] or 5432} dbname={db['NAME']} user={db['USER']}"
    database_url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    env = {**os.environ, "DATABASE_URL": database_url, "REDIS_DB_CHANNELS": REDIS_CHANNEL_DB, "DJANGO_SETTINGS_MODULE": "config.settings.local", "DEBUG": "false"}

    real_port, relay_port = free_port(), free_port()
    # BENCH_ASGI_WORKERS (default 1) and DB_CONN_MAX_AGE (the settings' default 60) are
    # there to measure the suggestions in docs/benchmarks.md; the figures use the defaults.
    workers = os.environ.get("BENCH_ASGI_WORKERS", "1")
    server = subprocess.Popen(
        [PYTHON, "-m", "uvicorn", "config.asgi:application", "--host", "127.0.0.1", "--port", str(real_port),
         "--workers", workers, "--log-level", "warning", "--no-access-log"],
        cwd=HERE, env=env,
    )
    relay = subprocess.Popen([PYTHON, "-m", "bench.message_latency", "--relay", str(relay_port), dsn, "10"], cwd=HERE, env=env)
    results = {}
    try:
        _wait_port(real_port)
        _wait_port(relay_port)
        for count in (1, CROWD_CONVERSATIONS):
            conversations = _prepare_real(count)
            real, bare = asyncio.run(_compare(real_port, relay_port, conversations))
            results[count] = (_percentiles(bare), _percentiles(real), len(real), len(bare))
    finally:
        for process in (server, relay):
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
    print(
        f"uvicorn workers {workers}, DB_CONN_MAX_AGE {settings.DATABASES['default']['CONN_MAX_AGE']}, "
        f"ASYNC_DB_POOL_SIZE {settings.ASYNC_DB_POOL_SIZE}, ASYNC_DB_MESSAGE_BATCHES_IN_FLIGHT {settings.ASYNC_DB_MESSAGE_BATCHES_IN_FLIGHT}, "
        f"{ROUNDS} rounds per side"
    )
    for count, ((b50, b99), (r50, r99), n_real, n_bare) in results.items():
        print(f"{count:>3} concurrent conversation(s), {n_real} messages (relay {n_bare}):")
        print(f"    bare relay (baseline): p50 {b50:7.2f} ms   p99 {b99:7.2f} ms")
        print(f"    real stack:            p50 {r50:7.2f} ms   p99 {r99:7.2f} ms   ratio p50 {r50 / b50:.2f}x (target <= 2x)  p99 {r99 / b99:.2f}x (target <= 3x)")


if __name__ == "__main__":
    main(sys.argv[1:])
