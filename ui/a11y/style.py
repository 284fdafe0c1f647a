"""CSS for what the axe-core audit (tests/e2e/test_a11y_browser.py) finds in how Streamlit draws our content.

- Display formulas: Streamlit puts each ``st.latex`` in a box that scrolls sideways. KaTeX draws some glyphs
  (a square root's tail, an underbrace) a pixel or two past the formula's box, so the box "scrolls" by 2 px and
  axe reports a scrollable region that the keyboard cannot reach (scrollable-region-focusable). A little inner
  padding holds those pixels, so only a formula really wider than the page scrolls.
"""

from __future__ import annotations

import streamlit as st

A11Y_CSS = ".katex-display { padding: 0 0.3em; }"


def inject_a11y_style() -> None:
    """Put the rules on the page (a style-only st.html takes no space)."""
    st.html(f"<style>{A11Y_CSS}</style>")
