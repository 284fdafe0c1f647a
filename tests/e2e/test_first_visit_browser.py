"""The first visit after the server starts: a deep link shows the app's own menu, translated, from its first paint.

Streamlit resolves a deep link such as /train against the files in pages/ before our `st.navigation` runs, and its
built-in menu then listed the raw file names ("app, concepts, diagram check, …") for that whole first session. Each
test here starts its own server, so the visit really is the first one, and records every menu text the page ever
showed (a MutationObserver installed before any script of the page runs).
"""

from __future__ import annotations

import tomllib

import pytest
from browserlib import ServerError, streamlit_server
from conftest import ARTIFACTS, ROOT, SCREENSHOTS, VIEWPORT
from e2e_support import MENU_LINKS

# Every text a menu entry showed, in order of appearance: the built-in menu's links and our page links alike.
RECORD_MENU = """
window.__menuTexts = [];
new MutationObserver(() => {
  for (const a of document.querySelectorAll('[data-testid="stSidebarNav"] a, [data-testid="stPageLink"] a')) {
    const text = a.innerText.trim();
    if (text && !window.__menuTexts.includes(text)) window.__menuTexts.push(text);
  }
}).observe(document, {childList: true, subtree: true, characterData: true});
"""
RAW_FILE_NAMES = {"app", "diagram check", "home", "train", "latent", "concepts", "lessons", "playground", "denoise",
                  "risks", "compare"}


def _titles(lang: str) -> list[str]:
    with open(ROOT / "locales" / lang / "nav.toml", "rb") as f:
        nav = tomllib.load(f)
    return [nav[key] for key in ("home", "train", "latent", "denoise", "concepts", "lessons", "playground", "risks",
                                 "compare")]


def _menu_texts(text: str) -> str:
    """A page link's text without its Material icon's ligature name (e.g. 'model_training')."""
    return text.split("\n")[-1].strip()


@pytest.mark.parametrize(("path", "lang"), [("train", "zh"), ("playground", "en")])
def test_a_deep_link_on_a_fresh_server_shows_the_apps_own_menu(browser, path, lang):
    try:
        server = streamlit_server(timeout=90, log=ARTIFACTS / f"streamlit-first-visit-{path}.log", die_with_parent=True)
        with server as running:
            context = browser.new_context(viewport=VIEWPORT, locale="en-US")
            try:
                context.add_init_script(RECORD_MENU)
                page = context.new_page()
                page.goto(f"{running.url}/{path}?lang={lang}")
                menu = page.locator(MENU_LINKS)
                menu.first.wait_for()
                page.wait_for_function("() => document.querySelectorAll('[data-testid=\"stPageLink\"] a').length >= 8")
                shown = [_menu_texts(text) for text in menu.all_inner_texts()]
                seen = [_menu_texts(text) for text in page.evaluate("window.__menuTexts")]
                SCREENSHOTS.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(SCREENSHOTS / f"first_visit_{path}_{lang}.png"))
            finally:
                context.close()
    except ServerError as exc:
        pytest.fail(str(exc))
    assert shown == _titles(lang)
    # From the first paint: no menu entry ever showed a file name or the other language.
    assert set(seen) <= set(_titles(lang)), seen
    assert not set(seen) & RAW_FILE_NAMES - set(_titles(lang)), seen
