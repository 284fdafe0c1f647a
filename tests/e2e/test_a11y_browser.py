"""Accessibility in a real browser: an axe-core audit of every page of the menu, and the keyboard.

The audit: axe-core (bundled by the ``axe-playwright-python`` package, so it runs offline) checks each page of the
menu in English, in Chinese and in teacher mode (``?teacher=1``), the Mermaid frames included, once the app has
settled; a violation of impact "serious" or "critical" fails the test. Every page's results (violations of all
impacts, and what was waived) are saved to artifacts/a11y/<page>_<variant>.json for CI's artifacts.

A few findings come from Streamlit's own frontend and cannot be fixed in our code; each is waived by rule *and*
selector, with the reason, in `WAIVERS` (listed in the saved results too), never by switching a rule off.

The keyboard: on Home and Train, Tab alone reaches the menu's links, the language selector and the page's main
buttons; Enter on Train's Start (reached by Tab) starts training.
"""

from __future__ import annotations

import json
import re
import time

import pytest
from conftest import ARTIFACTS
from e2e_support import MENU_LINKS, wait_for_app

A11Y_ARTIFACTS = ARTIFACTS / "a11y"
FAILING_IMPACTS = {"serious", "critical"}
LIVE_TIMEOUT_MS = 120_000  # the machine may be busy: wait for progress, not for a speed

# name, URL path: every page of the menu (app.PAGES).
PAGES = [("home", ""), ("train", "train"), ("latent", "latent"), ("denoise", "denoise"), ("concepts", "concepts"),
         ("lessons", "lessons"), ("playground", "playground"), ("risks", "risks"),
         ("compare", "compare")]
VARIANTS = {"en": "lang=en", "zh": "lang=zh", "teacher": "lang=en&teacher=1"}  # ui/teacher.py: TEACHER_PARAM

# (rule id, CSS selector that the failing node must match, why). Only findings we cannot fix in our code.
WAIVERS = [
    ("color-contrast", '[data-testid="stWidgetLabel"][aria-disabled="true"] *, '
                       '[data-testid="stWidgetLabel"][disabled] *, label:has(input:disabled) *',
     "Streamlit greys out the label of a disabled widget (the Train sidebar's 'Start from' when the preset has no "
     "pretrained model). WCAG 1.4.3 exempts inactive controls; axe cannot tell, as the label is not tied to the "
     "disabled input."),
]

_AXE = None


def _axe():
    """The bundled axe-core (imported here: without the package the browser tests are skipped, not broken)."""
    global _AXE
    if _AXE is None:
        try:
            from axe_playwright_python.sync_playwright import Axe
        except ImportError:  # pragma: no cover - requirements-dev.txt installs it
            pytest.fail("axe-playwright-python is not installed (pip install -r requirements-dev.txt)")
        _AXE = Axe()
    return _AXE


def _settle(page) -> None:
    """Wait until Streamlit is idle, the page's title is drawn and the Mermaid frames have finished drawing."""
    wait_for_app(page)
    page.locator('[data-testid="stMain"] h1').first.wait_for()
    wait_for_app(page)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        busy = 0
        for frame in page.frames[1:]:
            try:
                busy += frame.locator('body[data-status="loading"]').count()
            except Exception:  # noqa: BLE001 - a frame replaced while we looked
                busy += 1
        if not busy:
            break
        page.wait_for_timeout(250)
    page.wait_for_timeout(500)  # the last delta's paint


def _waived(page, rule: str, node: dict) -> str | None:
    """The reason a failing node is waived, or None."""
    target = node.get("target") or []
    if len(target) != 1 or not isinstance(target[0], str):
        return None  # inside a frame or a shadow root: nothing of ours is waived there
    for rule_id, selector, why in WAIVERS:
        if rule_id == rule and page.evaluate(
            "([target, selector]) => { const el = document.querySelector(target); return !!el && el.matches(selector); }",
            [target[0], selector],
        ):
            return why
    return None


def audit(page, name: str) -> list[str]:
    """Run axe-core on the page (and its frames); save the results; return the failing findings, one line each."""
    axe = _axe()
    for frame in page.frames[1:]:  # the Mermaid diagrams' frames: axe audits a frame only where it is loaded
        try:
            frame.evaluate(axe.axe_script)
        except Exception:  # noqa: BLE001 - a frame that went away
            pass
    results = axe.run(page, options={"resultTypes": ["violations"]}).response
    failing, waived = [], []
    for violation in results["violations"]:
        for node in violation["nodes"]:
            impact = node.get("impact") or violation.get("impact")
            if impact not in FAILING_IMPACTS:
                continue
            reason = _waived(page, violation["id"], node)
            line = f"{violation['id']} ({impact}): {' > '.join(map(str, node['target']))}: {node['html'][:160]}"
            if reason:
                waived.append({"rule": violation["id"], "target": node["target"], "why": reason})
            else:
                failing.append(line + "\n    " + (node.get("failureSummary") or "").replace("\n", " "))
    A11Y_ARTIFACTS.mkdir(parents=True, exist_ok=True)
    report = {"url": results.get("url"), "engine": results.get("testEngine"), "violations": results["violations"],
              "waived": waived}
    (A11Y_ARTIFACTS / f"{name}.json").write_text(json.dumps(report, indent=1, ensure_ascii=False), encoding="utf-8")
    return failing


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("name, path", PAGES, ids=[p[0] for p in PAGES])
def test_no_serious_accessibility_violations(page, app_url, name, path, variant):
    page.goto(f"{app_url}/{path}?{VARIANTS[variant]}")
    _settle(page)
    assert page.locator('[data-testid="stException"]').count() == 0
    failing = audit(page, f"{name}_{variant}")
    assert not failing, "\n".join(failing)


# --- the keyboard ----------------------------------------------------------------------------------------------------

# What has the focus, in words a failure message can show: the element and the key of its Streamlit container.
_FOCUSED = """() => {
    const el = document.activeElement;
    if (!el || el === document.body) return null;
    const keyed = el.closest('[class*="st-key-"]');
    const key = keyed ? [...keyed.classList].find((c) => c.startsWith('st-key-')) : '';
    return {tag: el.tagName.toLowerCase(), text: (el.innerText || el.getAttribute('aria-label') || '').trim().slice(0, 60),
            key, href: el.getAttribute('href') || '', menu: !!el.closest('[data-testid="stSidebar"] [data-testid="stPageLink"]'),
            visible: el.getBoundingClientRect().width > 0};
}"""


def _tab_through(page, presses: int, until=None) -> list[dict]:
    """Press Tab `presses` times from the top of the page (or until `until(focused)`); what had the focus each time."""
    page.evaluate("() => document.activeElement && document.activeElement.blur()")  # from the document's start
    seen = []
    for _ in range(presses):
        page.keyboard.press("Tab")
        focused = page.evaluate(_FOCUSED)
        if focused:
            seen.append(focused)
            if until and until(focused):
                break
    return seen


def _menu_hrefs(page) -> list[str]:
    return page.locator(MENU_LINKS).evaluate_all("(links) => links.map((a) => a.getAttribute('href'))")


def _assert_reached(seen: list[dict], menu: list[str], keys: list[str], name: str) -> None:
    A11Y_ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (A11Y_ARTIFACTS / f"focus_order_{name}.json").write_text(json.dumps(seen, indent=1, ensure_ascii=False),
                                                            encoding="utf-8")
    reached_menu = {f["href"] for f in seen if f["menu"]}
    assert set(menu) <= reached_menu, (f"menu links Tab never reached: {set(menu) - reached_menu}", seen)
    for key in keys:
        assert any(f["key"] == f"st-key-{key}" for f in seen), (f"Tab never reached {key}", seen)
    assert all(f["visible"] for f in seen), [f for f in seen if not f["visible"]]


def test_keyboard_reaches_the_menu_language_and_main_buttons_on_home(page, app_url):
    page.goto(f"{app_url}/?lang=en")
    _settle(page)
    page.locator(".st-key-home_live_new button").first.wait_for()
    seen = _tab_through(page, 60, until=lambda f: f["key"] == "st-key-home_live_new")
    _assert_reached(seen, _menu_hrefs(page), ["_aigc_lang_selector", "home_live_new"], "home")


def _step(page) -> int:
    digits = re.sub(r"\D", "", page.locator('[data-testid="stMetricValue"]').first.inner_text())
    return int(digits) if digits else 0


def test_keyboard_starts_training_on_train(page, app_url):
    page.goto(f"{app_url}/?lang=en")  # Home first: the server's first session resolves /train before app.py runs
    wait_for_app(page)
    page.goto(f"{app_url}/train?lang=en")
    _settle(page)
    page.locator(".st-key-train_btn_start button").first.wait_for()
    seen = _tab_through(page, 120, until=lambda f: f["key"] == "st-key-train_btn_start")
    _assert_reached(seen, _menu_hrefs(page), ["_aigc_lang_selector", "train_btn_start"], "train")
    assert _step(page) == 0
    page.keyboard.press("Enter")  # on Start, which Tab has just reached
    deadline = time.monotonic() + LIVE_TIMEOUT_MS / 1000
    while _step(page) == 0 and time.monotonic() < deadline:
        page.wait_for_timeout(250)
    assert _step(page) > 0, "Enter on Start did not start training"
    # While it trains the page has its charts and their tables' expander: audit it too.
    page.locator('[data-testid="stPlotlyChart"]').first.wait_for(timeout=LIVE_TIMEOUT_MS)
    page.locator(".st-key-a11y_table_train_live").wait_for(timeout=LIVE_TIMEOUT_MS)
    failing = audit(page, "train_training_en")
    assert not failing, "\n".join(failing)
