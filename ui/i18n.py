"""Translations: every user-facing string lives in ``locales/<lang>/<file>.toml``.

A key is ``<file>.<key>``: ``t("home.title")`` reads ``title`` from ``locales/<lang>/home.toml``. Tables inside a
file nest with dots (``[intro] lead = "..."`` in ``home.toml`` is ``home.intro.lead``). Every ``*.toml`` file in
the folder is loaded, so a page adds its strings by adding its own file to both languages.

``t`` never raises: a missing key shows ``⟦key⟧`` so it is easy to spot on screen and in tests.

Placeholders: ``t("common.device_cpu", threads=4)`` formats ``"CPU ({threads} threads)"`` with ``str.format``.
Formatting only happens when keyword arguments are passed, so strings without placeholders (e.g. LaTeX such as
``\\frac{a}{b}``) need no escaping; a string that is formatted must write a literal brace as ``{{`` or ``}}``.

The language comes from the ``lang`` query parameter (``?lang=zh``), default English. It is also kept in session
state, because switching pages drops the query string; the next run writes it back to the URL.
"""

from __future__ import annotations

import logging
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

import streamlit as st

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
# Language names are shown in their own language (an endonym), so they are the same in every locale.
LANGUAGES: Mapping[str, str] = MappingProxyType({"en": "English", "zh": "中文"})
DEFAULT_LANG = "en"
QUERY_PARAM = "lang"
MISSING_OPEN, MISSING_CLOSE = "⟦", "⟧"

_STATE_KEY = "_aigc_lang"  # the language this session last used
_WIDGET_KEY = "_aigc_lang_selector"

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Catalog:
    """The strings of one language: an immutable ``key -> text`` mapping plus what it was loaded from."""

    lang: str
    strings: Mapping[str, str]
    fingerprint: tuple[tuple[str, int, int], ...] = field(repr=False)
    errors: tuple[str, ...] = ()


def _flatten(prefix: str, table: Mapping[str, object], out: dict[str, str], errors: list[str]) -> None:
    for name, value in table.items():
        key = f"{prefix}.{name}"
        if isinstance(value, Mapping):
            _flatten(key, value, out, errors)
        elif isinstance(value, str):
            out[key] = value
        else:
            errors.append(f"{key}: value must be a string, got {type(value).__name__}")


def _fingerprint(lang: str) -> tuple[tuple[str, int, int], ...]:
    """(name, size, mtime) of every TOML file of a language: changes when a file is added or edited."""
    try:
        entries = [e for e in os.scandir(LOCALES_DIR / lang) if e.name.endswith(".toml") and e.is_file()]
    except FileNotFoundError:
        return ()
    return tuple(sorted((e.name, e.stat().st_size, e.stat().st_mtime_ns) for e in entries))


def load_catalog(lang: str, *, strict: bool = True) -> Catalog:
    """Read every ``locales/<lang>/*.toml`` file.

    With ``strict=True`` (tests) a malformed file or a non-string value raises ``ValueError``. With
    ``strict=False`` (the running app) the problem is logged and recorded in ``Catalog.errors``, and the other
    files still load, so one engineer's half-edited file does not take down every page.
    """
    folder = LOCALES_DIR / lang
    fingerprint = _fingerprint(lang)
    strings: dict[str, str] = {}
    errors: list[str] = []
    if not fingerprint:
        errors.append(f"no translation files in {folder}")
    for name, _size, _mtime in fingerprint:
        path = folder / name
        try:
            with path.open("rb") as f:
                table = tomllib.load(f)
        except (OSError, tomllib.TOMLDecodeError) as exc:
            errors.append(f"{path}: {exc}")
            continue
        _flatten(path.stem, table, strings, errors)
    if errors:
        if strict:
            raise ValueError("; ".join(errors))
        for message in errors:
            _log.warning("i18n: %s", message)
    return Catalog(lang, MappingProxyType(strings), fingerprint, tuple(errors))


def _still_current(catalog: Catalog) -> bool:
    return catalog.fingerprint == _fingerprint(catalog.lang)


# Shared by all sessions: the catalog is immutable. It reloads when a locale file changes on disk.
@st.cache_resource(show_spinner=False, validate=_still_current)
def _cached_catalog(lang: str) -> Catalog:
    return load_catalog(lang, strict=False)


def all_keys(lang: str) -> set[str]:
    """Every key of a language (strict load: raises ``ValueError`` on a malformed file). For tests."""
    return set(load_catalog(lang, strict=True).strings)


def missing_marker(key: str) -> str:
    return f"{MISSING_OPEN}{key}{MISSING_CLOSE}"


def current_language() -> str:
    """The language of this run: ``?lang=`` if valid, else what this session used last, else English."""
    requested = st.query_params.get(QUERY_PARAM)
    if requested in LANGUAGES:
        st.session_state[_STATE_KEY] = requested
        return requested
    lang = st.session_state.get(_STATE_KEY, DEFAULT_LANG)
    if requested is None and lang != DEFAULT_LANG:
        # A page switch drops the query string; put the language back so the URL stays shareable.
        st.query_params[QUERY_PARAM] = lang
    return lang


def t(key: str, /, **fmt: object) -> str:
    """The text for ``key`` in the current language, formatted with ``fmt``. Never raises."""
    try:
        catalog = _cached_catalog(current_language())
        text = catalog.strings.get(key)
    except Exception:  # a translation problem must never break a page
        _log.exception("i18n: could not load strings for %r", key)
        text = None
    if text is None:
        return missing_marker(key)
    if not fmt:
        return text
    try:
        return text.format(**fmt)
    except (KeyError, IndexError, ValueError, AttributeError) as exc:
        _log.warning("i18n: cannot format %r with %s: %r", key, sorted(fmt), exc)
        return f"{text} {missing_marker(key + ': format')}"


def _on_language_change() -> None:
    lang = st.session_state.get(_WIDGET_KEY) or DEFAULT_LANG
    st.session_state[_STATE_KEY] = lang
    st.query_params[QUERY_PARAM] = lang


def language_selector() -> str:
    """A language switch (place it in the sidebar). Writes the choice to ``?lang=``; returns the language."""
    lang = current_language()
    st.session_state[_WIDGET_KEY] = lang  # keep the widget in step with the URL
    st.segmented_control(
        t("common.language"),
        options=list(LANGUAGES),
        format_func=LANGUAGES.__getitem__,
        required=True,
        key=_WIDGET_KEY,
        on_change=_on_language_change,
    )
    return lang
