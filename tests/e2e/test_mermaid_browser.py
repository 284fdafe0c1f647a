"""Mermaid diagrams draw as SVG from the vendored library, offline; a bad source shows Mermaid's error."""

from __future__ import annotations

from e2e_support import foreign_requests, wait_for_app


def test_diagram_check_page(page, app_url, screenshot):
    page.goto(f"{app_url}/diagram_check")
    wait_for_app(page)
    good = page.frame_locator(".st-key-mermaid_check_good iframe")
    good.locator('body[data-status="ok"]').wait_for()
    assert good.locator("#diagram svg").count() == 1
    assert "generator G" in good.locator("#diagram svg").text_content()

    bad = page.frame_locator(".st-key-mermaid_check_bad iframe")
    bad.locator('body[data-status="error"]').wait_for()
    assert "could not be drawn" in bad.locator(".error").inner_text()
    assert bad.locator("svg").count() == 0

    # The source is available to copy.
    page.locator(".st-key-mermaid_check_good").get_by_text("Diagram source (Mermaid)").click()
    page.locator(".st-key-mermaid_check_good").get_by_text("flowchart LR").wait_for()

    screenshot("diagram_check_en")
    assert any(url.endswith("/app/static/mermaid/mermaid.min.js") for url in page.request_urls)
    assert not foreign_requests(page), foreign_requests(page)
    assert page.locator('[data-testid="stException"]').count() == 0
    assert not page.console_errors, (page.console_errors, page.failed_responses)


def test_diagram_in_chinese(page, app_url, screenshot):
    page.goto(f"{app_url}/diagram_check?lang=zh")
    wait_for_app(page)
    good = page.frame_locator(".st-key-mermaid_check_good iframe")
    good.locator('body[data-status="ok"]').wait_for()
    assert "生成器 G" in good.locator("#diagram svg").text_content()
    screenshot("diagram_check_zh")
