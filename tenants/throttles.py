"""Rate limits for the HTTP endpoints that cost us or guard a secret: DRF throttles over the
Redis cache, answering 429 with Retry-After (DRF sets the header from `wait()`).

Counts live in the cache, whose keys carry the current schema (django_tenants.cache.
make_key); the brand-scoped throttles also put the brand schema in their own key, so one
brand's burst never spends another brand's allowance. Rates come from settings.RATE_LIMITS
at each request ("<count>/<second|minute|hour|day>"), so a deployment, or a test, can
change them without re-importing anything. Runs in whatever schema the request is in.

The client address is REMOTE_ADDR as the ASGI server saw it; behind a proxy, run uvicorn
with --proxy-headers and --forwarded-allow-ips so it is the client's, not the proxy's
(docs/reliability.md).
"""

from django.conf import settings
from django.db import connection
from django.http import HttpResponse, JsonResponse
from rest_framework.throttling import SimpleRateThrottle


class _SettingsRateThrottle(SimpleRateThrottle):
    def get_rate(self):
        return settings.RATE_LIMITS[self.scope]

    def __init__(self):
        # SimpleRateThrottle reads the rate once here; read it per request instead.
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)

    def key_for(self, ident: str) -> str:
        return self.cache_format % {"scope": self.scope, "ident": ident}


class AgentTokenIPThrottle(_SettingsRateThrottle):
    """POST /api/agent/v1/auth/token from one address."""

    scope = "agent_token_ip"

    def get_cache_key(self, request, view):
        return self.key_for(self.get_ident(request))


class AgentTokenUsernameThrottle(_SettingsRateThrottle):
    """POST /api/agent/v1/auth/token for one username, from any number of addresses."""

    scope = "agent_token_username"

    def get_cache_key(self, request, view):
        username = request.data.get("username") if isinstance(request.data, dict) else None
        if not isinstance(username, str) or not username:
            return None  # the serializer refuses it; nothing to guess at
        return self.key_for(username.strip().lower()[:150])


AGENT_TOKEN_THROTTLES = [AgentTokenIPThrottle, AgentTokenUsernameThrottle]


class ConversationCreateIPThrottle(_SettingsRateThrottle):
    """New conversations from one address on one brand."""

    scope = "conversation_create_ip"

    def get_cache_key(self, request, view):
        return self.key_for(f"{connection.schema_name}:{self.get_ident(request)}")


class ConversationCreateBrandThrottle(_SettingsRateThrottle):
    """New conversations on one brand from everyone: a flood from many addresses stops at
    the brand's ceiling instead of filling its queue and its agents' screens."""

    scope = "conversation_create_brand"

    def get_cache_key(self, request, view):
        return self.key_for(connection.schema_name)


CONVERSATION_CREATE_THROTTLES = [ConversationCreateIPThrottle, ConversationCreateBrandThrottle]


# --- Sign-in forms (django-axes calls these; settings AXES_*) ----------------------------

def client_address(request) -> str | None:
    return request.META.get("REMOTE_ADDR")


def login_lockout_response(request, original_response=None, credentials=None):
    """429 with Retry-After for a locked-out sign-in: JSON for API callers, a short page
    for the login forms."""
    retry_after = str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
    detail = "Too many failed sign-ins. Try again later."
    if request.path.startswith("/api/") or "application/json" in request.headers.get("Accept", ""):
        response = JsonResponse({"detail": detail, "code": "rate_limited"}, status=429)
    else:
        response = HttpResponse(f"<!doctype html><title>Too many attempts</title><p>{detail}</p>", status=429)
    response["Retry-After"] = retry_after
    return response
