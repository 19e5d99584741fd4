"""What every websocket consumer shares: frame parsing, error frames, and running a
synchronous block inside a brand's schema with its events sent afterwards."""

import json
import logging
import time

from asgiref.sync import sync_to_async
from channels.consumer import get_handler_name
from channels.db import DatabaseSyncToAsync
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.db import InterfaceError, OperationalError, close_old_connections, connection, connections
from django_tenants.utils import schema_context

from .publish import collect_events
from .strict_json import StrictJsonError, loads_strict

logger = logging.getLogger(__name__)

MAX_FRAME_BYTES = 16 * 1024

# Close codes (docs/protocol.md).
CLOSE_UNAUTHORIZED = 4401
CLOSE_WRONG_HOST = 4404
CLOSE_AUTH_TIMEOUT = 4408
CLOSE_NO_ROUTE = 4404
CLOSE_RATE_LIMITED = 4429


class FrameBucket:
    """Frames one socket may send: `burst` at once, refilled at `rate` per second."""

    def __init__(self, *, rate: float, burst: float):
        self.rate, self.burst = rate, burst
        self.tokens = burst
        self.at = time.monotonic()
        self.strikes = 0  # frames refused in a row

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens >= 1:
            self.tokens -= 1
            self.strikes = 0
            return True
        self.strikes += 1
        return False


class RefusedPathConsumer(AsyncWebsocketConsumer):
    """Any websocket path we do not serve: the handshake is refused (HTTP 403)."""

    async def connect(self):
        await self.close(code=CLOSE_NO_ROUTE)


class FrameError(Exception):
    def __init__(self, code: str, detail: str):
        super().__init__(detail)
        self.code = code
        self.detail = detail


def _run_in_schema(schema: str, fn, *args, **kwargs):
    try:
        with collect_events() as events, schema_context(schema):
            result = fn(*args, **kwargs)
        connection.set_schema_to_public()
        return result, events
    finally:
        # Give the connection back to the pool (settings DB_POOL) here, in the thread and
        # the block that took it: Channels' own close after the call was seen not to
        # reach it, and a connection still held when an executor thread ends is lost to
        # the pool for good. With the pool this is a check-in, not a disconnect.
        close_old_connections()


# Not thread-sensitive: frames from many sockets run on a pool of threads (each with its
# own persistent connection) instead of queueing on Channels' one shared database
# thread. That is safe because every block enters its brand's schema itself and leaves
# it; one socket's frames still run one after another, as the consumer awaits each.
_run_in_schema_async = DatabaseSyncToAsync(_run_in_schema, thread_sensitive=False)


async def run_in_schema(schema: str, fn, *args, **kwargs):
    """Run fn in `schema` on a database thread; return (result, events to publish)."""
    return await _run_in_schema_async(schema, fn, *args, **kwargs)


# What a lost or restarted database raises; anything else is a bug and is not retried.
DATABASE_ERRORS = (OperationalError, InterfaceError)


class DatabaseUnavailable(Exception):
    """The database failed twice in a row for one frame."""


def _pool_check() -> None:
    # After a database restart or pg_terminate_backend every idle pooled connection is
    # dead; the pool hands them out unchecked (a check per check-out would cost every
    # frame a round trip), so on the first failure the pool tests its idle ones at once.
    pool = connections["default"].pool
    if pool is not None:
        pool.check()


async def database_retrying(call, *args, **kwargs):
    """Await `call(*args, **kwargs)` (a database block); on a database error check the
    pool and try once more, then raise DatabaseUnavailable. Only for blocks that are
    safe to repeat: every frame's are (a message retried is caught by its client_msg_id)."""
    for attempt in (1, 2):
        try:
            return await call(*args, **kwargs)
        except DATABASE_ERRORS as exc:
            logger.warning("database error in a socket block (attempt %s): %s", attempt, exc)
            if attempt == 2:
                raise DatabaseUnavailable from exc
            await sync_to_async(_pool_check, thread_sensitive=False)()


def _echoable(client_msg_id):
    """A client_msg_id worth echoing in an error frame: a short string, else nothing."""
    return client_msg_id if isinstance(client_msg_id, str) and len(client_msg_id) <= 100 else None


class JsonFrameConsumer(AsyncWebsocketConsumer):
    """Parses frames, answers bad ones with an `error` frame, dispatches by `type`."""

    handlers: dict[str, str] = {}

    async def dispatch(self, message):
        # Channels' own dispatch first hops to the shared database thread to close stale
        # connections, for every frame and every layer event: at 200 busy chats that hop
        # was a queue of its own. Our consumers touch the database only through
        # DatabaseSyncToAsync (run_in_schema, database_sync_to_async), which closes stale
        # connections around each call on the thread that ran it, so the hop buys nothing.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def receive(self, text_data=None, bytes_data=None):
        bucket = self.__dict__.get("frame_bucket")
        if bucket is None:
            bucket = self.frame_bucket = FrameBucket(rate=settings.SOCKET_FRAME_RATE, burst=settings.SOCKET_FRAME_BURST)
        if not bucket.take():
            if bucket.strikes > settings.SOCKET_FRAME_STRIKES:
                return await self.close(code=CLOSE_RATE_LIMITED)
            if bucket.strikes == 1:
                return await self.send_error("rate_limited", f"Too many frames; at most {settings.SOCKET_FRAME_RATE:g} a second.")
            return None
        if bytes_data is not None or text_data is None:
            return await self.send_error("bad_frame", "Frames are JSON text.")
        # surrogatepass: a lone surrogate is refused by loads_strict with an error frame,
        # not by this length check with an exception.
        if len(text_data.encode("utf-8", "surrogatepass")) > MAX_FRAME_BYTES:
            return await self.send_error("frame_too_large", f"Frames are limited to {MAX_FRAME_BYTES} bytes.")
        try:
            frame = loads_strict(text_data)
        except StrictJsonError as exc:
            return await self.send_error(exc.code, "The frame is not valid JSON." if exc.code == "bad_json" else exc.detail)
        if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
            return await self.send_error("bad_frame", "A frame is a JSON object with a string `type`.")
        try:
            await self.handle_frame(frame)
        except FrameError as exc:
            await self.send_error(exc.code, exc.detail, client_msg_id=_echoable(frame.get("client_msg_id")))
        except DatabaseUnavailable:
            # The socket stays open: the client may send the frame again in a moment.
            await self.send_error("unavailable", "The service is briefly unavailable; try again.", client_msg_id=_echoable(frame.get("client_msg_id")))
        except (TypeError, ValueError, OverflowError):
            # A field of the wrong type that a handler did not check (a list where a
            # number goes): the client's mistake, answered as one, and logged so the
            # handler gets its own check.
            logger.warning("frame %r refused on a bad field", frame.get("type"), exc_info=True)
            await self.send_error("bad_frame", "A field of the frame has the wrong type.", client_msg_id=_echoable(frame.get("client_msg_id")))

    async def handle_frame(self, frame: dict) -> None:
        handler_name = self.handlers.get(frame["type"])
        if handler_name is None:
            raise FrameError("unknown_type", f"Unknown frame type {frame['type'][:40]!r}.")
        await getattr(self, handler_name)(frame)

    async def send_json(self, content: dict) -> None:
        await self.send(text_data=json.dumps(content))

    async def send_error(self, code: str, detail: str, **extra) -> None:
        frame = {"type": "error", "code": code, "detail": detail}
        frame.update({k: v for k, v in extra.items() if v is not None})
        await self.send_json(frame)

    async def publish(self, events) -> None:
        for group, event in events:
            await self.channel_layer.group_send(group, event)

    async def run(self, schema: str, fn, *args, **kwargs):
        result, events = await database_retrying(run_in_schema, schema, fn, *args, **kwargs)
        await self.publish(events)
        return result

    # Layer events that carry a ready frame for the client (realtime.events).
    async def forward_frame(self, event):
        await self.send_json(event["frame"])

    message_created = forward_frame
    conversation_read = forward_frame
    agent_joined = forward_frame
    agent_left = forward_frame
    conversation_ended = forward_frame
    survey_requested = forward_frame
    typing_changed = forward_frame
    queue_moved = forward_frame
