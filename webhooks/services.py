"""Webhook writes (brand schema: the caller's, or the task's through tenant-schemas-celery).

An event becomes one delivery row per subscription in the transaction of the change it
tells of, so a change rolled back sends nothing and a change committed while the broker
is down is delivered once the sweep runs. Delivery is at least once, in order per
subscription and conversation (a later sequence waits for the earlier one), and carries
the same Webhook-Id on every retry so the receiver can keep exactly one.

A try is claimed (state sending, attempts + 1, claimed_at, an unfinished log row) and
committed before the POST, sent while the row is locked again, and its outcome recorded
fenced by the claim, as chat.outbox does for email: two copies of the task never POST one
delivery at once, and a worker lost mid-request leaves a claim whose lapse
(WEBHOOK_CLAIM_LEASE_SECONDS) makes the next try count as uncertain.
"""

import hashlib
import hmac
import json
import logging
import random
import time
from datetime import timedelta

from celery import shared_task
from django.apps import apps
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DatabaseError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from tenants.models import Brand

from .models import WebhookAttempt, WebhookDelivery, WebhookEvent, WebhookSubscription
from .sender import PostResult, webhook_post

logger = logging.getLogger(__name__)

RETRY_FOR = timedelta(days=1)
BACKOFF_FIRST = 10  # seconds; doubled per failure, up to BACKOFF_MAX, then jittered
BACKOFF_MAX = 3600
# Deliveries per sweep and brand: each may hold a worker for a timeout's length.
SWEEP_BATCH = 50


def signature(*, secret: str, timestamp: int, body: bytes) -> str:
    """The Webhook-Signature value: v1=hex(HMAC-SHA256(secret, "<timestamp>.<body>"))."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"v1={mac}"


def _next_sequence(*, subscription_id: int, conversation_id: int) -> int:
    # One statement: the counter row is created or bumped under its own row lock, so two
    # transactions telling of one conversation get 1, 2, ... in commit order of the bump.
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO webhooks_webhooksequence (subscription_id, conversation_id, last_seq) VALUES (%s, %s, 1)"
            " ON CONFLICT (subscription_id, conversation_id) DO UPDATE SET last_seq = webhooks_webhooksequence.last_seq + 1"
            " RETURNING last_seq",
            [subscription_id, conversation_id],
        )
        return cursor.fetchone()[0]


def webhook_event_record(*, event_type: str, data: dict, conversation_id: int | None = None, subscriptions=None) -> list[WebhookDelivery]:
    """Record the event for every active subscription to it of the current brand, inside
    the caller's transaction; the deliveries are handed to the task once it commits.
    Costs one query when the brand has no subscription to the event."""
    if subscriptions is None:
        subscriptions = list(WebhookSubscription.objects.filter(is_active=True, events__contains=[str(event_type)]))
    if not subscriptions:
        return []
    brand_slug = Brand.objects.filter(schema_name=connection.schema_name).values_list("slug", flat=True).first()
    deliveries = []
    now = timezone.now()
    for subscription in subscriptions:
        sequence = _next_sequence(subscription_id=subscription.id, conversation_id=conversation_id) if conversation_id is not None else None
        delivery = WebhookDelivery(subscription=subscription, event_type=event_type, conversation_id=conversation_id, sequence=sequence, next_attempt_at=now)
        payload = {"id": str(delivery.event_id), "type": str(event_type), "created_at": now, "brand": brand_slug, "conversation_id": conversation_id, "sequence": sequence, "data": data}
        delivery.body = json.dumps(payload, cls=DjangoJSONEncoder, separators=(",", ":"))
        delivery.save()
        deliveries.append(delivery)
    if deliveries:
        schema = connection.schema_name
        ids = [d.id for d in deliveries]
        transaction.on_commit(lambda: _hand_to_task(schema=schema, delivery_ids=ids))
    return deliveries


# Messages turned into deliveries per subscription and sweep.
MESSAGE_BATCH = 500


def webhook_subscription_create(*, url: str, events: list[str]) -> WebhookSubscription:
    """A new subscription hears of messages from now on, not of the brand's history."""
    subscription = WebhookSubscription(url=url, events=[str(e) for e in events])
    subscription.message_cursor = message_cursor_now()
    subscription.save()
    return subscription


def webhook_subscription_update(*, subscription: WebhookSubscription, changes: dict) -> WebhookSubscription:
    """Change the URL, the events or is_active (the caller checked the URL's destination).
    Turning a subscription back on clears failing_since: the brand says it is fixed."""
    for name, value in changes.items():
        setattr(subscription, name, [str(e) for e in value] if name == "events" else value)
    if changes.get("is_active") is True:
        subscription.failing_since = None
    subscription.save()
    return subscription


def webhook_subscription_delete(*, subscription: WebhookSubscription) -> None:
    """Its pending deliveries and their log go with it."""
    subscription.delete()


def message_cursor_now() -> int:
    Message = apps.get_model("chat", "Message")
    return Message.objects.order_by("-id").values_list("id", flat=True).first() or 0


def _message_files(message_ids: list[int]) -> dict[int, list[dict]]:
    """The files of these messages as the brand API lists them (the receiver fetches them
    from there with its API key; a webhook never carries a file or a link that works
    without one)."""
    Attachment = apps.get_model("chat", "Attachment")
    files: dict[int, list[dict]] = {}
    for file in Attachment.objects.filter(message_id__in=message_ids).order_by("id").values("id", "message_id", "conversation_id", "name", "content_type", "size"):
        files.setdefault(file["message_id"], []).append({
            "id": file["id"], "name": file["name"], "content_type": file["content_type"], "size": file["size"],
            "download_url": f"/api/v1/conversations/{file['conversation_id']}/attachments/{file['id']}",
        })
    return files


def message_events_record() -> int:
    """message.created for the current brand: the customer's socket path stores messages
    from the event loop in one statement and writes no webhook rows, so the sweep reads
    the messages past each subscription's cursor (the message row is the outbox) and
    records their deliveries, advancing the cursor in the same transaction."""
    Message = apps.get_model("chat", "Message")
    recorded = 0
    for subscription_id in list(WebhookSubscription.objects.filter(is_active=True, events__contains=[str(WebhookEvent.MESSAGE_CREATED)]).values_list("id", flat=True)):
        with transaction.atomic():
            subscription = WebhookSubscription.objects.select_for_update(skip_locked=True).filter(pk=subscription_id).first()
            if subscription is None:
                continue  # another sweep holds it
            messages = list(
                Message.objects.filter(id__gt=subscription.message_cursor, is_internal=False)
                .order_by("id").values("id", "conversation_id", "seq", "sender", "author_name", "body", "sent_at")[:MESSAGE_BATCH]
            )
            files = _message_files([message["id"] for message in messages])
            for message in messages:
                webhook_event_record(
                    event_type=WebhookEvent.MESSAGE_CREATED, conversation_id=message["conversation_id"], subscriptions=[subscription],
                    data={"message": {**message, "sender": str(message["sender"]), "attachments": files.get(message["id"], [])}},
                )
            if messages:
                WebhookSubscription.objects.filter(pk=subscription.pk).update(message_cursor=messages[-1]["id"])
                recorded += len(messages)
    return recorded


@shared_task(name="webhooks.tasks.webhook_deliver", acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def webhook_deliver(delivery_ids: list[int]) -> int:
    """Runs in the brand's schema (tenant-schemas-celery carries it from the sender). It
    lives beside the service that queues it, as chat's outbox task does, so the service
    and the task module do not import each other."""
    return webhooks_deliver(delivery_ids=delivery_ids)


def _hand_to_task(*, schema: str, delivery_ids: list[int]) -> None:
    try:
        webhook_deliver.apply_async(kwargs={"delivery_ids": delivery_ids}, headers={"_schema_name": schema})
    except Exception:  # broker down: the sweep delivers them
        logger.warning("Could not queue webhook deliveries %s in %s; the sweep will send them", delivery_ids, schema, exc_info=True)


def webhook_test_send(*, subscription: WebhookSubscription) -> WebhookDelivery:
    """The admin's "send test event": a real, signed delivery of webhook.test."""
    with transaction.atomic():
        (delivery,) = webhook_event_record(event_type=WebhookEvent.TEST, data={"detail": "A test event from the brand admin."}, subscriptions=[subscription])
    return delivery


def _backoff(attempts: int) -> timedelta:
    """Exponential, capped, with jitter: receivers that failed together do not all
    come back at the same second."""
    ceiling = min(BACKOFF_MAX, BACKOFF_FIRST * 2 ** max(0, attempts - 1))
    return timedelta(seconds=random.uniform(ceiling / 2, ceiling))


def _earlier_pending(delivery: WebhookDelivery) -> bool:
    if delivery.conversation_id is None:
        return False
    return WebhookDelivery.objects.filter(
        subscription_id=delivery.subscription_id, conversation_id=delivery.conversation_id,
        sequence__lt=delivery.sequence, state__in=[WebhookDelivery.State.PENDING, WebhookDelivery.State.SENDING],
    ).exists()


def _lease() -> timedelta:
    return timedelta(seconds=settings.WEBHOOK_CLAIM_LEASE_SECONDS)


def _claimable(now) -> Q:
    """Due pending deliveries, and deliveries whose sender was lost mid-request (a
    lapsed claim, due at once: the receiver may be waiting on it)."""
    return Q(state=WebhookDelivery.State.PENDING, next_attempt_at__lte=now) | Q(state=WebhookDelivery.State.SENDING, claimed_at__lt=now - _lease())


LOST_WITH_WORKER = "Lost with its worker mid-request: the receiver may have it (same Webhook-Id)."


def _claim(*, delivery_id: int, now) -> int | None:
    """Claim the delivery for one try and commit, with the try's log row; the attempt
    number now held, or None when it is not claimable (held by another sender, not due,
    waiting for an earlier one, done)."""
    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update(skip_locked=True).filter(_claimable(now), pk=delivery_id).first()
        if delivery is None or _earlier_pending(delivery):
            return None
        if delivery.state == WebhookDelivery.State.SENDING:
            # Its sender's lock is gone (we hold it) and its lease ran out: it died between
            # its claim and its record, maybe after the receiver acted on the request.
            delivery.uncertain_attempts += 1
            delivery.log.filter(finished=False).update(finished=True, error=LOST_WITH_WORKER)
            logger.warning("Webhook delivery %s in %s: attempt %s was lost mid-request; sending again under the same Webhook-Id", delivery.pk, connection.schema_name, delivery.attempts)
        delivery.state = WebhookDelivery.State.SENDING
        delivery.attempts += 1
        delivery.claimed_at = now
        delivery.save(update_fields=["state", "attempts", "uncertain_attempts", "claimed_at"])
        WebhookAttempt.objects.create(delivery=delivery, attempted_at=now, finished=False)
        return delivery.attempts


def _post(delivery: WebhookDelivery) -> PostResult:
    subscription = delivery.subscription
    body = delivery.body.encode()
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "helpdesk-webhooks/1",
        "Webhook-Id": str(delivery.event_id),
        "Webhook-Timestamp": str(timestamp),
        "Webhook-Signature": signature(secret=subscription.secret, timestamp=timestamp, body=body),
    }
    return webhook_post(url=subscription.url, body=body, headers=headers)


def _record(*, delivery_id: int, attempt: int, result: PostResult, now) -> str | None:
    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update(of=("self",)).select_related("subscription").filter(pk=delivery_id, state=WebhookDelivery.State.SENDING, attempts=attempt).first()
        if delivery is None:
            # Only when this sender lost both its lock and its lease: another took the row.
            logger.error("Webhook delivery %s in %s: attempt %s was overtaken by a later claim", delivery_id, connection.schema_name, attempt)
            return None
        delivery.log.filter(finished=False).update(finished=True, status_code=result.status, latency_ms=result.latency_ms, response_head=result.head, error=result.error)
        subscription = delivery.subscription
        if result.uncertain:
            delivery.uncertain_attempts += 1
        if result.ok:
            delivery.state = WebhookDelivery.State.DELIVERED
            delivery.delivered_at = timezone.now()
            if subscription.failing_since:
                WebhookSubscription.objects.filter(pk=subscription.pk).update(failing_since=None)
        elif now - delivery.created_at >= RETRY_FOR:
            delivery.state = WebhookDelivery.State.GAVE_UP
            WebhookSubscription.objects.filter(pk=subscription.pk, failing_since__isnull=True).update(failing_since=now)
        else:
            delivery.state = WebhookDelivery.State.PENDING
            delivery.next_attempt_at = now + _backoff(delivery.attempts)
        delivery.save(update_fields=["state", "uncertain_attempts", "delivered_at", "next_attempt_at"])
        return delivery.state


def delivery_attempt(*, delivery_id: int, now=None) -> str | None:
    """Try one delivery if it is due and first in its conversation's line: claim it
    (committed), POST, record the outcome. Returns its state after, or None when it was
    not tried (held by another sender, not due, or waiting for an earlier one)."""
    now = now or timezone.now()
    attempt = _claim(delivery_id=delivery_id, now=now)
    if attempt is None:
        return None
    result = None
    try:
        # Atomic is required since we use FOR UPDATE: the lock is held through the POST
        # (at most a timeout per redirect), so while this sender lives nobody takes its
        # claim, even past the lease; a killed sender's lock goes with its connection.
        with transaction.atomic():
            delivery = WebhookDelivery.objects.select_for_update(of=("self",)).select_related("subscription").filter(pk=delivery_id, state=WebhookDelivery.State.SENDING, attempts=attempt).first()
            if delivery is None:
                return None  # our claim lapsed before we got here and another sender took it
            result = _post(delivery)
    except DatabaseError as exc:
        # The session was cut (the lock with it); the claim still fences the row, so the
        # outcome is written on a fresh connection.
        logger.warning("Webhook delivery %s in %s: database session lost during attempt %s", delivery_id, connection.schema_name, attempt, exc_info=True)
        result = result or PostResult(status=None, latency_ms=0, head="", error=f"{type(exc).__name__}: {exc}"[:300])
    return _record(delivery_id=delivery_id, attempt=attempt, result=result, now=now)


def deliveries_due(*, now=None, limit: int = SWEEP_BATCH) -> list[int]:
    now = now or timezone.now()
    return list(
        WebhookDelivery.objects.filter(_claimable(now))
        .order_by("subscription_id", "conversation_id", "sequence", "id").values_list("id", flat=True)[:limit]
    )


def webhooks_deliver(*, delivery_ids: list[int] | None = None, now=None) -> int:
    """Try the given (or every due) delivery of the current brand, in order; returns how
    many were delivered. A delivery freed by an earlier one's success goes in the same run."""
    ids = delivery_ids if delivery_ids is not None else deliveries_due(now=now)
    delivered = 0
    for delivery_id in sorted(ids):
        delivered += delivery_attempt(delivery_id=delivery_id, now=now) == WebhookDelivery.State.DELIVERED
    return delivered
