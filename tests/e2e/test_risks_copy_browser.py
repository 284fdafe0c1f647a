"""Does it copy? in a real browser: open the Responsible AIGC page, the copy tab, check a shipped GAN's samples and
see the histogram, the reading computed from the numbers and each sample beside its nearest training digits."""

from __future__ import annotations

from pathlib import Path

import pytest

from e2e_support import foreign_requests, wait_for_app

APP = Path(__file__).resolve().parents[2] / "app.py"
pytestmark = pytest.mark.skipif('"pages/risks.py"' not in APP.read_text(encoding="utf-8"),
                                reason="the Responsible AIGC page is not in app.py's menu yet")
SLOW_MS = 300_000  # the first search on a server builds the 60,000-digit index and the yardstick


def check_copies(page, url: str) -> None:
    from playwright.sync_api import expect

    page.goto(url)
    wait_for_app(page)
    page.get_by_role("tab", name="Does it copy?").click()
    page.get_by_role("button", name="Find the nearest training digits").click()
    expect(page.get_by_text("64 samples, seed 0", exact=False)).to_be_visible(timeout=SLOW_MS)
    expect(page.get_by_text("The 8 samples closest to a training digit")).to_be_visible()
    expect(page.locator('[data-testid="stVegaLiteChart"]').first).to_be_visible()


def test_does_it_copy_tab(page, app_url, screenshot):
    page.set_viewport_size({"width": 1280, "height": 2200})
    check_copies(page, f"{app_url}/risks?lang=en")
    assert page.get_by_text("pixel: ", exact=False).count() == 8  # a caption under each sample's strip
    path = screenshot("risks_copy_en")
    assert path.stat().st_size > 0
    assert page.locator('[data-testid="stException"]').count() == 0
    assert foreign_requests(page) == []
    assert page.console_errors == []
