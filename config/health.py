"""/healthz on every host: liveness of the stores every request depends on."""

import time

import redis
from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


def _timed(check) -> dict:
    started = time.perf_counter()
    try:
        check()
    except Exception as exc:  # any failure is reported, never raised, by a health check
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:200]}
    return {"ok": True, "ms": round((time.perf_counter() - started) * 1000, 1)}


def _postgres() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _redis() -> None:
    client = redis.Redis.from_url(settings.CHANNEL_LAYERS["default"]["CONFIG"]["hosts"][0], socket_timeout=2)
    try:
        client.ping()
    finally:
        client.close()


def health_check() -> dict:
    return {"postgres": _timed(_postgres), "redis": _timed(_redis)}


@never_cache
@require_GET
def healthz(request):
    checks = health_check()
    healthy = all(check["ok"] for check in checks.values())
    body = {"status": "ok" if healthy else "unavailable", "checks": checks, "schema": connection.schema_name}
    return JsonResponse(body, status=200 if healthy else 503)
