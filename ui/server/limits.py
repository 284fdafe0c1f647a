"""Per-session caps and idle release, for a server that many browser sessions share (a class on one laptop).

Caps, each refused with a clear message (a `LimitError`, shown like any other `AigcError`), never a crash:
- ``max_batch``: the largest batch size a session may train with;
- ``max_params``: the largest model (parameters, G and D together) a session may build;
- ``max_trainings``: how many sessions may train at the same time (a session counts while its live view is
  training and has reported within the last ``TRAINING_STALE_S`` seconds, so a closed tab stops counting).

Values come from environment variables (``AIGC_MAX_BATCH``, ``AIGC_MAX_PARAMS``, ``AIGC_MAX_TRAININGS``,
``AIGC_IDLE_MINUTES``), else from a ``[limits]`` table in ``.streamlit/secrets.toml`` (``max_batch = 256`` ...),
else the defaults below. Bad values fall back to the default (and are logged), so a typo never stops the app.

Idle release: every run of a page that holds a trained model calls `heartbeat`; a session not seen for
``idle_minutes`` has its model dropped from its session state (the registered keys) and is told so when it comes
back. Streamlit itself forgets a session 120 s after its browser disconnects (``server.disconnectedSessionTTL``);
this covers tabs left open and forgotten.

The registry is the one mutable object shared by all sessions on purpose: it holds timestamps and weak references
only, never a model, behind a lock.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import streamlit as st

from aigc_core.errors import ConfigError
from aigc_core.models.size import parameter_count
from ui.i18n import t

_log = logging.getLogger(__name__)

TRAINING_STALE_S = 30.0  # a training session that has not reported for this long no longer counts
RELEASED_KEY = "_aigc_released_notice"  # set in a session whose model was released while idle


class LimitError(ConfigError):
    """A per-session cap was hit; the message says which and what to do."""


@dataclass(frozen=True)
class Limits:
    max_batch: int = 512
    max_params: int = 20_000_000
    max_trainings: int = 12
    idle_minutes: float = 60.0


_ENV = {"max_batch": "AIGC_MAX_BATCH", "max_params": "AIGC_MAX_PARAMS", "max_trainings": "AIGC_MAX_TRAININGS",
        "idle_minutes": "AIGC_IDLE_MINUTES"}


def _secrets_table() -> dict[str, Any]:
    try:
        table = st.secrets.get("limits", {})
        return dict(table) if hasattr(table, "items") else {}
    except Exception:  # no secrets file (the usual case), or a malformed one: defaults apply
        return {}


def read_limits(environ: dict[str, str] | None = None, secrets: dict[str, Any] | None = None) -> Limits:
    """The limits in force: environment, then ``[limits]`` in secrets, then defaults."""
    environ = os.environ if environ is None else environ
    secrets = _secrets_table() if secrets is None else secrets
    defaults = Limits()
    values: dict[str, Any] = {}
    for name, env_name in _ENV.items():
        default = getattr(defaults, name)
        raw = environ.get(env_name, secrets.get(name))
        if raw is None:
            continue
        try:
            number = float(raw)
            if not math.isfinite(number) or number <= 0:
                raise ValueError
            value = int(number) if isinstance(default, int) else number
        except (TypeError, ValueError, OverflowError):
            _log.warning("Ignoring %s=%r (need a positive number); using %s", env_name, raw, default)
            continue
        values[name] = value
    return Limits(**values)


# --- caps on what one session builds ----------------------------------------------------------------------------


def check_batch(batch_size: int, limits: Limits, message: Callable[..., str] | None = None) -> None:
    if batch_size > limits.max_batch:
        text = message or "Batch size {batch} is above this server's limit of {limit}.".format
        raise LimitError(text(batch=batch_size, limit=limits.max_batch))


def check_model_size(config: Any, limits: Limits, message: Callable[..., str] | None = None) -> int:
    """Refuse a model config above the cap before anything is built: the count comes from PyTorch's meta device
    (`aigc_core.models.size`), so a huge config costs a millisecond and no memory. Returns the count."""
    try:
        params = parameter_count(config)
    except ConfigError as exc:  # a config no model can be built from: the same kind of refusal, said as it is
        raise LimitError(str(exc)) from exc
    if params > limits.max_params:
        text = message or "The model has {params} parameters, above this server's limit of {limit}.".format
        raise LimitError(text(params=f"{params:,}", limit=f"{limits.max_params:,}"))
    return params


# --- the registry of sessions ------------------------------------------------------------------------------------


@dataclass
class _Entry:
    last_seen: float
    training: bool
    state: Callable[[], Any] | None  # returns the session's state, or None once Streamlit has forgotten the session
    release_keys: tuple[str, ...]


class SessionRegistry:
    """Who is training and who has gone idle, across the sessions of one server process."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.Lock()

    def heartbeat(self, session_id: str, *, training: bool, state: Any = None,
                  resolve: Callable[[], Any] | None = None, release_keys: Iterable[str] = ()) -> None:
        """A session ran: record when, whether it is training, and what to drop if it goes idle. The session's
        state is given either as `resolve` (a function that finds it, or None when it is gone) or as `state`
        (held by a weak reference); the registry never keeps a session alive."""
        if resolve is None and state is not None:
            try:
                resolve = weakref.ref(state)
            except TypeError:
                resolve = None
        with self._lock:
            # Keys accumulate: a session that visited the Train page and then raced on Which generator? holds both
            # models, and going idle must drop both (each page only names its own).
            previous = self._entries.get(session_id)
            keys = tuple(dict.fromkeys((*(previous.release_keys if previous else ()), *release_keys)))
            self._entries[session_id] = _Entry(self.clock(), training, resolve, keys)

    def stop(self, session_id: str) -> None:
        with self._lock:
            entry = self._entries.get(session_id)
            if entry is not None:
                entry.training = False

    def forget(self, session_id: str) -> None:
        with self._lock:
            self._entries.pop(session_id, None)

    def training_sessions(self, exclude: str | None = None) -> list[str]:
        now = self.clock()
        with self._lock:
            return [sid for sid, e in self._entries.items()
                    if e.training and sid != exclude and now - e.last_seen <= TRAINING_STALE_S]

    def try_start(self, session_id: str, cap: int) -> bool:
        """Count this session as training if fewer than `cap` others are; False when the cap is reached."""
        with self._lock:
            now = self.clock()
            others = sum(1 for sid, e in self._entries.items()
                         if e.training and sid != session_id and now - e.last_seen <= TRAINING_STALE_S)
            if others >= cap:
                return False
            entry = self._entries.get(session_id)
            if entry is None:
                self._entries[session_id] = _Entry(now, True, None, ())
            else:
                entry.training, entry.last_seen = True, now
            return True

    def release_idle(self, idle_seconds: float) -> list[str]:
        """Drop the registered keys of sessions not seen for `idle_seconds`; returns their ids."""
        now = self.clock()
        with self._lock:
            idle = [(sid, e) for sid, e in self._entries.items() if now - e.last_seen > idle_seconds]
            for sid, _ in idle:
                del self._entries[sid]
        released = []
        for sid, entry in idle:
            state = entry.state() if entry.state is not None else None
            if state is None:
                continue  # Streamlit already forgot the session, and its model with it
            dropped = False
            for key in entry.release_keys:
                try:
                    if key in state:
                        del state[key]
                        dropped = True
                except Exception:  # a session closing at this very moment: nothing left to free
                    _log.debug("could not release %s of session %s", key, sid, exc_info=True)
            if dropped:
                try:
                    state[RELEASED_KEY] = True
                except Exception:
                    pass
                released.append(sid)
        return released

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)


REGISTRY = SessionRegistry()


# --- glue for pages (Streamlit) ----------------------------------------------------------------------------------


def _runtime_session_state(session_id: str) -> Any:
    """The SessionState of a live server session, or None (no server, or Streamlit has forgotten the session)."""
    from streamlit.runtime import Runtime
    from streamlit.runtime.session_manager import ActiveSessionInfo, SessionInfo

    try:
        info = Runtime.instance()._session_mgr.get_session_info(session_id)  # noqa: SLF001 (no public lookup by id)
    except (RuntimeError, AttributeError):  # no server (AppTest runs under a mock runtime)
        return None
    # A connected session's info is an ActiveSessionInfo, a disconnected one's a SessionInfo (not a subclass).
    return info.session.session_state if isinstance(info, (ActiveSessionInfo, SessionInfo)) else None


def _session() -> tuple[str | None, Callable[[], Any] | None]:
    """(a key for this browser session, a function that finds its state later)."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    if ctx is None:
        return None, None
    session_id = ctx.session_id
    if _runtime_session_state(session_id) is not None:
        # On a server the state is found again through Streamlit's session manager: the wrapper in the script
        # context is made anew for every run, and the state itself takes no weak references.
        return session_id, lambda: _runtime_session_state(session_id)
    # AppTest: every session is called "test session id" and gets a new state wrapper for each run, but the state
    # inside is the test session's own. It takes no weak reference; holding it is harmless in a test process.
    state = getattr(ctx.session_state, "_state", ctx.session_state)
    return f"{session_id}:{id(state)}", lambda: state


def session_key() -> str | None:
    """A key for this browser session (the one the registry uses), or None outside a script run."""
    return _session()[0]


def _t(key: str, **fmt: Any) -> str:
    return t(f"limits.{key}", **fmt)


def current() -> Limits:
    return read_limits()


def enforce(*, batch_size: int | None = None, config: Any = None) -> None:
    """Raise LimitError (translated message) if this batch size or model config is above the server's caps."""
    limits = current()
    if batch_size is not None:
        check_batch(batch_size, limits, message=lambda **f: _t("batch", **f))
    if config is not None:
        check_model_size(config, limits, message=lambda **f: _t("params", **f))


def heartbeat(*, training: bool, release_keys: Iterable[str] = ()) -> None:
    """Call on every run of a page that holds a model (and every live-view slice): keeps this session alive, counts
    it as training or not, and releases the models of sessions idle for longer than the limit."""
    session_id, resolve = _session()
    if session_id is None:
        return
    REGISTRY.heartbeat(session_id, training=training, resolve=resolve, release_keys=release_keys)
    REGISTRY.release_idle(current().idle_minutes * 60)


def request_training() -> str | None:
    """Before Start: None if this session may train now, else the message to show (the cap is reached)."""
    session_id, _ = _session()
    if session_id is None:
        return None
    cap = current().max_trainings
    if REGISTRY.try_start(session_id, cap):
        return None
    return _t("trainings", limit=cap)


def stop_training() -> None:
    session_id, _ = _session()
    if session_id is not None:
        REGISTRY.stop(session_id)


def released_notice() -> str | None:
    """The notice to show once after this session's model was released while idle, else None."""
    if st.session_state.pop(RELEASED_KEY, False):
        return _t("released", minutes=f"{current().idle_minutes:g}")
    return None
