"""Writes on service levels (brand schema; sla.tasks.sla_sweep enters each brand's).

The sweep keeps each conversation's clocks in step with the conversation's own times
(queued_at, assigned_at, first_agent_reply_at, awaiting_reply_since and the ReplyTime
rows chat's message statement writes), so nothing on the message path waits for SLA
work. A clock kept before its due time stops there; one that is not is breached once:
the conditional update of breached_at, the SlaEvent (unique per clock), the supervisors'
outbox emails and their live alerts are one transaction.
"""

from datetime import timedelta

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.db.models.functions import Greatest
from django.utils import timezone

from helpdesk.models import Staffing
from realtime import events
from realtime.publish import publish_on_commit
from routing.models import QueueEntry
from tenants.models import Brand

from webhooks.models import WebhookEvent
from webhooks.services import webhook_event_record

from .clock import business_deadline
from .models import Holiday, SlaClock, SlaEvent, SlaKind, SlaPolicy

# A breached queued chat moves ahead of every chat that has not breached (escalation's 2).
BREACHED_PRIORITY = 3


def _conversations():
    # chat sits a floor above: its models by name, never by import.
    return apps.get_model("chat", "Conversation")


def _policies() -> tuple[SlaPolicy | None, dict[int, SlaPolicy]]:
    policies = list(SlaPolicy.objects.all())
    return next((p for p in policies if p.category_id is None), None), {p.category_id: p for p in policies if p.category_id}


def _due_times(*, brand: Brand, policy: SlaPolicy, start, seconds: int, holidays: set) -> tuple:
    if policy.business_hours_only:
        deadline = lambda share: business_deadline(start=start, seconds=seconds * share, hours=brand.business_hours, time_zone=brand.time_zone, holidays=holidays)  # noqa: E731
    else:
        deadline = lambda share: start + timedelta(seconds=seconds * share)  # noqa: E731
    return deadline(policy.warn_at_percent / 100), deadline(1)


def clocks_start(*, brand: Brand) -> int:
    """Start the clocks the conversations' times call for; a clock already started (same
    conversation, kind and start) is left alone, so the sweep may run any number of times."""
    default, by_category = _policies()
    if default is None and not by_category:
        return 0
    Conversation = _conversations()
    State = Conversation.State
    wanted = []
    rows = Conversation.objects.filter(state__in=[State.QUEUED, State.ACTIVE]).values_list(
        "id", "state", "category_id", "queued_at", "assigned_at", "first_agent_reply_at", "awaiting_reply_since"
    )
    for conversation_id, state, category_id, queued_at, assigned_at, first_reply_at, awaiting in rows:
        policy = by_category.get(category_id, default)
        if policy is None:
            continue
        if state == State.QUEUED and queued_at:
            wanted.append((policy, conversation_id, SlaKind.QUEUE_WAIT, queued_at))
        elif state == State.ACTIVE and assigned_at and first_reply_at is None:
            wanted.append((policy, conversation_id, SlaKind.FIRST_REPLY, assigned_at))
        elif state == State.ACTIVE and first_reply_at and awaiting:
            wanted.append((policy, conversation_id, SlaKind.NEXT_REPLY, awaiting))
    wanted = [(policy, cid, kind, start) for policy, cid, kind, start in wanted if policy.target(kind)]
    if not wanted:
        return 0
    existing = set(SlaClock.objects.filter(conversation_id__in={w[1] for w in wanted}).values_list("conversation_id", "kind", "started_at"))
    holidays = set(Holiday.objects.values_list("date", flat=True))
    clocks = []
    for policy, conversation_id, kind, start in wanted:
        if (conversation_id, kind, start) in existing:
            continue
        warn_at, due_at = _due_times(brand=brand, policy=policy, start=start, seconds=policy.target(kind), holidays=holidays)
        clocks.append(SlaClock(conversation_id=conversation_id, kind=kind, started_at=start, target_seconds=policy.target(kind), warn_at=warn_at, due_at=due_at))
    return len(SlaClock.objects.bulk_create(clocks, ignore_conflicts=True))


def _kept_at(clock: SlaClock, conversation):
    """When the promise was kept (or the chat ended, which ends it too), else None."""
    State = type(conversation).State
    ended = conversation.ended_at if conversation.state not in (State.QUEUED, State.ACTIVE) else None
    if clock.kind == SlaKind.QUEUE_WAIT:
        assigned = conversation.assigned_at if conversation.assigned_at and conversation.assigned_at >= clock.started_at else None
        return assigned or ended
    if clock.kind == SlaKind.FIRST_REPLY:
        return conversation.first_agent_reply_at or ended
    answered = apps.get_model("chat", "ReplyTime").objects.filter(conversation_id=conversation.id, asked_at=clock.started_at).values_list("answered_at", flat=True).first()
    return answered or ended


def _supervisors(*, brand: Brand):
    return [s.agent for s in Staffing.objects.filter(brand=brand, role=Staffing.Role.SUPERVISOR).select_related("agent__user").order_by("agent_id")]


def _breach(*, brand: Brand, clock: SlaClock, conversation, now) -> bool:
    with transaction.atomic():
        if not SlaClock.objects.filter(pk=clock.pk, breached_at__isnull=True).update(breached_at=now):
            return False
        SlaEvent.objects.create(
            clock=clock, conversation_id=conversation.id, kind=clock.kind, started_at=clock.started_at, due_at=clock.due_at,
            breached_at=now, agent_id=conversation.agent_id,
        )
        if clock.kind == SlaKind.QUEUE_WAIT:
            QueueEntry.objects.filter(brand=brand, conversation_id=conversation.id, state__in=[QueueEntry.State.WAITING, QueueEntry.State.OFFERED]).update(
                priority=Greatest(F("priority"), BREACHED_PRIORITY)
            )
        webhook_event_record(
            event_type=WebhookEvent.SLA_BREACHED, conversation_id=conversation.id,
            data={"sla": {"kind": str(clock.kind), "target_seconds": clock.target_seconds, "started_at": clock.started_at, "due_at": clock.due_at, "breached_at": now, "agent_id": conversation.agent_id}},
        )
        label = SlaKind(clock.kind).label
        detail = f"{label}: the target of {clock.target_seconds // 60} min {clock.target_seconds % 60} s for {conversation.customer_name} was missed."
        OutboundEmail = apps.get_model("chat", "OutboundEmail")
        for supervisor in _supervisors(brand=brand):
            publish_on_commit(events.alert_raised(
                agent_id=supervisor.id, kind=events.AlertKind.SLA_BREACHED, brand=brand, conversation_id=conversation.id,
                detail=detail, at=now, sla=str(clock.kind), due_at=clock.due_at.isoformat(),
            ))
            if supervisor.user.email:
                # Sent by chat's outbox sweep, like every email; the row is the promise.
                OutboundEmail.objects.create(
                    to=supervisor.user.email, kind="sla_breached", conversation_id=conversation.id,
                    subject=f"[{brand.name}] SLA missed: {label}",
                    body=f"{detail}\n\nStarted {clock.started_at:%Y-%m-%d %H:%M:%S %Z}, due {clock.due_at:%Y-%m-%d %H:%M:%S %Z}.",
                )
    return True


def _warn(*, brand: Brand, clock: SlaClock, conversation, now) -> bool:
    with transaction.atomic():
        if not SlaClock.objects.filter(pk=clock.pk, warned_at__isnull=True).update(warned_at=now):
            return False
        if conversation.agent_id and clock.kind != SlaKind.QUEUE_WAIT:
            left = max(0, int((clock.due_at - now).total_seconds()))
            publish_on_commit(events.alert_raised(
                agent_id=conversation.agent_id, kind=events.AlertKind.SLA_WARNING, brand=brand, conversation_id=conversation.id,
                detail=f"{SlaKind(clock.kind).label} for {conversation.customer_name} is due in {left // 60} min {left % 60} s.",
                at=now, sla=str(clock.kind), due_at=clock.due_at.isoformat(),
            ))
    return True


def sla_sweep_brand(*, brand: Brand, now=None) -> dict:
    """Start due clocks, stop kept ones, warn and breach the rest, for the current brand."""
    assert connection.schema_name == brand.schema_name, "enter the brand's schema first"
    now = now or timezone.now()
    result = {"started": clocks_start(brand=brand), "kept": 0, "warned": 0, "breached": 0}
    # Open clocks are a few per chat in progress: reading them all each sweep is cheap.
    for clock in list(SlaClock.objects.filter(stopped_at__isnull=True).select_related("conversation")):
        conversation = clock.conversation
        kept_at = _kept_at(clock, conversation)
        if kept_at is not None and kept_at <= clock.due_at:
            SlaClock.objects.filter(pk=clock.pk).update(stopped_at=kept_at)
            result["kept"] += 1
            continue
        if clock.due_at <= now and clock.breached_at is None:
            result["breached"] += _breach(brand=brand, clock=clock, conversation=conversation, now=now)
        elif clock.warn_at <= now and clock.warned_at is None and kept_at is None:
            result["warned"] += _warn(brand=brand, clock=clock, conversation=conversation, now=now)
        if kept_at is not None:
            SlaClock.objects.filter(pk=clock.pk).update(stopped_at=kept_at)
    return result


# --- policies and holidays (the brand API; the brand admin edits the same rows) -------


class SlaSettingsInvalid(Exception):
    """A policy or holiday the model refuses, with the field errors the API hands back."""

    def __init__(self, errors: dict):
        super().__init__(errors)
        self.errors = errors


def _saved(instance):
    # full_clean checks the fields and the constraints (one policy per category, one
    # holiday per date); the IntegrityError is the same refusal losing a race to another writer.
    try:
        instance.full_clean()
    except ValidationError as exc:
        raise SlaSettingsInvalid(exc.message_dict) from None
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError:
        raise SlaSettingsInvalid({"non_field_errors": ["Another request just saved the same one."]}) from None
    return instance


def sla_policy_create(**fields) -> SlaPolicy:
    """A policy for a category, or the default (no category); clocks already running keep
    their due times, new clocks follow the policy."""
    return _saved(SlaPolicy(**fields))


def sla_policy_update(*, policy: SlaPolicy, changes: dict) -> SlaPolicy:
    for name, value in changes.items():
        setattr(policy, name, value)
    return _saved(policy)


def sla_policy_delete(*, policy: SlaPolicy) -> None:
    policy.delete()


def holiday_create(*, date, name: str) -> Holiday:
    return _saved(Holiday(date=date, name=name))


def holiday_delete(*, holiday: Holiday) -> None:
    holiday.delete()
