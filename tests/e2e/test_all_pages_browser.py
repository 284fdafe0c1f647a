"""Every page in a real browser (headless Chromium), in English and Chinese: it draws its main picture, shows no
exception box, logs no console error, and asks nothing of any host but 127.0.0.1.

The page-specific browser tests (test_<page>_browser.py) check what each page does; this one checks that each page
opens cleanly, in both languages, from a direct link, the way a student arrives from a shared URL. It fails rather
than skips when Chromium is missing in CI (CI=true; see conftest.py).

Screenshots: artifacts/screenshots/page_<name>_<lang>.png.
"""

from __future__ import annotations

import pytest
from e2e_support import foreign_requests, wait_for_app

PICTURE_MS = 180_000  # the first visit may load pretrained models on a busy machine

# JavaScript: what counts as a picture, by kind, in the main area. Mermaid diagrams live in sandboxed frames or
# in a component's shadow DOM, which the page's script cannot look into; Playwright counts those (`_diagrams`).
_COUNT_PICTURES = """() => {
    const main = document.querySelector('[data-testid="stMain"]') || document.body;
    const visible = (el) => { const r = el.getBoundingClientRect(); return r.width > 20 && r.height > 20; };
    const images = [...main.querySelectorAll('img')].filter(
        (img) => img.complete && img.naturalWidth > 0 && visible(img)).length;
    const charts = [...main.querySelectorAll(
        '[data-testid="stPlotlyChart"] .main-svg, [data-testid="stVegaLiteChart"] canvas, '
        + '[data-testid="stVegaLiteChart"] svg, [data-testid="stArrowVegaLiteChart"] canvas')].filter(visible).length;
    const formulas = main.querySelectorAll('.katex').length;
    return {images, charts, formulas};
}"""

# name, URL path, the button to press first (None: the picture is there on arrival), and the kinds of picture that
# make the page (at least one kind of each group must be present).
PAGES = [
    ("home", "", None, [("images",)]),
    ("train", "train", None, [("images",)]),  # its live diagram is checked in test_train_browser.py
    ("latent", "latent", None, [("images",)]),
    ("concepts", "concepts", None, [("diagrams",), ("formulas",)]),
    ("lessons", "lessons", "lessons_run_btn", [("charts", "images")]),  # pictures appear once a lesson runs
    ("playground", "playground", None, [("charts",)]),
]


def _url(app_url: str, path: str, lang: str) -> str:
    return f"{app_url}/{path}?lang={lang}"


def _diagrams(page) -> int:
    """Mermaid diagrams that finished drawing an SVG: in frames (ui.mermaid) or in place (ui.diagram)."""
    count = page.locator('.live-diagram[data-status="ok"] svg').count()  # Playwright's locators pierce shadow DOM
    for frame in page.frames[1:]:
        try:
            count += frame.locator('body[data-status="ok"] #diagram svg').count()
        except Exception:  # a frame that navigated away while we looked
            pass
    return count


def _pictures(page) -> dict[str, int]:
    return {**page.evaluate(_COUNT_PICTURES), "diagrams": _diagrams(page)}


def _wait_for_pictures(page, groups: list[tuple[str, ...]]) -> dict[str, int]:
    """Poll until every group has at least one picture of one of its kinds (or time out with what was seen)."""
    waited, counts = 0, {}
    while waited <= PICTURE_MS:
        counts = _pictures(page)
        if all(any(counts.get(kind, 0) > 0 for kind in group) for group in groups):
            return counts
        page.wait_for_timeout(500)
        waited += 500
    raise AssertionError(f"missing the page's main picture {groups}; found {counts}")


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("name, path, button, groups", PAGES, ids=[p[0] for p in PAGES])
def test_page_opens_cleanly(page, app_url, screenshot, name, path, button, groups, lang):
    # Home first: on a fresh server Streamlit resolves a deep link before app.py's st.navigation has ever run.
    if path:
        page.goto(_url(app_url, "", lang))
        wait_for_app(page)
    page.goto(_url(app_url, path, lang))
    wait_for_app(page)
    page.locator('[data-testid="stMain"] h1').first.wait_for()
    if button:
        page.locator(f".st-key-{button} button").first.click()
    counts = _wait_for_pictures(page, groups)
    wait_for_app(page)
    page.wait_for_timeout(500)  # let the last redraw settle before the picture is taken
    screenshot(f"page_{name}_{lang}")

    text = page.locator('[data-testid="stApp"]').inner_text()
    assert page.locator('[data-testid="stException"]').count() == 0, text[:2000]
    assert "⟦" not in text, "a translation key is missing"
    if lang == "zh":
        main = page.locator('[data-testid="stMain"]').inner_text()
        assert sum("\u4e00" <= ch <= "\u9fff" for ch in main) > 20, "the page is not in Chinese"
    assert not foreign_requests(page), foreign_requests(page)
    assert not page.console_errors, (page.console_errors, page.failed_responses)
    assert not [r for r in page.failed_responses if not r.startswith("404 ")], page.failed_responses
    assert counts
