"""Signed customer identity tokens.

A brand's server that already knows the customer signs their details so the pre-chat
form comes prefilled and locked:

    payload = base64url(json({"name": ..., "email": ..., "customer_id": ..., "fields": {...}, "exp": <unix time>}))
    token   = payload + "." + base64url(HMAC-SHA256(brand identity secret, payload))

See docs/api.md for a server-side example.
"""

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass, field

MAX_TOKEN_LENGTH = 4096


class IdentityError(Exception):
    pass


@dataclass(frozen=True)
class Identity:
    name: str = ""
    email: str = ""
    customer_id: str = ""
    fields: dict = field(default_factory=dict)


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def identity_sign(*, secret: str, name: str = "", email: str = "", customer_id: str = "", fields: dict | None = None, ttl_seconds: int = 3600) -> str:
    payload = {"name": name, "email": email, "customer_id": customer_id, "fields": fields or {}, "exp": int(time.time()) + ttl_seconds}
    encoded = _b64encode(json.dumps(payload, separators=(",", ":")).encode())
    signature = hmac.new(secret.encode(), encoded.encode(), hashlib.sha256).digest()
    return f"{encoded}.{_b64encode(signature)}"


def identity_verify(*, secret: str, token: str, now: float | None = None) -> Identity:
    if not token or len(token) > MAX_TOKEN_LENGTH or token.count(".") != 1:
        raise IdentityError("The sign-in link from the website is malformed. Reload the page on the website and try again.")
    encoded, signature = token.split(".")
    expected = hmac.new(secret.encode(), encoded.encode(), hashlib.sha256).digest()
    try:
        valid = hmac.compare_digest(expected, _b64decode(signature))
        payload = json.loads(_b64decode(encoded))
    except (ValueError, json.JSONDecodeError):
        raise IdentityError("The sign-in link from the website is malformed. Reload the page on the website and try again.") from None
    if not valid:
        raise IdentityError("We could not verify who you are. Reload the page on the website and try again.")
    if not isinstance(payload, dict) or not isinstance(payload.get("exp"), int):
        raise IdentityError("The sign-in link from the website is malformed. Reload the page on the website and try again.")
    if payload["exp"] < (now or time.time()):
        raise IdentityError("Your sign-in from the website has expired. Reload the page on the website and try again.")
    fields = payload.get("fields") or {}
    return Identity(
        name=str(payload.get("name") or "")[:120],
        email=str(payload.get("email") or "")[:254],
        customer_id=str(payload.get("customer_id") or "")[:120],
        fields={str(k)[:40]: str(v)[:500] for k, v in fields.items()} if isinstance(fields, dict) else {},
    )
