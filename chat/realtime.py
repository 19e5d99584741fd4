"""Channel-layer groups and publishing. Postgres is the source of truth; the layer only
notifies, so events are sent after the transaction that caused them commits.

Group names carry the brand schema, so two brands' conversation 7 never share a group.
"""

import threading
from contextlib import contextmanager

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connection, transaction

_local = threading.local()


def conversation_group(*, schema: str, conversation_id: int, audience: str) -> str:
    """audience: "all" (the customer's and the agents' sockets: public events), "agents"
    (private notes, the customer's typing) or "customer" (the agent's typing).

    Customer sockets join "all" and "customer", agent sockets "all" and "agents", so a
    public message is one group send that reaches both sides."""
    return f"{schema}.conv.{conversation_id}.{audience}"


def agent_group(*, agent_id: int) -> str:
    # Agents are platform-wide (one workforce across brands), so their group is too.
    return f"agent.{agent_id}"


def brand_queue_group(*, schema: str) -> str:
    return f"{schema}.queue"


def current_schema() -> str:
    return connection.schema_name


def publish_on_commit(group: str, event: dict) -> None:
    """Send `event` to `group` once the current transaction commits (now if none)."""

    def send():
        collector = getattr(_local, "collector", None)
        if collector is not None:
            collector.append((group, event))
        else:
            async_to_sync(get_channel_layer().group_send)(group, event)

    transaction.on_commit(send)


def conversation_event(*, schema: str, conversation_id: int, event: dict, internal: bool = False) -> tuple[str, dict]:
    """The group and the event as consumers receive them."""
    # Agents hold chats of several brands on one socket: say where each event belongs.
    event = {**event, "schema": schema, "conversation_id": conversation_id}
    audience = "agents" if internal else "all"
    return conversation_group(schema=schema, conversation_id=conversation_id, audience=audience), event


def publish_to_conversation(*, schema: str, conversation_id: int, event: dict, internal: bool = False) -> None:
    publish_on_commit(*conversation_event(schema=schema, conversation_id=conversation_id, event=event, internal=internal))


def collecting() -> bool:
    """Whether a consumer's collect_events block is gathering this thread's events."""
    return getattr(_local, "collector", None) is not None


@contextmanager
def collect_events():
    """Inside a consumer's synchronous block: gather the events instead of sending them,
    so the consumer sends them from the event loop without holding the database thread."""
    outbox: list[tuple[str, dict]] = []
    previous = getattr(_local, "collector", None)
    _local.collector = outbox
    try:
        yield outbox
    finally:
        _local.collector = previous
