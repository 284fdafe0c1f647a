"""Accessibility: text alternatives for charts and images (`charts`, `tables`). The browser audit that checks the
pages with axe-core is tests/e2e/test_a11y_browser.py."""
