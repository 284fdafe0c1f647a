"""AppTest helpers for running the whole app (``app.py`` + ``st.navigation``) the way the server does.

Streamlit treats a ``pages/`` folder next to the entry script as a legacy (v1) multipage app until ``st.navigation``
has run once in the process. `AppTest` resets that flag before every run, so from the second run on it executes
``pages/<page>.py`` alone, without ``app.py`` (no sidebar, no teacher mode, no link notices). `run_like_server`
pins the flag to "st.navigation app", as it is on a server once the app has run once.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from collections.abc import Iterator

from streamlit.runtime.pages_manager import PagesManager
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[1] / "app.py")


@contextmanager
def run_like_server() -> Iterator[None]:
    original = PagesManager.__init__

    def init(self, *args, **kwargs):
        PagesManager.uses_pages_directory = False
        original(self, *args, **kwargs)

    PagesManager.__init__ = init
    try:
        yield
    finally:
        PagesManager.__init__ = original


def app_test(**query: str) -> AppTest:
    """A fresh AppTest of the whole app with these URL parameters (not run yet)."""
    at = AppTest.from_file(APP, default_timeout=60)
    for key, value in query.items():
        at.query_params[key] = value
    return at
