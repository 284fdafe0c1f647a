"""Draw me a 7 in a real browser (1400x1800, English and Chinese): Home's section draws the digit asked for from
each shipped conditional model (or says which is not shipped yet), a link's bad digit is reported; the Latent
Explorer's tab shows style vs content and the truncation sweep's charts. No request leaves 127.0.0.1, no exception
is shown. Screenshots: artifacts/screenshots/draw_home_en.png, draw_home_zh.png, draw_style_en.png,
draw_style_zh.png, draw_fidelity_en.png, draw_fidelity_zh.png."""

from __future__ import annotations

from e2e_support import assert_clean, wait_for_app
from playwright.sync_api import expect

VIEWPORT = {"width": 1400, "height": 1800}
SLOW_MS = 240_000  # a first sweep on a shared 2-core machine that is training models in the background

TEXT = {
    "en": {"heading": "Draw me a 7", "verdict": "as a {digit}.", "missing": "not shipped yet",
           "tab": "Draw me a 7", "style": "Style vs content (CVAE)", "fidelity": "Fidelity vs diversity",
           "every": "one handwriting, ten digits", "chart": "Conditional accuracy against diversity",
           "slider": "Truncation ψ"},
    "zh": {"heading": "给我画个 7", "verdict": "个认作 {digit}。", "missing": "尚未发布",
           "tab": "给我画个 7", "style": "风格与内容（CVAE）", "fidelity": "保真度与多样性",
           "every": "一种笔迹，十个数字", "chart": "条件准确率与多样性", "slider": "截断 ψ"},
}


def _open(page, url: str) -> None:
    page.set_viewport_size(VIEWPORT)
    page.goto(url)
    wait_for_app(page)


def _each_family_drew_or_is_explained(page, lang: str, digit: int) -> None:
    grids = page.locator(".st-key-home_draw_grids")
    expect(grids.locator('[data-testid="stColumn"]')).to_have_count(3)
    for column in grids.locator('[data-testid="stColumn"]').all():
        expect(column.locator(f'img, :text("{TEXT[lang]["missing"]}")').first).to_be_visible()
        if column.locator("img").count():  # a model that drew: its verdict is about the digit asked for
            expect(column).to_contain_text(TEXT[lang]["verdict"].format(digit=digit))


def test_home_draws_the_digit_asked_for(page, app_url, screenshot):
    _open(page, app_url)
    expect(page.get_by_role("heading", name=TEXT["en"]["heading"])).to_be_visible()
    _each_family_drew_or_is_explained(page, "en", 7)
    page.locator(".st-key-home_draw_digit").get_by_role("radio", name="3", exact=True).click()
    page.wait_for_url("**/?digit=3")
    wait_for_app(page)
    _each_family_drew_or_is_explained(page, "en", 3)
    page.locator(".st-key-home_draw_grids").scroll_into_view_if_needed()
    screenshot("draw_home_en")
    assert_clean(page)


def test_home_in_chinese_with_a_linked_digit_and_a_bad_one(page, app_url, screenshot):
    _open(page, f"{app_url}/?lang=zh&digit=4")
    expect(page.get_by_role("heading", name=TEXT["zh"]["heading"])).to_be_visible()
    expect(page.locator(".st-key-home_draw_digit").get_by_role("radio", name="4", exact=True)).to_be_checked()
    _each_family_drew_or_is_explained(page, "zh", 4)
    screenshot("draw_home_zh")
    assert_clean(page)
    _open(page, f"{app_url}/?digit=12")
    expect(page.locator('[data-testid="stAlert"]').filter(has_text="Digit")).to_contain_text("12")
    expect(page.locator(".st-key-home_draw_digit").get_by_role("radio", name="7", exact=True)).to_be_checked()
    assert_clean(page)


def _latent_tab(page, app_url: str, lang: str) -> None:
    _open(page, f"{app_url}/latent?lang={lang}")
    page.get_by_role("tab", name=TEXT[lang]["tab"]).click()
    wait_for_app(page)


def _style_and_fidelity(page, app_url: str, lang: str, screenshot) -> None:
    _latent_tab(page, app_url, lang)
    page.locator(".st-key-lat_draw_view").get_by_role("radio", name=TEXT[lang]["style"]).click()
    wait_for_app(page)
    every = page.locator(".st-key-lat_draw_every")
    expect(every.or_(page.get_by_text(TEXT[lang]["missing"])).first).to_be_visible()  # the CVAE, or why not
    if every.count():
        expect(every).to_contain_text(TEXT[lang]["every"])
        expect(page.locator(".st-key-lat_draw_fixed_label img")).to_be_visible()
    screenshot(f"draw_style_{lang}")
    assert_clean(page)
    page.locator(".st-key-lat_draw_view").get_by_role("radio", name=TEXT[lang]["fidelity"]).click()
    wait_for_app(page)
    chart = page.locator(f'[data-testid="stVegaLiteChart"][aria-label*="{TEXT[lang]["chart"]}"]')
    expect(chart.or_(page.get_by_text(TEXT[lang]["missing"])).first).to_be_visible(timeout=SLOW_MS)
    if page.get_by_text(TEXT[lang]["missing"]).count() == 0:  # the cGAN is shipped: its truncation sweep
        expect(chart).to_be_visible(timeout=SLOW_MS)
        expect(page.locator(".st-key-lat_draw_fid_samples img")).to_be_visible(timeout=SLOW_MS)
        # A setting between the sweep's points is measured on its own and marked on the charts.
        slider = page.get_by_role("slider", name=TEXT[lang]["slider"])
        slider.focus()
        for _ in range(6):  # 1.0 - 6 × 0.05
            slider.press("ArrowLeft")
        expect(page.locator(".st-key-lat_draw_fid_samples")).to_contain_text("ψ = 0.7", timeout=SLOW_MS)
    wait_for_app(page)
    screenshot(f"draw_fidelity_{lang}")
    assert_clean(page)


def test_latent_style_and_fidelity_english(page, app_url, screenshot):
    _style_and_fidelity(page, app_url, "en", screenshot)


def test_latent_style_and_fidelity_chinese(page, app_url, screenshot):
    _style_and_fidelity(page, app_url, "zh", screenshot)
