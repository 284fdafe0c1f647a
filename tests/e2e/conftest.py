"""Real-browser test fixtures: a Streamlit server for the app and a headless Chromium driven by Playwright.

Chromium is Debian's (``apt-get install chromium``), not a Playwright download, so the tests run offline.
Every request (and websocket) URL and every console error is recorded on the page object
(``page.request_urls``, ``page.console_errors``, ``page.failed_responses``);
``e2e_support.foreign_requests(page)`` lists those that left 127.0.0.1.
Screenshots go to ``artifacts/screenshots/`` (gitignored).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))  # browserlib: the server and browser helpers, shared with the benches

from browserlib import BrowserUnavailable, ServerError, chromium, streamlit_server  # noqa: E402
from e2e_support import is_base_path_probe  # noqa: E402

ARTIFACTS = ROOT / "artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
VIEWPORT = {"width": 1400, "height": 2200}  # tall: full-page screenshots miss Streamlit's inner scroll area
SERVER_START_TIMEOUT_S = 90
# How long to wait for the app in the browser; raise it on a busy machine (E2E_TIMEOUT_S=180 bash scripts/test.sh).
APP_TIMEOUT_MS = int(float(os.environ.get("E2E_TIMEOUT_S", "120")) * 1000)


def _unavailable(reason: str) -> None:
    """Browser tests are required in CI (CI=true) and optional on a developer machine."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def app_url() -> Iterator[str]:
    """Start `streamlit run app.py` on a free port; yield its base URL; stop it after the session."""
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        server = streamlit_server(timeout=SERVER_START_TIMEOUT_S, log=ARTIFACTS / "streamlit-e2e.log",
                                  die_with_parent=True)
        with server as running:
            yield running.url
    except ServerError as exc:
        pytest.fail(str(exc))


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Debian's Chromium, headless, launched by browserlib's `chromium()` (the benches' launcher)."""
    with ExitStack() as stack:
        try:
            launched = stack.enter_context(chromium())
        except BrowserUnavailable as exc:
            _unavailable(str(exc))
        from playwright.sync_api import expect  # importable: chromium() has just used playwright

        expect.set_options(timeout=APP_TIMEOUT_MS)  # the machine may be busy training; be patient
        yield launched


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"report_{report.when}", report)  # lets the page fixture see whether its test failed
    return report


@pytest.fixture
def page(browser, app_url, request) -> Iterator[object]:
    """A fresh browser page (own context) that records its requests and console errors."""
    context = browser.new_context(viewport=VIEWPORT, locale="en-US")
    context.set_default_timeout(APP_TIMEOUT_MS)
    new_page = context.new_page()
    new_page.request_urls = []
    new_page.console_errors = []
    new_page.failed_responses = []  # "404 http://..." for every response with an error status
    # Context-level, so requests from iframes (Mermaid diagrams) and workers are recorded too.
    context.on("request", lambda request: new_page.request_urls.append(request.url))
    new_page.on("websocket", lambda ws: new_page.request_urls.append(ws.url))
    context.on(
        "response",
        lambda response: response.status >= 400
        and not is_base_path_probe(response.url)
        and new_page.failed_responses.append(f"{response.status} {response.url}"),
    )
    new_page.on(
        "console",
        lambda msg: msg.type == "error"
        and not is_base_path_probe(msg.location.get("url", ""))
        and new_page.console_errors.append(f"{msg.text} ({msg.location.get('url', '')})"),
    )
    new_page.on("pageerror", lambda exc: new_page.console_errors.append(f"uncaught: {exc}"))
    try:
        yield new_page
        report = getattr(request.node, "report_call", None)
        if report is not None and report.failed:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            new_page.screenshot(path=str(SCREENSHOTS / f"FAILED-{request.node.name}.png"), full_page=True)
    finally:
        context.close()


@pytest.fixture
def screenshot(page) -> Callable[[str], Path]:
    """``screenshot("home_en")`` saves artifacts/screenshots/home_en.png and returns its path."""

    def take(name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


def pytest_collection_modifyitems(config, items):  # noqa: ARG001 - pytest hook signature
    """A real browser against a live server on a 2-core machine can miss a timing window when the machine is
    busy; rerun a failed browser test (fresh page and server state) up to twice before calling it a failure."""
    for item in items:
        path = str(item.fspath).replace("\\", "/")
        # Not the load test: one run takes minutes, and it waits for progress rather than racing a clock.
        if "tests/e2e/" in path and not path.endswith("test_load_browser.py"):
            item.add_marker(pytest.mark.flaky(reruns=2, reruns_delay=2))
