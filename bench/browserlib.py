"""A Streamlit server of the app and a headless Chromium: for the browser benches (cold start, latency, memory) and,
through tests/e2e/conftest.py, for the real-browser tests.

Everything stays on 127.0.0.1: the server binds to it, and the browser refuses any other host (`block_foreign`),
so a bench can never reach the internet even if a page tried. Chromium is Debian's (`apt-get install chromium`),
as in tests/e2e.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
# How to start the app: "launcher" is what scripts/run.sh runs (Streamlit's CLI plus a thread that warms Home's
# imports and caches while the browser loads the frontend, ui/server/launch.py); "streamlit" is plain
# `streamlit run app.py`, kept for comparison (bench_browser.py --launch streamlit).
Launch = Literal["launcher", "streamlit"]
LAUNCH: dict[Launch, list[str]] = {"launcher": ["-m", "ui.server.launch"],
                                   "streamlit": ["-m", "streamlit", "run", "app.py"]}
# The app's own menu (app.py): page links in the sidebar; Streamlit's built-in menu is off.
MENU_LINKS = '[data-testid="stSidebar"] [data-testid="stPageLink"] a'
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


class ServerError(RuntimeError):
    """The server exited or did not answer in time; the message ends with the tail of its log, when there is one."""


def _die_with_parent() -> None:
    """In the server process (Linux): get SIGTERM when the parent dies, even if it is killed and cannot clean up."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


@dataclass
class Server:
    process: subprocess.Popen
    url: str
    started: float  # time.monotonic() just before launch
    healthy_after: float | None = None  # seconds from launch to the first healthy answer

    @property
    def pid(self) -> int:
        return self.process.pid

    def rss_mb(self) -> float:
        """Resident memory of the server process (MB), from /proc."""
        return rss_mb(self.pid)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


@contextmanager
def streamlit_server(env: dict[str, str] | None = None, timeout: float = 180.0, log: Path | None = None,
                     die_with_parent: bool = False, port: int | None = None,
                     launch: Launch = "launcher") -> Iterator[Server]:
    """The app on a free loopback port (or `port`: a restart on the same address), started the way users start it
    (`launch`, see LAUNCH); yields once /_stcore/health answers; stops it after (unless it has already gone, e.g.
    killed by a test).

    The server runs in its own session (process group), so stopping it also stops anything it started. Raises
    ServerError if it exits or stays silent for `timeout` seconds."""
    port = free_port() if port is None else port
    url = f"http://{HOST}:{port}"
    command = [sys.executable, *LAUNCH[launch], "--server.port", str(port),
               "--server.headless", "true", "--server.address", HOST, "--browser.gatherUsageStats", "false",
               "--server.fileWatcherType", "none"]
    log_file = open(log, "wb") if log else subprocess.DEVNULL
    started = time.monotonic()
    process = subprocess.Popen(command, cwd=ROOT, stdout=log_file, stderr=subprocess.STDOUT,
                               env={**os.environ, **(env or {})}, start_new_session=True,
                               preexec_fn=_die_with_parent if die_with_parent and sys.platform == "linux" else None)
    server = Server(process, url, started)

    def failure(what: str) -> ServerError:
        tail = f":\n{log.read_text(errors='replace')[-3000:]}" if log else ""
        return ServerError(what + tail)

    try:
        while not healthy(url):
            if process.poll() is not None:
                raise failure(f"streamlit exited with code {process.returncode}")
            if time.monotonic() - started > timeout:
                raise failure(f"streamlit did not answer {url}/_stcore/health within {timeout:.0f} s")
            time.sleep(0.05)
        server.healthy_after = time.monotonic() - started
        yield server
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=15)
        if log:
            log_file.close()


class BrowserUnavailable(RuntimeError):
    """Chromium or the playwright package is not installed: the message says which, and how to install it."""


@contextmanager
def chromium() -> Iterator[object]:
    """Debian's Chromium (`which chromium`), headless with CHROMIUM_ARGS, through Playwright's sync API.

    Raises BrowserUnavailable, before starting anything, when Chromium or the playwright package is missing."""
    executable = shutil.which("chromium")
    if executable is None:
        raise BrowserUnavailable("chromium is not installed (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        raise BrowserUnavailable("the playwright Python package is not installed") from exc

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def block_foreign(context) -> None:
    """Abort every request that is not for 127.0.0.1 (or a data:/blob: URL)."""

    def route(request_route) -> None:
        parts = urlsplit(request_route.request.url)
        if parts.scheme in {"data", "blob", "about"} or parts.hostname == HOST:
            request_route.continue_()
        else:
            request_route.abort()

    context.route("**/*", route)


def wait_for_app(page, timeout_ms: float | None = 180_000) -> None:
    """Wait until Streamlit is connected and its script is not running (timeout None: the page's default).

    Right after a navigation this can pass before the run has even started, so assert on what a test needs with
    Playwright's retrying ``expect(...)`` (or ``locator.wait_for()``) rather than reading the page once.
    """
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout_ms)
    page.wait_for_function(
        """() => {
            const app = document.querySelector('[data-testid="stApp"]');
            return app && app.dataset.testScriptState === 'notRunning'
                && app.dataset.testConnectionState === 'CONNECTED';
        }""",
        timeout=timeout_ms,
    )
