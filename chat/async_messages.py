"""A customer's message from the widget socket, stored from the event loop.

Same statement, same rules and same event as chat.services.message_send, without the hop
to a database thread (chat.async_db says why). Only the common case runs here: a new
message into a chat that takes messages. Anything else (a retried client_msg_id, a chat
that has ended or does not exist) goes to message_send, which tells those apart and
answers them exactly as every other caller sees them.
"""

import psycopg

from . import services
from .async_db import PoolUnavailable, fetch_one
from .models import Message
from .realtime import conversation_event
from .socket import run_in_schema


async def customer_message_send(*, schema: str, conversation_id: int, body, client_msg_id) -> tuple[Message, bool, list]:
    """Store the message; return (message, created, events to publish)."""
    body, client_msg_id = services.message_validate(body=body, client_msg_id=client_msg_id)
    params = services.message_insert_params(
        conversation_id=conversation_id, sender=Message.Sender.CUSTOMER, body=body, client_msg_id=client_msg_id, agent=None, internal=False
    )
    try:
        row = await fetch_one(services.message_insert_sql(schema), params)
    except psycopg.errors.UniqueViolation:
        row = None  # a retry of a message already stored
    except (psycopg.OperationalError, PoolUnavailable) as exc:
        raise services.ChatError("The message could not be stored just now. Send it again.", "unavailable", 503) from exc
    if row is None:
        (message, created), events = await run_in_schema(
            schema, services.message_send, conversation_id=conversation_id, sender=Message.Sender.CUSTOMER, body=body, client_msg_id=client_msg_id
        )
        return message, created, events
    message = services.message_from_insert(row, params)
    return message, True, [conversation_event(schema=schema, conversation_id=conversation_id, event=services.message_event(message))]
