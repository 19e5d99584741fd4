"""Service levels (brand schema): what the brand promises (SlaPolicy, per category or
for all), the days it does not count (Holiday), the clocks each conversation carries
(SlaClock: a row with a due time, swept, never a countdown) and each breach, recorded
once (SlaEvent)."""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q, Value
from django.db.models.functions import Coalesce


class SlaKind(models.TextChoices):
    QUEUE_WAIT = "queue_wait", "Wait in the queue"
    FIRST_REPLY = "first_reply", "First agent reply after assignment"
    NEXT_REPLY = "next_reply", "Next reply to a customer message"


class SlaPolicy(models.Model):
    category = models.ForeignKey(
        "knowledge.Category", null=True, blank=True, on_delete=models.CASCADE, related_name="sla_policies",
        help_text="Leave empty for the brand's default; a category's own policy wins over it.",
    )
    queue_wait_seconds = models.PositiveIntegerField(null=True, blank=True, help_text="Longest wait in the queue; empty for no target.")
    first_reply_seconds = models.PositiveIntegerField(null=True, blank=True, help_text="First agent reply, counted from assignment.")
    next_reply_seconds = models.PositiveIntegerField(null=True, blank=True, help_text="Answer to each later customer message.")
    warn_at_percent = models.PositiveSmallIntegerField(
        default=80, validators=[MinValueValidator(1), MaxValueValidator(99)], help_text="The holding agent is warned at this share of a target."
    )
    business_hours_only = models.BooleanField(default=False, help_text="Count only the brand's business hours, skipping its holidays.")

    class Meta:
        verbose_name = "SLA policy"
        verbose_name_plural = "SLA policies"
        # One policy per category, and one default (no category): NULLs are distinct in a
        # plain unique index, so the default is folded into 0.
        constraints = [models.UniqueConstraint(Coalesce("category", Value(0)), name="sla_one_policy_per_category")]

    def __str__(self) -> str:
        return f"SLA for {self.category.name}" if self.category_id else "Default SLA"

    def target(self, kind: str) -> int | None:
        return {SlaKind.QUEUE_WAIT: self.queue_wait_seconds, SlaKind.FIRST_REPLY: self.first_reply_seconds, SlaKind.NEXT_REPLY: self.next_reply_seconds}[kind]


class Holiday(models.Model):
    date = models.DateField(unique=True)
    name = models.CharField(max_length=80)

    class Meta:
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date}: {self.name}"


class SlaClock(models.Model):
    """One promise on one conversation: started when the conversation's own time says
    (queued_at, assigned_at, awaiting_reply_since), stopped when it is kept."""

    conversation = models.ForeignKey("chat.Conversation", on_delete=models.CASCADE, related_name="sla_clocks")
    kind = models.CharField(max_length=16, choices=SlaKind.choices)
    started_at = models.DateTimeField()
    target_seconds = models.PositiveIntegerField()
    warn_at = models.DateTimeField()
    due_at = models.DateTimeField()
    stopped_at = models.DateTimeField(null=True, blank=True)
    warned_at = models.DateTimeField(null=True, blank=True)
    breached_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_at"]
        constraints = [models.UniqueConstraint(fields=["conversation", "kind", "started_at"], name="sla_clock_once_per_start")]
        indexes = [
            models.Index(fields=["due_at"], condition=Q(stopped_at__isnull=True, breached_at__isnull=True), name="sla_clock_due"),
            models.Index(fields=["due_at"], name="sla_clock_due_report"),  # compliance over a period (chat.reports)
            models.Index(fields=["warn_at"], condition=Q(stopped_at__isnull=True, warned_at__isnull=True), name="sla_clock_warn"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.conversation_id} due {self.due_at:%Y-%m-%d %H:%M:%S}"


class SlaEvent(models.Model):
    """A breach, recorded once per clock (the unique clock is what makes it once)."""

    clock = models.OneToOneField(SlaClock, on_delete=models.CASCADE, related_name="breach")
    conversation = models.ForeignKey("chat.Conversation", on_delete=models.CASCADE, related_name="sla_events")
    kind = models.CharField(max_length=16, choices=SlaKind.choices)
    started_at = models.DateTimeField()
    due_at = models.DateTimeField()
    breached_at = models.DateTimeField()
    agent_id = models.IntegerField(null=True, blank=True, help_text="The agent holding the chat at the breach (public schema id).")

    class Meta:
        ordering = ["-breached_at"]
        verbose_name = "SLA breach"

    def __str__(self) -> str:
        return f"{self.get_kind_display()} breached on #{self.conversation_id}"
