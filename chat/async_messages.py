"""A customer's message from the widget socket, stored from the event loop.

Same rules, statements and event as chat.messages.message_send, without the hop to a database
thread (chat.async_db says why). Only the common case runs here: a new message into a
chat that takes messages. Anything else (a retried client_msg_id, a chat that has ended
or does not exist, a message with attachments) goes to message_send, which tells those apart and answers them exactly
as every other caller sees them.

Messages are stored in batches: while earlier statements are in flight, the messages that
arrive meanwhile wait and then go in together, as one statement and one commit. A quiet
server stores each message on its own at once; a busy one commits dozens per round trip
and fsync instead of queueing them one by one (docs/benchmarks.md). Every message is still
acknowledged only once its own row is committed.
"""

import asyncio
import weakref
from dataclasses import dataclass, field

import psycopg
from django.conf import settings

from realtime.socket import run_in_schema

from .async_db import PoolUnavailable, fetch_all, pool
from .errors import ChatError
from .messages import customer_messages_statement, message_event, message_from_row, message_params, message_send, message_statement, message_validate
from .models import Message

MAX_BATCH = 100


@dataclass
class _Waiting:
    schema: str
    params: dict
    stored: asyncio.Future = field(default_factory=lambda: asyncio.get_running_loop().create_future())


class MessageBatcher:
    """One per event loop: at most `in_flight` statements at a time; whatever arrives
    meanwhile goes into the next one (one brand schema per statement, each conversation
    at most once, in arrival order).

    Order with two statements in flight: a socket hands over its
    next message only once the last one is stored, so one sender's messages keep their
    order; between two sockets of one chat, the row lock decides."""

    def __init__(self, *, in_flight: int):
        self._in_flight_limit = in_flight
        self._in_flight = 0
        self._waiting: list[_Waiting] = []

    async def store(self, schema: str, params: dict):
        """The inserted row (id, seq, author_name, sent_at), or None if the chat took
        nothing (message_send then says why)."""
        waiting = _Waiting(schema, params)
        self._waiting.append(waiting)
        self._start_batches()
        return await waiting.stored

    def _start_batches(self) -> None:
        while self._waiting and self._in_flight < self._in_flight_limit:
            batch = self._next_batch()
            self._in_flight += 1
            asyncio.get_running_loop().create_task(self._store_batch(batch))

    def _next_batch(self) -> list[_Waiting]:
        schema = self._waiting[0].schema
        batch, later, conversations = [], [], set()
        for waiting in self._waiting:
            conversation_id = waiting.params["conversation_id"]
            if waiting.schema == schema and conversation_id not in conversations and len(batch) < MAX_BATCH:
                batch.append(waiting)
                conversations.add(conversation_id)
            else:
                later.append(waiting)
        self._waiting = later
        return batch

    async def _store_batch(self, batch: list[_Waiting]) -> None:
        try:
            rows = await _insert_or_one_by_one(batch)
        except BaseException as exc:
            for waiting in batch:
                if not waiting.stored.done():
                    waiting.stored.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
        else:
            for waiting in batch:
                if not waiting.stored.done():
                    waiting.stored.set_result(rows.get(waiting.params["conversation_id"]))
        finally:
            self._in_flight -= 1
            self._start_batches()


# What one message can do to a whole statement: a retried client_msg_id breaks a unique
# constraint; a stray lock holder can deadlock with a batch.
_STATEMENT_BREAKERS = (psycopg.IntegrityError, psycopg.errors.TransactionRollback)


async def _insert_or_one_by_one(batch: list[_Waiting]) -> dict[int, tuple]:
    """_insert, but a batch one message broke is stored again one message at a time,
    and a message that breaks its own statement gets no row (message_send says why)."""
    try:
        return await _insert(batch)
    except _STATEMENT_BREAKERS:
        if len(batch) == 1:
            return {}
        rows: dict[int, tuple] = {}
        for waiting in batch:
            rows.update(await _insert_or_one_by_one([waiting]))
        return rows


async def _insert(batch: list[_Waiting]) -> dict[int, tuple]:
    """Rows by conversation id, for the messages that were stored."""
    schema = batch[0].schema
    if len(batch) == 1:
        params = batch[0].params
        return {params["conversation_id"]: row for row in await fetch_all(*message_statement(schema=schema, params=params))}
    rows = await fetch_all(*customer_messages_statement(schema=schema, batch=[w.params for w in batch]))
    return {conversation_id: rest for conversation_id, *rest in rows}


_batchers: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _batcher() -> MessageBatcher:
    # Keyed by this loop's connection pool, so it goes when the loop and its pool go.
    loop_pool = pool()
    batcher = _batchers.get(loop_pool)
    if batcher is None:
        batcher = _batchers[loop_pool] = MessageBatcher(in_flight=settings.ASYNC_DB_MESSAGE_BATCHES_IN_FLIGHT)
    return batcher


async def customer_message_send(*, schema: str, conversation_id: int, body, client_msg_id, attachment_ids=None) -> tuple[Message, bool, list]:
    """Store the message; return (message, created, events to publish)."""
    if attachment_ids:
        # Files are given to the message in its transaction, with row locks: the sync path.
        (message, created), events = await run_in_schema(
            schema, message_send, conversation_id=conversation_id, sender=Message.Sender.CUSTOMER, body=body, client_msg_id=client_msg_id, attachment_ids=attachment_ids
        )
        return message, created, events
    body, client_msg_id = message_validate(body=body, client_msg_id=client_msg_id)
    params = message_params(conversation_id=conversation_id, sender=Message.Sender.CUSTOMER, body=body, client_msg_id=client_msg_id)
    try:
        row = await _batcher().store(schema, params)
    except (psycopg.OperationalError, PoolUnavailable) as exc:
        raise ChatError("The message could not be stored just now. Send it again.", "unavailable", 503) from exc
    if row is None:
        (message, created), events = await run_in_schema(
            schema, message_send, conversation_id=conversation_id, sender=Message.Sender.CUSTOMER, body=body, client_msg_id=client_msg_id
        )
        return message, created, events
    message = message_from_row(row, params)
    return message, True, [message_event(schema=schema, message=message)]
