"""Writes on a conversation's life: start, self-service or the queue, an agent joining,
the end. Every write validates, persists and publishes on commit.

Callers are in the brand's schema (the HTTP middleware or the consumer put them there);
routing rows live in public, which is on every brand's search path. Messages are
chat.messages, transfers chat.transfers, offline messages chat.offline, emails to the
customer chat.customer_emails.
"""

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db import IntegrityError, connection, models, transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from helpdesk.models import AgentProfile
from knowledge.models import Article, SuggestionOutcome
from knowledge.selectors import articles_linked_in, suggestions_for
from knowledge.services import suggestion_outcome_record
from realtime import events
from realtime.publish import publish_on_commit
from routing import services as routing
from routing.selectors import connected_agent_exists, queue_length, queue_place, queue_places, wait_quote_for_newcomer
from surveys.services import survey_request
from tenants.models import Brand
from tenants.selectors import brand_is_open, brand_next_opening

from .contacts import contact_record
from .errors import ChatError
from .identity import Identity, IdentityError, identity_verify
from .integrations import WebhookEvent, conversation_event_record
from .locale import conversation_language
from .messages import system_message_add
from .models import AgentSegment, Conversation, Message
from .prechat import prechat_validate
from .selectors import conversation_suggestions
from .segments import segment_close, segment_start

FINISHED_STATES = (Conversation.State.ENDED, Conversation.State.ABANDONED, Conversation.State.RESOLVED_BY_ARTICLE)


# --- Starting -------------------------------------------------------------------------

class Availability(models.TextChoices):
    """Whether a chat can be queued now, or why not (also the OfflineMessage reasons)."""

    OPEN = "open", "Open"
    CLOSED = "closed", "Outside business hours"
    QUEUE_FULL = "queue_full", "Queue full"
    NO_AGENTS = "no_agents", "No agent available"
    WAIT_TOO_LONG = "wait_too_long", "Wait too long"


def chat_availability(*, brand: Brand, category: str | None = None) -> str:
    """"open", or why a chat cannot be queued now. With a category (the moment before
    queueing) it also asks whether an agent for it has the workspace open and whether the
    wait would be longer than the brand allows."""
    if not brand_is_open(brand=brand):
        return Availability.CLOSED
    if queue_length(brand_id=brand.id) >= brand.max_queue_length:
        return Availability.QUEUE_FULL
    if category is not None:
        if brand.offline_when_no_agent and not connected_agent_exists(brand_id=brand.id, category=category):
            return Availability.NO_AGENTS
        if brand.max_wait_seconds is not None and wait_quote_for_newcomer(brand_id=brand.id, category=category) > brand.max_wait_seconds:
            return Availability.WAIT_TOO_LONG
    return Availability.OPEN


def chat_unavailable_detail(*, brand: Brand, availability: str) -> str:
    """What the customer reads instead of the queue: why, and when someone will answer."""
    why = {
        Availability.CLOSED: _("We're closed right now."),
        Availability.QUEUE_FULL: _("All our agents are busy and the queue is full."),
        Availability.NO_AGENTS: _("No one can take a chat right now."),
        Availability.WAIT_TOO_LONG: _("The wait for a chat is long right now."),
    }.get(availability, "")
    leave = _("Leave us a message and we will reply by email.")
    return f"{why} {leave}"


def next_opening(*, brand: Brand) -> datetime | None:
    """When the brand next opens (None when open now or it keeps no hours)."""
    return brand_next_opening(brand=brand)


# A client key is the client's own random name for one "Start chat": long enough that it
# cannot be guessed, because the same key answers with the same conversation token.
CLIENT_KEY = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


def client_key_token(*, schema: str, client_key: str) -> str:
    """The conversation token for a client key, derived (not stored: only its hash is) so
    that a repeated request gets the token the first one got."""
    digest = hmac.new(settings.SECRET_KEY.encode(), f"conversation-token:{schema}:{client_key}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def identity_from_token(*, brand: Brand, token) -> Identity | None:
    if not token:
        return None
    if not isinstance(token, str):
        raise ChatError("The identity token must be a string.", "bad_identity", 400)
    try:
        return identity_verify(secret=brand.identity_secret, token=token)
    except IdentityError as exc:
        raise ChatError(str(exc), "bad_identity", 400) from exc


@dataclass(frozen=True)
class StartedConversation:
    conversation: Conversation
    token: str
    suggestions: list[Article]
    created: bool = True  # False when an earlier request with the same client key made it


def conversation_start(*, brand: Brand, data: dict, identity_token: str | None = None, client_key: str | None = None) -> StartedConversation:
    """Create the conversation from the pre-chat form. The question is its first message
    (seq 1, from the customer), so the transcript starts where the customer did. With a
    client key, the same key gives back the same conversation and token."""
    if client_key is not None and (not isinstance(client_key, str) or not CLIENT_KEY.match(client_key)):
        raise ChatError("The idempotency key must be 16 to 64 letters, digits, '-' or '_'.", "bad_client_key", 400)
    if client_key:
        existing = _conversation_for_client_key(brand=brand, client_key=client_key)
        if existing is not None:
            return existing
    identity = identity_from_token(brand=brand, token=identity_token)
    prechat = prechat_validate(data=data, identity=identity, asks=brand.prechat_fields)
    token = client_key_token(schema=brand.schema_name, client_key=client_key) if client_key else Conversation.new_token()
    suggestions = suggestions_for(category=prechat.category, text=prechat.summary, product_id=prechat.product_id, custom_fields=prechat.custom_fields)
    try:
        with transaction.atomic():
            conversation = Conversation.objects.create(
                client_key=client_key or None,
                token_hash=Conversation.hash_token(token),
                customer_name=prechat.name,
                customer_email=prechat.email,
                customer_external_id=prechat.customer_id,
                identity_verified=prechat.identity_verified,
                category=prechat.category,
                summary=prechat.summary,
                product_id=prechat.product_id,
                custom_fields=prechat.custom_fields,
                suggested_article_ids=[article.id for article in suggestions],
                suggestion_scores={str(a.id): {"score": a.suggestion_score, "why": a.suggestion_why} for a in suggestions},
                locale=translation.get_language() or "",
                customer_time_zone=_time_zone(data.get("time_zone")),
                last_seq=1,
            )
            # Created with the conversation, in its transaction: nobody else can hold seq 1.
            Message.objects.create(conversation=conversation, seq=1, sender=Message.Sender.CUSTOMER, author_name=prechat.name, body=prechat.summary)
            contact_record(conversation=conversation)
            conversation_event_record(conversation=conversation, event_type=WebhookEvent.CONVERSATION_CREATED)
    except IntegrityError:
        # The same key at the same moment from another request: that one made it.
        existing = _conversation_for_client_key(brand=brand, client_key=client_key) if client_key else None
        if existing is None:
            raise
        return existing
    return StartedConversation(conversation=conversation, token=token, suggestions=suggestions)


def _time_zone(value) -> str:
    """The browser's IANA time zone name, or "" when it is not one."""
    if not isinstance(value, str) or not 0 < len(value) <= 64:
        return ""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return ""
    return value


def _conversation_for_client_key(*, brand: Brand, client_key: str) -> StartedConversation | None:
    conversation = Conversation.objects.filter(client_key=client_key).first()
    if conversation is None:
        return None
    return StartedConversation(
        conversation=conversation,
        token=client_key_token(schema=brand.schema_name, client_key=client_key),
        suggestions=conversation_suggestions(conversation=conversation),  # with the scores shown the first time
        created=False,
    )


# --- Step 5: self-service or the queue --------------------------------------------------

def conversation_resolve(*, conversation: Conversation, article_id) -> Conversation:
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
        if conversation.state != Conversation.State.SUGGESTING:
            raise ChatError("This conversation is no longer showing suggestions.", "bad_state", 409)
        try:
            article_id = int(article_id)
        except (TypeError, ValueError, OverflowError):
            raise ChatError("Say which article solved it.", "bad_article") from None
        if article_id not in conversation.suggested_article_ids:
            raise ChatError("That article was not one of the suggestions.", "bad_article")
        article = Article.objects.get(pk=article_id)
        Article.objects.filter(pk=article.pk).update(solved_count=F("solved_count") + 1)
        suggestion_outcome_record(problem=conversation.summary, product_id=conversation.product_id, article_ids=[article.pk], outcome="solved")
        conversation.state = Conversation.State.RESOLVED_BY_ARTICLE
        conversation.resolved_article = article
        conversation.ended_at = timezone.now()
        conversation.ended_by = Conversation.EndedBy.CUSTOMER
        conversation.save(update_fields=["state", "resolved_article", "ended_at", "ended_by"])
    return conversation


def conversation_escalate(*, brand: Brand, conversation: Conversation) -> dict:
    """"Chat with an agent": queue the conversation, try to route it at once, and quote
    the customer their place and wait (the quote is kept to measure it against the wait)."""
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().select_related("category").get(pk=conversation.pk)
        if conversation.state == Conversation.State.QUEUED:
            pass  # a retried request: answer with the current place
        elif conversation.state != Conversation.State.SUGGESTING:
            raise ChatError("This conversation cannot be queued now.", "bad_state", 409)
        else:
            availability = chat_availability(brand=brand, category=conversation.category.slug)
            if availability != Availability.OPEN:
                raise ChatError(chat_unavailable_detail(brand=brand, availability=availability), availability, 409)
            suggestion_outcome_record(problem=conversation.summary, product_id=conversation.product_id, article_ids=conversation.suggested_article_ids, outcome="rejected")
            conversation.state = Conversation.State.QUEUED
            conversation.queued_at = timezone.now()
            conversation.save(update_fields=["state", "queued_at"])
            routing.queue_enter(
                brand=brand, conversation_id=conversation.id, category=conversation.category.slug,
                customer_name=conversation.customer_name, summary=conversation.summary,
            )
            with translation.override(conversation_language(brand=brand, conversation=conversation)):
                system_message_add(conversation_id=conversation.id, body=_("You're in the queue. An agent will be with you shortly."))
            conversation_event_record(conversation=conversation, event_type=WebhookEvent.CONVERSATION_QUEUED)
            queue_positions_publish_on_commit(brand=brand)
    routing.dispatch(brand=brand)
    place = queue_place(brand_id=brand.id, conversation_id=conversation.id)
    if place is not None:
        routing.queue_quote_record(brand=brand, conversation_id=conversation.id, place=place)
        Conversation.objects.filter(pk=conversation.pk, quoted_wait_seconds__isnull=True).update(quoted_wait_seconds=place.eta_seconds)
    return {"position": place.position if place else 0, "eta_seconds": place.eta_seconds if place else 0}


def conversation_leave_queue(*, brand: Brand, conversation: Conversation) -> Conversation:
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
        if conversation.state != Conversation.State.QUEUED:
            raise ChatError("You are not waiting in the queue.", "bad_state", 409)
        conversation.state = Conversation.State.ABANDONED
        conversation.ended_at = timezone.now()
        conversation.ended_by = Conversation.EndedBy.CUSTOMER
        conversation.save(update_fields=["state", "ended_at", "ended_by"])
        routing.queue_leave(brand=brand, conversation_id=conversation.id)
        conversation_event_record(conversation=conversation, event_type=WebhookEvent.CONVERSATION_ENDED)
        _publish_ended(conversation=conversation)
        queue_positions_publish_on_commit(brand=brand)
    return conversation


def queue_positions_publish_on_commit(*, brand: Brand) -> None:
    """After the queue moved, tell every waiting customer their new place and wait."""

    def publish():
        publish_on_commit(*(
            events.queue_moved(schema=brand.schema_name, conversation_id=place.conversation_id, position=place.position, eta_seconds=place.eta_seconds)
            for place in queue_places(brand_id=brand.id)
        ))

    transaction.on_commit(publish)


# --- Agents -----------------------------------------------------------------------------

def conversation_accept(*, agent: AgentProfile, brand: Brand, conversation_id: int) -> Conversation:
    """The agent takes the chat (an offer, or a pick from the queue) and joins it."""
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().filter(pk=conversation_id).first()
        if conversation is None:
            raise ChatError("No such conversation.", "not_found", 404)
        if conversation.state != Conversation.State.QUEUED:
            raise ChatError("This chat has already been taken or has left the queue.", "already_taken", 409)
        try:
            routing.offer_accept(agent=agent, brand=brand, conversation_id=conversation.id)
        except routing.RoutingError as exc:
            raise ChatError(exc.detail, exc.code, 409) from exc
        conversation_join(conversation=conversation, agent=agent, brand=brand)
    return conversation


def conversation_join(*, conversation: Conversation, agent: AgentProfile, brand: Brand) -> None:
    """The agent routing just gave the locked, queued conversation to joins it. Inside the
    caller's transaction (an accept, or a supervisor's push: chat.escalations)."""
    conversation.state = Conversation.State.ACTIVE
    conversation.agent_id = agent.id
    conversation.agent_name = agent.display_name
    conversation.assigned_at = timezone.now()
    conversation.last_activity_at = timezone.now()
    conversation.save(update_fields=["state", "agent_id", "agent_name", "assigned_at", "last_activity_at"])
    segment_start(conversation_id=conversation.id, agent=agent, at=conversation.assigned_at)
    with translation.override(conversation_language(brand=brand, conversation=conversation)):
        system_message_add(conversation_id=conversation.id, body=_("%(name)s joined the chat.") % {"name": agent.display_name})
    conversation_event_record(conversation=conversation, event_type=WebhookEvent.CONVERSATION_ASSIGNED)
    publish_on_commit(
        events.agent_joined(schema=brand.schema_name, conversation_id=conversation.id, agent_id=agent.id, agent_name=agent.display_name),
        events.conversation_assigned(agent_id=agent.id, brand=brand, conversation_id=conversation.id),
    )
    queue_positions_publish_on_commit(brand=brand)


def conversation_decline(*, agent: AgentProfile, brand: Brand, conversation_id: int) -> None:
    if not routing.offer_decline(agent=agent, brand=brand, conversation_id=conversation_id):
        raise ChatError("There is no open offer of this chat to you.", "no_offer", 409)
    queue_positions_publish_on_commit(brand=brand)


# --- The end ----------------------------------------------------------------------------

def _publish_ended(*, conversation: Conversation) -> None:
    publish_on_commit(events.conversation_ended(schema=connection.schema_name, conversation_id=conversation.id, state=conversation.state, ended_by=conversation.ended_by))


def _agent_sent_articles_record(*, brand: Brand, conversation: Conversation) -> None:
    """Help-center articles the agent sent the customer count as having solved the problem,
    so the ranker suggests them for similar problems next time (private notes do not: the
    customer never saw them)."""
    bodies = list(
        Message.objects.filter(conversation=conversation, sender=Message.Sender.AGENT, is_internal=False)
        .filter(body__contains="/support/articles/").values_list("body", flat=True)[:50]
    )
    if not bodies:
        return
    hosts = set(brand.domains.values_list("domain", flat=True))
    article_ids = articles_linked_in(texts=bodies, hosts=hosts)
    if article_ids:
        suggestion_outcome_record(
            problem=conversation.summary, product_id=conversation.product_id, article_ids=article_ids, outcome=SuggestionOutcome.Outcome.SOLVED,
        )


def conversation_end(*, brand: Brand, conversation_id: int, ended_by: str, agent: AgentProfile | None = None) -> Conversation:
    """Either side ends the chat (or inactivity does); a chat that had an agent gets a survey."""
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().get(pk=conversation_id)
        if conversation.state in FINISHED_STATES:
            return conversation  # ending twice is harmless
        if agent is not None and conversation.agent_id != agent.id:
            raise ChatError("Only the agent in the chat can end it.", "forbidden", 403)
        was_active = conversation.state == Conversation.State.ACTIVE
        conversation.state = Conversation.State.ABANDONED if conversation.state == Conversation.State.QUEUED else Conversation.State.ENDED
        conversation.ended_at = timezone.now()
        conversation.ended_by = ended_by
        conversation.save(update_fields=["state", "ended_at", "ended_by"])
        segment_close(conversation_id=conversation.id, reason=AgentSegment.EndReason.ENDED, at=conversation.ended_at)
        who = {Conversation.EndedBy.CUSTOMER: conversation.customer_name, Conversation.EndedBy.AGENT: conversation.agent_name}.get(ended_by, "")
        with translation.override(conversation_language(brand=brand, conversation=conversation)):
            body = _("%(name)s ended the chat.") % {"name": who} if who else _("The chat was closed after a period of inactivity.")
        system_message_add(conversation_id=conversation.id, body=body)
        freed_agent_id = routing.chat_release(brand=brand, conversation_id=conversation.id)
        conversation_event_record(conversation=conversation, event_type=WebhookEvent.CONVERSATION_ENDED)
        _publish_ended(conversation=conversation)
        if was_active:
            _agent_sent_articles_record(brand=brand, conversation=conversation)
        if was_active and conversation.agent_id:
            survey_request(conversation_id=conversation.id, agent_id=conversation.agent_id)
            publish_on_commit(events.survey_requested(schema=brand.schema_name, conversation_id=conversation.id))
        if conversation.agent_id:
            publish_on_commit(events.conversation_unassigned(agent_id=conversation.agent_id, brand=brand, conversation_id=conversation.id))
        queue_positions_publish_on_commit(brand=brand)
    if freed_agent_id:
        routing.dispatch_for_agent(agent_id=freed_agent_id)
    else:
        routing.dispatch(brand=brand)
    return conversation
