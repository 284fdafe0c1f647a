"""Helpers for the real-browser tests (the fixtures are in conftest.py)."""

from __future__ import annotations

from urllib.parse import urlsplit

from browserlib import HOST, MENU_LINKS  # noqa: F401 - MENU_LINKS is for the tests; bench/ is on sys.path (conftest.py)
from browserlib import wait_for_app as _wait_for_app


def is_base_path_probe(url: str) -> bool:
    """Opening a deep link such as /train, Streamlit's frontend first tries /train/_stcore/health and
    /train/_stcore/host-config (in case the app is served under that base path); the 404s are expected."""
    path = urlsplit(url).path
    return path.endswith(("/_stcore/health", "/_stcore/host-config")) and not path.startswith("/_stcore/")


def foreign_requests(page) -> list[str]:
    """Recorded URLs that went anywhere but the local server (data:, blob: and about: URLs stay in the browser)."""
    foreign = []
    for url in page.request_urls:
        parts = urlsplit(url)
        if parts.scheme in {"data", "blob", "about"}:
            continue
        if parts.hostname != HOST:
            foreign.append(url)
    return foreign


def wait_for_app(page) -> None:
    """browserlib's wait, with the page's own default timeout (conftest sets it from E2E_TIMEOUT_S)."""
    _wait_for_app(page, timeout_ms=None)


def assert_clean(page) -> None:
    """What every page must be after a step: no exception box, no untranslated key, no request leaving 127.0.0.1,
    no console error (the page fixture records console errors and failed responses)."""
    assert page.locator('[data-testid="stException"]').count() == 0
    assert "⟦" not in page.locator('[data-testid="stApp"]').inner_text()
    assert not foreign_requests(page), foreign_requests(page)
    assert not page.console_errors, (page.console_errors, page.failed_responses)
