"""Async PostgreSQL connections for the websocket hot path.

Django's ORM is synchronous, so a consumer reaches it through a thread (DatabaseSyncToAsync).
For the one statement every chat message runs, that hop, the ORM's cursor wrappers and
django-tenants' SET search_path cost more than the statement (docs/benchmarks.md), so the
message path runs it on these connections from the event loop instead.

They have no search_path of their own: a statement run here names its tables with their
schema. One small pool per event loop (a server has one loop; every test has its own),
closed with its loop. psycopg_pool was the first choice, but its pools run background
tasks, and asyncio cancels those before a loop closes, so the pool could no longer be
closed cleanly then: these few lines have nothing running between uses.
"""

import asyncio
import types
from contextlib import asynccontextmanager

import psycopg
from django.conf import settings
from django.db import connections
from psycopg.pq import TransactionStatus

# Keys of Django's connection parameters that are Django's, not libpq's.
_DJANGO_ONLY_PARAMS = {"cursor_factory", "context", "prepare_threshold", "server_side_binding", "pool", "isolation_level", "assume_role"}


# How these connections show in pg_stat_activity.
APPLICATION_NAME = "helpdesk-socket-messages"


class PoolUnavailable(Exception):
    """No connection could be had in time."""


class LoopConnectionPool:
    """Up to `size` autocommit connections, reused last-in first-out, for one event loop."""

    def __init__(self, *, size: int, timeout: float):
        self._slots = asyncio.Semaphore(size)
        self._timeout = timeout
        self._idle: list[psycopg.AsyncConnection] = []
        self._closed = False

    async def _connect(self) -> psycopg.AsyncConnection:
        params = connections["default"].get_connection_params()
        kwargs = {key: value for key, value in params.items() if key not in _DJANGO_ONLY_PARAMS}
        kwargs.setdefault("connect_timeout", max(1, int(self._timeout)))
        kwargs.setdefault("application_name", APPLICATION_NAME)
        connection = await psycopg.AsyncConnection.connect(**kwargs, autocommit=True)
        # Datetimes come back in UTC, as they do through Django, so a frame reads the
        # same whichever path stored its message.
        await connection.execute("SET TIME ZONE 'UTC'")
        return connection

    @asynccontextmanager
    async def connection(self):
        """A connection for one statement or a few; `.reused` says whether it was idle."""
        if self._closed:
            raise PoolUnavailable("The pool is closed.")
        try:
            async with asyncio.timeout(self._timeout):
                await self._slots.acquire()
        except TimeoutError:
            raise PoolUnavailable("Every connection stayed busy.") from None
        try:
            reused = bool(self._idle)
            try:
                connection = self._idle.pop() if reused else await self._connect()
            except psycopg.OperationalError as exc:
                raise PoolUnavailable(str(exc)) from exc
            try:
                yield connection, reused
            finally:
                if self._closed or connection.broken or connection.info.transaction_status != TransactionStatus.IDLE:
                    await connection.close()
                else:
                    self._idle.append(connection)
        finally:
            self._slots.release()

    async def close(self) -> None:
        self._closed = True
        idle, self._idle = self._idle, []
        for connection in idle:
            await connection.close()


_pools: dict[asyncio.AbstractEventLoop, LoopConnectionPool] = {}


def pool() -> LoopConnectionPool:
    """This event loop's pool."""
    loop = asyncio.get_running_loop()
    existing = _pools.get(loop)
    if existing is None:
        existing = _pools[loop] = LoopConnectionPool(size=settings.ASYNC_DB_POOL_SIZE, timeout=settings.ASYNC_DB_POOL_TIMEOUT)
        _close_with_loop(loop)
    return existing


def _close_with_loop(loop: asyncio.AbstractEventLoop) -> None:
    original_close = loop.close

    def close(self, *args, **kwargs):
        closing = _pools.pop(loop, None)
        if closing is not None and not loop.is_closed():
            loop.run_until_complete(closing.close())
        self.close = original_close
        return original_close(*args, **kwargs)

    loop.close = types.MethodType(close, loop)


async def fetch_all(sql: str, params: dict) -> list[tuple]:
    """Run one statement and return its rows.

    A connection that sat idle may have been cut by a server restart: such a failure is
    retried once on a new connection. Statements run here must be safe to retry; the
    message inserts are, as a retried client_msg_id is refused by its unique constraint.
    """
    for attempt in (1, 2):
        async with pool().connection() as (connection, reused):
            try:
                return await (await connection.execute(sql, params)).fetchall()
            except psycopg.OperationalError:
                if not (reused and connection.broken and attempt == 1):
                    raise
