"""What every integration API (the brand API and the platform API) shares: cursor
pagination, filtering and ordering, throttling per caller and per IP with Retry-After,
a request size limit, `Idempotency-Key` on creating POSTs, and errors as JSON with
`detail` and `code` (the exception handler itself is config.api_errors).

It lives on the ground floor, beside the brand API keys, so that every app's `api/`
package (knowledge, surveys, chat, helpdesk) can build on it without importing upward.
Code here runs in whatever schema the request is in; the idempotency records are in
the public schema, which is always on the search path.
"""

import hashlib
import json
from datetime import UTC

import django_filters
from django import forms
from django.conf import settings
from django.db import IntegrityError, transaction
from django_filters.fields import IsoDateTimeField
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import (
    exceptions,
    filters,
    pagination,
    permissions,
    status,
    throttling,
)
from rest_framework.response import Response

from tenants.api.auth import BrandAPIKeyAuthentication
from tenants.models import BrandAPIKey, IdempotencyRecord

IDEMPOTENCY_KEY_MAX = 120


class CursorPagination(pagination.CursorPagination):
    """Cursor pagination: stable under inserts (a new conversation never shifts a page)
    and constant-cost on any page, where an offset scans everything it skips."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = "-id"


class CallerRateThrottle(throttling.SimpleRateThrottle):
    """Per brand API key or per staff token: the view names its caller."""

    scope = "api_caller"

    def get_rate(self):
        return settings.API_THROTTLE_RATES[self.scope]

    def get_cache_key(self, request, view):
        caller = view.caller_id(request)
        return None if caller is None else f"throttle:{self.scope}:{caller}"


class IPRateThrottle(throttling.SimpleRateThrottle):
    """Per client address, checked before authentication so guessing keys is throttled too."""

    scope = "api_ip"

    def get_rate(self):
        return settings.API_THROTTLE_RATES[self.scope]

    def get_cache_key(self, request, view):
        return f"throttle:{self.scope}:{self.get_ident(request)}"


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "request_too_large"


class IdempotencyKeyReused(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "This Idempotency-Key was used for a different request."
    default_code = "idempotency_key_reused"


IDEMPOTENCY_PARAMETER = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="Any unique string (a UUID). A retry with the same key returns the first answer "
    "(with `Idempotent-Replayed: true`) instead of creating twice. Kept per caller.",
)


class APIConventions:
    """Mixed into the base view of each integration API, before DRF's view classes."""

    pagination_class = CursorPagination
    filter_backends = [DjangoFilterBackend, filters.OrderingFilter]
    throttle_classes = [CallerRateThrottle]
    # Errors of the services below the view that carry detail, code and status.
    domain_errors: tuple[type[Exception], ...] = ()

    def caller_id(self, request) -> str | None:
        """Who is calling, for the per-caller throttle and the Idempotency-Key records.
        Abstract: each API's base view (BrandAPIMixin, PlatformAPIMixin) says it from its
        own credentials; a view mixing this in without one is a programming error."""
        raise NotImplementedError

    def initial(self, request, *args, **kwargs):
        length = request.META.get("CONTENT_LENGTH") or "0"
        if length.isdigit() and int(length) > settings.API_MAX_REQUEST_BYTES:
            raise RequestTooLarge(f"Request bodies are limited to {settings.API_MAX_REQUEST_BYTES} bytes.")
        super().initial(request, *args, **kwargs)

    def perform_authentication(self, request):
        ip_throttle = IPRateThrottle()
        if not ip_throttle.allow_request(request, self):
            self.throttled(request, ip_throttle.wait())
        super().perform_authentication(request)

    def handle_exception(self, exc):
        if self.domain_errors and isinstance(exc, self.domain_errors):
            detail = getattr(exc, "detail", None) or str(exc)
            return Response({"detail": detail, "code": getattr(exc, "code", "invalid")}, status=getattr(exc, "status", 400))
        return super().handle_exception(exc)

    def idempotent(self, request, create, *, brand=None, atomic: bool = True):
        """Run `create()` (which returns a Response) at most once per Idempotency-Key.

        The record is inserted first, in the same transaction as the creation: a second
        request with the key waits on the unique index until the first commits, then
        replays its answer. An answer that is not a success is not kept (and what the
        attempt wrote is rolled back), so the caller can fix the request and retry.

        A creation that cannot run inside a transaction (a brand: its schema is created
        and cloned on commits of its own) passes atomic=False: the record is looked up
        before and written after, so a retry after the answer replays it, and two
        requests racing with one key fall back on the creation's own uniqueness checks.
        """
        key = request.headers.get("Idempotency-Key")
        if key is None:
            return create()
        if not key or len(key) > IDEMPOTENCY_KEY_MAX:
            raise exceptions.ValidationError({"Idempotency-Key": [f"1 to {IDEMPOTENCY_KEY_MAX} characters."]})
        caller = self.caller_id(request)
        fingerprint = hashlib.sha256(f"{request.method} {request.path}\n".encode() + request.body).hexdigest()
        if not atomic:
            stored = IdempotencyRecord.objects.filter(caller=caller, key=key).first()
            if stored is not None:
                return self._replay(stored, fingerprint)
            response = create()
            if 200 <= response.status_code < 300:
                IdempotencyRecord.objects.get_or_create(caller=caller, key=key, defaults=self._record_fields(brand, fingerprint, response))
            return response
        with transaction.atomic():
            try:
                with transaction.atomic():
                    record = IdempotencyRecord.objects.create(caller=caller, brand=brand, key=key, fingerprint=fingerprint)
            except IntegrityError:
                return self._replay(IdempotencyRecord.objects.get(caller=caller, key=key), fingerprint)
            response = create()
            if not 200 <= response.status_code < 300:
                transaction.set_rollback(True)
                return response
            for name, value in self._record_fields(brand, fingerprint, response).items():
                setattr(record, name, value)
            record.save()
            return response

    @staticmethod
    def _record_fields(brand, fingerprint, response) -> dict:
        # Stored as the JSON the client got, so a replay is the same data.
        body = json.loads(json.dumps(response.data, default=str))
        return {"brand": brand, "fingerprint": fingerprint, "status_code": response.status_code, "response_body": body}

    @staticmethod
    def _replay(stored: IdempotencyRecord, fingerprint: str) -> Response:
        if stored.fingerprint != fingerprint:
            raise IdempotencyKeyReused()
        return Response(stored.response_body, status=stored.status_code, headers={"Idempotent-Replayed": "true"})


class HasBrandKeyScope(permissions.BasePermission):
    """The key's access (read or write) and resources against the view's `resource`."""

    def has_permission(self, request, view):
        key = request.auth
        if not isinstance(key, BrandAPIKey):
            raise exceptions.NotAuthenticated("Send a brand API key: Authorization: Bearer hk_...", code="not_authenticated")
        write = request.method in view.writes
        if not key.allows(resource=view.resource, write=write):
            needed = "write" if write else "read"
            raise exceptions.PermissionDenied(f"This key has no {needed} access to {view.resource}.", code="scope_missing")
        return True


class BrandAPIMixin(APIConventions):
    """Base of every brand API view (/api/v1/ on a brand host): the brand is the host (the
    middleware entered its schema), the caller is a key of that brand, and `resource`
    (a BrandAPIKey.Resource) is what the key's scopes are checked against."""

    authentication_classes = [BrandAPIKeyAuthentication]
    permission_classes = [HasBrandKeyScope]
    resource: str = ""
    # Methods that need write access; a POST that only reads (suggest) clears it.
    writes: frozenset[str] = frozenset({"POST", "PUT", "PATCH", "DELETE"})

    def caller_id(self, request) -> str | None:
        key = request.auth
        return f"brandkey:{key.pk}" if isinstance(key, BrandAPIKey) else None

    @property
    def brand(self):
        return self.request._request.brand

    def idempotent(self, request, create, *, brand=None, atomic: bool = True):
        return super().idempotent(request, create, brand=self.brand, atomic=atomic)


class UTCIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 date-time turned to UTC. Python takes offsets up to ±24 h and years up
    to 9999 that PostgreSQL refuses (a 500 the schema fuzzing found): in UTC, or a 400."""

    def to_python(self, value):
        value = super().to_python(value)
        if value is None:
            return None
        try:
            utc = value.astimezone(UTC)
        except (OverflowError, ValueError):
            raise forms.ValidationError("The date-time is out of range.", code="invalid") from None
        if not 1 <= utc.year <= 9998:
            raise forms.ValidationError("The date-time is out of range.", code="invalid")
        return utc


class UTCDateTimeFilter(django_filters.IsoDateTimeFilter):
    """The date-time filter of every integration API list."""

    field_class = UTCIsoDateTimeField
