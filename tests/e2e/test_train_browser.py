"""The Train page in a real browser: live training, the diagram as SVG, slow motion, language switch, offline."""

from __future__ import annotations

import re
import time

from e2e_support import foreign_requests, wait_for_app

LIVE_TIMEOUT_MS = 120_000  # the machine running the tests may be busy: wait for progress, not for a speed


def _open_train(page, app_url: str, lang: str = "en") -> None:
    # Home first: on a fresh server Streamlit serves a deep link before app.py's st.navigation has ever run.
    page.goto(app_url + ("" if lang == "en" else f"/?lang={lang}"))
    wait_for_app(page)
    page.goto(f"{app_url}/train" + ("" if lang == "en" else f"?lang={lang}"))
    wait_for_app(page)
    page.locator(".st-key-train_btn_start button").first.wait_for()


def _click(page, key: str) -> None:
    """Click a keyed button once the app is idle, and wait for the run it starts to finish. The script state turns
    to "running" a moment after the click, so wait for that first (a very short run may be missed: then go on)."""
    wait_for_app(page)
    page.locator(f".st-key-{key} button").first.click()
    try:
        page.wait_for_function(
            "() => document.querySelector('[data-testid=\"stApp\"]').dataset.testScriptState === 'running'",
            timeout=3000,
        )
    except Exception:  # noqa: BLE001 - the run was over before we looked
        pass
    wait_for_app(page)


def _step(page) -> int:
    value = page.locator('[data-testid="stMetricValue"]').first.inner_text()
    digits = re.sub(r"\D", "", value)
    return int(digits) if digits else 0


def _wait_step_above(page, floor: int, timeout_ms: float = LIVE_TIMEOUT_MS) -> int:
    deadline = time.monotonic() + timeout_ms / 1000
    while time.monotonic() < deadline:
        step = _step(page)
        if step > floor:
            return step
        page.wait_for_timeout(250)
    raise AssertionError(f"the step counter stayed at {floor}")


def _assert_clean(page) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0
    assert "⟦" not in page.locator('[data-testid="stApp"]').inner_text()
    assert not foreign_requests(page), foreign_requests(page)
    assert not page.console_errors, page.console_errors


def test_train_live_start_pause(page, app_url, screenshot):
    _open_train(page, app_url)
    assert _step(page) == 0
    screenshot("train_ready_en")
    page.locator(".st-key-train_btn_start button").first.click()
    first = _wait_step_above(page, 0)
    second = _wait_step_above(page, first)  # still rising: slices keep coming without any click
    assert second > first
    # The loss chart has drawn a line with points.
    chart = page.locator('[data-testid="stPlotlyChart"]').first
    chart.wait_for()
    page.wait_for_function(
        """() => {
            const path = document.querySelector('[data-testid="stPlotlyChart"] .scatterlayer .trace path.js-line');
            return path && (path.getAttribute('d') || '').split('L').length > 2;
        }""",
        timeout=LIVE_TIMEOUT_MS,
    )
    # The feedback-loop diagram is drawn as SVG (offline Mermaid), with live values on it.
    diagram = page.locator('.st-key-train_live_diagram .live-diagram[data-status="ok"]')
    diagram.wait_for(timeout=LIVE_TIMEOUT_MS)
    page.wait_for_function(  # the live values reach the diagram (it updates in place, without reloading)
        """() => [...document.querySelectorAll('.st-key-train_live_diagram *')]
                   .some((el) => el.shadowRoot && el.shadowRoot.querySelector('svg')
                                 && el.shadowRoot.querySelector('svg').textContent.includes('D(x)='))""",
        timeout=LIVE_TIMEOUT_MS,
    )
    assert diagram.locator("svg").count() == 1
    _wait_step_above(page, second + 20)  # let the samples take shape a little for the screenshot
    screenshot("train_running_en")
    page.locator(".st-key-train_btn_start button").first.click()  # Pause
    page.locator(".st-key-train_btn_start button", has_text="Start").first.wait_for()
    wait_for_app(page)
    paused = _step(page)
    page.wait_for_timeout(2000)
    assert _step(page) == paused  # Pause took effect
    screenshot("train_paused_en")
    _assert_clean(page)


def test_slow_motion_walkthrough(page, app_url, screenshot):
    _open_train(page, app_url)
    page.get_by_role("tab", name="Slow motion").click()
    for number in (1, 2, 3):
        _click(page, "train_slowmo_next")
        page.get_by_text(f"Phase {number} of 12").wait_for()
    page.get_by_text("Phase 3 of 12: Score real and fake").wait_for()
    diagram = page.locator('.st-key-train_slowmo_diagram .live-diagram[data-status="ok"]')
    diagram.wait_for()
    page.wait_for_function(
        """() => [...document.querySelectorAll('.st-key-train_slowmo_diagram *')]
                   .some((el) => el.shadowRoot && el.shadowRoot.querySelector('svg')
                                 && el.shadowRoot.querySelector('svg').textContent.includes('D(x)='))"""
    )
    screenshot("train_slowmo_en")
    _assert_clean(page)


def test_language_switch_keeps_a_trained_models_settings(page, app_url, screenshot):
    _open_train(page, app_url)
    sidebar = page.locator('[data-testid="stSidebar"]')
    _choose(page, "train_gan_loss", "Hinge")
    _click(page, "train_btn_step_g")
    assert _step(page) == 1
    sidebar.get_by_role("radio", name="中文").click()
    page.get_by_role("heading", name="训练一个生成模型").wait_for()
    wait_for_app(page)
    loss = sidebar.locator(".st-key-train_gan_loss__zh").get_by_role("combobox")
    assert loss.input_value() == "Hinge 损失"  # not reset to the first option
    assert "需要一个新模型" not in page.locator('[data-testid="stApp"]').inner_text()
    assert _step(page) == 1  # the same model, still at step 1
    screenshot("train_zh")
    _assert_clean(page)


def _set_number(page, key: str, value: str) -> None:
    field = page.locator(f".st-key-{key} input")
    field.fill(value)
    field.press("Enter")
    wait_for_app(page)


def _choose(page, key: str, option: str, attempts: int = 3) -> None:
    """Pick an option in a select box and check that it took: on a busy machine a rerun that lands while the
    list is open can close it, and the click then goes nowhere (CI saw a pick dropped this way)."""
    combobox = page.locator(f".st-key-{key}").get_by_role("combobox")
    for _ in range(attempts):
        wait_for_app(page)
        page.locator(f".st-key-{key}").click()
        page.get_by_role("option", name=option, exact=True).click()
        wait_for_app(page)
        if combobox.input_value() == option:
            return
    raise AssertionError(f"{key}: the select box shows {combobox.input_value()!r}, not {option!r}")


def _wait_for_charts(page, count: int) -> None:
    """Until `count` Plotly charts are drawn: Streamlit shows a grey placeholder while a chart's bundle loads."""
    page.wait_for_function("n => document.querySelectorAll('.js-plotly-plot .main-svg').length >= n", arg=count)


def test_divergence_then_a_vae(page, app_url, screenshot):
    _open_train(page, app_url)
    sidebar = page.locator('[data-testid="stSidebar"]')
    sidebar.get_by_text("Optimizers").click()
    for net in ("g", "d"):
        _choose(page, f"train_{net}_opt", "SGD")
        _set_number(page, f"train_{net}_lr", "1000")
    _click(page, "train_btn_start")
    page.get_by_text("Training stopped").wait_for(timeout=LIVE_TIMEOUT_MS)
    wait_for_app(page)
    assert page.get_by_text("learning rate 10 times smaller").count() == 1
    page.locator(".st-key-train_btn_start button", has_text="Start").first.wait_for()  # paused, not crashed
    _wait_for_charts(page, 3)  # the loss, D-output and gradient charts, drawn (not grey placeholders)
    screenshot("train_diverged_en")
    _assert_clean(page)

    # Another model family: the trained (diverged) GAN is not thrown away without asking.
    sidebar.get_by_role("radio", name="VAE", exact=True).click()
    wait_for_app(page)
    page.get_by_text("These settings need a new model").wait_for()
    _click(page, "train_btn_rebuild")
    for _ in range(3):
        _click(page, "train_btn_step")
    assert _step(page) == 3
    page.get_by_text("Input and reconstruction").wait_for()
    screenshot("train_vae_en")
    page.get_by_role("tab", name="Save and load").click()
    page.get_by_role("button", name="Model checkpoint (.zip)").wait_for()
    screenshot("train_export_en")
    _assert_clean(page)
