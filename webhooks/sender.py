"""One HTTP POST of a webhook (no schema): to the checked address, redirects followed
only after the same check, the response's first bytes kept for the log."""

import http.client
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urljoin

from django.conf import settings

from .destinations import Destination, DestinationRefused, destination_resolve

MAX_REDIRECTS = 3
RESPONSE_HEAD_BYTES = 500


@dataclass(frozen=True)
class PostResult:
    status: int | None
    latency_ms: int
    head: str
    error: str = ""
    # The request was written but no answer came (a timeout, a dropped connection): the
    # receiver may have acted on it.
    uncertain: bool = False

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the checked address whatever the host name now resolves to."""

    def __init__(self, destination: Destination, timeout: float):
        super().__init__(destination.host, destination.port, timeout=timeout)
        self._address = destination.address

    def connect(self):
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, destination: Destination, timeout: float):
        super().__init__(destination.host, destination.port, timeout=timeout, context=ssl.create_default_context())
        self._address = destination.address

    def connect(self):
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def webhook_post(*, url: str, body: bytes, headers: dict) -> PostResult:
    """POST once (and follow up to MAX_REDIRECTS checked redirects); never raises."""
    started = time.monotonic()
    timeout = settings.WEBHOOK_TIMEOUT_SECONDS

    def result(status=None, head="", error="", uncertain=False):
        return PostResult(status=status, latency_ms=int((time.monotonic() - started) * 1000), head=head, error=error[:300], uncertain=uncertain)

    for _ in range(MAX_REDIRECTS + 1):
        try:
            destination = destination_resolve(url)
        except DestinationRefused as exc:
            return result(error=f"Refused: {exc.detail}")
        connection_class = _PinnedHTTPSConnection if destination.scheme == "https" else _PinnedHTTPConnection
        connection = connection_class(destination, timeout)
        written = False
        try:
            connection.request("POST", destination.path, body=body, headers={**headers, "Host": destination.host if destination.port in (80, 443) else f"{destination.host}:{destination.port}"})
            written = True
            response = connection.getresponse()
            head = response.read(RESPONSE_HEAD_BYTES).decode("utf-8", "replace")
            status = response.status
            location = response.getheader("Location")
        except (OSError, http.client.HTTPException) as exc:
            return result(error=f"{type(exc).__name__}: {exc}", uncertain=written)
        finally:
            connection.close()
        if status in (301, 302, 303, 307, 308) and location:
            url = urljoin(url, location)
            continue
        return result(status=status, head=head)
    return result(error="Too many redirects.")
