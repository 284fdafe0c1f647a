"""Reloading the Train page mid-training keeps the model; the same URL in a second tab gets a model of its own
(ui/server/parking.py). Streamlit gives every page load a new session, so this only shows in a real browser."""

from __future__ import annotations

from conftest import SCREENSHOTS
from test_train_browser import _assert_clean, _open_train, _step, _wait_step_above

from e2e_support import MENU_LINKS, wait_for_app


def _new_tab(page, url: str):
    """A second tab in the same browser profile, recording console errors like the page fixture does."""
    tab = page.context.new_page()
    tab.console_errors = []
    tab.request_urls = page.request_urls  # the context records every request already
    tab.on("pageerror", lambda exc: tab.console_errors.append(f"uncaught: {exc}"))
    tab.goto(url)
    wait_for_app(tab)
    return tab


def _href(page) -> str:
    """The address bar as it is now (Streamlit changes the query string with history.replaceState, which
    Playwright's page.url does not always follow)."""
    return page.evaluate("location.href")


def _wait_token(page) -> str:
    page.wait_for_function("() => location.search.includes('run=')")
    return _href(page)


def test_reload_keeps_the_model_and_a_second_tab_gets_its_own(page, app_url, screenshot):
    _open_train(page, app_url)
    page.locator(".st-key-train_btn_start button").first.click()
    before = _wait_step_above(page, 3)
    url = _wait_token(page)  # the tab's token, so that a reload can find its model

    page.reload()
    wait_for_app(page)
    page.get_by_text("your model is here again").wait_for()
    restored = _step(page)
    assert restored >= before  # nothing lost: the count goes on from where it was
    screenshot("train_after_reload_en")
    page.locator(".st-key-train_btn_start button").first.click()  # paused after the reload: Start goes on
    _wait_step_above(page, restored)

    assert _wait_token(page) == url  # the same token after the reload
    second = _new_tab(page, url)
    second.get_by_text("being trained in another tab").wait_for()
    assert _step(second) == 0
    second.wait_for_function("() => !location.search.includes('run=')")  # the first tab's token is not its own
    _wait_step_above(page, _step(page))  # the first tab is still training, untouched
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    second.screenshot(path=str(SCREENSHOTS / "train_second_tab_en.png"), full_page=True)
    _assert_clean(page)
    assert not second.console_errors, second.console_errors
    second.close()


def test_a_reload_on_another_page_keeps_the_train_run(page, app_url):
    """The token follows the tab to the other pages, so a reload there finds the Train run too."""
    _open_train(page, app_url)
    page.locator(".st-key-train_btn_start button").first.click()
    before = _wait_step_above(page, 3)
    token = _wait_token(page).split("run=")[1].split("&")[0]
    page.locator(MENU_LINKS).filter(has_text="Latent Explorer").click()
    page.wait_for_function(f"() => location.pathname.endsWith('/latent') && location.search.includes('run={token}')")
    page.reload()
    wait_for_app(page)
    page.get_by_text("your model is still here").wait_for()
    page.locator('[data-testid="stMain"] [data-testid="stPageLink"] a').filter(has_text="Train").click()
    page.locator(".st-key-train_btn_start button").first.wait_for()
    page.wait_for_function("() => location.pathname.endsWith('/train')")
    assert _step(page) >= before  # the same run, paused where it was
    assert token in _wait_token(page)
    _assert_clean(page)
