"""The training as an animated GIF in a real browser: train for a few seconds, press "Make the GIF", and the
browser downloads a GIF (Playwright's download event) that Pillow opens with the kept frames; the Train page's
History tab and the playground's expander; offline, no console errors."""

from __future__ import annotations

import io
import re
import time

from PIL import Image

from e2e_support import MENU_LINKS, wait_for_app
from test_train_browser import _assert_clean  # the Train page's own 'nothing went wrong' check

LIVE_TIMEOUT_MS = 120_000  # the machine running the tests may be busy: wait for progress, not for a speed


def _wait_until(page, test, what: str, timeout_ms: float = LIVE_TIMEOUT_MS) -> None:
    deadline = time.monotonic() + timeout_ms / 1000
    while time.monotonic() < deadline:
        if test():
            return
        page.wait_for_timeout(250)
    raise AssertionError(what)


def _number(text: str) -> int:
    return int(re.sub(r"\D", "", text) or 0)


def _download_gif(page, container) -> tuple[Image.Image, str]:
    """Make the GIF, wait for the download button, click it and open what the browser saved."""
    container.get_by_role("button", name="Make the GIF").click()
    button = container.get_by_role("button", name="Download the GIF")
    button.wait_for(timeout=LIVE_TIMEOUT_MS)
    wait_for_app(page)
    with page.expect_download() as info:
        button.click()
    download = info.value
    data = open(download.path(), "rb").read()
    gif = Image.open(io.BytesIO(data))
    assert gif.format == "GIF"
    return gif, download.suggested_filename


def test_train_page_downloads_the_training_as_gif(page, app_url, screenshot):
    page.goto(app_url)
    wait_for_app(page)
    page.goto(f"{app_url}/train")
    wait_for_app(page)
    page.locator(".st-key-train_btn_start button").first.click()
    step = page.locator('[data-testid="stMetricValue"]').first
    _wait_until(page, lambda: _number(step.inner_text()) >= 40, "training did not reach step 40")
    page.locator(".st-key-train_btn_start button").first.click()  # Pause
    wait_for_app(page)
    page.get_by_role("tab", name="History").click()
    panel = page.get_by_role("tabpanel", name="History")
    panel.get_by_role("button", name="Make the GIF").wait_for()
    gif, name = _download_gif(page, panel)
    assert name.endswith(".gif") and name.startswith("aigc_")
    assert gif.n_frames >= 3  # a snapshot every 10 steps, and the grid on screen at the end
    assert gif.width == 242  # the 8 x 8 grid at its own size, the label strip under it
    panel.get_by_text(re.compile(r"\d+ frames, 0 to [\d,]+, [\d.]+ MB")).wait_for()
    panel.scroll_into_view_if_needed()
    screenshot("animation_train_history_en")
    _assert_clean(page)


def test_playground_downloads_the_plane_as_gif(page, app_url, screenshot):
    page.goto(app_url)
    wait_for_app(page)
    page.locator(MENU_LINKS).filter(has_text="2-D Playground").click()
    wait_for_app(page)
    page.get_by_role("heading", name="2-D GAN Playground").wait_for()
    page.get_by_role("button", name="Play").click()
    page.get_by_role("button", name="Pause").wait_for()
    page.wait_for_timeout(3000)  # a few seconds of frames
    page.get_by_role("button", name="Pause").click()
    page.get_by_role("button", name="Play").wait_for()
    wait_for_app(page)
    expander = page.locator('[data-testid="stExpander"]').filter(has_text="The training as an animation")
    expander.locator("summary").click()
    gif, name = _download_gif(page, expander)
    assert name.startswith("aigc_playground_gan_") and name.endswith(".gif")
    assert gif.n_frames >= 3 and gif.width == 240
    expander.scroll_into_view_if_needed()
    screenshot("animation_playground_en")
    _assert_clean(page)
