"""Which generator? in a real browser (1400x1800, English and Chinese): each shipped model draws its grid (or says
it is not shipped yet), the table of measured figures and the conclusion computed from it appear under the
pictures, and "New samples" draws the next seed. No request leaves 127.0.0.1, no exception is shown.
Screenshots: artifacts/screenshots/compare_en.png, compare_zh.png, compare_new_en.png."""

from __future__ import annotations

import pytest
from e2e_support import assert_clean, wait_for_app
from playwright.sync_api import expect

VIEWPORT = {"width": 1400, "height": 1800}
SLOW_MS = 240_000  # the diffusion model's first grid (25 U-Net passes) on a shared 2-core machine

TEXT = {
    "en": {"title": "Which generator?", "missing": "Not shipped", "table": "What we measured",
           "conclusion": "What the numbers say", "fastest": "Fastest to sample here", "new": "New samples",
           "seed0": "Seed 0", "seed1": "Seed 1"},
    "zh": {"title": "选哪种生成器", "missing": "随附", "table": "我们测得的结果",
           "conclusion": "数字告诉我们什么", "fastest": "在这里采样最快", "new": "新样本",
           "seed0": "随机种子 0", "seed1": "随机种子 1"},
}


def _open(page, url: str) -> None:
    page.set_viewport_size(VIEWPORT)
    page.goto(url)
    wait_for_app(page)


def _every_model_drew_or_is_explained(page, lang: str) -> None:
    columns = page.locator(".st-key-cmp_pictures [data-testid='stColumn']")
    expect(columns).to_have_count(5)
    for column in columns.all():
        expect(column.locator(f'img, :text("{TEXT[lang]["missing"]}")').first).to_be_visible(timeout=SLOW_MS)
    assert page.locator(".st-key-cmp_pictures img").count() >= 2  # the shipped GAN and VAE at least


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_pictures_then_table_then_conclusion(page, app_url, screenshot, lang):
    _open(page, f"{app_url}/compare?lang={lang}")
    expect(page.get_by_role("heading", name=TEXT[lang]["title"]).first).to_be_visible()
    _every_model_drew_or_is_explained(page, lang)
    expect(page.get_by_role("heading", name=TEXT[lang]["table"])).to_be_visible(timeout=SLOW_MS)
    expect(page.locator('[data-testid="stDataFrame"]').first).to_be_visible()
    expect(page.get_by_role("heading", name=TEXT[lang]["conclusion"])).to_be_visible()
    expect(page.locator('[data-testid="stMain"]')).to_contain_text(TEXT[lang]["fastest"])
    wait_for_app(page)
    # The pictures come first: every grid sits above the table.
    table_top = page.locator('[data-testid="stDataFrame"]').first.bounding_box()["y"]
    assert all(img.bounding_box()["y"] < table_top for img in page.locator(".st-key-cmp_pictures img").all())
    screenshot(f"compare_{lang}")
    assert_clean(page)


def test_new_samples_draw_the_next_seed(page, app_url, screenshot):
    _open(page, f"{app_url}/compare?lang=en")
    _every_model_drew_or_is_explained(page, "en")
    expect(page.locator('[data-testid="stMain"]')).to_contain_text(TEXT["en"]["seed0"])
    first = page.locator(".st-key-cmp_pictures img").first.get_attribute("src")
    page.locator(".st-key-cmp_new_samples button").first.click()
    expect(page.locator('[data-testid="stMain"]')).to_contain_text(TEXT["en"]["seed1"], timeout=SLOW_MS)
    _every_model_drew_or_is_explained(page, "en")
    expect(page.get_by_role("heading", name=TEXT["en"]["conclusion"])).to_be_visible(timeout=SLOW_MS)
    wait_for_app(page)
    assert page.locator(".st-key-cmp_pictures img").first.get_attribute("src") != first
    screenshot("compare_new_en")
    assert_clean(page)
