"""The 2-D playground in a real browser on a laptop-sized window: Play trains the ring for a few seconds with the
picture redrawn in place as it goes, Pause stops it; the page fits 1,280 px, stays offline and logs no errors."""

from __future__ import annotations

import re
import time

from e2e_support import MENU_LINKS, foreign_requests, wait_for_app

LAPTOP = {"width": 1280, "height": 1700}  # tall, so the full-page screenshot holds the whole page


def _open_from_home(page, app_url: str, query: str, link: str) -> None:
    """Open the home page, then the playground from the navigation menu, as a visitor would."""
    page.goto(f"{app_url}/{query}")
    wait_for_app(page)
    page.locator(MENU_LINKS).filter(has_text=link).click()
    wait_for_app(page)


def _iteration(page) -> int:
    metric = page.locator('[data-testid="stMetric"]').filter(has_text="Iteration").first
    text = metric.locator('[data-testid="stMetricValue"]').inner_text()
    return int(re.sub(r"[^0-9]", "", text) or 0)


def test_play_on_the_ring_then_pause(page, app_url, screenshot):
    page.set_viewport_size(LAPTOP)
    _open_from_home(page, app_url, "", "2-D Playground")
    page.get_by_role("heading", name="2-D GAN Playground").wait_for()
    chart = page.locator('[data-testid="stVegaLiteChart"]').first
    chart.locator("canvas").first.wait_for()
    assert _iteration(page) == 0
    # Tag the chart's canvas: if the redraws below update it in place, the tag survives (no rebuilt chart).
    chart.locator("canvas").first.evaluate("canvas => { canvas.dataset.first = 'yes'; }")

    page.get_by_role("button", name="Play").click()
    page.get_by_role("button", name="Pause").wait_for()
    # Sample the iteration counter for a few seconds: every change is a redraw of the live view.
    seen, start = [], time.monotonic()
    while time.monotonic() - start < 5.0:
        value = _iteration(page)
        if not seen or value != seen[-1]:
            seen.append(value)
        page.wait_for_timeout(40)
    elapsed = time.monotonic() - start
    print(f"\nbrowser: {len(seen) - 1} redraws in {elapsed:.1f} s ({(len(seen) - 1) / elapsed:.1f}/s), "
          f"iterations {seen[0]} -> {seen[-1]} ({(seen[-1] - seen[0]) / elapsed:.0f}/s)")
    assert len(seen) >= 3 and seen[-1] > seen[0], seen

    page.get_by_role("button", name="Pause").click()
    page.get_by_role("button", name="Play").wait_for()
    wait_for_app(page)
    page.wait_for_timeout(1000)  # let the last queued redraw land
    stopped = _iteration(page)
    page.wait_for_timeout(1500)
    assert _iteration(page) == stopped  # paused means paused

    assert chart.locator("canvas").first.get_attribute("data-first") == "yes"  # updated in place, never rebuilt
    # Fits a laptop screen: nothing wider than the window.
    assert page.evaluate("document.documentElement.scrollWidth") <= LAPTOP["width"]
    box = chart.bounding_box()
    assert box is not None and box["x"] + box["width"] <= LAPTOP["width"]

    page.mouse.move(5, 5)  # no tooltip over the picture
    page.wait_for_timeout(300)
    screenshot("playground_ring_en")
    assert page.locator('[data-testid="stException"]').count() == 0
    assert "⟦" not in page.locator('[data-testid="stApp"]').inner_text()
    assert not foreign_requests(page), foreign_requests(page)
    assert not page.console_errors, (page.console_errors, page.failed_responses)


def test_playground_in_chinese_with_slow_motion(page, app_url, screenshot):
    page.set_viewport_size(LAPTOP)
    _open_from_home(page, app_url, "?lang=zh", "二维演练场")
    page.get_by_role("heading", name="二维 GAN 演练场").wait_for()
    page.locator(".st-key-pg_slowmo").get_by_text("慢动作", exact=True).click()
    wait_for_app(page)
    page.get_by_role("button", name="下一阶段").click()
    wait_for_app(page)
    page.locator('.st-key-playground_slowmo_diagram .live-diagram[data-status="ok"]').wait_for()
    page.get_by_text("第 1 阶段").first.wait_for()
    screenshot("playground_slowmo_zh")
    assert page.locator('[data-testid="stException"]').count() == 0
    assert "⟦" not in page.locator('[data-testid="stApp"]').inner_text()
    assert not foreign_requests(page), foreign_requests(page)
    assert not page.console_errors, (page.console_errors, page.failed_responses)
