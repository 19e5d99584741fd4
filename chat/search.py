"""The conversation search behind the workspace inbox (brand schema: the caller has
entered the brand's schema, so every query and every index it uses holds that brand's rows
only).

Full text goes through the two GIN indexes of migration 0006, so the expressions here are
the indexes' expressions, word for word: customer name, email, customer ID, product ID and
summary on the conversation; the body of every message (notes included: only agents search).
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import BooleanField, Exists, OuterRef, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone

from sla.models import SlaEvent

from .models import AgentSegment, Conversation, Message, WrapUp

QUERY = "websearch_to_tsquery('simple'::regconfig, %s)"
# Unqualified columns: these run inside subqueries, where Django aliases the table (U0),
# and the innermost FROM is the one they name.
CONVERSATION_TEXT = (
    "to_tsvector('simple'::regconfig, customer_name || ' ' || customer_email || ' ' || customer_external_id"
    " || ' ' || product_id || ' ' || summary)"
)
MESSAGE_TEXT = "to_tsvector('simple'::regconfig, body)"
MAX_QUERY = 200


@dataclass(frozen=True)
class ConversationFilters:
    """What the inbox narrows by; empty values do not narrow. `agent_id` is whose chats
    (a supervisor choosing an agent); `mine_only` keeps the caller's own."""

    state: str = ""
    category: str = ""
    tag: str = ""
    disposition: str = ""
    agent_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    text: str = ""
    sla_breached: bool = False


def sla_breached_exists() -> Exists:
    """True for a conversation with at least one SLA breach: a semi-join on the event's
    conversation index, so neither the filter nor the row marker multiplies rows."""
    return Exists(SlaEvent.objects.filter(conversation_id=OuterRef("pk")))


def _matches(expression: str, text: str) -> RawSQL:
    return RawSQL(f"{expression} @@ {QUERY}", [text], output_field=BooleanField())


def conversation_ids_held_by(*, agent_id: int):
    """Conversations the agent held at some point (now, or before a transfer)."""
    return AgentSegment.objects.filter(agent_id=agent_id).values("conversation_id")


def conversations_search(*, filters: ConversationFilters, mine_agent_id: int | None) -> QuerySet:
    """Conversations newest first, narrowed by `filters`; with `mine_agent_id`, only the
    chats that agent held."""
    queryset = Conversation.objects.select_related("category").prefetch_related("wrap_up__tags").annotate(sla_breached=sla_breached_exists())
    if mine_agent_id is not None:
        queryset = queryset.filter(Q(agent_id=mine_agent_id) | Q(id__in=conversation_ids_held_by(agent_id=mine_agent_id)))
    if filters.agent_id is not None:
        queryset = queryset.filter(Q(agent_id=filters.agent_id) | Q(id__in=conversation_ids_held_by(agent_id=filters.agent_id)))
    if filters.state:
        queryset = queryset.filter(state=filters.state)
    if filters.category:
        queryset = queryset.filter(category__slug=filters.category)
    if filters.tag:
        queryset = queryset.filter(wrap_up__tags__slug=filters.tag)
    if filters.disposition:
        queryset = queryset.filter(wrap_up__disposition=filters.disposition)
    if filters.sla_breached:
        queryset = queryset.filter(sla_breached=True)
    day = timedelta(days=1)
    if filters.date_from:
        queryset = queryset.filter(created_at__gte=timezone.make_aware(datetime.combine(filters.date_from, time.min)))
    if filters.date_to:
        queryset = queryset.filter(created_at__lt=timezone.make_aware(datetime.combine(filters.date_to + day, time.min)))
    text = filters.text.strip()[:MAX_QUERY]
    if text:
        # Each arm is an id set its own index answers (a hashed subplan), so the OR does not
        # turn into computing every row's tsvector.
        by_conversation = Conversation.objects.filter(_matches(CONVERSATION_TEXT, text)).values("id")
        by_message = Message.objects.filter(_matches(MESSAGE_TEXT, text)).values("conversation_id")
        by_tag = WrapUp.objects.filter(tags__name__iexact=text).values("conversation_id")
        queryset = queryset.filter(Q(id__in=by_conversation) | Q(id__in=by_message) | Q(id__in=by_tag))
    return queryset.distinct().order_by("-created_at", "-id")
