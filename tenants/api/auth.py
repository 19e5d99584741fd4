"""Brand API keys as a DRF authentication (public-schema lookup; the request is on a
brand host, whose schema the host middleware has already entered).

A key is sent as `Authorization: Bearer hk_...` (or `X-API-Key: hk_...`). A key that is
unknown, revoked or expired is a 401; a good key of another brand is a 404, the same
answer as a host with no brand, so one brand's key learns nothing about another brand.
"""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from tenants.models import BrandAPIKey
from tenants.selectors import api_key_get_by_raw


def raw_key_from(request) -> str | None:
    header = request.headers.get("Authorization", "")
    parts = header.split()
    if len(parts) == 2 and parts[0].lower() == "bearer" and parts[1].startswith(BrandAPIKey.PREFIX):
        return parts[1]
    return request.headers.get("X-API-Key") or None


class BrandAPIKeyAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        raw = raw_key_from(request)
        if raw is None:
            return None
        key = api_key_get_by_raw(raw=raw)
        if key is None:
            raise exceptions.AuthenticationFailed("Invalid, revoked or expired API key.", code="bad_api_key")
        brand = getattr(request._request, "brand", None)
        if brand is None or key.brand_id != brand.id:
            raise exceptions.NotFound("No brand is served at this host for this key.")
        # No user: the brand API acts as the brand. request.auth is the key.
        return None, key

    def authenticate_header(self, request):
        return "Bearer"


class BrandAPIKeyScheme(OpenApiAuthenticationExtension):
    """Documents brand API keys in the OpenAPI schema."""

    target_class = "tenants.api.auth.BrandAPIKeyAuthentication"
    name = "brandApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A brand API key (hk_...), issued in the brand admin or the platform API. "
            "It works on its own brand's host only.",
        }
