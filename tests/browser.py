"""The browser fixtures every browser test shares, wherever it lives (tests/e2e, the
hostile-rendering test in tests/reliability): a live ASGI server (uvicorn, in a thread, on
the test database) and Debian's Chromium driven by Playwright. One of each per session:
Playwright's sync API cannot be started twice in one thread. Browser tests are
transactional so the server thread sees their data. Registered by tests/conftest.py."""

import os
import threading
import time

import pytest
from playwright.sync_api import expect

from tests.ports import free_port

# A shared CI machine can be slow: a page gets this long to show what the test waits for
# (the outcome is the same, only later), well beyond what a person would tolerate.
expect.set_options(timeout=15_000)

CHROMIUM = "/usr/bin/chromium"
FIREFOX = "/usr/bin/firefox-esr"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"]


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

    port = free_port()
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
def playwright_session():
    """The session's one sync Playwright (it cannot be started twice in one thread)."""
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop on the main thread, which makes Django's
    # async-safety check refuse the test's own (synchronous) database work.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright_session):
    # Failing, not skipping: a run without a browser must not pass for one that tested the pages.
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"Debian's Chromium is not at {CHROMIUM}: `make browser` installs it (make test does)", pytrace=False)
    browser = playwright_session.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


# Firefox's shipped default: cookies and storage of a cross-site frame are partitioned by the
# top-level site (Total Cookie Protection). Playwright's profile for Firefox is written for
# testing and may loosen privacy settings; this puts the one the widget depends on back.
FIREFOX_DEFAULT_PRIVACY = {"network.cookie.cookieBehavior": 5}


@pytest.fixture(scope="session")
def firefox(playwright_session):
    """Debian's Firefox ESR, driven over WebDriver BiDi, which Firefox speaks natively.

    Playwright's public `firefox` needs Playwright's own patched build, which cannot be
    downloaded here; its BiDi browser type drives a stock Firefox. That type is not in the
    Python API yet, so it is taken from the connection's initializer (pinned Playwright,
    requirements.txt)."""
    if not os.path.exists(FIREFOX):
        pytest.fail(f"Debian's Firefox ESR is not at {FIREFOX}: `make browser` installs it (make test does)", pytrace=False)
    from playwright._impl._connection import from_channel
    from playwright.sync_api._generated import BrowserType

    impl = playwright_session._impl_obj
    bidi_firefox = from_channel(impl._initializer["_bidiFirefox"])
    bidi_firefox._playwright = impl
    browser = BrowserType(bidi_firefox).launch(executable_path=FIREFOX, headless=True, firefox_user_prefs=FIREFOX_DEFAULT_PRIVACY)
    yield browser
    browser.close()


def _pages_in(browser):
    contexts = []
    happenings = []  # what the pages said went wrong, printed at teardown

    def make(**options):
        context = browser.new_context(**options)
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        name = f"page {len(contexts)}"
        page.on("console", lambda message: message.type in ("error", "warning") and happenings.append(f"{name} console.{message.type}: {message.text}"))
        page.on("pageerror", lambda error: happenings.append(f"{name} uncaught: {error}"))
        page.on("requestfailed", lambda request: happenings.append(f"{name} failed: {request.method} {request.url} {request.failure}"))
        page.on("response", lambda response: response.status >= 400 and happenings.append(f"{name} {response.status}: {response.request.method} {response.url}"))
        return page

    yield make
    # pytest shows a test's captured output only when it fails: then this says what the
    # pages saw (a refused call, a script error) where a timeout alone says only "not shown".
    for line in happenings:
        print(line)
    for context in contexts:
        context.close()


@pytest.fixture
def new_page(browser, request):
    """Open pages in fresh contexts (a customer and an agent are two contexts)."""
    if os.environ.get("ENGINE_PROBE") == "firefox":
        browser = request.getfixturevalue("firefox")
    yield from _pages_in(browser)


@pytest.fixture
def firefox_new_page(firefox):
    """new_page, in Firefox ESR."""
    yield from _pages_in(firefox)


@pytest.fixture(params=["chromium", "firefox"])
def new_page_in_each_browser(request):
    """new_page in Chromium, then in Firefox ESR: a module runs its tests in both with
    `new_page = new_page_in_each_browser` fixture-overridden. For first-party pages only:
    Playwright's input does not reach a cross-site frame in Firefox (tests/e2e/test_widget.py)."""
    return request.getfixturevalue({"chromium": "new_page", "firefox": "firefox_new_page"}[request.param])
