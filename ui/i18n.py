"""The session's language and ``t``: the Streamlit side of translations (the catalogs are ui/catalog.py).

The language comes from the ``lang`` query parameter (``?lang=zh``), default English. It is also kept in session
state, because switching pages drops the query string; the next run writes it back to the URL. ``t`` never
raises: a missing key shows ``⟦key⟧``.
"""

from __future__ import annotations

import logging

import streamlit as st

from ui.catalog import DEFAULT_LANG, LANGUAGES, Catalog, Translator, fingerprint, load_catalog, render

QUERY_PARAM = "lang"
_STATE_KEY = "_aigc_lang"  # this session's language, kept across page switches
_WIDGET_KEY = "_aigc_lang_selector"

_log = logging.getLogger(__name__)


def _still_current(catalog: Catalog) -> bool:
    return catalog.fingerprint == fingerprint(catalog.lang)


# Shared by all sessions: the catalog is immutable. It reloads when a locale file changes on disk.
@st.cache_resource(show_spinner=False, validate=_still_current)
def _cached_catalog(lang: str) -> Catalog:
    return load_catalog(lang, strict=False)


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


def translator() -> Translator:
    """The current language's translator (its catalog is the shared, cached one)."""
    return Translator(_cached_catalog(current_language()))


def t(key: str, /, **fmt: object) -> str:
    """The text for ``key`` in the current language, formatted with ``fmt``. Never raises."""
    try:
        text = _cached_catalog(current_language()).strings.get(key)
    except Exception:  # a translation problem must never break a page
        _log.exception("i18n: could not load strings for %r", key)
        text = None
    return render(key, text, fmt)


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
        help=t("common.language_help"),
    )
    return lang
