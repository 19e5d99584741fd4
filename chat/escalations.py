"""No chat left waiting, chat's half (brand schema; routing rows live in public, which is
on every brand's search path): a chat nobody has accepted within the brand's limit is
escalated to the brand's supervisors, live and by email through the outbox, and a
supervisor can push a waiting chat to a named agent.

Escalation happens once per queue entry: the conditional update of `escalated_at`, the
supervisors' emails (outbox rows) and the live alerts are one transaction, so a worker
dying mid-sweep leaves either all of them or none, and the next sweep does the rest.
"""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from helpdesk.models import AgentProfile, Staffing
from realtime import events
from realtime.publish import publish_on_commit
from routing import services as routing
from routing.models import QueueEntry
from tenants.models import Brand

from .errors import ChatError
from .models import Conversation
from .outbox import email_enqueue
from .services import conversation_join

# The escalated chat moves up the brand's queue, ahead of chats that have not waited as long.
ESCALATED_PRIORITY = 2
WAITING_STATES = (QueueEntry.State.WAITING, QueueEntry.State.OFFERED)


def brand_supervisors(*, brand: Brand) -> list[AgentProfile]:
    return [s.agent for s in Staffing.objects.filter(brand=brand, role=Staffing.Role.SUPERVISOR).select_related("agent__user").order_by("agent_id")]


def queue_escalations_raise(*, brand: Brand, now=None) -> int:
    """Escalate the brand's chats waiting longer than its limit; returns how many.

    Runs in the brand's schema (chat.tasks.chat_sweep enters it)."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=brand.escalate_after_seconds)
    overdue = QueueEntry.objects.filter(brand=brand, state__in=WAITING_STATES, escalated_at__isnull=True, entered_at__lte=cutoff)
    raised = 0
    for entry_id, conversation_id in list(overdue.values_list("id", "conversation_id")):
        with transaction.atomic():
            # Once: a second sweep (or a redelivered task) finds the row already stamped.
            if not QueueEntry.objects.filter(pk=entry_id, state__in=WAITING_STATES, escalated_at__isnull=True).update(escalated_at=now):
                continue
            entry = QueueEntry.objects.get(pk=entry_id)
            if entry.priority < ESCALATED_PRIORITY:
                QueueEntry.objects.filter(pk=entry_id).update(priority=ESCALATED_PRIORITY)
            waited = int((now - entry.entered_at).total_seconds())
            conversation = Conversation.objects.filter(pk=conversation_id).first()
            detail = f"{entry.customer_name} has waited {waited // 60} min {waited % 60} s and nobody has accepted the chat."
            for supervisor in brand_supervisors(brand=brand):
                publish_on_commit(events.alert_raised(
                    agent_id=supervisor.id, kind=events.AlertKind.QUEUE_ESCALATED, brand=brand, conversation_id=conversation_id,
                    detail=detail, at=now, waited_seconds=waited,
                ))
                if supervisor.user.email:
                    email_enqueue(
                        to=supervisor.user.email, kind="queue_escalated", conversation=conversation,
                        subject=f"[{brand.name}] A chat has waited {waited // 60} min with nobody to take it",
                        body=f"{detail}\n\nSummary: {entry.summary}\n\nOpen the supervisor view to push it to an agent.",
                    )
            raised += 1
    return raised


def conversation_push(*, supervisor: AgentProfile, brand: Brand, conversation: Conversation, to_agent: AgentProfile) -> Conversation:
    """A supervisor gives a waiting chat to a named agent, who joins it at once. The caller
    has authorized the supervisor on the brand and is in its schema."""
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
        if conversation.state != Conversation.State.QUEUED:
            raise ChatError("Only a chat waiting in the queue can be pushed to an agent.", "bad_state", 409)
        try:
            routing.queue_push(brand=brand, conversation_id=conversation.id, to_agent=to_agent)
        except routing.RoutingError as exc:
            raise ChatError(exc.detail, exc.code, 409) from exc
        conversation_join(conversation=conversation, agent=to_agent, brand=brand)
    return conversation
