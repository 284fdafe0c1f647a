"""Every page runs inside app.py's shell (menu, language, teacher mode), even on a server's very first deep link.

Streamlit remembers, per server process, whether the app is an old-style "pages/ folder" app; it decides that when
the first session starts, before any script has called `st.navigation`. So the first session that opened a deep
link such as /train ran pages/train.py on its own: no app.py, so no menu of ours, no language selector, and
Streamlit's raw file list ("app, concepts, diagram check, …") as the menu for the rest of that session.
"""

from __future__ import annotations

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager


def through_app() -> None:
    """Call first in every page. Run outside app.py (the first deep link), rerun the same URL through app.py.

    `st.navigation` clears the very flag set here (Streamlit's own `PagesManager.uses_pages_directory`): we do what
    the first `st.navigation` call would have done, a run earlier. A page's hash is that of its URL path, and
    app.py keeps each URL path equal to its file name, so the rerun lands on the page that was asked for."""
    if getattr(PagesManager, "uses_pages_directory", False):
        PagesManager.uses_pages_directory = False
        st.rerun()
