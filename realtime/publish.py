"""Publishing on commit. Postgres is the source of truth; the layer only notifies, so
events are sent after the transaction that caused them commits.

An event is a `(group, payload)` pair built by `realtime.events`.
"""

import asyncio
import threading
from contextlib import contextmanager

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

Event = tuple[str, dict]

_local = threading.local()


def publish_on_commit(*events: Event) -> None:
    """Send the events once the current transaction commits (now if there is none)."""

    def send():
        collector = getattr(_local, "collector", None)
        if collector is not None:
            collector.extend(events)
        else:
            _send_all(list(events))

    transaction.on_commit(send)


def _send_all(events: list[Event]) -> None:
    if not events:
        return
    layer = get_channel_layer()

    async def send_all() -> None:
        # Concurrently: the events go to different groups, and each send is a Redis
        # round trip that would otherwise queue one behind the other.
        await asyncio.gather(*(layer.group_send(group, payload) for group, payload in events))

    async_to_sync(send_all)()


def collecting() -> bool:
    """Whether a collect_events block is gathering this thread's events."""
    return getattr(_local, "collector", None) is not None


@contextmanager
def collect_events():
    """Inside a consumer's synchronous block: gather the events instead of sending them,
    so the consumer sends them from the event loop without holding the database thread."""
    outbox: list[Event] = []
    previous = getattr(_local, "collector", None)
    _local.collector = outbox
    try:
        yield outbox
    finally:
        _local.collector = previous


# Payload types whose repeats within one batch say nothing new.
_COLLAPSIBLE = {"queue.changed"}


@contextmanager
def events_batched():
    """Send the events of a block of many commits together, once, at its end.

    Each `publish_on_commit` outside a consumer pays for an event loop and a Redis round
    trip (async_to_sync), which cost more than a routing offer's own queries; one batch
    per dispatch pays once, and repeated `queue.changed` events of a brand collapse into
    one. Inside a consumer's `collect_events` block the consumer already batches.
    """
    if collecting():
        yield
        return
    with collect_events() as outbox:
        yield
    unique: dict[tuple, Event] = {}
    for group, payload in outbox:
        key = (group, payload["type"]) if payload.get("type") in _COLLAPSIBLE else (group, repr(sorted(payload.items())))
        unique.setdefault(key, (group, payload))
    _send_all(list(unique.values()))
