"""Routing state (public schema), so one router sees every brand's queue and every
agent's load across brands."""

from django.contrib.postgres.fields import ArrayField
from django.db import models


class AgentState(models.Model):
    class Presence(models.TextChoices):
        ONLINE = "online", "Online"
        AWAY = "away", "Away"
        OFFLINE = "offline", "Offline"

    agent = models.OneToOneField("helpdesk.AgentProfile", on_delete=models.CASCADE, primary_key=True, related_name="state")
    presence = models.CharField(max_length=8, choices=Presence.choices, default=Presence.OFFLINE, db_index=True)
    presence_changed_at = models.DateTimeField(auto_now_add=True)
    # Chats held or offered, across every brand; never above the profile's capacity.
    active_chats = models.PositiveSmallIntegerField(default=0)
    # The number of AgentSocket rows, kept beside them for the admin and the sweep's query.
    connections = models.PositiveSmallIntegerField(default=0)
    away_due_at = models.DateTimeField(null=True, blank=True, db_index=True, help_text="Set when the last connection closes.")
    last_assigned_at = models.DateTimeField(null=True, blank=True)
    idle_since = models.DateTimeField(null=True, blank=True, help_text="When the agent last had no chat; ties go to the longest idle.")

    def __str__(self) -> str:
        return f"{self.agent}: {self.presence} ({self.active_chats})"


class AgentSocket(models.Model):
    """One live agent socket, by its channel name, with the last heartbeat its consumer sent.

    Presence counts these rows, not open/close events: a socket whose server died without
    closing it (SIGKILL, a lost machine) stops refreshing `last_seen`, and the sweep
    deletes it (routing.services.presence_sweep)."""

    channel_name = models.CharField(max_length=200, primary_key=True)
    agent = models.ForeignKey("helpdesk.AgentProfile", on_delete=models.CASCADE, related_name="sockets")
    connected_at = models.DateTimeField()
    last_seen = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.agent_id}: {self.channel_name}"


class QueueEntry(models.Model):
    """A conversation's place in routing, from queued to ended."""

    class State(models.TextChoices):
        WAITING = "waiting", "Waiting"
        OFFERED = "offered", "Offered to an agent"
        ASSIGNED = "assigned", "Assigned"
        DONE = "done", "Done"
        LEFT = "left", "Left the queue"

    brand = models.ForeignKey("tenants.Brand", on_delete=models.CASCADE, related_name="queue_entries")
    conversation_id = models.IntegerField()
    category = models.SlugField(max_length=40)
    priority = models.SmallIntegerField(default=0)
    state = models.CharField(max_length=10, choices=State.choices, default=State.WAITING)
    entered_at = models.DateTimeField()
    customer_name = models.CharField(max_length=120)
    summary = models.CharField(max_length=300)
    offered_agent = models.ForeignKey("helpdesk.AgentProfile", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    offer_expires_at = models.DateTimeField(null=True, blank=True)
    declined_agent_ids = ArrayField(models.IntegerField(), default=list, blank=True)
    # When the last agent passed on it: after the brand's cool-down the agents who declined
    # or missed it may be offered it again (routing.services.declines_forgive).
    last_declined_at = models.DateTimeField(null=True, blank=True)
    # Once, when nobody had accepted it within the brand's limit (chat.escalations).
    escalated_at = models.DateTimeField(null=True, blank=True)
    agent = models.ForeignKey("helpdesk.AgentProfile", null=True, blank=True, on_delete=models.SET_NULL, related_name="queue_entries")
    assigned_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The wait first quoted to the customer, and the estimator's raw figure behind it: the
    # estimator learns from its own errors, and reports set quotes against real waits.
    quoted_seconds = models.PositiveIntegerField(null=True, blank=True)
    quoted_raw_seconds = models.FloatField(null=True, blank=True)
    quoted_position = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["brand", "conversation_id"], name="queue_entry_unique_conversation")]
        indexes = [
            models.Index(fields=["state", "brand", "-priority", "entered_at"], name="queue_waiting_order"),
            models.Index(fields=["state", "offer_expires_at"], name="queue_offer_deadline"),
            models.Index(fields=["brand", "category", "finished_at"], name="queue_recent_handle"),
            models.Index(fields=["brand", "entered_at"], name="queue_brand_entered"),  # wait-accuracy reports
        ]

    def __str__(self) -> str:
        return f"{self.brand_id}/{self.conversation_id} {self.state}"


class PresenceInterval(models.Model):
    """A stretch of time an agent spent in one presence (online or away): logged-in time
    and occupancy in the reports are sums of these. Offline is the absence of a row."""

    agent = models.ForeignKey("helpdesk.AgentProfile", on_delete=models.CASCADE, related_name="presence_intervals")
    presence = models.CharField(max_length=8, choices=AgentState.Presence.choices)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["agent", "started_at"]
        indexes = [models.Index(fields=["started_at"]), models.Index(fields=["agent", "started_at"])]
        constraints = [models.UniqueConstraint(fields=["agent"], condition=models.Q(ended_at__isnull=True), name="presence_one_open_per_agent")]


class AgentTimeBucket(models.Model):
    """A quarter hour of one agent's time on one brand, rolled up for the billing report
    (chat.billing.agent_time_buckets_roll_up): the billable seconds of the fair split (an
    agent's billable seconds over all brands are their busy seconds), the segments the
    agent started, and the survey ratings of their chats that ended then."""

    agent_id = models.IntegerField()
    brand_id = models.IntegerField()
    bucket = models.DateTimeField()
    billable_seconds = models.FloatField(default=0)
    segments = models.IntegerField(default=0)
    rating_sum = models.IntegerField(default=0)
    rating_count = models.IntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["bucket", "agent_id", "brand_id"], name="agent_time_bucket_unique")]


class AgentTimeRollup(models.Model):
    """One row: AgentTimeBucket holds every quarter before `rolled_up_until`."""

    rolled_up_until = models.DateTimeField()


class RoundRobinCursor(models.Model):
    brand = models.OneToOneField("tenants.Brand", on_delete=models.CASCADE, primary_key=True, related_name="+")
    last_agent_id = models.IntegerField(default=0)
