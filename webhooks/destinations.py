"""Where a webhook may go (no schema): only to public internet addresses. The host is
resolved first and every address it resolves to is checked, so a name pointing at
127.0.0.1 is refused like the literal; the connection then goes to the address that was
checked (no second lookup a rebinding DNS server could answer differently), and every
redirect is checked the same way before it is followed.

Refused: loopback, private, link-local (169.254.169.254, the cloud metadata address,
among them), multicast, reserved, unspecified and every other non-global range, in IPv4
and IPv6, IPv4-mapped IPv6 by the address it maps, and the decimal, octal and hex
spellings of IPv4 that the resolver accepts (they resolve to the same address).
settings.WEBHOOK_ALLOWED_DESTINATIONS (addresses or networks) lets development and the
tests reach a receiver on loopback.
"""

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

# Cloud metadata services outside the ranges above (the AWS IPv6 one is unique-local,
# already refused; this list is for any that a provider puts on a global address).
METADATA_ADDRESSES = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254"), ipaddress.ip_address("100.100.100.200")}


class DestinationRefused(Exception):
    def __init__(self, detail: str):
        super().__init__(detail)
        self.detail = detail


@dataclass(frozen=True)
class Destination:
    scheme: str
    host: str
    port: int
    address: str  # the checked address the connection must use
    path: str


def _allowed(address) -> bool:
    for entry in getattr(settings, "WEBHOOK_ALLOWED_DESTINATIONS", []):
        if address in ipaddress.ip_network(entry, strict=False):
            return True
    return False


def address_refusal(address) -> str | None:
    """Why this address may not be a destination, or None."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if _allowed(address):
        return None
    if address in METADATA_ADDRESSES:
        return "a cloud metadata address"
    for label, flag in (("loopback", "is_loopback"), ("link-local", "is_link_local"), ("multicast", "is_multicast"), ("private", "is_private"), ("unspecified", "is_unspecified"), ("reserved", "is_reserved")):
        if getattr(address, flag):
            return f"a {label} address"
    if not address.is_global:
        return "not a public internet address"
    return None


def destination_resolve(url: str) -> Destination:
    """The URL's checked destination, or DestinationRefused saying why."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DestinationRefused("Webhook URLs are http(s) URLs with a host.")
    if parts.username or parts.password:
        raise DestinationRefused("Webhook URLs may not carry credentials.")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise DestinationRefused("The URL's port is not a number.") from None
    host = parts.hostname
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise DestinationRefused(f"{host} does not resolve.") from None
    addresses = []
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%")[0])
        refusal = address_refusal(address)
        if refusal:
            # One bad address refuses the host: the connection could land on any of them.
            raise DestinationRefused(f"{host} resolves to {address}, {refusal}.")
        addresses.append(address)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Destination(scheme=parts.scheme, host=host, port=port, address=str(addresses[0]), path=path)
