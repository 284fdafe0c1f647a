"""Membership inference and Differential privacy in a real browser: the small model trains on 100 digits and its
members give themselves away (histograms, ROC, AUC, the sentence); the DP tab shows the measured sweep and a live
DP-SGD run whose ε appears. No request leaves 127.0.0.1, no exception is shown. Screenshots:
artifacts/screenshots/risks_membership_en.png, risks_privacy_en.png.

`walk(page, url, screenshot)` is the whole check; a run against pages/risks.py alone (before the page is in app.py's
menu) uses the same function."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import pytest
from e2e_support import foreign_requests, wait_for_app

ROOT = Path(__file__).resolve().parents[2]
SLOW_MS = 360_000  # 800 training steps and an attack on a shared 2-core machine


def walk(page, url: str, screenshot: Callable[[str], Path]) -> None:
    from playwright.sync_api import expect

    page.goto(url)
    wait_for_app(page)
    page.get_by_role("tab", name="Membership inference").click()
    page.get_by_role("button", name="Train and attack").click()
    verdict = page.locator(".st-key-risks_membership_verdict")
    expect(verdict).to_contain_text("Members are easy to spot", timeout=SLOW_MS)
    expect(page.get_by_text("ROC curve", exact=False).first).to_be_visible()
    expect(page.locator('[data-testid="stVegaLiteChart"]').first).to_be_visible()
    wait_for_app(page)
    screenshot("risks_membership_en")

    page.get_by_role("tab", name="Differential privacy").click()
    expect(page.locator(".st-key-risks_privacy_sentence")).to_contain_text("differentially private")
    steps = page.get_by_role("spinbutton", name="Steps")  # not the charts' alt texts, not the help button
    steps.fill("40")
    steps.press("Enter")
    wait_for_app(page)
    page.get_by_role("button", name="Start DP training").click()
    expect(page.get_by_text("DP training: step 40 of 40", exact=False)).to_be_visible(timeout=SLOW_MS)
    expect(page.get_by_text("Test ELBO (2,000 digits)")).to_be_visible(timeout=SLOW_MS)
    wait_for_app(page)
    screenshot("risks_privacy_en")
    assert page.locator('[data-testid="stException"]').count() == 0
    assert foreign_requests(page) == []


def test_membership_and_privacy_tabs(page, app_url, screenshot):
    if '"pages/risks.py"' not in (ROOT / "app.py").read_text(encoding="utf-8"):
        pytest.skip("the Responsible AIGC page is not in app.py's menu yet")
    walk(page, f"{app_url}/risks", screenshot)
