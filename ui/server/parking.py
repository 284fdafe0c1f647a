"""A trained model survives a page reload, and a second tab never drives the same model.

Streamlit gives a reloaded page a new session with an empty session state, so a student who presses F5 in the
middle of training would lose the model. The Train page therefore gives each tab a random token, keeps it in the
URL (``?run=...``: a reload keeps the URL) and parks its trained run under that token in a store on the server.
A new session that arrives with a token adopts the parked run if the session that parked it is no longer
connected (a reload, or a tab closed and reopened from history). If that session is still connected, the same
URL is open in a second tab: the newcomer gets a new token and a fresh run of its own, and is told why.

Parked runs follow the server's idle rule (ui/server/limits.py): a run not touched for ``idle_minutes`` is dropped. The
store keeps one run per token, and only trained runs (an untrained model is cheaper to rebuild than to keep).
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import streamlit as st

from ui.server import limits

PARAM = "run"  # the query parameter that carries the tab's token
TOKEN_KEY = "_aigc_run_token"  # this session's token, in its session state
RELOAD_GRACE_S = 1.5  # how long a newcomer waits for the old tab of its token to disconnect
_TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{8,64}")


@dataclass
class _Parked:
    owner: str  # the session key of the session that parked or adopted it
    value: Any
    touched: float


class RunPark:
    """Token -> the run a tab trained, and which session holds it. Thread-safe: every session shares one."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._entries: dict[str, _Parked] = {}
        self._lock = threading.Lock()

    def park(self, token: str, owner: str, value: Any) -> None:
        """Keep `value` under `token` for `owner` (replaces what was there: one run per tab)."""
        with self._lock:
            self._entries[token] = _Parked(owner, value, self.clock())

    def park_new(self, token: str, owner: str, value: Any) -> bool:
        """Keep `value` under `token` unless something is parked there already (another session got there first);
        returns whether it was kept."""
        with self._lock:
            if token in self._entries:
                return False
            self._entries[token] = _Parked(owner, value, self.clock())
            return True

    def drop(self, token: str) -> None:
        with self._lock:
            self._entries.pop(token, None)

    def holds(self, token: str) -> bool:
        with self._lock:
            return token in self._entries

    def claim(self, token: str, session: str, *, is_connected: Callable[[str], bool]) -> Any | None:
        """The run parked under `token` for a newly arrived `session`, which becomes its owner; None when
        nothing is parked there or when the owner is another session that is still connected (a second tab)."""
        with self._lock:
            entry = self._entries.get(token)
            if entry is None:
                return None
            if entry.owner != session and is_connected(entry.owner):
                return None
            entry.owner, entry.touched = session, self.clock()
            return entry.value

    def release_idle(self, idle_seconds: float) -> int:
        """Drop runs not parked or claimed for `idle_seconds`; returns how many."""
        now = self.clock()
        with self._lock:
            stale = [token for token, entry in self._entries.items() if now - entry.touched > idle_seconds]
            for token in stale:
                del self._entries[token]
        return len(stale)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)


PARK = RunPark()


def new_token() -> str:
    return secrets.token_urlsafe(12)


def is_token(raw: object) -> bool:
    return isinstance(raw, str) and _TOKEN_RE.fullmatch(raw) is not None


# --- glue for pages (Streamlit) ----------------------------------------------------------------------------------


def is_connected(session: str) -> bool:
    """Whether the browser session behind a session key has a live connection to this server. Without a server
    (AppTest) every session counts as connected: a model is never taken from a session we cannot see."""
    from streamlit.runtime import Runtime

    try:
        manager = Runtime.instance()._session_mgr  # noqa: SLF001 (no public lookup of a session by id)
        return bool(manager.is_active_session(session))
    except (RuntimeError, AttributeError):
        return True


def token() -> str | None:
    """This session's token, or None before it has trained anything."""
    return _token(create=False)


def _token(*, create: bool) -> str | None:
    """This session's token (made on first need)."""
    token = st.session_state.get(TOKEN_KEY)
    if token is None and create:
        token = st.session_state[TOKEN_KEY] = new_token()
    return token


def _show_in_url(token: str | None) -> None:
    """The token into the URL (page switches clear the query string, so this is repeated), or out of it."""
    if token is None:
        if PARAM in st.query_params:
            del st.query_params[PARAM]
    elif st.query_params.get(PARAM) != token:
        st.query_params[PARAM] = token


def adopt(state_key: str, fallback: Callable[[str], Any | None] | None = None) -> str | None:
    """At the top of the page, in a session that has no token yet (a new tab or a reload): put the run parked
    under the URL's token into ``st.session_state[state_key]`` if its tab has gone. When nothing is parked there
    (the server restarted), `fallback(token)` may give the run instead (its autosave, ui/server/autosave.py).
    Returns what to tell the user: "restored", "autosaved" (from the fallback), "other_tab" (the URL's run
    belongs to a tab that is still open), "gone" (nothing is parked under that token any more) or None (no
    token in the URL, or this session already has one)."""
    raw = st.query_params.get(PARAM)
    if raw is None or TOKEN_KEY in st.session_state:
        return None
    session = limits.session_key()
    if session is None:
        return None
    if is_token(raw):
        value = PARK.claim(raw, session, is_connected=is_connected)
        deadline = time.monotonic() + RELOAD_GRACE_S
        while value is None and PARK.holds(raw) and time.monotonic() < deadline:
            time.sleep(0.1)  # a reload: the old page's connection may close a moment after the new one opens
            value = PARK.claim(raw, session, is_connected=is_connected)
        if value is not None:
            st.session_state[TOKEN_KEY] = raw
            st.session_state[state_key] = value
            return "restored"
        if fallback is not None and not PARK.holds(raw):
            value = fallback(raw)
            if value is not None and PARK.park_new(raw, session, value):  # else a second tab got there first
                st.session_state[TOKEN_KEY] = raw
                st.session_state[state_key] = value
                return "autosaved"
    outcome = "other_tab" if is_token(raw) and PARK.holds(raw) else "gone"
    _show_in_url(None)  # not this tab's: it gets a token of its own once it has trained something
    return outcome


def show_token() -> None:
    """On the pages other than Train: keep this tab's token in the URL while its run is parked (page switches
    clear the query string), so that a reload on any page finds the run again."""
    token = _token(create=False)
    if token is not None and PARK.holds(token):
        _show_in_url(token)


def keep(value: Any | None, *, worth_keeping: bool, full_run: bool = True) -> None:
    """After the page has its run: park it under this tab's token if it is worth keeping (and show the token in
    the URL), else forget what the token held (after Reset, say) and take the token out of the URL. A fragment
    run (``full_run=False``) only refreshes the parked run: the URL is written by full page runs."""
    session = limits.session_key()
    if session is None:
        return
    if value is not None and worth_keeping:
        token = _token(create=True)
        PARK.park(token, session, value)
        if full_run:
            _show_in_url(token)
    elif full_run:
        token = _token(create=False)
        if token is not None:
            PARK.drop(token)
        _show_in_url(None)
    PARK.release_idle(limits.current().idle_minutes * 60)
