"""Webhooks against a real HTTP receiver on loopback (allowed through
WEBHOOK_ALLOWED_DESTINATIONS, as in development): signed and verifiable, retried after a
500 and a timeout, in order per conversation, refused for every non-public address form
and for a redirect to one, given up after a day; a brand's task never touches another
brand's rows. A worker killed mid-delivery: tests/reliability/test_exactly_once.py."""

import hashlib
import hmac
import json
import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context

from chat import services
from config.celery import app
from tests.background.receiver import Receiver
from tests.chat.helpers import conversation_started
from tests.factories import next_ids_aligned
from webhooks.destinations import DestinationRefused, destination_resolve
from webhooks.models import WebhookDelivery, WebhookEvent, WebhookSubscription
from webhooks.services import RETRY_FOR, message_events_record, webhook_subscription_create, webhook_test_send, webhooks_deliver

BASE_DIR = Path(__file__).resolve().parents[2]


@pytest.fixture
def receiver():
    server = Receiver().start()
    yield server
    server.stop()


@pytest.fixture
def loopback_allowed(settings):
    settings.WEBHOOK_ALLOWED_DESTINATIONS = ["127.0.0.1"]
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.5


def subscribe(url, events=(WebhookEvent.CONVERSATION_CREATED,), schema="brand_alpha"):
    with schema_context(schema):
        return WebhookSubscription.objects.create(url=url, events=[str(e) for e in events])


def deliver(schema="brand_alpha", *, after=timedelta(0)):
    with schema_context(schema):
        return webhooks_deliver(now=timezone.now() + after)


def deliveries(schema="brand_alpha"):
    with schema_context(schema):
        return list(WebhookDelivery.objects.order_by("id").prefetch_related("log"))


def verify(secret: str, request: dict) -> dict:
    """What a receiver does (docs/webhooks.md): recompute the signature, compare in
    constant time, refuse stale timestamps."""
    timestamp = request["headers"]["Webhook-Timestamp"]
    expected = "v1=" + hmac.new(secret.encode(), f"{timestamp}.".encode() + request["body"], hashlib.sha256).hexdigest()
    assert hmac.compare_digest(expected, request["headers"]["Webhook-Signature"])
    assert abs(time.time() - int(timestamp)) < 300
    return json.loads(request["body"])


@pytest.mark.django_db
def test_an_event_arrives_signed_and_verifiable(alpha, receiver, loopback_allowed):
    subscription = subscribe(receiver.on("/hook", 200))
    _, conversation, _ = conversation_started()
    assert deliver() == 1
    (request,) = receiver.at("/hook")
    body = verify(subscription.secret, request)
    assert (body["type"], body["brand"], body["conversation_id"], body["sequence"]) == ("conversation.created", "alpha", conversation.id, 1)
    assert body["data"]["conversation"]["customer"]["name"] == "Dana Customer"
    assert request["headers"]["Webhook-Id"] == body["id"]
    tampered = {**request, "body": request["body"].replace(b"Dana", b"Mallory")}
    with pytest.raises(AssertionError):
        verify(subscription.secret, tampered)
    (delivery,) = deliveries()
    (attempt,) = delivery.log.all()
    assert delivery.state == WebhookDelivery.State.DELIVERED and attempt.status_code == 200
    assert attempt.response_head.startswith('{"ok": true') and attempt.latency_ms is not None


@pytest.mark.django_db
def test_an_event_nobody_subscribed_to_is_not_sent(alpha, receiver, loopback_allowed):
    subscribe(receiver.on("/ended-only", 200), events=[WebhookEvent.CONVERSATION_ENDED])
    conversation_started()
    assert deliveries() == []


@pytest.mark.django_db
@pytest.mark.parametrize("failure", [500, ("sleep", 2)], ids=["500", "timeout"])
def test_a_failed_delivery_is_retried_with_backoff(alpha, receiver, loopback_allowed, failure):
    subscribe(receiver.on("/flaky", failure, 200))
    conversation_started()
    assert deliver() == 0
    (delivery,) = deliveries()
    assert delivery.state == WebhookDelivery.State.PENDING and delivery.attempts == 1
    # A 500 is an answer; a timeout after the request was written may have had an effect.
    assert delivery.uncertain_attempts == (0 if failure == 500 else 1)
    wait = (delivery.next_attempt_at - timezone.now()).total_seconds()
    assert 3 < wait <= 10  # the first backoff, jittered between half and all of it
    assert deliver() == 0  # not due yet: nothing sent
    assert len(receiver.at("/flaky")) == 1
    assert deliver(after=timedelta(seconds=11)) == 1
    (delivery,) = deliveries()
    log = list(delivery.log.all())
    assert delivery.state == WebhookDelivery.State.DELIVERED and [a.status_code for a in log] == [500 if failure == 500 else None, 200]
    assert log[0].error if failure != 500 else log[0].response_head == "receiver is down"
    # The retry is the same event: same id, same body, signed afresh.
    first, second = receiver.at("/flaky")
    assert first["headers"]["Webhook-Id"] == second["headers"]["Webhook-Id"] and first["body"] == second["body"]


@pytest.mark.django_db
def test_order_per_conversation_holds_while_an_earlier_event_is_retried(alpha, receiver, loopback_allowed):
    subscribe(receiver.on("/ordered", 500, 200), events=[WebhookEvent.CONVERSATION_CREATED, WebhookEvent.CONVERSATION_QUEUED])
    brand, conversation, _ = conversation_started()
    with schema_context(brand.schema_name):
        services.conversation_escalate(brand=brand, conversation=conversation)
    connection.set_schema_to_public()
    assert deliver() == 0  # the first failed; the second waits behind it
    assert [json.loads(r["body"])["sequence"] for r in receiver.at("/ordered")] == [1]
    assert deliver(after=timedelta(seconds=11)) == 2
    assert [json.loads(r["body"])["sequence"] for r in receiver.at("/ordered")] == [1, 1, 2]
    assert [json.loads(r["body"])["type"] for r in receiver.at("/ordered")][1:] == ["conversation.created", "conversation.queued"]


@pytest.mark.django_db
def test_a_day_of_failures_gives_up_and_flags_the_subscription(alpha, receiver, loopback_allowed):
    subscription = subscribe(receiver.on("/down", 503))
    conversation_started()
    with schema_context("brand_alpha"):
        WebhookDelivery.objects.update(created_at=timezone.now() - RETRY_FOR)
    deliver()
    (delivery,) = deliveries()
    assert delivery.state == WebhookDelivery.State.GAVE_UP
    with schema_context("brand_alpha"):
        assert WebhookSubscription.objects.get(pk=subscription.pk).failing_since is not None


BLOCKED = [
    "http://127.0.0.1/", "http://localhost/", "http://[::1]/", "http://[::ffff:127.0.0.1]/", "http://[::ffff:7f00:1]/",
    "http://2130706433/", "http://0177.0.0.1/", "http://0x7f.0.0.1/", "http://017700000001/", "http://127.1/",
    "http://10.0.0.5/", "http://172.16.0.1/", "http://192.168.1.1/", "http://[fd00::1]/", "http://100.64.0.1/",
    "http://169.254.169.254/latest/meta-data/", "http://[fe80::1]/", "http://[fd00:ec2::254]/", "http://[::ffff:169.254.169.254]/",
    "http://224.0.0.1/", "http://[ff02::1]/", "http://0.0.0.0/", "http://[::]/", "http://240.0.0.1/",
    "ftp://example.com/", "http://user:pw@93.184.216.34/",
]


@pytest.mark.parametrize("url", BLOCKED)
def test_non_public_destinations_are_refused(url, settings):
    settings.WEBHOOK_ALLOWED_DESTINATIONS = []
    with pytest.raises(DestinationRefused) as refused:
        destination_resolve(url)
    if url.startswith("http://") and "@" not in url:
        assert "resolves to" in refused.value.detail  # refused for its address, not for failing to resolve


def test_a_public_address_is_a_destination(settings):
    settings.WEBHOOK_ALLOWED_DESTINATIONS = []
    assert destination_resolve("https://93.184.216.34/hooks?x=1").address == "93.184.216.34"
    assert destination_resolve("http://[2606:2800:220:1:248:1893:25c8:1946]:8443/").port == 8443


@pytest.mark.django_db
@pytest.mark.parametrize("target", ["http://169.254.169.254/latest/meta-data/", "http://[::ffff:10.0.0.1]/", "http://0177.0.0.2:9/"])
def test_a_redirect_to_a_refused_address_is_not_followed(alpha, receiver, loopback_allowed, settings, target):
    settings.WEBHOOK_ALLOWED_DESTINATIONS = ["127.0.0.1/32"]  # the receiver, not 127.0.0.0/8's other spellings
    subscribe(receiver.on("/moved", ("redirect", target)))
    conversation_started()
    assert deliver() == 0
    (delivery,) = deliveries()
    (attempt,) = delivery.log.all()
    assert delivery.state == WebhookDelivery.State.PENDING and attempt.error.startswith("Refused:")


@pytest.mark.django_db
def test_a_refused_subscription_url_is_never_contacted(alpha, receiver, settings):
    settings.WEBHOOK_ALLOWED_DESTINATIONS = []
    subscribe(receiver.on("/private", 200))
    conversation_started()
    deliver()
    assert receiver.at("/private") == []
    (delivery,) = deliveries()
    (attempt,) = delivery.log.all()
    assert attempt.error.startswith("Refused: 127.0.0.1 resolves to 127.0.0.1, a loopback address")


@pytest.mark.django_db
def test_the_admin_sends_a_test_event(alpha, receiver, loopback_allowed):
    subscription = subscribe(receiver.on("/test", 200), events=[WebhookEvent.CONVERSATION_ENDED])
    with schema_context("brand_alpha"):
        webhook_test_send(subscription=subscription)
    deliver()
    (request,) = receiver.at("/test")
    assert verify(subscription.secret, request)["type"] == "webhook.test"


@pytest.mark.django_db
def test_messages_are_told_in_order_from_the_subscription_on(alpha, receiver, loopback_allowed):
    from chat.messages import message_send
    from chat.models import Message
    from tests.chat.helpers import conversation_active
    from tests.factories import agent_staffed

    agent = agent_staffed(alpha)
    brand, conversation, _ = conversation_active(agent=agent)  # its "joined" lines came before
    with schema_context(brand.schema_name):
        subscription = webhook_subscription_create(url=receiver.on("/messages", 200), events=[WebhookEvent.MESSAGE_CREATED])
        message_send(conversation_id=conversation.id, sender=Message.Sender.CUSTOMER, body="Where is it?")
        message_send(conversation_id=conversation.id, sender=Message.Sender.AGENT, body="private", agent=agent, internal=True)
        message_send(conversation_id=conversation.id, sender=Message.Sender.AGENT, body="On its way <b>today</b>", agent=agent)
        assert message_events_record() == 2
        assert message_events_record() == 0  # the cursor moved: once
    deliver()
    bodies = [verify(subscription.secret, r) for r in receiver.at("/messages")]
    assert [b["data"]["message"]["body"] for b in bodies] == ["Where is it?", "On its way <b>today</b>"]
    assert [b["sequence"] for b in bodies] == [1, 2] and {b["type"] for b in bodies} == {"message.created"}


# --- A real worker --------------------------------------------------------------------------

def start_worker(settings):
    env = dict(
        os.environ, DJANGO_SETTINGS_MODULE="config.settings.test", TEST_RUN_ID=settings.RUN_ID, TEST_WORKER="true",
        CELERY_TASK_ALWAYS_EAGER="false", WEBHOOK_ALLOWED_DESTINATIONS="127.0.0.1", WEBHOOK_TIMEOUT_SECONDS="20",
    )
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "solo", "--loglevel", "WARNING", "-Q", settings.CELERY_TASK_DEFAULT_QUEUE],
        cwd=BASE_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )


@pytest.fixture
def real_workers(settings):
    app.conf.task_always_eager = False
    started = []

    def start():
        started.append(start_worker(settings))
        return started[-1]

    yield start
    app.conf.task_always_eager = True
    for process in started:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


def wait_for(check, worker, tries=300):  # a minute: a worker starting on a busy machine is slow
    for _ in range(tries):
        if worker is not None:
            assert worker.poll() is None, worker.stdout.read().decode()[-2000:]
        if check():
            return True
        time.sleep(0.2)
    return False


# A worker killed mid-delivery, and two senders at once: tests/reliability/test_exactly_once.py.


@pytest.mark.django_db(transaction=True)
def test_a_brands_delivery_task_touches_only_its_own_schema(alpha, beta, receiver, loopback_allowed, real_workers):
    subscribe(receiver.on("/alpha", 200), schema="brand_alpha")
    subscribe(receiver.on("/beta", 200), schema="brand_beta")
    # The same delivery id in both brands; beta's is recorded with no task (as if the
    # broker had been down), alpha's is sent from alpha's schema.
    next_ids_aligned(WebhookDelivery, "brand_alpha", "brand_beta")
    with schema_context("brand_beta"):
        beta_sub = WebhookSubscription.objects.get()
        beta_delivery = WebhookDelivery.objects.create(subscription=beta_sub, event_type=WebhookEvent.TEST, body="{}", next_attempt_at=timezone.now() + timedelta(hours=1))
    worker = real_workers()
    conversation_started()
    assert [d.id for d in deliveries("brand_alpha")] == [beta_delivery.id]  # ids repeat across brands
    assert wait_for(lambda: receiver.at("/alpha"), worker)
    time.sleep(1)
    assert receiver.at("/beta") == []
    assert deliveries("brand_beta")[0].state == WebhookDelivery.State.PENDING and deliveries("brand_beta")[0].attempts == 0


@pytest.mark.django_db(transaction=True)
def test_an_event_committed_while_the_broker_is_down_is_delivered_by_the_sweep(alpha, receiver, loopback_allowed, monkeypatch):
    from webhooks import services, tasks

    def broker_down(*args, **kwargs):
        raise ConnectionError("Redis is down")

    monkeypatch.setattr(services.webhook_deliver, "apply_async", broker_down)
    subscribe(receiver.on("/later", 200))
    conversation_started()  # commits; handing the delivery to the broker fails
    assert receiver.at("/later") == [] and deliveries()[0].state == WebhookDelivery.State.PENDING
    assert tasks.webhook_sweep() == 1  # Redis is back: the beat's sweep sends it
    assert len(receiver.at("/later")) == 1
