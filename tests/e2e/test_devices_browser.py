"""Every page of the menu on a phone (390 x 844) and a tablet (820 x 1180), portrait, in a real browser: no sideways
scrolling, no chart wider than the screen, and the page's main button on the first screen (the small-screen rules
are in ui/style.py). A chart wider than the page keeps its size and scrolls inside its own box (the playground's
plane beside its curves, on a phone), so its box is what must fit.

Also a colour-blind view of the Playground: its screenshot passed through the deuteranopia and
protanopia simulation of aigc_core.colour_vision (the one tests/test_palette.py checks the palette with).

Screenshots: artifacts/screenshots/phone_<page>.png, tablet_<page>.png (the first screen, as the device shows it)
and playground_colour.png / playground_deuteranopia.png / playground_protanopia.png.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from e2e_support import wait_for_app
from PIL import Image

from aigc_core.colour_vision import simulate_image

DEVICES = {"phone": {"width": 390, "height": 844}, "tablet": {"width": 820, "height": 1180}}
# name, URL path, the page's main button (its Streamlit key), what to wait for before measuring.
PAGES = [
    ("home", "", None, '[data-testid="stMain"] img'),
    ("train", "train", "train_btn_start", ".st-key-train_btn_start button"),
    ("latent", "latent", None, '[data-testid="stMain"] img'),
    ("denoise", "denoise", None, '[data-testid="stMain"] h1'),  # its pictures need a diffusion model
    ("concepts", "concepts", None, '[data-testid="stMain"] h2'),
    ("lessons", "lessons", "lessons_run_btn", ".st-key-lessons_run_btn button"),
    ("playground", "playground", "pg_play_button", '[data-testid="stVegaLiteChart"] canvas'),
    ("risks", "risks", None, '[data-testid="stMain"] [data-testid="stTabs"]'),
    ("compare", "compare", None, '[data-testid="stMain"] [data-testid="stTabs"]'),
]

# JavaScript: the page's width against the screen's, and anything in the main area (a chart, an image, a table)
# wider than the screen or reaching past its right edge.
_MEASURE = """() => {
    const width = window.innerWidth;
    const sideways = [];  // the page, or a scrolling area of the app shell, wider than the screen
    for (const [name, el] of [['document', document.documentElement],
                              ...['stApp', 'stAppViewContainer', 'stMain'].map(
                                  (id) => [id, document.querySelector(`[data-testid="${id}"]`)])]) {
        if (el && el.scrollWidth > Math.min(width, el.clientWidth || width) + 1) {
            sideways.push(`${name} ${el.scrollWidth} px`);
        }
    }
    const wide = [];  // a chart, picture, table or frame in the main area past the screen's edges
    const main = document.querySelector('[data-testid="stMain"]');
    for (const el of main.querySelectorAll(
            '[data-testid="stPlotlyChart"], [data-testid="stVegaLiteChart"], [data-testid="stImage"], '
            + '[data-testid="stTable"], [data-testid="stIFrame"], [data-testid="stElementContainer"]')) {
        const r = el.getBoundingClientRect();
        if (r.width > 0 && (r.right > width + 1 || r.left < -1)) {
            wide.push(`${el.dataset.testid} ${Math.round(r.left)}..${Math.round(r.right)}`);
        }
    }
    return {sideways, wide};
}"""


def _open(page, app_url: str, path: str, ready: str) -> None:
    page.goto(f"{app_url}/{path}")
    wait_for_app(page)
    page.locator('[data-testid="stMain"] h1').first.wait_for()
    page.locator(ready).filter(visible=True).first.wait_for()
    wait_for_app(page)
    page.wait_for_timeout(400)  # the last layout pass (charts size themselves after they mount)


@pytest.mark.parametrize("device", list(DEVICES))
def test_every_page_fits_the_screen(browser, app_url, device):
    """One context per device, every page in turn (one page load each keeps this test's time modest)."""
    from conftest import APP_TIMEOUT_MS, SCREENSHOTS

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    size = DEVICES[device]
    context = browser.new_context(viewport=size, device_scale_factor=1, is_mobile=device == "phone",
                                  has_touch=True, locale="en-US")
    context.set_default_timeout(APP_TIMEOUT_MS)
    problems = []
    try:
        page = context.new_page()
        page.goto(app_url)  # home first: a fresh server resolves deep links only after app.py has run once
        wait_for_app(page)
        for name, path, button, ready in PAGES:
            _open(page, app_url, path, ready)
            page.screenshot(path=str(SCREENSHOTS / f"{device}_{name}.png"))
            seen = page.evaluate(_MEASURE)
            if seen["sideways"]:
                problems.append(f"{name}: the page scrolls sideways: {seen['sideways']}")
            if seen["wide"]:
                problems.append(f"{name}: wider than the screen: {seen['wide']}")
            if button:
                box = page.locator(f".st-key-{button} button").filter(visible=True).first.bounding_box()
                if box is None or box["y"] + box["height"] > size["height"] or box["x"] + box["width"] > size["width"]:
                    problems.append(f"{name}: the main button is not on the first screen: {box}")
    finally:
        context.close()
    assert not problems, problems


def test_colour_blind_view_of_the_playground(page, app_url):
    """What a viewer with deuteranopia or protanopia sees of the playground's plane, curves and legend (for people
    to look at; the numbers are in tests/test_palette.py). The simulation must change the coloured parts."""
    from conftest import SCREENSHOTS

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1280, "height": 1400})
    page.goto(app_url)
    wait_for_app(page)
    _open(page, app_url, "playground", '[data-testid="stVegaLiteChart"] canvas')
    page.locator(".st-key-pg_step_both button").filter(visible=True).first.click()  # one iteration: the curves start
    wait_for_app(page)
    page.wait_for_timeout(500)
    original = np.asarray(Image.open(io.BytesIO(page.screenshot())).convert("RGB"))
    Image.fromarray(original).save(SCREENSHOTS / "playground_colour.png")
    for deficiency in ("deuteranopia", "protanopia"):
        seen = simulate_image(original, deficiency)
        assert seen.shape == original.shape
        changed = (np.abs(seen.astype(int) - original.astype(int)).max(axis=-1) > 24).sum()
        assert changed > 2_000, changed  # the page has colour to lose (its points, heatmap, buttons)
        Image.fromarray(seen).save(SCREENSHOTS / f"playground_{deficiency}.png")
