"""The app's own CSS, injected once per run by app.py: motion and small screens.

- Motion: the browser's "reduce motion" preference (``prefers-reduced-motion: reduce``) switches off CSS
  transitions and animations everywhere on the page; the app's Reduce motion setting (`ui.motion`) does the same
  whatever the browser says.
- Small screens: phones and tablets in portrait (see `SMALL_SCREEN_CSS`), checked by tests/e2e/test_devices_browser.py.

`page_css` makes no Streamlit call (tests read what it returns); `inject_page_style` draws it.
"""

from __future__ import annotations

import streamlit as st

# Everything that moves by CSS stops at once: transitions and animations end on their last frame (0.01 ms rather
# than none, so `animationend` / `transitionend` listeners still fire), smooth scrolling jumps.
_STILL_RULES = """
*, *::before, *::after {
  animation-duration: 0.01ms !important; animation-delay: 0s !important; animation-iteration-count: 1 !important;
  transition-duration: 0.01ms !important; transition-delay: 0s !important; scroll-behavior: auto !important;
}"""
STILL_MARKER = "aigc-still"  # in the injected CSS when the setting is on (what AppTest checks)

# Small screens. Streamlit stacks columns below a 640 px wide window (each full width) and keeps them in one row
# above it, even when the open sidebar leaves the page ~500 px (a tablet in portrait): a row of five buttons or six
# numbers then shows "D s…", "1…". Rows of buttons or numbers become a grid of small cells that wraps, measured
# on the page's own width (a container query), not the window's; rows of text or of
# several widgets per column keep Streamlit's stacking.
# A row of cells: some column holds a button or a number, and no column holds more than one element.
_IN_COLUMN = '> [data-testid="stColumn"] > [data-testid="stVerticalBlock"] >'
_CELL_ROW = (f'[data-testid="stHorizontalBlock"]:has({_IN_COLUMN} [data-testid="stElementContainer"] >'
             f' :is([data-testid="stMetric"], [data-testid="stButton"])):not(:has({_IN_COLUMN} :nth-child(2)))')
SMALL_SCREEN_CSS = f"""
[data-testid="stMainBlockContainer"] {{ container: aigc-page / inline-size; }}
@container aigc-page (max-width: 720px) {{
  {_CELL_ROW} {{ flex-wrap: wrap !important; row-gap: 0.5rem; }}
  {_CELL_ROW} > [data-testid="stColumn"] {{
    flex: 1 1 calc(33% - 1rem) !important; min-width: 8.5rem !important; width: auto !important;
  }}
  {_CELL_ROW} > [data-testid="stColumn"]:not(:has([data-testid="stElementContainer"])) {{ display: none; }}
  {_CELL_ROW} > [data-testid="stColumn"]:has([data-testid="stCheckbox"]) {{ min-width: 10rem !important; }}
  /* a chart wider than the page (the playground's plane beside its curves) scrolls in its own box at full size:
     shrunk to fit a phone, its 10 px labels would be 4 px */
  [data-testid="stVegaLiteChart"] {{ max-width: 100%; overflow-x: auto; }}
}}
/* A phone: less room above the title and smaller headings, so a page's main button is on the first screen. */
@media (max-width: 640px) {{
  [data-testid="stMainBlockContainer"] {{ padding-top: 3rem; }}
  [data-testid="stMain"] h1 {{ font-size: 1.8rem; }}
  [data-testid="stMain"] h2 {{ font-size: 1.4rem; padding-top: 0.5rem; }}
  [data-testid="stMain"] h3 {{ font-size: 1.2rem; }}
  /* a long list of choices (the lessons) wraps onto many lines: smaller chips, two short ones share a line */
  [data-testid="stMain"] [data-testid="stButtonGroup"] button {{
    height: auto !important; min-height: 1.75rem !important; padding: 0.1rem 0.6rem; font-size: 0.85rem;
  }}
  [data-testid="stMain"] [data-testid="stButtonGroup"] button p {{ font-size: 0.85rem; }}
}}
"""


def page_css(reduce_motion: bool) -> str:
    """The injected stylesheet: the reduced-motion rules (always under the media query, unconditionally when the
    setting is on) and the small-screen rules."""
    parts = [f"@media (prefers-reduced-motion: reduce) {{{_STILL_RULES}\n}}"]
    if reduce_motion:
        parts.append(f"/* {STILL_MARKER} */{_STILL_RULES}")
    parts.append(SMALL_SCREEN_CSS)
    return "\n".join(part for part in parts if part.strip())


def inject_page_style(reduce_motion: bool) -> None:
    """Put the stylesheet on the page (a style-only st.html takes no space)."""
    st.html(f"<style>{page_css(reduce_motion)}</style>")
