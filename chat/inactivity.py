"""Quiet chats, per brand (brand schema; chat.tasks.chat_sweep enters it): the customer
is warned after the brand's N minutes of silence and the chat ends M minutes after that;
an agent who has not answered a customer's message within K minutes is asked, and K
minutes after asking the chat moves to a colleague (the customer is told).

Deadlines are the rows' own times (last_activity_at, awaiting_reply_since) compared with
the sweep's clock, never countdowns. Every step is guarded by a conditional update, so a
sweep that runs twice, or dies half-way, warns, asks and moves once.
"""

from datetime import timedelta

from django.db import connection, transaction
from django.db.models import F, Q
from django.db.models.functions import Greatest
from django.utils import timezone, translation
from django.utils.translation import ngettext

from helpdesk.models import AgentProfile
from realtime import events
from realtime.publish import publish_on_commit
from tenants.models import Brand

from .errors import ChatError
from .locale import conversation_language
from .messages import system_message_add
from .models import Conversation
from .services import conversation_end
from .transfers import conversation_transfer


def conversations_warn_inactive(*, brand: Brand, now=None) -> int:
    """Warn the customers of chats silent for the brand's N minutes (once per silence)."""
    now = now or timezone.now()
    quiet = Conversation.objects.filter(
        Q(inactivity_warned_at__isnull=True) | Q(inactivity_warned_at__lt=F("last_activity_at")),
        state=Conversation.State.ACTIVE, last_activity_at__lte=now - timedelta(minutes=brand.inactivity_warn_minutes),
    )
    warned = 0
    for conversation_id in list(quiet.values_list("id", flat=True)):
        with transaction.atomic():
            conversation = Conversation.objects.select_for_update(skip_locked=True).filter(pk=conversation_id, state=Conversation.State.ACTIVE).first()
            if conversation is None or (conversation.inactivity_warned_at and conversation.inactivity_warned_at >= conversation.last_activity_at):
                continue
            minutes = brand.inactivity_end_minutes
            with translation.override(conversation_language(brand=brand, conversation=conversation)):
                body = ngettext(
                    "Are you still there? This chat will close in %(n)s minute unless you write.",
                    "Are you still there? This chat will close in %(n)s minutes unless you write.",
                    minutes,
                ) % {"n": minutes}
            system_message_add(conversation_id=conversation.id, body=body)
            # The warning line itself moved last_activity_at; the warning time is read back
            # from it so that only the customer's (or the agent's) next line counts as news.
            conversation.refresh_from_db(fields=["last_activity_at"])
            Conversation.objects.filter(pk=conversation.id).update(inactivity_warned_at=conversation.last_activity_at)
            publish_on_commit(events.inactivity_warned(
                schema=connection.schema_name, conversation_id=conversation.id,
                closes_at=max(now, conversation.last_activity_at) + timedelta(minutes=minutes),
            ))
            warned += 1
    return warned


def conversations_end_inactive(*, brand: Brand, now=None) -> int:
    """End the chats still silent M minutes after their warning."""
    now = now or timezone.now()
    ids = list(
        Conversation.objects.filter(
            state=Conversation.State.ACTIVE, inactivity_warned_at__isnull=False,
            inactivity_warned_at__gte=F("last_activity_at"),
            inactivity_warned_at__lte=now - timedelta(minutes=brand.inactivity_end_minutes),
        ).values_list("id", flat=True)
    )
    for conversation_id in ids:
        conversation_end(brand=brand, conversation_id=conversation_id, ended_by=Conversation.EndedBy.INACTIVITY)
    return len(ids)


def agents_silent_handle(*, brand: Brand, now=None) -> dict:
    """Ask the agents who have left a customer's message unanswered for K minutes; move
    the chats of those still silent K minutes after being asked. The wait counts from the
    customer's message, or from the agent's joining when the chat came to them later."""
    now = now or timezone.now()
    limit = timedelta(minutes=brand.agent_reply_minutes)
    waiting = (
        Conversation.objects.filter(state=Conversation.State.ACTIVE, awaiting_reply_since__isnull=False, agent_id__isnull=False)
        .annotate(waiting_since=Greatest("awaiting_reply_since", "assigned_at"))
        .filter(waiting_since__lte=now - limit)
    )
    result = {"asked": 0, "moved": 0}
    for conversation_id in list(waiting.values_list("id", flat=True)):
        with transaction.atomic():
            conversation = (
                Conversation.objects.select_for_update(skip_locked=True).select_related("category")
                .annotate(waiting_since=Greatest("awaiting_reply_since", "assigned_at"))
                .filter(pk=conversation_id, state=Conversation.State.ACTIVE, awaiting_reply_since__isnull=False).first()
            )
            if conversation is None or conversation.waiting_since > now - limit:
                continue
            if conversation.agent_nudged_at is None or conversation.agent_nudged_at < conversation.waiting_since:
                Conversation.objects.filter(pk=conversation.id).update(agent_nudged_at=now)
                waited = int((now - conversation.waiting_since).total_seconds()) // 60
                publish_on_commit(events.alert_raised(
                    agent_id=conversation.agent_id, kind=events.AlertKind.REPLY_OVERDUE, brand=brand, conversation_id=conversation.id,
                    detail=f"{conversation.customer_name} has waited {waited} min for your answer; "
                    f"the chat moves to a colleague in {brand.agent_reply_minutes} min.",
                    at=now,
                ))
                result["asked"] += 1
                continue
            if conversation.agent_nudged_at > now - limit:
                continue
        # Outside the lock: the transfer takes it again, and re-checks the holder.
        agent = AgentProfile.objects.filter(pk=conversation.agent_id).first()
        if agent is None:
            continue
        try:
            conversation_transfer(agent=agent, brand=brand, conversation_id=conversation.id, to_agent=None, category=conversation.category.slug, note="")
        except ChatError:
            continue  # answered, ended or moved meanwhile
        result["moved"] += 1
    return result
