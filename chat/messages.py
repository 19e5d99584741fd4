"""Messages (brand schema): the sequence rule, and the one place it is written.

Every message, whoever sends it (a customer, an agent, a note, the system), is stored by a
statement that locks the conversation row, takes the next sequence number and inserts,
all or nothing: sequence numbers are contiguous per conversation and a retried
`client_msg_id` (unique per conversation and sender) leaves nothing behind. The same rule
for many conversations at once is the batch statement the widget socket's async path
runs (chat.async_messages).
"""

import functools
from contextlib import nullcontext

from django.db import IntegrityError, connection, transaction
from psycopg import sql

from helpdesk.models import AgentProfile
from realtime import events
from realtime.publish import Event, publish_on_commit

from .attachments import attachment_ids_parse, attachments_link
from .errors import ChatError
from .models import Conversation, Message
from .selectors import message_frame

MAX_BODY = 4000
MAX_CLIENT_MSG_ID = 64

MESSAGE_STATES = (Conversation.State.ACTIVE,)
# A customer may write while queued: the agent reads those lines on joining.
CUSTOMER_MESSAGE_STATES = (Conversation.State.QUEUED, Conversation.State.ACTIVE)
NOTE_STATES = (Conversation.State.QUEUED, Conversation.State.ACTIVE, Conversation.State.ENDED)
SYSTEM_STATES = tuple(Conversation.State)

# One message as one statement. As separate ORM calls it is four statements plus BEGIN
# and COMMIT, and django-tenants puts a SET search_path before each: a dozen round trips
# per message. The tables carry their schema instead of relying on search_path, so the
# async path, whose connections have no search_path of their own, runs this very
# statement. `holder_id` is the rule that only the agent holding a chat replies in it;
# the first such reply also stamps the conversation's first response time, and answers
# the customer's wait (awaiting_reply_since) with a ReplyTime row, in the same statement.
# The casts let PostgreSQL type parameters that arrive NULL.
_INSERT_SQL = """
WITH allocated AS (
    UPDATE {schema}.chat_conversation SET last_seq = last_seq + 1, last_activity_at = now(),
        first_agent_reply_at = CASE WHEN %(holder_id)s::bigint IS NULL THEN first_agent_reply_at ELSE COALESCE(first_agent_reply_at, now()) END,
        awaiting_reply_since = CASE WHEN %(asks)s::boolean THEN COALESCE(awaiting_reply_since, now())
                                    WHEN %(holder_id)s::bigint IS NOT NULL THEN NULL ELSE awaiting_reply_since END,
        reply_asked_at = CASE WHEN %(holder_id)s::bigint IS NOT NULL THEN awaiting_reply_since END
    WHERE id = %(conversation_id)s AND state = ANY(%(states)s::varchar[])
      AND (%(holder_id)s::bigint IS NULL OR agent_id = %(holder_id)s::bigint)
    RETURNING id, last_seq, customer_name, reply_asked_at
),
stored AS (
    INSERT INTO {schema}.chat_message (conversation_id, seq, client_msg_id, sender, is_internal, agent_id, author_name, body, sent_at)
    SELECT id, last_seq, %(client_msg_id)s::varchar, %(sender)s::varchar, %(internal)s::boolean, %(agent_id)s::bigint,
           COALESCE(%(author)s::varchar, customer_name), %(body)s::text, now()
    FROM allocated
    RETURNING id, seq, author_name, sent_at, conversation_id
),
answered AS (
    -- The holding agent's reply answers the customer's wait: its reply time, recorded once.
    INSERT INTO {schema}.chat_replytime (conversation_id, message_id, agent_id, asked_at, answered_at)
    SELECT s.conversation_id, s.id, %(holder_id)s::bigint, a.reply_asked_at, s.sent_at
    FROM stored s JOIN allocated a ON a.id = s.conversation_id
    WHERE a.reply_asked_at IS NOT NULL
)
SELECT id, seq, author_name, sent_at FROM stored
"""

# Customers' messages into many conversations at once (each at most once). Locking the
# rows in id order first keeps two batches that share conversations from deadlocking.
_BATCH_INSERT_SQL = """
WITH incoming AS (
    SELECT * FROM unnest(%(conversation_ids)s::bigint[], %(client_msg_ids)s::varchar[], %(bodies)s::text[])
        AS t(conversation_id, client_msg_id, body)
),
locked AS (
    SELECT c.id FROM {schema}.chat_conversation c
    WHERE c.id = ANY(%(conversation_ids)s::bigint[]) AND c.state = ANY(%(states)s::varchar[])
    ORDER BY c.id FOR UPDATE
),
allocated AS (
    UPDATE {schema}.chat_conversation c SET last_seq = c.last_seq + 1, last_activity_at = now(),
        awaiting_reply_since = COALESCE(c.awaiting_reply_since, now())
    FROM locked WHERE c.id = locked.id
    RETURNING c.id, c.last_seq, c.customer_name
)
INSERT INTO {schema}.chat_message (conversation_id, seq, client_msg_id, sender, is_internal, agent_id, author_name, body, sent_at)
SELECT a.id, a.last_seq, i.client_msg_id, %(sender)s::varchar, false, NULL, a.customer_name, i.body, now()
FROM allocated a JOIN incoming i ON i.conversation_id = a.id
RETURNING conversation_id, id, seq, author_name, sent_at
"""


@functools.lru_cache(maxsize=1024)
def _statement(template: str, schema: str) -> str:
    # schema comes from Brand.schema_name and is quoted as an identifier all the same.
    return template.format(schema=sql.Identifier(schema).as_string(None))


def message_validate(*, body, client_msg_id, with_attachments: bool = False) -> tuple[str, str | None]:
    """A message's text and client_msg_id as stored; a message that carries files may
    have no text."""
    if with_attachments and body in (None, ""):
        body = ""
    elif not isinstance(body, str) or not body.strip():
        raise ChatError("A message needs some text.", "empty_body")
    if len(body) > MAX_BODY:
        raise ChatError(f"Messages are limited to {MAX_BODY} characters.", "body_too_long")
    if "\x00" in body:
        raise ChatError("The message contains characters we cannot store.", "bad_body")
    if client_msg_id is not None and (not isinstance(client_msg_id, str) or not 0 < len(client_msg_id) <= MAX_CLIENT_MSG_ID):
        raise ChatError(f"client_msg_id must be a string of 1 to {MAX_CLIENT_MSG_ID} characters.", "bad_client_msg_id")
    if client_msg_id is not None and "\x00" in client_msg_id:
        raise ChatError("client_msg_id contains characters we cannot store.", "bad_client_msg_id")
    return body, client_msg_id


def message_params(*, conversation_id: int, sender: str, body: str, client_msg_id=None, agent: AgentProfile | None = None, internal: bool = False) -> dict:
    """The parameters of one message's statement."""
    if sender == Message.Sender.SYSTEM:
        states, author = SYSTEM_STATES, ""
    else:
        states = NOTE_STATES if internal else (CUSTOMER_MESSAGE_STATES if sender == Message.Sender.CUSTOMER else MESSAGE_STATES)
        author = agent.display_name if agent else None
    holds = sender == Message.Sender.AGENT and not internal
    return {
        "conversation_id": conversation_id,
        "states": [str(state) for state in states],
        "holder_id": agent.id if holds and agent else None,
        "asks": sender == Message.Sender.CUSTOMER,  # the customer now waits for an answer
        "client_msg_id": client_msg_id,
        "sender": str(sender),
        "internal": internal,
        "agent_id": agent.id if agent else None,
        "author": author,
        "body": body,
    }


def message_statement(*, schema: str, params: dict) -> tuple[str, dict]:
    """One message: the statement and its parameters (returns id, seq, author, sent_at)."""
    return _statement(_INSERT_SQL, schema), params


def customer_messages_statement(*, schema: str, batch: list[dict]) -> tuple[str, dict]:
    """Customers' messages (message_params of each, one per conversation) as one
    statement; returns conversation_id, id, seq, author, sent_at for each one stored."""
    return _statement(_BATCH_INSERT_SQL, schema), {
        "conversation_ids": [params["conversation_id"] for params in batch],
        "client_msg_ids": [params["client_msg_id"] for params in batch],
        "bodies": [params["body"] for params in batch],
        "states": [str(state) for state in CUSTOMER_MESSAGE_STATES],
        "sender": str(Message.Sender.CUSTOMER),
    }


def message_from_row(row, params: dict) -> Message:
    message_id, seq, author_name, sent_at = row
    message = Message(
        id=message_id, conversation_id=params["conversation_id"], seq=seq, client_msg_id=params["client_msg_id"],
        sender=params["sender"], is_internal=params["internal"], agent_id=params["agent_id"], author_name=author_name,
        body=params["body"], sent_at=sent_at,
    )
    message.attachment_list = []  # a message just stored has its files only once linked
    return message


def message_event(*, schema: str, message: Message) -> Event:
    return events.message_created(schema=schema, conversation_id=message.conversation_id, frame=message_frame(message), internal=message.is_internal)


def _insert(params: dict, attachment_ids: list[int] | tuple = ()) -> Message | None:
    # One statement is atomic by itself; inside a caller's transaction a savepoint keeps a
    # refused duplicate from breaking that transaction. Attachments are given to the
    # message in the same transaction: a refused one takes the message (and its seq) back.
    guard = transaction.atomic() if connection.in_atomic_block or attachment_ids else nullcontext()
    with guard:
        with connection.cursor() as cursor:
            cursor.execute(*message_statement(schema=connection.schema_name, params=params))
            row = cursor.fetchone()
        if row is None:
            return None
        message = message_from_row(row, params)
        if attachment_ids:
            message.attachment_list = attachments_link(message=message, attachment_ids=list(attachment_ids))
    publish_on_commit(message_event(schema=connection.schema_name, message=message))
    return message


def message_send(
    *, conversation_id: int, sender: str, body, client_msg_id=None, agent: AgentProfile | None = None, internal: bool = False, attachment_ids=None
) -> tuple[Message, bool]:
    """Store a message with the conversation's next sequence number and publish it.

    A retry with the same client_msg_id returns the stored message (created=False). An
    agent's reply to the customer is refused unless the agent holds the chat; a note may
    come from any agent on the brand (the caller has authorized them on it).
    `attachment_ids` are files this side uploaded into this conversation
    (chat.attachments), each referenced once.
    """
    attachment_ids = attachment_ids_parse(attachment_ids)
    body, client_msg_id = message_validate(body=body, client_msg_id=client_msg_id, with_attachments=bool(attachment_ids))
    if sender not in (Message.Sender.CUSTOMER, Message.Sender.AGENT):
        raise ChatError("Unknown sender.", "bad_sender")
    if sender == Message.Sender.AGENT and agent is None:
        raise ChatError("An agent's message needs the agent.", "bad_sender")
    if internal and sender != Message.Sender.AGENT:
        raise ChatError("Only agents write notes.", "forbidden", 403)
    params = message_params(conversation_id=conversation_id, sender=sender, body=body, client_msg_id=client_msg_id, agent=agent, internal=internal)
    try:
        message = _insert(params, attachment_ids)
    except IntegrityError:
        existing = Message.objects.filter(conversation_id=conversation_id, sender=sender, client_msg_id=client_msg_id).prefetch_related("attachments").first()
        if existing is None:
            raise
        # Published again: the process that stored it may have died between its commit
        # and its publish, and then the other side never heard of it (each client drops
        # a seq it already holds).
        publish_on_commit(message_event(schema=connection.schema_name, message=existing))
        return existing, False
    if message is not None:
        return message, True
    raise _refusal(conversation_id=conversation_id, params=params)


def _refusal(*, conversation_id: int, params: dict) -> Exception:
    """Why the statement stored nothing."""
    conversation = Conversation.objects.filter(pk=conversation_id).only("state", "agent_id").first()
    if conversation is None:
        return Conversation.DoesNotExist()
    if params["internal"]:
        return ChatError("Notes can be added once the chat is queued.", "bad_state", 409)
    if params["holder_id"] is not None and conversation.state == Conversation.State.ACTIVE:
        return ChatError("Only the agent in the chat can reply.", "forbidden", 403)
    return ChatError("Messages can be sent once an agent has joined, and until the chat ends.", "bad_state", 409)


def system_message_add(*, conversation_id: int, body: str) -> Message:
    """A line from the system (joins, transfers, the end), in any state."""
    message = _insert(message_params(conversation_id=conversation_id, sender=Message.Sender.SYSTEM, body=body))
    if message is None:
        raise Conversation.DoesNotExist()
    return message


MAX_SEQ = 2**31 - 1


def seq_parse(value, *, name: str = "after_seq") -> int:
    """A sequence number from a client (a frame or a query string): a whole number,
    0 when absent; anything else is a ChatError a client can act on."""
    if value is None or value == "":
        return 0
    if isinstance(value, bool) or not isinstance(value, (int, float, str)) or (isinstance(value, str) and len(value) > 20):
        raise ChatError(f"{name} must be a whole number.", "bad_seq")
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        raise ChatError(f"{name} must be a whole number.", "bad_seq") from None
    return min(max(0, number), MAX_SEQ)


def conversation_read(*, conversation_id: int, reader: str, up_to_seq) -> int:
    """Move the reader's read marker forward (never back) and tell the other side."""
    up_to_seq = seq_parse(up_to_seq, name="up_to_seq")
    field = "customer_read_seq" if reader == Message.Sender.CUSTOMER else "agent_read_seq"
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().get(pk=conversation_id)
        up_to_seq = min(max(0, up_to_seq), conversation.last_seq)
        if up_to_seq > getattr(conversation, field):
            setattr(conversation, field, up_to_seq)
            conversation.save(update_fields=[field])
            publish_on_commit(events.conversation_read(schema=connection.schema_name, conversation_id=conversation.id, reader=reader, up_to_seq=up_to_seq))
        return getattr(conversation, field)


BOT_STATES = (Conversation.State.QUEUED, Conversation.State.ACTIVE)


def bot_message_send(*, conversation_id: int, body, author: str, client_msg_id=None) -> tuple[Message, bool]:
    """A message from an integration's bot (the brand API): stored by the same statement,
    so it takes the next sequence number, as a system-sender line with the bot's name as
    author. A bot speaks while the customer waits or beside the agent; it holds no chat,
    so it never stamps the first agent reply. A retried client_msg_id returns the stored
    message (created=False)."""
    body, client_msg_id = message_validate(body=body, client_msg_id=client_msg_id)
    params = message_params(conversation_id=conversation_id, sender=Message.Sender.SYSTEM, body=body, client_msg_id=client_msg_id)
    params["states"] = [str(state) for state in BOT_STATES]
    params["author"] = author[:120]
    try:
        message = _insert(params)
    except IntegrityError:
        existing = Message.objects.filter(conversation_id=conversation_id, sender=Message.Sender.SYSTEM, client_msg_id=client_msg_id).first()
        if existing is None:
            raise
        # Published again: the process that stored it may have died between its commit
        # and its publish, and then the other side never heard of it (each client drops
        # a seq it already holds).
        publish_on_commit(message_event(schema=connection.schema_name, message=existing))
        return existing, False
    if message is not None:
        return message, True
    if not Conversation.objects.filter(pk=conversation_id).exists():
        raise Conversation.DoesNotExist()
    raise ChatError("A bot can write while the chat is queued or active.", "bad_state", 409)
