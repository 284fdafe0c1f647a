"""Home page in a real browser: renders in both languages, fully offline, without errors."""

from __future__ import annotations

from e2e_support import MENU_LINKS, foreign_requests, wait_for_app
from playwright.sync_api import expect


def _open(page, url: str) -> None:
    page.goto(url)
    wait_for_app(page)


def _assert_clean(page) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0
    assert "⟦" not in page.locator('[data-testid="stApp"]').inner_text()
    assert not foreign_requests(page), foreign_requests(page)
    assert not page.console_errors, (page.console_errors, page.failed_responses)


def _expect_a_card_per_page(page) -> None:
    """One card for every page in the menu but Home itself."""
    menu = page.locator(MENU_LINKS)
    menu.first.wait_for()
    expect(page.locator('[data-testid="stMain"] [data-testid="stPageLink"]')).to_have_count(menu.count() - 1)


def test_home_english(page, app_url, screenshot):
    _open(page, app_url)
    page.get_by_role("heading", name="AIGC Lab").first.wait_for()
    page.get_by_text("What you can do here").wait_for()
    expect(page.locator('[data-testid="stSidebar"]')).to_contain_text("Compute device")
    _expect_a_card_per_page(page)
    screenshot("home_en")
    _assert_clean(page)


def test_home_chinese_and_language_survives_navigation(page, app_url, screenshot):
    _open(page, f"{app_url}/?lang=zh")
    page.get_by_text("你可以在这里做什么").wait_for()
    expect(page.locator('[data-testid="stSidebar"]')).to_contain_text("计算设备")
    _expect_a_card_per_page(page)
    screenshot("home_zh")
    # Follow a card link: the page switch drops the query string, the app puts ?lang=zh back.
    page.locator('[data-testid="stPageLink"]').filter(has_text="训练").first.click()
    page.get_by_role("heading", name="训练").first.wait_for()
    wait_for_app(page)
    page.wait_for_url("**/train?lang=zh")
    expect(page.locator('[data-testid="stSidebar"]')).to_contain_text("计算设备")
    _assert_clean(page)


def test_language_selector_switches_language(page, app_url):
    _open(page, app_url)
    page.locator('[data-testid="stSidebar"]').get_by_role("radio", name="中文").click()
    page.get_by_text("你可以在这里做什么").wait_for()
    page.wait_for_url("**/?lang=zh")
    page.locator('[data-testid="stSidebar"]').get_by_role("radio", name="English").click()
    page.get_by_text("What you can do here").wait_for()
    _assert_clean(page)
