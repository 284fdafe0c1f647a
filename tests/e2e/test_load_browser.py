"""Load: N = 10 browser sessions (separate Playwright contexts) train at once against one local server (127.0.0.1).

For a fixed, short time all ten train; then: no exception box and no console error anywhere; no cross-talk (each
session keeps the seed it asked for, its own step counter, its own model: the ten sample grids all differ, and
pausing one leaves the others training); the server's memory stays bounded; and an eleventh session that presses
Start is told that the server's cap on concurrent trainings is reached (AIGC_MAX_TRAININGS = N for this server).

The server is this module's own (it needs its own caps); the browser is the shared fixture from conftest.py, so a
missing Chromium fails in CI and skips elsewhere. Set AIGC_LOAD_SESSIONS to change N.
"""

from __future__ import annotations

import os
import time

import pytest
from browserlib import ServerError, rss_mb, streamlit_server
from conftest import APP_TIMEOUT_MS, ARTIFACTS, SCREENSHOTS
from e2e_support import foreign_requests, is_base_path_probe, wait_for_app
from test_train_browser import _step, _wait_step_above

SESSIONS = int(os.environ.get("AIGC_LOAD_SESSIONS", "10"))
TRAIN_SECONDS = 20  # all sessions training at once, after the last one has started
PROGRESS_MS = 240_000  # on a busy 2-core machine ten sessions share the CPU: wait for progress, not speed
RSS_BUDGET_MB = 400 + 150 * SESSIONS  # the shared part (torch, Streamlit, data, pretrained) + a model per session
VIEWPORT = {"width": 1200, "height": 1400}
# With ten trainings and eleven Chromium renderers on two cores, a websocket can drop for a moment (CI saw one).
# Streamlit's frontend reconnects by itself, logging this error for each fragment tick that fell in the gap. Such a
# session is not a failure if it comes back: the test then checks that it is connected and still training.
RECONNECT_ERROR = "Cannot send rerun backMessage when disconnected from server."


@pytest.fixture(scope="module")
def load_server():
    """`streamlit run app.py` with this test's caps; yields (url, pid)."""
    ARTIFACTS.mkdir(exist_ok=True)
    env = {"AIGC_MAX_TRAININGS": str(SESSIONS), "AIGC_MAX_BATCH": "512"}
    try:
        with streamlit_server(env=env, timeout=120, log=ARTIFACTS / "streamlit-load.log") as server:
            yield server.url, server.pid
    except ServerError as exc:
        pytest.fail(f"the load-test server did not start: {exc}")


def _new_page(browser):
    context = browser.new_context(viewport=VIEWPORT, locale="en-US")
    context.set_default_timeout(APP_TIMEOUT_MS)
    page = context.new_page()
    page.request_urls, page.console_errors, page.connection_log = [], [], []
    context.on("request", lambda request: page.request_urls.append(request.url))
    # A deep link's base-path probes (/train/_stcore/health) answer 404 by design; conftest.page skips them too.
    page.on("console", lambda msg: _on_console(page, msg))
    page.on("pageerror", lambda exc: page.console_errors.append(f"uncaught: {exc}"))
    return context, page


def _on_console(page, msg) -> None:
    if msg.text == RECONNECT_ERROR or msg.text.startswith("WebSocket onclose"):
        page.connection_log.append(f"{msg.type}: {msg.text}")  # the frontend's "onclose" warning carries the code
    elif msg.type == "error" and not is_base_path_probe(msg.location.get("url", "")):
        page.console_errors.append(f"{msg.text} ({msg.location.get('url', '')})")


def _grid_src(page) -> str:
    """The fixed-noise sample grid (the first picture of the live view)."""
    return page.locator('[data-testid="stMain"] img').first.get_attribute("src") or ""


def _settled_step(page, timeout_ms: float, quiet_ms: int = 5000) -> int:
    """The step counter once it has shown the same value for `quiet_ms`."""
    deadline = time.monotonic() + timeout_ms / 1000
    step = _step(page)
    while time.monotonic() < deadline:
        page.wait_for_timeout(quiet_ms)
        now = _step(page)
        if now == step:
            return step
        step = now
    raise AssertionError(f"the paused session's step counter kept moving (last {step})")


def test_ten_sessions_train_at_once_without_cross_talk(browser, load_server):
    url, pid = load_server
    contexts, pages = [], []
    try:
        warm_context, warm = _new_page(browser)  # Home first: a fresh server serves deep links after st.navigation
        contexts.append(warm_context)
        warm.goto(url)
        wait_for_app(warm)
        rss_before = rss_mb(pid)

        seeds = [101 + i for i in range(SESSIONS)]
        for seed in seeds:
            context, page = _new_page(browser)
            contexts.append(context)
            pages.append(page)
            page.goto(f"{url}/train?seed={seed}")
        for page in pages:
            wait_for_app(page)
            page.locator(".st-key-train_btn_start button").first.click()
        for page in pages:
            _wait_step_above(page, 0, PROGRESS_MS)
        time.sleep(TRAIN_SECONDS)
        rss_training = rss_mb(pid)

        # An eleventh session asks to train: the cap answers with a clear message, and nothing breaks.
        extra_context, extra = _new_page(browser)
        contexts.append(extra_context)
        extra.goto(f"{url}/train")
        wait_for_app(extra)
        extra.locator(".st-key-train_btn_start button").first.click()
        extra.get_by_text("trainings running at once").wait_for(timeout=PROGRESS_MS)
        wait_for_app(extra)
        assert _step(extra) == 0

        # Each session kept its own seed and model: the seed box shows what its link asked for, the grids differ.
        for page, seed in zip(pages, seeds):
            seed_box = page.locator('[data-testid="stSidebar"] .st-key-train_gan_seed input')
            assert seed_box.input_value() == str(seed)
        grids = [_grid_src(page) for page in pages]
        assert all(grids) and len(set(grids)) == SESSIONS, "two sessions show the same samples"

        # Pausing one session stops only that one.
        first, second = pages[0], pages[1]
        first.locator(".st-key-train_btn_start button").first.click()
        first.get_by_role("button", name="Start").wait_for(timeout=PROGRESS_MS)
        wait_for_app(first)
        # A slice that was under way when Pause was clicked can still land after the button turns to Start: with
        # ten trainings on two cores CI saw 61 -> 63 within 2 s, and once 89 -> 90 later still. So wait until the
        # counter has settled; from then on it must stand still while another session trains.
        # CI has also seen one late slice after 4 s of quiet (72 -> 74), not reproduced in two local runs; so a
        # late slice is allowed once, reported, and a session that goes on training still fails.
        late_slices = []
        for _ in range(2):
            paused_at, other_before = _settled_step(first, PROGRESS_MS), _step(second)
            _wait_step_above(second, other_before, PROGRESS_MS)
            first.wait_for_timeout(1500)
            if _step(first) == paused_at:
                break
            late_slices.append((paused_at, _step(first), first.connection_log[-3:],
                                first.get_by_text("restored", exact=False).count()))
        else:
            raise AssertionError(f"the paused session kept training: {late_slices}")
        if late_slices:
            print(f"\nload test: a late slice landed on the paused session (step, then, log, restored): {late_slices}")

        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        first.screenshot(path=str(SCREENSHOTS / "load_session_1_paused.png"), full_page=True)
        second.screenshot(path=str(SCREENSHOTS / "load_session_2_training.png"), full_page=True)
        extra.screenshot(path=str(SCREENSHOTS / "load_session_cap_reached.png"), full_page=True)

        problems = []  # every session's problems at once: a rerun of this test costs minutes
        for number, page in enumerate([*pages, extra], start=1):
            if page.locator('[data-testid="stException"]').count():
                problems.append(f"session {number}: an exception box")
            problems += [f"session {number}: request to {url}" for url in foreign_requests(page)]
            problems += [f"session {number}: console error {text}" for text in page.console_errors]
        assert not problems, "\n".join(problems)

        # A session whose websocket dropped must have come back: connected (no connection-error box) and, unless
        # it is the paused one or the one the cap refused, still training.
        dropped = [(n, p) for n, p in enumerate([*pages, extra], start=1) if p.connection_log]
        for number, page in dropped:
            print(f"\nsession {number} reconnected: " + " | ".join(dict.fromkeys(page.connection_log)))
            assert not page.get_by_text("Connection error").count(), f"session {number} did not reconnect"
            if page not in (first, extra):
                _wait_step_above(page, _step(page), PROGRESS_MS)
        print(f"\nserver RSS: {rss_before:.0f} MB before, {rss_training:.0f} MB with {SESSIONS} sessions training "
              f"(budget {RSS_BUDGET_MB} MB)")
        assert rss_training < RSS_BUDGET_MB
    finally:
        for context in contexts:
            context.close()
