"""Webhooks (brand schema): a brand's subscriptions, one outbox row per delivery written
in the transaction of the change it tells of, the per-conversation sequence, and the log
of every attempt."""

import secrets
import uuid

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q


class WebhookEvent(models.TextChoices):
    CONVERSATION_CREATED = "conversation.created", "Conversation created"
    CONVERSATION_QUEUED = "conversation.queued", "Conversation queued"
    CONVERSATION_ASSIGNED = "conversation.assigned", "Conversation assigned"
    CONVERSATION_TRANSFERRED = "conversation.transferred", "Conversation transferred"
    CONVERSATION_ENDED = "conversation.ended", "Conversation ended"
    MESSAGE_CREATED = "message.created", "Message created"
    SURVEY_SUBMITTED = "survey.submitted", "Survey submitted"
    SLA_BREACHED = "sla.breached", "SLA breached"
    TEST = "webhook.test", "Test event (admin action)"


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


class WebhookSubscription(models.Model):
    url = models.URLField(max_length=500, help_text="HTTPS endpoint on the public internet (private, loopback and metadata addresses are refused).")
    events = ArrayField(models.CharField(max_length=40, choices=WebhookEvent.choices), help_text="The events sent to this URL.")
    secret = models.CharField(max_length=80, default=new_secret, help_text="Signs every body (HMAC-SHA256); see docs/webhooks.md.")
    is_active = models.BooleanField(default=True)
    # Set when a delivery was given up after a day of retries: the brand should look.
    failing_since = models.DateTimeField(null=True, blank=True)
    # message.created is read from the messages themselves (the hot path writes no
    # webhook rows): the last message id this subscription was told of.
    message_cursor = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.url


class WebhookSequence(models.Model):
    """The last sequence number given per subscription and conversation."""

    subscription = models.ForeignKey(WebhookSubscription, on_delete=models.CASCADE, related_name="+")
    conversation_id = models.IntegerField()
    last_seq = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["subscription", "conversation_id"], name="webhook_sequence_unique")]


class WebhookDelivery(models.Model):
    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        DELIVERED = "delivered", "Delivered"
        GAVE_UP = "gave_up", "Given up after a day"

    subscription = models.ForeignKey(WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries")
    # The idempotency key receivers see as Webhook-Id: the same on every retry.
    event_id = models.UUIDField(default=uuid.uuid4, unique=True)
    event_type = models.CharField(max_length=40, choices=WebhookEvent.choices)
    conversation_id = models.IntegerField(null=True, blank=True)
    sequence = models.PositiveIntegerField(null=True, blank=True)
    body = models.TextField(help_text="The exact JSON the signature covers.")
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    # Every claimed try, counted when it is claimed (before the POST), so a try whose
    # worker died is counted too; the count is also the claim's fencing token.
    attempts = models.PositiveSmallIntegerField(default=0)
    # Tries whose outcome nobody could know (the worker was lost mid-request, or the
    # connection dropped after the request was written): each may have reached the
    # receiver, always under the delivery's one Webhook-Id.
    uncertain_attempts = models.PositiveSmallIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "webhook deliveries"
        constraints = [
            models.UniqueConstraint(fields=["subscription", "conversation_id", "sequence"], condition=Q(conversation_id__isnull=False), name="webhook_delivery_order"),
        ]
        indexes = [
            models.Index(fields=["next_attempt_at"], condition=Q(state="pending"), name="webhook_delivery_due"),
            models.Index(fields=["claimed_at"], condition=Q(state="sending"), name="webhook_delivery_claimed"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} → {self.subscription_id} ({self.state})"


class WebhookAttempt(models.Model):
    """The delivery log: one row per try, with what the receiver answered."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="log")
    attempted_at = models.DateTimeField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    response_head = models.CharField(max_length=500, blank=True, help_text="The response's first bytes.")
    error = models.CharField(max_length=300, blank=True)
    # False from the claim until the outcome is written; a try left unfinished was lost
    # with its worker, and the next claim says so in its error.
    finished = models.BooleanField(default=True)

    class Meta:
        ordering = ["attempted_at"]
