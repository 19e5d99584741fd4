"""Writes on conversations. Every write validates, persists and publishes on commit.

Callers are in the brand's schema (the HTTP middleware or the consumer put them there);
routing rows live in public, which is on every brand's search path.
"""

import functools
import logging
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone
from psycopg import sql

from helpdesk.models import AgentProfile
from knowledge.models import Article
from knowledge.selectors import suggestions_for
from knowledge.services import suggestion_outcome_record
from routing import services as routing
from routing.selectors import queue_length, queue_places
from surveys.models import Survey
from tenants.models import Brand
from tenants.selectors import brand_is_open

from .identity import Identity, IdentityError, identity_verify
from .models import Conversation, Message, OfflineMessage, OutboundEmail
from .prechat import PrechatInvalid, prechat_validate  # noqa: F401  (re-exported for callers)
from .realtime import agent_group, publish_on_commit, publish_to_conversation
from .selectors import message_frame

logger = logging.getLogger(__name__)

MAX_BODY = 4000
MAX_CLIENT_MSG_ID = 64
SURVEY_EMAIL_DELAY = timedelta(minutes=15)
INACTIVITY_TIMEOUT = timedelta(minutes=30)


class ChatError(Exception):
    """A request that cannot be carried out; `code` is part of the API contract."""

    def __init__(self, detail: str, code: str, status: int = 400):
        super().__init__(detail)
        self.detail = detail
        self.code = code
        self.status = status


# --- Starting -------------------------------------------------------------------------

def chat_availability(*, brand: Brand) -> str:
    """"open", or why a chat cannot be queued now: "closed" or "queue_full"."""
    if not brand_is_open(brand=brand):
        return "closed"
    if queue_length(brand_id=brand.id) >= brand.max_queue_length:
        return "queue_full"
    return "open"


def identity_from_token(*, brand: Brand, token: str | None) -> Identity | None:
    if not token:
        return None
    try:
        return identity_verify(secret=brand.identity_secret, token=token)
    except IdentityError as exc:
        raise ChatError(str(exc), "bad_identity", 400) from exc


@dataclass(frozen=True)
class StartedConversation:
    conversation: Conversation
    token: str
    suggestions: list[Article]


def conversation_start(*, brand: Brand, data: dict, identity_token: str | None = None) -> StartedConversation:
    identity = identity_from_token(brand=brand, token=identity_token)
    prechat = prechat_validate(data=data, identity=identity)
    token = Conversation.new_token()
    suggestions = suggestions_for(category=prechat.category, text=prechat.summary, product_id=prechat.product_id, custom_fields=prechat.custom_fields)
    with transaction.atomic():
        conversation = Conversation.objects.create(
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
        )
    return StartedConversation(conversation=conversation, token=token, suggestions=suggestions)


def offline_message_create(*, brand: Brand, data: dict, identity_token: str | None, reason: str) -> OfflineMessage:
    identity = identity_from_token(brand=brand, token=identity_token)
    prechat = prechat_validate(data=data, identity=identity)
    return OfflineMessage.objects.create(
        customer_name=prechat.name, customer_email=prechat.email, customer_external_id=prechat.customer_id,
        category=prechat.category, summary=prechat.summary, product_id=prechat.product_id,
        custom_fields=prechat.custom_fields, reason=reason,
    )


# --- Step 5: self-service or the queue --------------------------------------------------

def conversation_resolve(*, conversation: Conversation, article_id) -> Conversation:
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
        if conversation.state != Conversation.State.SUGGESTING:
            raise ChatError("This conversation is no longer showing suggestions.", "bad_state", 409)
        try:
            article_id = int(article_id)
        except (TypeError, ValueError):
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
    """"Chat with an agent": queue the conversation and try to route it at once."""
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().select_related("category").get(pk=conversation.pk)
        if conversation.state == Conversation.State.QUEUED:
            pass  # a retried request: answer with the current place
        elif conversation.state != Conversation.State.SUGGESTING:
            raise ChatError("This conversation cannot be queued now.", "bad_state", 409)
        else:
            availability = chat_availability(brand=brand)
            if availability != "open":
                detail = "We're closed right now." if availability == "closed" else "All our agents are busy and the queue is full."
                raise ChatError(detail + " Leave us a message and we'll get back to you by email.", availability, 409)
            suggestion_outcome_record(problem=conversation.summary, product_id=conversation.product_id, article_ids=conversation.suggested_article_ids, outcome="rejected")
            conversation.state = Conversation.State.QUEUED
            conversation.queued_at = timezone.now()
            conversation.save(update_fields=["state", "queued_at"])
            routing.queue_enter(
                brand=brand, conversation_id=conversation.id, category=conversation.category.slug,
                customer_name=conversation.customer_name, summary=conversation.summary,
            )
            _system_message(conversation=conversation, body="You're in the queue. An agent will be with you shortly.")
            queue_positions_publish_on_commit(brand=brand)
    routing.dispatch(brand=brand)
    place = next((p for p in queue_places(brand_id=brand.id) if p.conversation_id == conversation.id), None)
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
        _publish_ended(conversation=conversation)
        queue_positions_publish_on_commit(brand=brand)
    return conversation


def queue_positions_publish_on_commit(*, brand: Brand) -> None:
    """After the queue moved, tell every waiting customer their new place and wait."""

    def publish():
        for place in queue_places(brand_id=brand.id):
            publish_to_conversation(
                schema=brand.schema_name,
                conversation_id=place.conversation_id,
                event={"type": "queue.position", "position": place.position, "eta_seconds": place.eta_seconds},
            )

    transaction.on_commit(publish)


# --- Messages ---------------------------------------------------------------------------

def _next_seq(conversation: Conversation) -> int:
    """Allocate the next sequence number; the caller holds the conversation row lock."""
    conversation.last_seq += 1
    return conversation.last_seq


def _system_message(*, conversation: Conversation, body: str) -> Message:
    message = Message.objects.create(conversation=conversation, seq=_next_seq(conversation), sender=Message.Sender.SYSTEM, body=body)
    Conversation.objects.filter(pk=conversation.pk).update(last_seq=conversation.last_seq)
    publish_to_conversation(schema=connection.schema_name, conversation_id=conversation.id, event=message_event(message))
    return message


def message_event(message: Message) -> dict:
    return {"type": "conversation.message", "frame": message_frame(message)}


def message_validate(*, body, client_msg_id) -> tuple[str, str | None]:
    if not isinstance(body, str) or not body.strip():
        raise ChatError("A message needs some text.", "empty_body")
    if len(body) > MAX_BODY:
        raise ChatError(f"Messages are limited to {MAX_BODY} characters.", "body_too_long")
    if "\x00" in body:
        raise ChatError("The message contains characters we cannot store.", "bad_body")
    if client_msg_id is not None and (not isinstance(client_msg_id, str) or not 0 < len(client_msg_id) <= MAX_CLIENT_MSG_ID):
        raise ChatError(f"client_msg_id must be a string of 1 to {MAX_CLIENT_MSG_ID} characters.", "bad_client_msg_id")
    return body, client_msg_id


MESSAGE_STATES = (Conversation.State.ACTIVE,)
NOTE_STATES = (Conversation.State.QUEUED, Conversation.State.ACTIVE, Conversation.State.ENDED)

# The hot path of every chat message, as one statement: it locks the conversation row
# (serialising sequence numbers), takes the next number and inserts the message, all or
# nothing. As separate ORM calls it is four statements plus BEGIN and COMMIT, and
# django-tenants puts a SET search_path before each: a dozen round trips per message.
# The tables carry their schema instead of relying on search_path, so the widget socket's
# async path (chat.async_messages), whose connections have no search_path of their own,
# runs this very statement. The casts let PostgreSQL type parameters that arrive NULL.
_INSERT_MESSAGE_SQL = """
WITH allocated AS (
    UPDATE {schema}.chat_conversation SET last_seq = last_seq + 1, last_activity_at = now()
    WHERE id = %(conversation_id)s AND state = ANY(%(states)s::varchar[])
    RETURNING id, last_seq, customer_name
)
INSERT INTO {schema}.chat_message (conversation_id, seq, client_msg_id, sender, is_internal, agent_id, author_name, body, sent_at)
SELECT id, last_seq, %(client_msg_id)s::varchar, %(sender)s::varchar, %(internal)s::boolean, %(agent_id)s::bigint,
       COALESCE(%(author)s::varchar, customer_name), %(body)s::text, now()
FROM allocated
RETURNING id, seq, author_name, sent_at
"""


@functools.lru_cache(maxsize=1024)
def message_insert_sql(schema: str) -> str:
    """The message insert for one brand's schema (a name from Brand.schema_name, quoted)."""
    return _INSERT_MESSAGE_SQL.format(schema=sql.Identifier(schema).as_string(None))


def message_insert_params(*, conversation_id: int, sender: str, body: str, client_msg_id, agent: AgentProfile | None, internal: bool) -> dict:
    return {
        "conversation_id": conversation_id,
        "states": [str(state) for state in (NOTE_STATES if internal else MESSAGE_STATES)],
        "client_msg_id": client_msg_id,
        "sender": sender,
        "internal": internal,
        "agent_id": agent.id if agent else None,
        "author": agent.display_name if agent else None,
        "body": body,
    }


def message_from_insert(row, params: dict) -> Message:
    message_id, seq, author_name, sent_at = row
    return Message(
        id=message_id, conversation_id=params["conversation_id"], seq=seq, client_msg_id=params["client_msg_id"],
        sender=params["sender"], is_internal=params["internal"], agent_id=params["agent_id"], author_name=author_name,
        body=params["body"], sent_at=sent_at,
    )


def message_send(
    *, conversation_id: int, sender: str, body, client_msg_id=None, agent: AgentProfile | None = None, internal: bool = False
) -> tuple[Message, bool]:
    """Store a message with the conversation's next sequence number and publish it.

    A retry with the same client_msg_id returns the stored message (created=False): the
    unique constraint refuses the second insert, and the statement (its sequence number
    included) leaves nothing behind.
    """
    body, client_msg_id = message_validate(body=body, client_msg_id=client_msg_id)
    if internal and sender != Message.Sender.AGENT:
        raise ChatError("Only agents write notes.", "forbidden", 403)
    params = message_insert_params(conversation_id=conversation_id, sender=sender, body=body, client_msg_id=client_msg_id, agent=agent, internal=internal)
    # One statement is atomic by itself; inside a caller's transaction a savepoint keeps a
    # refused duplicate from breaking that transaction.
    guard = transaction.atomic() if connection.in_atomic_block else nullcontext()
    try:
        with guard, connection.cursor() as cursor:
            cursor.execute(message_insert_sql(connection.schema_name), params)
            row = cursor.fetchone()
            if row is not None:
                message = message_from_insert(row, params)
                publish_to_conversation(schema=connection.schema_name, conversation_id=conversation_id, event=message_event(message), internal=internal)
                return message, True
    except IntegrityError:
        existing = Message.objects.filter(conversation_id=conversation_id, sender=sender, client_msg_id=client_msg_id).first()
        if existing is None:
            raise
        return existing, False
    if not Conversation.objects.filter(pk=conversation_id).exists():
        raise Conversation.DoesNotExist
    if internal:
        raise ChatError("Notes can be added once the chat is queued.", "bad_state", 409)
    raise ChatError("Messages can be sent once an agent has joined, and until the chat ends.", "bad_state", 409)


def conversation_read(*, conversation_id: int, reader: str, up_to_seq) -> int:
    """Move the reader's read marker forward (never back) and tell the other side."""
    try:
        up_to_seq = int(up_to_seq)
    except (TypeError, ValueError):
        raise ChatError("up_to_seq must be a number.", "bad_seq") from None
    field = "customer_read_seq" if reader == "customer" else "agent_read_seq"
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().get(pk=conversation_id)
        up_to_seq = min(max(0, up_to_seq), conversation.last_seq)
        if up_to_seq > getattr(conversation, field):
            setattr(conversation, field, up_to_seq)
            conversation.save(update_fields=[field])
            publish_to_conversation(
                schema=connection.schema_name, conversation_id=conversation.id,
                event={"type": "conversation.read", "frame": {"type": "read", "reader": reader, "up_to_seq": up_to_seq}},
            )
        return getattr(conversation, field)


# --- Agents ---------------------------------------------------------------------------

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
        conversation.state = Conversation.State.ACTIVE
        conversation.agent_id = agent.id
        conversation.agent_name = agent.display_name
        conversation.assigned_at = timezone.now()
        conversation.last_activity_at = timezone.now()
        conversation.save(update_fields=["state", "agent_id", "agent_name", "assigned_at", "last_activity_at"])
        _system_message(conversation=conversation, body=f"{agent.display_name} joined the chat.")
        publish_to_conversation(
            schema=brand.schema_name, conversation_id=conversation.id,
            event={"type": "conversation.agent_joined", "frame": {"type": "agent.joined", "agent": {"id": agent.id, "name": agent.display_name}}},
        )
        publish_on_commit(agent_group(agent_id=agent.id), {"type": "conversation.assigned", "brand": brand.slug, "schema": brand.schema_name, "conversation_id": conversation.id})
        queue_positions_publish_on_commit(brand=brand)
    return conversation


def conversation_decline(*, agent: AgentProfile, brand: Brand, conversation_id: int) -> None:
    if not routing.offer_decline(agent=agent, brand=brand, conversation_id=conversation_id):
        raise ChatError("There is no open offer of this chat to you.", "no_offer", 409)
    queue_positions_publish_on_commit(brand=brand)


def conversation_transfer(
    *, agent: AgentProfile, brand: Brand, conversation_id: int, to_agent: AgentProfile | None, category: str | None, note: str,
    by: AgentProfile | None = None,
) -> Conversation:
    """Hand a chat to another agent of the brand, or back to the queue under a category.

    `agent` holds the chat; `by` is who asked, when not that agent (a supervisor).
    """
    by = by or agent
    from knowledge.models import Category

    if to_agent is None and not category:
        raise ChatError("Choose an agent or a category to transfer to.", "bad_transfer")
    if category and not Category.objects.filter(slug=category, is_active=True).exists():
        raise ChatError("No such category.", "bad_transfer")
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().get(pk=conversation_id)
        if conversation.state != Conversation.State.ACTIVE or conversation.agent_id != agent.id:
            raise ChatError("Only the agent in the chat can transfer it.", "forbidden", 403)
        try:
            routing.chat_transfer(brand=brand, conversation_id=conversation.id, from_agent_id=agent.id, to_agent=to_agent, category=category)
        except routing.RoutingError as exc:
            raise ChatError(exc.detail, exc.code, 409) from exc
        if note and note.strip():
            message_validate(body=note, client_msg_id=None)
            note_message = Message.objects.create(
                conversation=conversation, seq=_next_seq(conversation), sender=Message.Sender.AGENT, is_internal=True,
                agent_id=by.id, author_name=by.display_name, body=f"Transfer note: {note.strip()}",
            )
            publish_to_conversation(schema=brand.schema_name, conversation_id=conversation.id, event=message_event(note_message), internal=True)
        if category:
            conversation.category_id = Category.objects.get(slug=category).id
        if to_agent is not None:
            conversation.agent_id = to_agent.id
            conversation.agent_name = to_agent.display_name
            conversation.save(update_fields=["agent_id", "agent_name", "category", "last_seq"])
            _system_message(conversation=conversation, body=f"{by.display_name} transferred the chat to {to_agent.display_name}.")
            publish_to_conversation(
                schema=brand.schema_name, conversation_id=conversation.id,
                event={"type": "conversation.agent_joined", "frame": {"type": "agent.joined", "agent": {"id": to_agent.id, "name": to_agent.display_name}}},
            )
            publish_on_commit(agent_group(agent_id=to_agent.id), {"type": "conversation.assigned", "brand": brand.slug, "schema": brand.schema_name, "conversation_id": conversation.id})
        else:
            conversation.state = Conversation.State.QUEUED
            conversation.agent_id = None
            conversation.agent_name = ""
            conversation.save(update_fields=["state", "agent_id", "agent_name", "category", "last_seq"])
            _system_message(conversation=conversation, body=f"{agent.display_name} is passing you to a colleague. Please wait a moment.")
            queue_positions_publish_on_commit(brand=brand)
        publish_on_commit(agent_group(agent_id=agent.id), {"type": "conversation.unassigned", "brand": brand.slug, "schema": brand.schema_name, "conversation_id": conversation.id})
        publish_to_conversation(
            schema=brand.schema_name, conversation_id=conversation.id,
            event={"type": "conversation.agent_left", "frame": {"type": "agent.left", "agent": {"id": agent.id, "name": agent.display_name}}},
        )
    routing.dispatch(brand=brand)
    routing.dispatch_for_agent(agent_id=agent.id)
    return conversation


# --- The end ----------------------------------------------------------------------------

def _publish_ended(*, conversation: Conversation) -> None:
    publish_to_conversation(
        schema=connection.schema_name, conversation_id=conversation.id,
        event={"type": "conversation.ended_event", "frame": {"type": "conversation.ended", "state": conversation.state, "ended_by": conversation.ended_by}},
    )


def conversation_end(*, brand: Brand, conversation_id: int, ended_by: str, agent: AgentProfile | None = None) -> Conversation:
    """Either side ends the chat (or inactivity does); a chat that had an agent gets a survey."""
    freed_agent_id = None
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().get(pk=conversation_id)
        if conversation.state in (Conversation.State.ENDED, Conversation.State.ABANDONED, Conversation.State.RESOLVED_BY_ARTICLE):
            return conversation  # ending twice is harmless
        if agent is not None and conversation.agent_id != agent.id:
            raise ChatError("Only the agent in the chat can end it.", "forbidden", 403)
        was_active = conversation.state == Conversation.State.ACTIVE
        if conversation.state == Conversation.State.QUEUED:
            conversation.state = Conversation.State.ABANDONED
        else:
            conversation.state = Conversation.State.ENDED
        conversation.ended_at = timezone.now()
        conversation.ended_by = ended_by
        conversation.save(update_fields=["state", "ended_at", "ended_by"])
        who = {"customer": conversation.customer_name, "agent": conversation.agent_name}.get(ended_by, "")
        body = f"{who} ended the chat." if who else "The chat was closed after a period of inactivity."
        _system_message(conversation=conversation, body=body)
        freed_agent_id = routing.chat_release(brand=brand, conversation_id=conversation.id)
        _publish_ended(conversation=conversation)
        if was_active and conversation.agent_id:
            Survey.objects.get_or_create(
                conversation=conversation, defaults={"agent_id": conversation.agent_id, "email_due_at": timezone.now() + SURVEY_EMAIL_DELAY}
            )
            publish_to_conversation(
                schema=brand.schema_name, conversation_id=conversation.id,
                event={"type": "survey.requested_event", "frame": {"type": "survey.requested", "scale": [1, 5]}},
            )
        if conversation.agent_id:
            publish_on_commit(agent_group(agent_id=conversation.agent_id), {"type": "conversation.unassigned", "brand": brand.slug, "schema": brand.schema_name, "conversation_id": conversation.id})
        queue_positions_publish_on_commit(brand=brand)
    if freed_agent_id:
        routing.dispatch_for_agent(agent_id=freed_agent_id)
    else:
        routing.dispatch(brand=brand)
    return conversation


def conversations_end_inactive(*, brand: Brand, now=None) -> int:
    cutoff = (now or timezone.now()) - INACTIVITY_TIMEOUT
    ids = list(Conversation.objects.filter(state=Conversation.State.ACTIVE, last_activity_at__lt=cutoff).values_list("id", flat=True))
    for conversation_id in ids:
        conversation_end(brand=brand, conversation_id=conversation_id, ended_by=Conversation.EndedBy.INACTIVITY)
    return len(ids)


# --- Survey and transcript --------------------------------------------------------------

def survey_answer(*, conversation: Conversation, rating, comment, via: str = "chat") -> Survey:
    try:
        rating = int(rating)
    except (TypeError, ValueError):
        raise ChatError("Choose a rating from 1 to 5.", "bad_rating") from None
    if not 1 <= rating <= 5:
        raise ChatError("Choose a rating from 1 to 5.", "bad_rating")
    comment = "" if comment is None else str(comment)
    if len(comment) > 2000:
        raise ChatError("Keep the comment under 2000 characters.", "comment_too_long")
    with transaction.atomic():
        survey = Survey.objects.select_for_update().filter(conversation=conversation).first()
        if survey is None:
            raise ChatError("There is no survey for this conversation.", "no_survey", 404)
        if survey.is_answered:
            raise ChatError("Thanks, we already have your answer.", "already_answered", 409)
        survey.rating = rating
        survey.comment = comment.strip()
        survey.answered_at = timezone.now()
        survey.answered_via = via
        survey.email_token_hash = ""  # the emailed link, if any, is single-use
        survey.save()
    return survey


def transcript_email_request(*, brand: Brand, conversation: Conversation) -> OutboundEmail:
    from .transcripts import transcript_text

    if conversation.state not in (Conversation.State.ENDED, Conversation.State.ABANDONED):
        raise ChatError("The transcript can be emailed once the chat has ended.", "bad_state", 409)
    if OutboundEmail.objects.filter(conversation=conversation, kind="transcript").exists():
        raise ChatError("The transcript is already on its way to you.", "already_requested", 409)
    with transaction.atomic():
        email = OutboundEmail.objects.create(
            to=conversation.customer_email,
            subject=f"Your chat with {brand.name}",
            body=transcript_text(brand=brand, conversation=conversation),
            kind="transcript",
            conversation=conversation,
        )
        _enqueue_outbox(email_id=email.id)
    return email


def offline_message_reply(*, agent: AgentProfile, brand: Brand, message_id: int, body: str) -> OfflineMessage:
    """An agent answers an offline message by email (through the outbox) and closes it."""
    body, _ = message_validate(body=body, client_msg_id=None)
    with transaction.atomic():
        message = OfflineMessage.objects.select_for_update().filter(pk=message_id).first()
        if message is None:
            raise ChatError("No such message.", "not_found", 404)
        if message.handled_at is not None:
            raise ChatError("A colleague has already answered this message.", "already_handled", 409)
        message.handled_at = timezone.now()
        message.handled_by_agent_id = agent.id
        message.save(update_fields=["handled_at", "handled_by_agent_id"])
        email = OutboundEmail.objects.create(
            to=message.customer_email,
            subject=f"Re: your message to {brand.name}",
            body=f"Hello {message.customer_name},\n\n{body.strip()}\n\n{agent.display_name}, {brand.name}\n\n> {message.summary}\n",
            kind="offline_reply",
        )
        _enqueue_outbox(email_id=email.id)
    return message


def _enqueue_outbox(*, email_id: int) -> None:
    from .tasks import outbox_send

    schema = connection.schema_name

    def send():
        try:
            outbox_send.apply_async(kwargs={"email_ids": [email_id]}, headers={"_schema_name": schema})
        except Exception:  # broker down: the periodic sweep sends it later
            logger.warning("Could not queue email %s in %s; the outbox sweep will send it", email_id, schema, exc_info=True)

    transaction.on_commit(send)


def outbox_deliver(*, email_ids: list[int] | None = None, limit: int = 50) -> int:
    """Send pending emails of the current brand. Idempotent: a row is marked sent once."""
    from django.core.mail import EmailMessage

    queryset = OutboundEmail.objects.filter(sent_at__isnull=True, attempts__lt=10)
    if email_ids is not None:
        queryset = queryset.filter(id__in=email_ids)
    sent = 0
    for email_id in list(queryset.values_list("id", flat=True)[:limit]):
        with transaction.atomic():
            email = OutboundEmail.objects.select_for_update(skip_locked=True).filter(id=email_id, sent_at__isnull=True).first()
            if email is None:
                continue
            try:
                EmailMessage(subject=email.subject, body=email.body, from_email=settings.DEFAULT_FROM_EMAIL, to=[email.to]).send()
            except Exception as exc:  # SMTP trouble: keep it for the next sweep
                email.attempts += 1
                email.last_error = f"{type(exc).__name__}: {exc}"[:300]
                email.save(update_fields=["attempts", "last_error"])
                continue
            email.sent_at = timezone.now()
            email.attempts += 1
            email.save(update_fields=["sent_at", "attempts"])
            sent += 1
    return sent


def survey_emails_queue(*, brand: Brand, now=None) -> int:
    """Surveys still unanswered at their due time go out once by email, with a single-use link."""
    import secrets

    now = now or timezone.now()
    count = 0
    due = Survey.objects.filter(answered_at__isnull=True, emailed_at__isnull=True, email_due_at__lte=now).select_related("conversation")
    for survey_id in list(due.values_list("id", flat=True)):
        with transaction.atomic():
            survey = Survey.objects.select_for_update(skip_locked=True).select_related("conversation").filter(id=survey_id, emailed_at__isnull=True).first()
            if survey is None or survey.is_answered:
                continue
            raw = secrets.token_urlsafe(32)
            survey.email_token_hash = Survey.hash_token(raw)
            survey.emailed_at = now
            survey.save(update_fields=["email_token_hash", "emailed_at"])
            host = f"{brand.slug}.{settings.ROOT_DOMAIN}"
            email = OutboundEmail.objects.create(
                to=survey.conversation.customer_email,
                subject=f"How did we do? Your chat with {brand.name}",
                body=(
                    f"Hello {survey.conversation.customer_name},\n\n"
                    f"You recently chatted with {survey.conversation.agent_name or brand.name}. "
                    f"Would you rate the help you got? It takes ten seconds:\n\n"
                    f"{settings.SITE_SCHEME}://{host}{settings.SITE_PORT_SUFFIX}/survey/{raw}/\n\n"
                    "The link works once.\n"
                ),
                kind="survey",
                conversation=survey.conversation,
            )
            _enqueue_outbox(email_id=email.id)
            count += 1
    return count

