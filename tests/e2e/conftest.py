"""A live ASGI server (uvicorn, in a thread, on the test database) and Debian's Chromium
driven by Playwright. Browser tests are transactional so the server thread sees their data."""

import os
import socket
import threading
import time

import pytest
from playwright.sync_api import expect

# A shared CI machine can be slow: a page gets this long to show what the test waits for
# (the outcome is the same, only later), well beyond what a person would tolerate.
expect.set_options(timeout=15_000)

# Playwright's sync API keeps an event loop on the main thread, which makes Django's
# async-safety check refuse the test's own (synchronous) database work.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveServer:
    def __init__(self, port: int):
        self.port = port

    def url(self, brand: str | None = None, path: str = "/") -> str:
        host = f"{brand}.localhost" if brand else "localhost"
        return f"http://{host}:{self.port}{path}"


@pytest.fixture(scope="session")
def live_server_asgi(django_db_setup, django_db_blocker):
    import uvicorn

    from config.asgi import application

    port = _free_port()
    config = uvicorn.Config(application, host="127.0.0.1", port=port, log_level="warning", lifespan="off", ws="websockets")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    with django_db_blocker.unblock():
        thread.start()
        deadline = time.time() + 15
        while not server.started and time.time() < deadline:
            time.sleep(0.05)
        assert server.started, "the live server did not start"
        yield LiveServer(port)
        server.should_exit = True
        thread.join(timeout=5)


@pytest.fixture(scope="session")
def browser():
    # Failing, not skipping: a run without a browser must not pass for one that tested the pages.
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"Debian's Chromium is not at {CHROMIUM}: `make browser` installs it (make test does)", pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser):
    """Open pages in fresh contexts (a customer and an agent are two contexts)."""
    contexts = []

    def make(**options):
        context = browser.new_context(**options)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


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
