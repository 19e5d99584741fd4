"""Conversations and their messages (brand schema).

Agents live in the public schema; a conversation refers to its agent by id (no
cross-schema foreign key) and keeps the name the customer saw.
"""

import hashlib
import secrets

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q


class CustomField(models.Model):
    """A pre-chat field the brand asks for on top of name, email and customer ID."""

    class FieldType(models.TextChoices):
        TEXT = "text", "Text"
        EMAIL = "email", "Email"
        NUMBER = "number", "Number"
        SELECT = "select", "Choice"
        CHECKBOX = "checkbox", "Checkbox"

    key = models.SlugField(max_length=40, unique=True, help_text="Name used in the API and the identity token.")
    label = models.CharField(max_length=80)
    field_type = models.CharField(max_length=16, choices=FieldType.choices, default=FieldType.TEXT)
    required = models.BooleanField(default=False)
    choices = ArrayField(models.CharField(max_length=80), default=list, blank=True, help_text="For a choice field.")
    pattern = models.CharField(max_length=200, blank=True, help_text="A regular expression text must match in full.")
    help_text = models.CharField(max_length=200, blank=True)
    position = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["position", "key"]

    def __str__(self) -> str:
        return self.label


class Conversation(models.Model):
    class State(models.TextChoices):
        SUGGESTING = "suggesting", "Suggesting articles"
        RESOLVED_BY_ARTICLE = "resolved_by_article", "Resolved by an article"
        QUEUED = "queued", "Queued"
        ACTIVE = "active", "Active"
        ENDED = "ended", "Ended"
        ABANDONED = "abandoned", "Abandoned"

    class EndedBy(models.TextChoices):
        CUSTOMER = "customer", "Customer"
        AGENT = "agent", "Agent"
        INACTIVITY = "inactivity", "Inactivity"

    state = models.CharField(max_length=24, choices=State.choices, default=State.SUGGESTING, db_index=True)
    # The client's idempotency key for "Start chat": the same key makes no second
    # conversation (a double click, a retried request, the widget reloaded mid-request).
    client_key = models.CharField(max_length=64, null=True, blank=True, unique=True)
    token_hash = models.CharField(max_length=64, unique=True)

    customer_name = models.CharField(max_length=120)
    customer_email = models.EmailField()
    customer_external_id = models.CharField(max_length=120, blank=True, db_index=True)
    identity_verified = models.BooleanField(default=False)
    category = models.ForeignKey("knowledge.Category", on_delete=models.PROTECT, related_name="conversations")
    summary = models.TextField(max_length=2000)
    product_id = models.CharField(max_length=120, blank=True)
    custom_fields = models.JSONField(default=dict, blank=True)
    # What the customer's side spoke and where the customer is, for the emails sent later.
    locale = models.CharField(max_length=10, blank=True, help_text="The customer's language when the chat started.")
    customer_time_zone = models.CharField(max_length=64, blank=True, help_text="The customer's browser's IANA time zone.")

    suggested_article_ids = ArrayField(models.IntegerField(), default=list, blank=True)
    # As shown when the conversation started: learning moves the ranking later, and a
    # reloaded widget must show the same scores the customer saw.
    suggestion_scores = models.JSONField(default=dict, blank=True, help_text='Per suggested article id (a string): {"score", "why"}.')
    resolved_article = models.ForeignKey("knowledge.Article", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    agent_id = models.IntegerField(null=True, blank=True, db_index=True, help_text="helpdesk.AgentProfile id (public schema).")
    agent_name = models.CharField(max_length=80, blank=True)

    last_seq = models.PositiveIntegerField(default=0)
    customer_read_seq = models.PositiveIntegerField(default=0)
    agent_read_seq = models.PositiveIntegerField(default=0)

    created_at = models.DateTimeField(auto_now_add=True)
    queued_at = models.DateTimeField(null=True, blank=True)
    quoted_wait_seconds = models.PositiveIntegerField(null=True, blank=True, help_text="The wait the customer was told on joining the queue.")
    assigned_at = models.DateTimeField(null=True, blank=True)
    first_agent_reply_at = models.DateTimeField(null=True, blank=True, help_text="The first reply an agent sent the customer.")
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.CharField(max_length=16, choices=EndedBy.choices, blank=True)
    last_activity_at = models.DateTimeField(auto_now_add=True)
    # Set by the customer's message statement (chat.messages), cleared by the holding
    # agent's reply, which records the wait as a ReplyTime: what the agent-silence sweep
    # (chat.inactivity) and reports read. reply_asked_at is that statement's scratch: the
    # awaiting time the latest reply answered (an UPDATE's SET sees the old row).
    awaiting_reply_since = models.DateTimeField(null=True, blank=True)
    reply_asked_at = models.DateTimeField(null=True, blank=True)
    inactivity_warned_at = models.DateTimeField(null=True, blank=True, help_text="When the customer was last warned the chat would close.")
    agent_nudged_at = models.DateTimeField(null=True, blank=True, help_text="When the holding agent was last asked to answer.")

    class Meta:
        ordering = ["-created_at"]
        # created_at: every report reads a period of conversations.
        indexes = [models.Index(fields=["customer_email", "-created_at"]), models.Index(fields=["created_at"], name="conversation_created")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.customer_name}: {self.summary[:40]}"

    @staticmethod
    def hash_token(raw: str) -> str:
        return hashlib.sha256(raw.encode()).hexdigest()

    @staticmethod
    def new_token() -> str:
        return secrets.token_urlsafe(32)


class ReplyTime(models.Model):
    """How long one customer's message (or run of messages) waited for the holding agent's
    answer; written by the answer's own statement (chat.messages), for reports and SLA."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="reply_times")
    message = models.OneToOneField("chat.Message", on_delete=models.CASCADE, related_name="+", help_text="The agent's answer.")
    agent_id = models.IntegerField()
    asked_at = models.DateTimeField()
    answered_at = models.DateTimeField()

    class Meta:
        ordering = ["answered_at"]


class Message(models.Model):
    class Sender(models.TextChoices):
        CUSTOMER = "customer", "Customer"
        AGENT = "agent", "Agent"
        SYSTEM = "system", "System"

    # No index of its own: the unique (conversation, seq) index serves every lookup by
    # conversation, and one index fewer to write is ~30% more messages per second.
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages", db_index=False)
    seq = models.PositiveIntegerField()
    client_msg_id = models.CharField(max_length=64, null=True, blank=True)
    sender = models.CharField(max_length=16, choices=Sender.choices)
    is_internal = models.BooleanField(default=False, help_text="A private note: agents only, never the customer.")
    agent_id = models.IntegerField(null=True, blank=True)
    author_name = models.CharField(max_length=120, blank=True)
    body = models.TextField(max_length=4000)
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["conversation", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["conversation", "seq"], name="message_unique_seq"),
            models.UniqueConstraint(
                fields=["conversation", "sender", "client_msg_id"],
                condition=Q(client_msg_id__isnull=False),
                name="message_unique_client_msg_id",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.conversation_id}#{self.seq} {self.sender}"


class Attachment(models.Model):
    """A file a customer or an agent uploaded into a conversation (chat.attachments).

    Uploaded first, then referenced by one message of the same side (message stays null
    until then). The file lives in the default storage under the brand's schema and the
    conversation, at a random name: the customer's file name is only ever shown, never
    used as a path."""

    class Side(models.TextChoices):
        CUSTOMER = "customer", "Customer"
        AGENT = "agent", "Agent"

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="attachments")
    message = models.ForeignKey(Message, null=True, blank=True, on_delete=models.CASCADE, related_name="attachments")
    uploaded_by = models.CharField(max_length=16, choices=Side.choices)
    agent_id = models.IntegerField(null=True, blank=True, help_text="helpdesk.AgentProfile id (public schema), for an agent's upload.")
    name = models.CharField(max_length=255, help_text="The file's name as uploaded, made safe to show.")
    content_type = models.CharField(max_length=100, help_text="Sniffed from the content, never taken from the name or the request.")
    size = models.PositiveBigIntegerField(help_text="Bytes stored (images after re-encoding).")
    sha256 = models.CharField(max_length=64)
    storage_path = models.CharField(max_length=300)
    thumbnail_path = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.conversation_id}: {self.name}"

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")


class AgentSegment(models.Model):
    """A stretch of a conversation one agent held: from accepting (or being transferred
    the chat) to handing it on or the end. Handle time per agent and brand is the sum of
    an agent's segments, so a transfer splits it."""

    class EndReason(models.TextChoices):
        TRANSFERRED = "transferred", "Transferred"
        REQUEUED = "requeued", "Back to the queue"
        ENDED = "ended", "Chat ended"

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="segments")
    agent_id = models.IntegerField(help_text="helpdesk.AgentProfile id (public schema).")
    agent_name = models.CharField(max_length=80)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=16, choices=EndReason.choices, blank=True)

    class Meta:
        ordering = ["conversation", "started_at"]
        indexes = [models.Index(fields=["agent_id", "started_at"]), models.Index(fields=["started_at"])]
        constraints = [
            # One open segment per conversation: never two agents holding one chat.
            models.UniqueConstraint(fields=["conversation"], condition=Q(ended_at__isnull=True), name="segment_one_open_per_conversation"),
        ]

    def __str__(self) -> str:
        return f"{self.conversation_id} {self.agent_name} {self.started_at:%H:%M}"


class OfflineMessage(models.Model):
    """Left outside business hours or when the queue is full; agents pick it up later."""

    customer_name = models.CharField(max_length=120)
    customer_email = models.EmailField()
    customer_external_id = models.CharField(max_length=120, blank=True)
    category = models.ForeignKey("knowledge.Category", on_delete=models.PROTECT, related_name="+")
    summary = models.TextField(max_length=2000)
    product_id = models.CharField(max_length=120, blank=True)
    custom_fields = models.JSONField(default=dict, blank=True)
    reason = models.CharField(
        max_length=24,
        choices=[("closed", "Outside business hours"), ("queue_full", "Queue full"), ("no_agents", "No agent available"), ("wait_too_long", "Wait too long")],
    )
    created_at = models.DateTimeField(auto_now_add=True)
    handled_at = models.DateTimeField(null=True, blank=True)
    handled_by_agent_id = models.IntegerField(null=True, blank=True)

    class Meta:
        ordering = ["handled_at", "created_at"]


class CannedReply(models.Model):
    """A saved answer with placeholders {customer_name} and {agent_name}."""

    shortcut = models.SlugField(max_length=40, unique=True)
    title = models.CharField(max_length=120)
    body = models.TextField(max_length=4000)

    class Meta:
        ordering = ["shortcut"]
        verbose_name_plural = "canned replies"

    def __str__(self) -> str:
        return self.title


class OutboundEmail(models.Model):
    """The outbox: an email is stored with the change that causes it and sent by a task,
    so a broker or SMTP outage delays it instead of losing it. A send is claimed (status
    sending, attempts counted, claimed_at) and committed before the SMTP conversation, so
    a worker lost mid-send leaves a visible claim instead of a silent second copy; see
    chat.outbox."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        GAVE_UP = "gave_up", "Given up"

    to = models.EmailField()
    subject = models.CharField(max_length=200)
    body = models.TextField()
    kind = models.CharField(max_length=24)
    conversation = models.ForeignKey(Conversation, null=True, blank=True, on_delete=models.SET_NULL, related_name="emails")
    created_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    sent_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # Every claimed try, counted when it is claimed (before the SMTP conversation), so a
    # try whose worker died is counted too; the count is also the claim's fencing token.
    attempts = models.PositiveSmallIntegerField(default=0)
    # Tries whose outcome nobody could know (the worker was lost mid-send, or the
    # connection dropped before the server's reply): each may have reached the server,
    # always under the row's one Message-ID.
    uncertain_attempts = models.PositiveSmallIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["created_at"]
        indexes = [models.Index(fields=["created_at"], condition=models.Q(status__in=["pending", "sending"]), name="outbox_unsent")]


class ReportBucket(models.Model):
    """An hour (UTC) of conversations of one category, added up (rolled up by
    chat.reports.report_buckets_roll_up). Reports over a year read these instead of half a
    million conversations; the part of a local day that is not a whole UTC hour is added up
    from the conversations themselves."""

    bucket = models.DateTimeField()
    category_id = models.IntegerField()
    conversations = models.IntegerField(default=0)
    resolved = models.IntegerField(default=0)
    chatted = models.IntegerField(default=0)
    abandoned = models.IntegerField(default=0)
    left_early = models.IntegerField(default=0)
    queued = models.IntegerField(default=0)
    wait_count = models.IntegerField(default=0)
    wait_sum = models.FloatField(default=0)
    first_count = models.IntegerField(default=0)
    first_sum = models.FloatField(default=0)
    handle_count = models.IntegerField(default=0)
    handle_sum = models.FloatField(default=0)
    surveys = models.IntegerField(default=0)
    rating_1 = models.IntegerField(default=0)
    rating_2 = models.IntegerField(default=0)
    rating_3 = models.IntegerField(default=0)
    rating_4 = models.IntegerField(default=0)
    rating_5 = models.IntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["bucket", "category_id"], name="report_bucket_unique")]


class ReportDurationBin(models.Model):
    """How many of a day's (UTC) conversations had a duration in one log-spaced bin
    (chat.reports.HIST_BINS), for medians and p90s without keeping every value. Only
    non-empty bins have a row."""

    class Metric(models.IntegerChoices):
        QUEUE_WAIT = 1, "Queue wait"
        FIRST_RESPONSE = 2, "First response"
        HANDLE_TIME = 3, "Handle time"

    day = models.DateTimeField()
    metric = models.PositiveSmallIntegerField(choices=Metric.choices)
    bin = models.PositiveSmallIntegerField()
    count = models.IntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "metric", "bin"], name="report_duration_bin_unique")]


class ReportArticleDay(models.Model):
    """A day (UTC) of one article: how often it was suggested and how often it solved the problem."""

    day = models.DateTimeField()
    article_id = models.IntegerField()
    shown = models.IntegerField()
    resolved = models.IntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "article_id"], name="report_article_day_unique")]


class ReportQuoteDay(models.Model):
    """A day (UTC) of quoted waits against real ones, for the customers who were served, by
    the place they were quoted at and the log-spaced bin of the error."""

    day = models.DateTimeField()
    position = models.PositiveIntegerField()
    bin = models.PositiveSmallIntegerField()
    served = models.IntegerField()
    within = models.IntegerField()
    absolute_sum = models.FloatField()
    signed_sum = models.FloatField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "position", "bin"], name="report_quote_day_unique")]


class ReportRollup(models.Model):
    """One row: buckets before `rolled_up_until` are in ReportBucket; later ones are added
    up from the conversations when a report asks."""

    rolled_up_until = models.DateTimeField()

class Tag(models.Model):
    """A wrap-up tag of the brand's own (managed in the brand admin), so chats can be
    counted by reason: "refund", "damaged parcel", ..."""

    slug = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=80)
    is_active = models.BooleanField(default=True, help_text="Inactive tags stay on old chats but are no longer offered.")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class WrapUp(models.Model):
    """What the agent recorded when a chat ended: the brand's tags and an optional
    disposition. One per conversation; saving again replaces it (the agent corrects it)."""

    class Disposition(models.TextChoices):
        RESOLVED = "resolved", "Resolved"
        FOLLOW_UP = "follow_up", "Needs follow-up"
        ESCALATED = "escalated", "Escalated"
        NOT_RESOLVED = "not_resolved", "Not resolved"
        NO_RESPONSE = "no_response", "Customer left"

    conversation = models.OneToOneField(Conversation, on_delete=models.CASCADE, related_name="wrap_up")
    tags = models.ManyToManyField(Tag, blank=True, related_name="wrap_ups")
    disposition = models.CharField(max_length=16, choices=Disposition.choices, blank=True, db_index=True)
    agent_id = models.IntegerField(help_text="helpdesk.AgentProfile id (public schema) of who wrapped it up.")
    wrapped_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["wrapped_at"], name="wrap_up_wrapped")]  # reports count a period's wrap-ups

    def __str__(self) -> str:
        return f"{self.conversation_id} {self.disposition}"


class Contact(models.Model):
    """A customer of the brand, across their conversations: found by customer ID or email
    and merged when the same customer comes back (chat.contacts.contact_record)."""

    external_id = models.CharField(max_length=120, blank=True, help_text="The brand's customer ID.")
    email = models.EmailField(db_index=True)
    name = models.CharField(max_length=120)
    identity_verified = models.BooleanField(default=False, help_text="The customer ID came in a signed identity token.")
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    conversations = models.ManyToManyField(Conversation, through="ContactConversation", related_name="contacts")

    class Meta:
        ordering = ["-last_seen_at"]
        constraints = [
            models.UniqueConstraint(fields=["external_id"], condition=~Q(external_id=""), name="contact_unique_external_id"),
        ]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"


class ContactConversation(models.Model):
    """A conversation belongs to one contact."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="links")
    conversation = models.OneToOneField(Conversation, on_delete=models.CASCADE, related_name="contact_link")
