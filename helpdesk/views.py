from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .health import health_check


@never_cache
@require_GET
def healthz(request):
    checks = health_check()
    healthy = all(check["ok"] for check in checks.values())
    body = {"status": "ok" if healthy else "unavailable", "checks": checks, "schema": connection.schema_name}
    return JsonResponse(body, status=200 if healthy else 503)
