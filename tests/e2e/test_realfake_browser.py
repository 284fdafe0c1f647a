"""Real or fake? in a real browser: tick digits with the keyboard, submit, and see the score, the verdict under each
digit and the detector's figures beside you; nothing is fetched from outside."""

from __future__ import annotations

from pathlib import Path

import pytest

from e2e_support import foreign_requests, wait_for_app

APP = Path(__file__).resolve().parents[2] / "app.py"
pytestmark = pytest.mark.skipif('"pages/risks.py"' not in APP.read_text(encoding="utf-8"),
                                reason="the Responsible AIGC page is not in app.py's menu yet")


def play_round(page, url: str) -> None:
    """Open the Real-or-fake tab at `url`, tick #1-#3 with the keyboard (Tab to the box, Space), submit."""
    from playwright.sync_api import expect

    page.goto(url)
    wait_for_app(page)
    page.get_by_role("tab", name="Real or fake?").click()
    first = page.get_by_role("checkbox", name="#1 is fake")
    expect(first).to_be_visible()
    expect(page.get_by_role("checkbox", name="#16 is fake")).to_be_visible()
    for n in (1, 2, 3):
        box = page.get_by_role("checkbox", name=f"#{n} is fake")
        box.focus()
        page.keyboard.press("Space")
        expect(box).to_be_checked()
    page.get_by_role("button", name="Check my answers").click()
    expect(page.get_by_text("You judged", exact=False).first).to_be_visible()  # the detector's line quotes it too
    expect(page.get_by_text("On this round the detector judged", exact=False)).to_be_visible()
    expect(page.get_by_role("button", name="New round")).to_be_visible()


def test_play_a_round_of_real_or_fake(page, app_url, screenshot):
    play_round(page, f"{app_url}/risks?lang=en")
    assert page.get_by_text("detector: ", exact=False).count() == 16  # a verdict under every digit
    path = screenshot("realfake_round_en")
    assert path.stat().st_size > 0
    assert foreign_requests(page) == []
    assert page.console_errors == []
