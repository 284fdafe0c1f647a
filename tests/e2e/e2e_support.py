"""Helpers for the real-browser tests (the fixtures are in conftest.py)."""

from __future__ import annotations

from urllib.parse import urlsplit

HOST = "127.0.0.1"


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
    """Wait until Streamlit is connected and its script is not running.

    Right after a navigation this can pass before the run has even started, so assert on what a test needs with
    Playwright's retrying ``expect(...)`` (or ``locator.wait_for()``) rather than reading the page once.
    """
    page.wait_for_selector('[data-testid="stApp"]')
    page.wait_for_function(
        """() => {
            const app = document.querySelector('[data-testid="stApp"]');
            return app && app.dataset.testScriptState === 'notRunning'
                && app.dataset.testConnectionState === 'CONNECTED';
        }"""
    )
