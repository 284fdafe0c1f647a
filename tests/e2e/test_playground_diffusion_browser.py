"""The 2-D playground in diffusion mode in a real browser: a share link with family=diffusion opens it, Play trains
the denoiser with the chart redrawn in place (particles moving along their trajectories), Pause stops it, the t
slider redraws the field; English and Chinese, screenshots of both; offline, no errors."""

from __future__ import annotations

import re
import time

from e2e_support import foreign_requests, wait_for_app

LAPTOP = {"width": 1280, "height": 1700}


def _metric(page, label: str) -> int:
    metric = page.locator('[data-testid="stMetric"]').filter(has_text=label).first
    text = metric.locator('[data-testid="stMetricValue"]').inner_text()
    return int(re.sub(r"[^0-9]", "", text) or 0)


def _open(page, app_url: str, query: str, heading: str) -> None:
    page.goto(f"{app_url}/{query}")  # Home first: a fresh server serves deep links after st.navigation
    wait_for_app(page)
    page.goto(f"{app_url}/playground{query.replace('?', '?family=diffusion&') if query else '?family=diffusion'}")
    wait_for_app(page)
    page.get_by_role("heading", name=heading).wait_for()
    page.locator('[data-testid="stVegaLiteChart"] canvas').first.wait_for()


def _play_a_while(page, play: str, pause: str, label: str, seconds: float) -> list[int]:
    page.get_by_role("button", name=play).click()
    page.get_by_role("button", name=pause).wait_for()
    seen, start = [], time.monotonic()
    while time.monotonic() - start < seconds:
        value = _metric(page, label)
        if not seen or value != seen[-1]:
            seen.append(value)
        page.wait_for_timeout(40)
    elapsed = time.monotonic() - start
    print(f"\nbrowser (diffusion): {len(seen) - 1} redraws in {elapsed:.1f} s ({(len(seen) - 1) / elapsed:.1f}/s), "
          f"iterations {seen[0]} -> {seen[-1]}")
    page.get_by_role("button", name=pause).click()
    page.get_by_role("button", name=play).wait_for()
    wait_for_app(page)
    page.wait_for_timeout(1000)  # let the last queued redraw land
    return seen


def _clean(page) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0
    assert "⟦" not in page.locator('[data-testid="stApp"]').inner_text()
    assert not foreign_requests(page), foreign_requests(page)
    assert not page.console_errors, (page.console_errors, page.failed_responses)


def test_diffusion_mode_plays_and_pauses_in_english(page, app_url, screenshot):
    page.set_viewport_size(LAPTOP)
    _open(page, app_url, "", "2-D Diffusion Playground")
    chart = page.locator('[data-testid="stVegaLiteChart"]').first
    chart.locator("canvas").first.evaluate("canvas => { canvas.dataset.first = 'yes'; }")
    assert page.get_by_role("button", name="D step").is_disabled()
    seen = _play_a_while(page, "Play", "Pause", "Iteration", 5.0)
    assert len(seen) >= 3 and seen[-1] > seen[0], seen
    stopped = _metric(page, "Iteration")
    page.wait_for_timeout(1500)
    assert _metric(page, "Iteration") == stopped  # paused means paused
    assert chart.locator("canvas").first.get_attribute("data-first") == "yes"  # updated in place, never rebuilt
    assert page.evaluate("document.documentElement.scrollWidth") <= LAPTOP["width"]
    modes = page.locator('[data-testid="stMetric"]').filter(has_text="Modes covered").first.inner_text()
    print(f"modes after {stopped} iterations: {modes.splitlines()[-1]}")
    page.mouse.move(5, 5)
    page.wait_for_timeout(300)
    screenshot("playground_diffusion_en")
    _clean(page)


def test_diffusion_mode_in_chinese_with_the_t_slider(page, app_url, screenshot):
    page.set_viewport_size(LAPTOP)
    _open(page, app_url, "?lang=zh", "二维扩散模型演练场")
    _play_a_while(page, "播放", "暂停", "迭代", 4.0)
    slider = page.locator(".st-key-pg_t input[type='range']")  # the thumb, as the keyboard reaches it
    slider.focus()
    for _ in range(30):  # t from 50 to 80: more noise, so the blue points spread out
        page.keyboard.press("ArrowRight")
    wait_for_app(page)
    page.wait_for_timeout(800)
    for _ in range(5):  # a press that lands while the page reruns can be lost: the keyboard still gets there
        if slider.input_value() == "80":
            break
        slider.focus()
        page.keyboard.press("ArrowRight")
        wait_for_app(page)
        page.wait_for_timeout(500)
    assert slider.input_value() == "80"
    page.mouse.move(5, 5)
    page.wait_for_timeout(300)
    screenshot("playground_diffusion_zh")
    _clean(page)
