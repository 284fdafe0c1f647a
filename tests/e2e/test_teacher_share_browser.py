"""Teacher mode and link notices in a real browser: a prepared link opens the tour, next/previous switch pages and
keep the URL shareable, and a tampered link shows a notice instead of breaking."""

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


def test_prepared_teacher_link_and_tour_navigation(page, app_url, screenshot):
    _open(page, f"{app_url}/?lang=zh&teacher=1&tstep=2")
    sidebar = page.locator('[data-testid="stSidebar"]')
    expect(sidebar).to_contain_text("课堂引导")
    expect(sidebar).to_contain_text("2. 打开反馈回路图")
    screenshot("teacher_tour_zh")
    sidebar.get_by_role("button", name="下一步").click()  # step 3 lives on the Latent Explorer page
    page.wait_for_url("**/latent?*tstep=3*")
    wait_for_app(page)
    expect(sidebar).to_contain_text("3. 在潜在空间中滑动")
    assert "lang=zh" in page.url and "teacher=1" in page.url
    # The ordinary menu drops the query string; teacher mode and the step come back, like the language.
    page.locator(MENU_LINKS).filter(has_text="概念与数学").click()
    page.wait_for_url("**/concepts?*")
    wait_for_app(page)
    expect(sidebar).to_contain_text("3. 在潜在空间中滑动")
    page.wait_for_url("**/concepts?*teacher=1*")
    screenshot("teacher_tour_after_menu_zh")
    _assert_clean(page)


def test_tampered_link_shows_a_notice(page, app_url, screenshot):
    _open(page, f"{app_url}/?lang=xx&teacher=maybe&tstep=999")
    notice = page.locator('[data-testid="stAlert"]').first
    expect(notice).to_contain_text("xx")
    expect(notice).to_contain_text("999")
    expect(page.locator('[data-testid="stSidebar"]')).to_contain_text("Teacher mode")
    expect(page).to_have_url(f"{app_url}/")  # the bad values are gone from the URL
    screenshot("link_notice_en")
    _assert_clean(page)


def test_playground_share_link_reproduces_the_setup(page, app_url, screenshot):
    _open(page, f"{app_url}/playground?lang=zh&loss=hinge&k=4&seed=5")
    sidebar = page.locator('[data-testid="stSidebar"]')
    sidebar.get_by_text("分享这套设置").click()
    code = sidebar.locator('[data-testid="stCode"]').first
    # The link box shows an absolute link to this page with the set-up and the language.
    expect(code).to_contain_text(f"{app_url}/playground?")
    for part in ("lang=zh", "loss=hinge", "k=4", "seed=5"):
        expect(code).to_contain_text(part)
    expect(sidebar.locator('[data-testid="stSlider"]').filter(has_text="k").first).to_contain_text("4")
    screenshot("playground_share_zh")
    _assert_clean(page)
