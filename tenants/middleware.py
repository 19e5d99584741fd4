"""Host to brand resolution for HTTP (Django middleware) and websockets (ASGI middleware).

Both use tenants.selectors.host_resolve, so the two protocols cannot disagree about
which brand a host belongs to.
"""

import json
from urllib.parse import parse_qs, urlsplit

from channels.db import database_sync_to_async
from django.conf import settings
from django.db import close_old_connections, connection
from django.http import HttpResponse, JsonResponse
from django.http.request import split_domain_port, validate_host
from django.template.loader import render_to_string
from django.urls import set_urlconf

from .selectors import HostResolution, host_resolve

# Websocket close codes (4000-4999 are the application's own; see docs/protocol.md).
WS_CLOSE_UNKNOWN_HOST = 4404
WS_CLOSE_BRAND_SUSPENDED = 4423
WS_CLOSE_FORBIDDEN_ORIGIN = 4403


def host_strict(host: str) -> str | None:
    """The Host header if it is a well-formed host[:port] that ALLOWED_HOSTS accepts, else
    None. Django's HTTP path does this in request.get_host(); websockets bypass it, and
    host_resolve alone would read `acme.localhost:8200@evil.com` as acme."""
    domain, _ = split_domain_port(host or "")
    if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
        return None
    return host


def wants_json(request) -> bool:
    return request.path.startswith("/api/") or "application/json" in request.headers.get("Accept", "")


class BrandHostMiddleware:
    """Enter the brand's schema for a brand host; stay in public for the platform host."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        connection.set_schema_to_public()
        resolution = host_resolve(host=request.META.get("HTTP_HOST", ""))
        if resolution.kind == "unknown":
            return self.unknown_host_response(request)
        if resolution.is_platform:
            request.brand = None
            request.tenant = connection.tenant
            request.urlconf = settings.PUBLIC_SCHEMA_URLCONF
            set_urlconf(request.urlconf)
            return self.get_response(request)

        brand = resolution.brand
        if not brand.is_active and request.path != "/healthz":
            return self.suspended_response(request, brand)
        request.brand = brand
        request.tenant = brand
        connection.set_tenant(brand)
        try:
            return self.get_response(request)
        finally:
            # The thread's connection serves other requests next; never leave it in a brand.
            connection.set_schema_to_public()

    @staticmethod
    def unknown_host_response(request):
        if wants_json(request):
            return JsonResponse({"detail": "No brand is served at this host."}, status=404)
        return HttpResponse(render_to_string("tenants/unknown_host.html"), status=404)

    @staticmethod
    def suspended_response(request, brand):
        detail = f"{brand.name} support is temporarily unavailable."
        if wants_json(request):
            return JsonResponse({"detail": detail, "code": "brand_suspended"}, status=503)
        html = render_to_string("tenants/brand_suspended.html", {"brand": brand, "detail": detail})
        return HttpResponse(html, status=503)


@database_sync_to_async
def _resolve_host(host: str) -> HostResolution:
    close_old_connections()
    return host_resolve(host=host)


class BrandHostASGIMiddleware:
    """ASGI middleware for websockets: puts `brand` (or None for the platform) in the scope.

    An unknown host has its handshake refused. A suspended brand's handshake is accepted
    only to send an `error` frame and close with 4423, so clients can tell the person why.
    The schema is *not* entered here: database_sync_to_async shares one worker thread,
    so each consumer enters its brand's schema inside every synchronous block.
    """

    def __init__(self, inner):
        self.inner = inner

    async def __call__(self, scope, receive, send):
        if scope["type"] != "websocket":
            return await self.inner(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        host = host_strict(headers.get(b"host", b"").decode("latin-1"))
        resolution = await _resolve_host(host) if host else HostResolution(kind="unknown")
        if resolution.kind == "unknown":
            await receive()  # websocket.connect
            await send({"type": "websocket.close", "code": WS_CLOSE_UNKNOWN_HOST})
            return None
        if resolution.is_brand and not resolution.brand.is_active:
            await receive()
            await send({"type": "websocket.accept"})
            frame = {"type": "error", "code": "brand_suspended", "detail": f"{resolution.brand.name} support is temporarily unavailable."}
            await send({"type": "websocket.send", "text": json.dumps(frame)})
            await send({"type": "websocket.close", "code": WS_CLOSE_BRAND_SUSPENDED})
            return None
        scope = dict(scope)
        scope["brand"] = resolution.brand
        scope["brand_schema"] = resolution.brand.schema_name if resolution.brand else "public"
        scope["is_platform_host"] = resolution.is_platform
        scope["query"] = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        return await self.inner(scope, receive, send)


class SocketOriginMiddleware:
    """The Origin allow-list for sockets that a browser's cookies authenticate.

    A browser sends the session cookie with any page's websocket to our host, so without
    this check any site could open the agent socket as the signed-in agent (cross-site
    websocket hijacking). On the paths in `cookie_paths` (the agent socket) the Origin
    must be a host we serve: the platform or a brand. `null` and foreign origins are
    refused at the handshake. A handshake without Origin is refused when it carries a
    cookie; browsers always send Origin on websockets, so only non-browser clients omit
    it, and those authenticate with an agent token in the first frame, which no other
    site can read. Every other socket (the widget's, embedded on the brand's own site)
    takes any origin: it carries no cookie and is authorized by its conversation token.
    """

    def __init__(self, inner, *, cookie_paths: tuple[str, ...]):
        self.inner = inner
        self.cookie_paths = cookie_paths

    async def __call__(self, scope, receive, send):
        if scope["type"] == "websocket" and scope.get("path", "").startswith(self.cookie_paths):
            headers = dict(scope.get("headers") or [])
            origin = headers.get(b"origin")
            if origin is None:
                allowed = b"cookie" not in headers
            else:
                allowed = await self.origin_served(origin.decode("latin-1"))
            if not allowed:
                await receive()  # websocket.connect
                await send({"type": "websocket.close", "code": WS_CLOSE_FORBIDDEN_ORIGIN})
                return None
        return await self.inner(scope, receive, send)

    @staticmethod
    async def origin_served(origin: str) -> bool:
        try:
            parts = urlsplit(origin)
        except ValueError:
            return False
        if parts.scheme not in ("http", "https") or parts.path or parts.query or parts.username or parts.password:
            return False
        host = host_strict(parts.netloc)
        if host is None:
            return False
        return (await _resolve_host(host)).kind != "unknown"


class FramablePageMiddleware:
    """Pages marked @xframe_options_exempt (the chat page, framed by the widget on the
    brand's own site) may be framed by anyone: the CSP's frame-ancestors follows the same
    mark, so the two headers cannot disagree. Every other page keeps 'none'."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if getattr(response, "xframe_options_exempt", False):
            response._csp_replace = {**getattr(response, "_csp_replace", {}), "frame-ancestors": ["*"]}
        return response


class NulRefusingMiddleware:
    """A NUL in the URL (path or query: `?q=%00`, `?status=%00` on an admin change list)
    is refused with 400 before any view sees it. PostgreSQL text cannot hold NUL, so a
    filter or search carrying one fails in the database driver (a 500) wherever a view
    hands the parameter to the ORM; no page or API takes NUL as meaningful text."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path or any("\x00" in key or any("\x00" in value for value in values) for key, values in request.GET.lists()):
            if wants_json(request):
                return JsonResponse({"detail": "The address contains a NUL character.", "code": "bad_text"}, status=400)
            return HttpResponse("Bad request: the address contains a NUL character.", status=400, content_type="text/plain; charset=utf-8")
        return self.get_response(request)


class AdminLookupRefusingMiddleware:
    """A change list's filter value that cannot be read as its column's type is a 400:
    `?resources=x` on an array field fails in PostgreSQL (a DataError, a data exception,
    never a programming error) and `?ip_address=x` on an IP address field in the field's
    own preparation (a ValueError), both while the page renders, after the admin's own
    check (which answers `?e=1`) has passed. Only change lists asked with a query string,
    which becomes the query's lookups, get this answer; any other view's error stays a
    500 to be fixed."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        from django.db import DataError

        match = getattr(request, "resolver_match", None)
        on_change_list = match is not None and (match.url_name or "").endswith("_changelist") and bool(request.GET)
        if on_change_list and isinstance(exception, (DataError, ValueError)):
            return HttpResponse("Bad request: a filter's value does not fit its field.", status=400, content_type="text/plain; charset=utf-8")
        return None
