"""Exactly-once email and webhook effects across a worker killed mid-send, against real
processes: Celery workers in subprocesses on this run's queue (the real Redis broker), an
SMTP server (aiosmtpd) and an HTTP receiver that hold their replies, real PostgreSQL.

What the receiving side sees is the promise (docs/reliability.md, "Delivery"): every email
and event arrives; a send cut off in the window nobody can know about (the receiver took
it, then the worker died before recording so) is sent once more under the same
Message-ID or Webhook-Id, so a receiver that dedupes on it acts once; the outbox counts
every try and records the uncertain one; and no row is ever sent by two senders at once,
even when the first sender's database session (and with it its row lock) is cut.
"""

import asyncio
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from django.db import connection, connections
from django.utils import timezone
from django_tenants.utils import schema_context

from chat.models import OutboundEmail
from chat.outbox import email_enqueue, outbox_deliver, outbox_message_id
from config.celery import app
from tests.ports import free_port
from webhooks.models import WebhookDelivery, WebhookSubscription
from webhooks.services import LOST_WITH_WORKER, delivery_attempt, webhook_test_send

BASE_DIR = Path(__file__).resolve().parents[2]
# The workers' claim lease: short, so the sweep may take a dead worker's claim within the
# test. Only a sender that lost its row lock (a dead one) is ever overtaken by a lapsed
# lease; a live one keeps its lock however long it takes.
LEASE_SECONDS = 2
HANG_GUARD = 120  # seconds; every wait ends on an event or a count long before this


class Holding:
    """What a receiving side saw: every delivery by its key (Message-ID, Webhook-Id), how
    many deliveries of one key were in flight at once, and the first `hold` deliveries
    kept waiting for their reply until `release` is set."""

    def __init__(self, hold: int):
        self.hold = hold
        self.keys: list[str] = []
        self.held: list[str] = []
        self.in_flight: Counter = Counter()
        self.most_in_flight = 0
        self.release = threading.Event()
        self.lock = threading.Lock()

    def arrive(self, key: str) -> bool:
        """Kept as it arrives, as a real server keeps a message before it answers; True
        when this delivery's reply is to be held."""
        with self.lock:
            self.keys.append(key)
            self.in_flight[key] += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight[key])
            if len(self.held) < self.hold:
                self.held.append(key)
                return True
            return False

    def leave(self, key: str) -> None:
        with self.lock:
            self.in_flight[key] -= 1


def message_id(raw: str) -> str:
    return re.search(r"^Message-ID: (\S+)", raw, re.MULTILINE | re.IGNORECASE).group(1)


class HoldingSMTP(Holding):
    async def handle_DATA(self, server, session, envelope):
        key = message_id(envelope.content.decode("utf-8", "replace"))
        try:
            if self.arrive(key):
                await asyncio.to_thread(self.release.wait, HANG_GUARD)
            return "250 OK"
        finally:
            self.leave(key)


class HoldingReceiver(Holding):
    """Every path under /hook answers 200 (after holding, for the first `hold`)."""

    def __init__(self, hold: int):
        super().__init__(hold)
        self.bodies: dict[str, set[bytes]] = {}
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                key = self.headers["Webhook-Id"]
                receiver.bodies.setdefault(key, set()).add(body)
                try:
                    if receiver.arrive(key):
                        receiver.release.wait(HANG_GUARD)
                    self.send_response(200)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except OSError:
                    pass  # the sender is gone
                finally:
                    receiver.leave(key)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def smtp_holding(settings):
    def start(hold: int) -> HoldingSMTP:
        inbox = HoldingSMTP(hold)
        port = free_port()
        controller = Controller(inbox, hostname="127.0.0.1", port=port)
        controller.start()
        started.append((inbox, controller))
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, HANG_GUARD
        return inbox

    started = []
    yield start
    for inbox, controller in started:
        inbox.release.set()
        controller.stop()


@pytest.fixture
def receiver_holding(settings):
    settings.WEBHOOK_ALLOWED_DESTINATIONS = ["127.0.0.1"]
    settings.WEBHOOK_TIMEOUT_SECONDS = HANG_GUARD
    started = []

    def start(hold: int) -> HoldingReceiver:
        started.append(HoldingReceiver(hold))
        return started[-1]

    yield start
    for receiver in started:
        receiver.stop()


@pytest.fixture
def workers(settings, tmp_path):
    """Real Celery workers on this run's queue; each logs to its own file."""
    app.conf.task_always_eager = False
    started: list[tuple[subprocess.Popen, Path]] = []

    def start(*, pool: str = "solo", concurrency: int = 1) -> subprocess.Popen:
        env = dict(
            os.environ, DJANGO_SETTINGS_MODULE="config.settings.test", TEST_RUN_ID=settings.RUN_ID, TEST_WORKER="true",
            CELERY_TASK_ALWAYS_EAGER="false", TEST_SMTP_PORT=str(settings.EMAIL_PORT), EMAIL_TIMEOUT=str(HANG_GUARD),
            OUTBOX_CLAIM_LEASE_SECONDS=str(LEASE_SECONDS), WEBHOOK_CLAIM_LEASE_SECONDS=str(LEASE_SECONDS),
            WEBHOOK_ALLOWED_DESTINATIONS="127.0.0.1", WEBHOOK_TIMEOUT_SECONDS=str(HANG_GUARD),
        )
        log = tmp_path / f"worker-{len(started)}.log"
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", pool, "--concurrency", str(concurrency), "--loglevel", "WARNING",
             "--without-gossip", "--without-mingle", "--without-heartbeat", "-Q", settings.CELERY_TASK_DEFAULT_QUEUE],
            cwd=BASE_DIR, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
        )
        started.append((process, log))
        return process

    start.logs = lambda: "\n".join(f"--- {log.name} ---\n{log.read_text()[-2000:]}" for _, log in started)
    yield start
    app.conf.task_always_eager = True
    for process, _ in started:
        if process.poll() is None:
            process.terminate()
    for process, _ in started:
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_for(check, *, alive=(), logs=lambda: "", timeout=HANG_GUARD, every=0.2, poke=None) -> None:
    """Until check() holds (a hang guard, not a sleep); the workers in `alive` must not
    die meanwhile; poke() (a sweep, the beat's job) is called about once a second."""
    deadline = time.monotonic() + timeout
    last_poke = 0.0
    while not check():
        for process in alive:
            assert process.poll() is None, logs()
        assert time.monotonic() < deadline, f"gave up waiting\n{logs()}"
        if poke and time.monotonic() - last_poke >= 1:
            poke()
            last_poke = time.monotonic()
        time.sleep(every)


def kill(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=15)


def emails() -> dict[int, OutboundEmail]:
    with schema_context("brand_alpha"):
        return {email.id: email for email in OutboundEmail.objects.all()}


def deliveries() -> dict[int, WebhookDelivery]:
    with schema_context("brand_alpha"):
        return {d.id: d for d in WebhookDelivery.objects.prefetch_related("log")}


def sweep(task: str):
    """The beat's periodic sweep, sent to the run's queue: two at once, so the two
    replacement workers race for the same rows."""
    def send():
        for _ in range(2):
            app.send_task(task)
    return send


# --- A worker SIGKILLed while the receiving side holds its reply --------------------------

@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_while_the_smtp_server_holds_its_replies_sends_each_email_once_per_message_id(alpha, smtp_holding, workers):
    inbox = smtp_holding(hold=2)
    first = workers(pool="threads", concurrency=2)  # as the Procfile runs it: two sends at once
    with schema_context("brand_alpha"):
        # Three transcripts, each handed to the worker at once (no transaction to wait for).
        queued = [email_enqueue(to=f"customer{n}@example.com", subject="Your chat transcript", body=f"Transcript {n}", kind="transcript") for n in range(3)]
        ids = {outbox_message_id(email): email.id for email in queued}
    wait_for(lambda: len(inbox.held) == 2, alive=[first], logs=workers.logs)
    # The server has both messages and holds its 250s: nobody can know whether they went.
    kill(first)
    inbox.release.set()
    held = {ids[key] for key in inbox.held}
    (third,) = set(ids.values()) - held

    replacements = [workers(), workers()]
    wait_for(lambda: emails()[third].sent_at is not None, alive=replacements, logs=workers.logs)
    # The killed worker's two tasks do not come back: the Redis broker keeps a dead
    # worker's unacknowledged messages until its visibility timeout (an hour), and
    # reject-on-worker-lost only covers a pool child dying under a live worker. The sweep
    # is what resends them, once their claims have lapsed.
    time.sleep(LEASE_SECONDS + 1)
    assert all(emails()[email_id].sent_at is None for email_id in held)
    wait_for(lambda: all(email.sent_at is not None for email in emails().values()), alive=replacements, logs=workers.logs, poke=sweep("chat.tasks.chat_sweep"))

    # The receiving side: every email, the two cut-off ones twice, each under its one
    # Message-ID, and never two copies of one in flight at once.
    assert Counter(inbox.keys) == {key: 2 if email_id in held else 1 for key, email_id in ids.items()}
    assert set(inbox.keys) == set(ids)  # deduplicated by Message-ID: each email once
    assert inbox.most_in_flight == 1
    # The outbox: every try counted, the uncertain ones recorded for an operator.
    rows = emails()
    for email_id in held:
        assert (rows[email_id].attempts, rows[email_id].uncertain_attempts, rows[email_id].status) == (2, 1, OutboundEmail.Status.SENT)
        assert "lost with its worker" in rows[email_id].last_error
    assert (rows[third].attempts, rows[third].uncertain_attempts, rows[third].last_error, rows[third].status) == (1, 0, "", OutboundEmail.Status.SENT)


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_post_gives_one_effect_per_webhook_id(alpha, receiver_holding, workers):
    receiver = receiver_holding(hold=2)
    with schema_context("brand_alpha"):
        # Three integrations of the brand, one event each.
        subscriptions = [WebhookSubscription.objects.create(url=f"{receiver.url}/{n}", events=["webhook.test"]) for n in range(3)]
    first = workers(pool="threads", concurrency=2)
    with schema_context("brand_alpha"):
        event_ids = {str(webhook_test_send(subscription=subscription).event_id) for subscription in subscriptions}  # each commits and goes to the worker
    wait_for(lambda: len(receiver.held) == 2, alive=[first], logs=workers.logs)
    kill(first)
    receiver.release.set()
    held = set(receiver.held)

    replacements = [workers(), workers()]
    by_event = lambda: {str(d.event_id): d for d in deliveries().values()}  # noqa: E731
    wait_for(lambda: all(by_event()[key].state == WebhookDelivery.State.DELIVERED for key in event_ids - held), alive=replacements, logs=workers.logs)
    time.sleep(LEASE_SECONDS + 1)
    assert all(by_event()[key].state != WebhookDelivery.State.DELIVERED for key in held)  # not redelivered by the broker
    wait_for(lambda: all(d.state == WebhookDelivery.State.DELIVERED for d in deliveries().values()), alive=replacements, logs=workers.logs, poke=sweep("webhooks.tasks.webhook_sweep"))

    assert Counter(receiver.keys) == {key: 2 if key in held else 1 for key in event_ids}
    assert set(receiver.keys) == event_ids  # deduplicated by Webhook-Id: one effect each
    assert all(len(bodies) == 1 for bodies in receiver.bodies.values())  # a resend is the same signed body
    assert receiver.most_in_flight == 1
    for key, delivery in by_event().items():
        log = list(delivery.log.all())
        if key in held:
            assert (delivery.attempts, delivery.uncertain_attempts) == (2, 1)
            assert [(a.status_code, a.error, a.finished) for a in log] == [(None, LOST_WITH_WORKER, True), (200, "", True)]
        else:
            assert (delivery.attempts, delivery.uncertain_attempts) == (1, 0)
            assert [(a.status_code, a.finished) for a in log] == [(200, True)]


# --- One row handed to two senders at once ----------------------------------------------

def in_thread(fn, /, **kwargs):
    """A second sender: another thread with its own database connection, as another
    worker (or the same task redelivered while the first still runs) would be."""
    def call():
        try:
            with schema_context("brand_alpha"):
                return fn(**kwargs)
        finally:
            connections.close_all()

    return ThreadPoolExecutor(1).submit(call)


def cut_session_holding_lock(table: str) -> None:
    """Terminate the first sender's database session while it talks to the receiver, as
    idle_in_transaction_session_timeout or a restarted PgBouncer would: its row lock is
    gone, its send is not. (The lock's query is too long for pg_stat_activity to show its
    FOR UPDATE; the only session idle in a transaction on the table is the sender's.)"""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            " AND state = 'idle in transaction' AND query LIKE %s",
            [f'SELECT %FROM "{table}"%'],
        )
        assert len(cursor.fetchall()) == 1


@pytest.mark.parametrize("lock_lost", [False, True], ids=["first-sender-live", "first-senders-session-cut"])
@pytest.mark.django_db(transaction=True)
def test_an_email_handed_to_two_senders_at_once_is_sent_once(alpha, smtp_holding, lock_lost):
    inbox = smtp_holding(hold=1)
    with schema_context("brand_alpha"):
        email = OutboundEmail.objects.create(to="dana@example.com", subject="Your chat transcript", body="Transcript", kind="transcript")
        key = outbox_message_id(email)
    first = in_thread(outbox_deliver, email_ids=[email.id])
    wait_for(lambda: inbox.held, logs=lambda: "the first sender never reached the server")
    if lock_lost:
        cut_session_holding_lock("chat_outboundemail")
    with schema_context("brand_alpha"):
        assert outbox_deliver(email_ids=[email.id]) == 0  # the second copy finds the claim and leaves
    inbox.release.set()
    assert first.result(timeout=HANG_GUARD) == 1
    assert inbox.keys == [key] and inbox.most_in_flight == 1
    row = emails()[email.id]
    # The first sender recorded its send even with its session cut (on a fresh one).
    assert (row.status, row.attempts, row.uncertain_attempts) == (OutboundEmail.Status.SENT, 1, 0)
    with schema_context("brand_alpha"):
        assert outbox_deliver() == 0  # and nothing is left for a sweep to send again


@pytest.mark.parametrize("lock_lost", [False, True], ids=["first-sender-live", "first-senders-session-cut"])
@pytest.mark.django_db(transaction=True)
def test_a_webhook_delivery_handed_to_two_senders_at_once_is_posted_once(alpha, receiver_holding, lock_lost):
    receiver = receiver_holding(hold=1)
    with schema_context("brand_alpha"):
        subscription = WebhookSubscription.objects.create(url=receiver.url, events=["webhook.test"])
        # Recorded with no task: the two senders below are the copies.
        delivery = WebhookDelivery.objects.create(subscription=subscription, event_type="webhook.test", body="{}", next_attempt_at=timezone.now())
    first = in_thread(delivery_attempt, delivery_id=delivery.id)
    wait_for(lambda: receiver.held, logs=lambda: "the first sender never reached the receiver")
    if lock_lost:
        cut_session_holding_lock("webhooks_webhookdelivery")
    with schema_context("brand_alpha"):
        assert delivery_attempt(delivery_id=delivery.id) is None  # the second copy finds the claim and leaves
    receiver.release.set()
    assert first.result(timeout=HANG_GUARD) == WebhookDelivery.State.DELIVERED
    assert receiver.keys == [str(delivery.event_id)] and receiver.most_in_flight == 1
    row = deliveries()[delivery.id]
    assert (row.state, row.attempts, row.uncertain_attempts) == (WebhookDelivery.State.DELIVERED, 1, 0)
    assert [(a.status_code, a.finished) for a in row.log.all()] == [(200, True)]
