"""The browser tests' own helpers. The live server, the browser and `new_page` are shared
with every browser test (tests/browser.py, registered by tests/conftest.py)."""

import pytest

from tests.browser import CHROMIUM, CHROMIUM_ARGS  # noqa: F401 (test_widget imports them from here)


class NetworkOutage:
    """A page's network going away and coming back, as a customer's or an agent's does.

    cut(): the open websockets die on both sides (the page sees 1006, as for a lost
    connection), and until restore() nothing new connects (Chromium's offline mode, which does
    not close sockets already open). Only sockets opened after this is made can be cut, so
    make it before the page loads. Playwright relays those sockets' frames while the test is
    inside a Playwright call, so a test must not wait on such a frame outside one."""

    def __init__(self, page):
        self.page = page
        self.open_sockets = []
        page.route_web_socket("**/ws/**", self._relay)

    def _relay(self, page_side):
        server_side = page_side.connect_to_server()
        self.open_sockets.append((page_side, server_side))

    def cut(self):
        self.page.context.set_offline(True)
        for page_side, server_side in self.open_sockets:
            page_side.close(code=1006, reason="network lost")
            server_side.close()
        self.open_sockets.clear()

    def restore(self):
        self.page.context.set_offline(False)


@pytest.fixture
def network_outage():
    """network_outage(page) -> NetworkOutage, made before the page opens its sockets."""
    return NetworkOutage
