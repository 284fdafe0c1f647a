"""The Train page's diffusion mode in a real browser, in English and Chinese: the grid takes shape, the loss-by-noise-
level heatmap and the diffusion diagram are drawn, nothing leaves 127.0.0.1."""

from __future__ import annotations

import pytest
from test_train_browser import LIVE_TIMEOUT_MS, _assert_clean, _click, _open_train, _wait_for_charts, _wait_step_above

from e2e_support import wait_for_app

NAMES = {"en": ("Diffusion", "Loss by noise level"), "zh": ("扩散模型", "按噪声水平的损失")}


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_diffusion_trains_live_with_its_charts_and_diagram(page, app_url, screenshot, lang):
    family, heatmap_title = NAMES[lang]
    _open_train(page, app_url, lang)
    sidebar = page.locator('[data-testid="stSidebar"]')
    sidebar.get_by_role("radio", name=family, exact=True).click()
    wait_for_app(page)
    _click(page, "train_btn_start")
    _wait_step_above(page, 5)
    _wait_for_charts(page, 3)
    page.get_by_text(heatmap_title).first.wait_for(timeout=LIVE_TIMEOUT_MS)
    # The live diffusion diagram, drawn as SVG with the latest loss on it.
    page.locator('.st-key-train_live_diagram .live-diagram[data-status="ok"]').wait_for(timeout=LIVE_TIMEOUT_MS)
    page.wait_for_function(
        """() => [...document.querySelectorAll('.st-key-train_live_diagram *')]
                   .some((el) => el.shadowRoot && el.shadowRoot.querySelector('svg')
                                 && el.shadowRoot.querySelector('svg').textContent.includes('‖∇‖='))""",
        timeout=LIVE_TIMEOUT_MS)
    # The loss-by-noise-level heatmap has cells (named rows on a category axis, one column per step).
    page.wait_for_function("() => document.querySelectorAll('.stPlotlyChart .heatmaplayer image, "
                           ".stPlotlyChart .hm image').length > 0", timeout=LIVE_TIMEOUT_MS)
    _click(page, "train_btn_start")  # pause
    screenshot(f"train_diffusion_{lang}")
    _assert_clean(page)
