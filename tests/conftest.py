"""Test brands are created once per session, in the real PostgreSQL test database.

Creating them lazily inside a test would roll the CREATE SCHEMA back with the test, so
they are made in django_db_setup. Transactional tests (websockets, browser) would have
Django's flush truncate the brand table; `_truncate_keeping_brands` replaces that flush
with one that keeps the session brands and empties everything else, brand schemas
included.
"""

import time

import pytest
import pytest_asyncio
from django.core.management import call_command
from django.db import connection
from django.test import TransactionTestCase
from django_tenants.utils import schema_context

from tenants.models import ATTACHMENT_MAX_BYTES_DEFAULT, Brand, default_attachment_types

# The live server, Chromium and `new_page`, shared by browser tests in any folder.
pytest_plugins = ["tests.browser"]

SESSION_BRANDS = {
    "alpha": {"name": "Alpha Outdoor", "categories": [("general", "General"), ("shipping", "Shipping"), ("returns", "Returns")]},
    "beta": {"name": "Beta Devices", "categories": [("setup", "Setup"), ("warranty", "Warranty"), ("repairs", "Repairs")]},
}
# Session brands are open around the clock so no test depends on the time it runs at.
SESSION_BRAND_SETTINGS = {
    "status": "active",
    "business_hours": {},
    "time_zone": "UTC",
    "routing_policy": "least_busy",
    "offer_timeout_seconds": 30,
    "max_queue_length": 50,
    # Tests that queue chats without an agent socket open (most of them) keep queueing; the
    # widget tests turn the offline offer back on (tests/chat/test_no_agent.py).
    "offline_when_no_agent": False,
    "offline_form_enabled": True,
    "max_wait_seconds": None,
    "customer_locale_allowed": True,
    "attachment_max_bytes": ATTACHMENT_MAX_BYTES_DEFAULT,
    "attachment_types": default_attachment_types(),
    "prechat_fields": {"name": "required", "email": "required", "customer_id": "optional", "product_id": "optional", "category": "required"},
}
KEEP_TABLES = {"tenants_brand", "tenants_domain", "django_migrations", "django_content_type", "auth_permission"}


def _truncate(cursor, statement: str, attempts: int = 5) -> None:
    """TRUNCATE takes every table's exclusive lock at once, while a live server in the
    test process may still be finishing a socket's last write (a heartbeat, a disconnect):
    PostgreSQL then breaks the deadlock by failing one side. If that side is ours, the
    server's write has gone through by the next try."""
    from django.db import OperationalError

    for attempt in range(attempts):
        try:
            cursor.execute(statement)
            return
        except OperationalError as exc:
            if "deadlock" not in str(exc) or attempt == attempts - 1:
                raise
            time.sleep(0.2 * (attempt + 1))


def _truncate_keeping_brands(self):
    session_schemas = [f"brand_{slug}" for slug in SESSION_BRANDS]
    with connection.cursor() as cursor:
        connection.set_schema_to_public()
        # Empty everything that refers to brands first, then drop the brands tests made.
        # Ids keep counting (no RESTART IDENTITY), as in production: a socket of the last
        # test that the session's live server has not yet seen close must not find the
        # next test's agent or conversation under its old id (its heartbeat once put a
        # dead socket on a new agent, who then looked connected).
        for schema in ["public", *session_schemas]:
            cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s", [schema])
            tables = [row[0] for row in cursor.fetchall() if row[0] not in KEEP_TABLES]
            if tables:
                _truncate(cursor, "TRUNCATE " + ", ".join(f'"{schema}"."{t}"' for t in tables) + " CASCADE")
        cursor.execute("SELECT schema_name FROM tenants_brand WHERE slug <> ALL(%s) AND schema_name <> 'public'", [list(SESSION_BRANDS)])
        for (schema,) in cursor.fetchall():
            cursor.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        cursor.execute("DELETE FROM tenants_domain WHERE tenant_id IN (SELECT id FROM tenants_brand WHERE slug <> ALL(%s) AND schema_name <> 'public')", [list(SESSION_BRANDS)])
        cursor.execute("DELETE FROM tenants_brand WHERE slug <> ALL(%s) AND schema_name <> 'public'", [list(SESSION_BRANDS)])
        # Tests change brand settings (status, hours, routing policy...): put them back.
        for slug in SESSION_BRANDS:
            Brand.objects.filter(slug=slug).update(**SESSION_BRAND_SETTINGS)
    _session_brand_content_create()
    _cache_clear_this_run()


def _cache_clear_this_run():
    """Empty this run's cache entries only. cache.clear() would FLUSHDB the Redis database
    every test run on the machine shares, taking other runs' entries and locks with it."""
    import redis
    from django.conf import settings

    client = redis.Redis.from_url(settings.CACHES["default"]["LOCATION"])
    try:
        prefix = settings.CACHES["default"]["KEY_PREFIX"]
        for key in client.scan_iter(match=f"*:{prefix}:*", count=500):  # schema:prefix:version:key
            client.delete(key)
    finally:
        client.close()


def _session_brand_content_create():
    from knowledge.models import Category

    for slug, spec in SESSION_BRANDS.items():
        with schema_context(f"brand_{slug}"):
            for position, (category_slug, name) in enumerate(spec["categories"]):
                Category.objects.update_or_create(slug=category_slug, defaults={"name": name, "position": position})


TransactionTestCase._fixture_teardown = _truncate_keeping_brands


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    from tenants.services import brand_create, brand_template_ensure

    with django_db_blocker.unblock():
        brand_template_ensure()
        for slug, spec in SESSION_BRANDS.items():
            brand_create(name=spec["name"], slug=slug, **SESSION_BRAND_SETTINGS)
        _session_brand_content_create()
        connection.set_schema_to_public()
    yield
    import shutil

    from django.conf import settings

    shutil.rmtree(settings.SEARCH_INDEX_ROOT, ignore_errors=True)
    shutil.rmtree(settings.MEDIA_ROOT, ignore_errors=True)
    with django_db_blocker.unblock():
        # Channels' worker thread and the live servers keep connections of their own; the
        # test database cannot be dropped while they are open.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )


@pytest.fixture
def alpha(db):
    return Brand.objects.get(slug="alpha")


@pytest.fixture
def beta(db):
    return Brand.objects.get(slug="beta")


@pytest.fixture(autouse=True)
def _back_to_public():
    """Every test starts, and leaves the connection, in the public schema."""
    connection.set_schema_to_public()
    yield
    connection.set_schema_to_public()


@pytest.fixture
def call(capsys):
    """Run a management command and return what it printed."""

    def run(*args, **kwargs):
        call_command(*args, **kwargs)
        return capsys.readouterr().out

    return run


def pytest_collection_modifyitems(session, config, items):
    """Browser tests (tests/e2e and any marked `browser`) run last: Playwright's sync API
    keeps an event loop on the main thread for the rest of the session, which
    async_to_sync in later tests refuses."""
    items.sort(key=lambda item: "/e2e/" in str(item.fspath) or item.get_closest_marker("browser") is not None)


@pytest_asyncio.fixture
async def sockets():
    """Open websockets with `await sockets.widget(...)` / `sockets.agent_authed(...)`;
    all are disconnected when the test ends."""
    from tests.sockets import Sockets

    opened = Sockets()
    yield opened
    await opened.close_all()
