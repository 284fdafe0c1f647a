"""Shareable set-ups: a page's settings in the URL query string, typed and validated both ways.

A page describes its set-up once, as a tuple of `Param` (URL name, default, allowed range or choices, and
optionally the session-state key of the widget that shows it)::

    TRAIN_SETUP = (
        Param("preset", "gan_mlp_live", choices=LIVE_GAN_PRESETS, widget="train_preset", label="train.preset"),
        Param("lr_g", 2e-4, low=1e-6, high=1e-1, widget="train_lr_g"),
        Param("seed", 0, low=0, high=SEED_MAX, widget="train_seed"),
    )

and adopts sharing with two lines around its widgets::

    sync_setup(TRAIN_SETUP)        # before the widgets: a new link's values go into the widgets, notices shown
    ...                            # the page's widgets, unchanged (same keys)
    write_setup(TRAIN_SETUP)       # after them: non-default values go to the URL (short links)
    share_link_box(TRAIN_SETUP)    # optional: the link to copy

Whatever arrives in the URL is untrusted: a value that does not parse, is not finite, is out of range, is not
one of the choices or is absurdly long falls back to the default, and a `Notice` says so (``show_notices``). The
page and the language are not set-up fields: the page is the URL path, and ``?lang=`` is kept by `ui.i18n`.

The parsing and encoding (`parse_setup`, `encode_setup`, `parse_value`, `encode_value`) are pure functions of a
``Mapping[str, str]`` in ui/share/codec.py, tested without Streamlit; this module adds the
translated notices and the thin Streamlit glue.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from urllib.parse import urlencode

import streamlit as st

from ui.catalog import DEFAULT_LANG, LANGUAGES
from ui.i18n import QUERY_PARAM, t
from ui.server.parking import PARAM as PARK_PARAM
from ui.share.codec import (
    Notice, Param, Schema, SetupValueError, Value, display_raw, encode_setup,
    encode_value, is_default, parse_setup, parse_value, validate_schema,
)

_APPLIED_KEY = "_aigc_share_applied"  # schema id -> the URL items this session last applied or wrote


# ----------------------------------------------------------------------------------------------- translated text


def format_default(param: Param) -> str:
    value = param.default
    if isinstance(value, bool):
        return t("share.yes") if value else t("share.no")
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def notice_text(notice: Notice) -> str:
    param = notice.param
    name = t(param.label) if param.label else param.key
    if notice.reason == "out_of_range" and param.low is not None and param.high is not None:
        reason = t("share.reason.range", low=f"{param.low:g}", high=f"{param.high:g}")
    else:
        reason = t(f"share.reason.{notice.reason}")
    return t("share.notice", name=name, value=display_raw(notice.raw), reason=reason,
             default=format_default(param))


# ----------------------------------------------------------------------------------------------- Streamlit glue


def current_params() -> dict[str, str]:
    """The URL's query parameters (the last value of a repeated one)."""
    return {key: st.query_params[key] for key in st.query_params}


def read_setup(schema: Schema) -> tuple[dict[str, Value], list[Notice]]:
    """The set-up in the URL right now, validated (see `parse_setup`)."""
    return parse_setup(schema, current_params())


def show_notices(notices: Iterable[Notice | str], *, toast: bool = False) -> None:
    """One info box listing every notice (a `Notice` or an already translated text); nothing if there are none."""
    lines = [n if isinstance(n, str) else notice_text(n) for n in notices]
    if not lines:
        return
    st.info(t("share.notices_heading") + "\n\n" + "\n".join(f"- {line}" for line in lines), icon=":material/link_off:")
    if toast:
        st.toast(t("share.notices_toast", count=len(lines)), icon=":material/link_off:")


def _schema_id(schema: Schema) -> str:
    return ",".join(p.key for p in schema)


def _relevant(schema: Schema, params: Mapping[str, str]) -> dict[str, str]:
    keys = {p.key for p in schema}
    return {k: v for k, v in params.items() if k in keys}


def pending_link(schema: Schema) -> tuple[dict[str, Value], list[Notice]] | None:
    """The URL's set-up if it is a link this session has not applied or written yet, else None.

    Returns ``(values, notices)`` once per link (the link is then marked applied). A URL without any set-up
    parameter (e.g. after a page switch, which drops the query string) is never pending. For pages that put
    the values into their widgets themselves; `sync_setup` does it for widgets named in the schema.
    """
    validate_schema(schema)
    params = current_params()
    relevant = _relevant(schema, params)
    applied_by_schema = st.session_state.setdefault(_APPLIED_KEY, {})
    if not relevant or relevant == applied_by_schema.get(_schema_id(schema)):
        return None
    applied_by_schema[_schema_id(schema)] = relevant
    return parse_setup(schema, params)


def sync_setup(schema: Schema, *, show: bool = True) -> tuple[dict[str, Value], list[Notice], bool]:
    """Call before the page's widgets. Returns ``(values, notices, applied)``.

    When the URL carries a link not applied yet (`pending_link`), its validated values go into the widgets'
    session state (fields with a ``widget`` key), the notices are shown (``show=True``) and ``applied`` is True.
    Otherwise the widgets keep what the user chose, and ``values`` is what the URL says now.
    """
    pending = pending_link(schema)
    if pending is None:
        values, _ = read_setup(schema)
        return values, [], False
    values, notices = pending
    for param in schema:
        if param.widget is not None:
            st.session_state[param.widget] = values[param.key]
    if show:
        show_notices(notices)
    return values, notices, True


def widget_values(schema: Schema) -> dict[str, Value]:
    """The current value of every field that has a widget key (its default when the widget is not shown)."""
    return {p.key: st.session_state.get(p.widget, p.default) for p in schema if p.widget is not None}


def write_setup(schema: Schema, values: Mapping[str, object] | None = None) -> dict[str, str]:
    """Call after the page's widgets: put the set-up into the URL, non-default fields only; returns them.

    ``values`` defaults to `widget_values`. Default fields and refused values are removed from the URL; other
    parameters (``lang``, ``teacher``…) are left alone.
    """
    values = widget_values(schema) if values is None else values
    encoded = encode_setup(schema, values)
    current = current_params()
    for param in schema:
        wanted = encoded.get(param.key)
        if wanted is None and param.key in current:
            del st.query_params[param.key]
        elif wanted is not None and current.get(param.key) != wanted:
            st.query_params[param.key] = wanted
    st.session_state.setdefault(_APPLIED_KEY, {})[_schema_id(schema)] = dict(encoded)
    return encoded


def share_link(schema: Schema | None = None, values: Mapping[str, object] | None = None) -> str:
    """The link to this page with its set-up (the current URL parameters, or ``values`` for ``schema``).

    Absolute when the browser told Streamlit its URL (``st.context.url``), else relative to the app.
    """
    params = current_params()
    params.pop(PARK_PARAM, None)  # the tab's own run (ui/server/parking.py): never part of a link for someone else
    if schema is not None and values is not None:
        keys = {p.key for p in schema}
        params = {**{k: v for k, v in params.items() if k not in keys}, **encode_setup(schema, values)}
    base = None
    try:
        base = st.context.url
    except Exception:  # no browser context (bare script or test)
        base = None
    query = urlencode(params)
    return f"{base or ''}?{query}" if query else (base or "")


def share_link_box(schema: Schema | None = None, values: Mapping[str, object] | None = None) -> str:
    """An expander with this set-up's link in a code box (it has a copy button). Returns the link."""
    link = share_link(schema, values)
    with st.expander(t("share.heading"), icon=":material/link:"):
        st.caption(t("share.explain"))
        st.code(link, language=None, wrap_lines=True)
    return link


def sticky_param(param: Param, state_key: str) -> tuple[Value, Notice | None]:
    """A URL parameter that survives page switches (like ``?lang=``): URL first, then this session's last value.

    A valid URL value is remembered; an invalid one is removed from the URL and reported. When the URL lacks
    the parameter (a page switch drops the query string), a non-default remembered value is written back.
    """
    raw = st.query_params.get(param.key)
    if raw is not None:
        try:
            value = parse_value(param, raw)
        except SetupValueError as exc:
            del st.query_params[param.key]
            value = st.session_state.get(state_key, param.default)
            return value, Notice(param.key, raw, exc.reason, param.default, param)
        st.session_state[state_key] = value
        return value, None
    value = st.session_state.get(state_key, param.default)
    if not is_default(param, value):
        st.query_params[param.key] = encode_value(param, value)
    return value, None


def set_sticky(param: Param, state_key: str, value: Value) -> None:
    """Change a sticky parameter now: session state and URL (the default removes it from the URL)."""
    st.session_state[state_key] = value
    if is_default(param, value):
        if param.key in st.query_params:
            del st.query_params[param.key]
    else:
        st.query_params[param.key] = encode_value(param, value)


def language_notices() -> list[Notice]:
    """Call before `ui.i18n.current_language`: an unknown ``?lang=`` is removed from the URL and reported."""
    raw = st.query_params.get(QUERY_PARAM)
    if raw is None or raw in LANGUAGES:
        return []
    del st.query_params[QUERY_PARAM]
    param = Param(QUERY_PARAM, DEFAULT_LANG, choices=tuple(LANGUAGES), label="common.language")
    return [Notice(param.key, raw, "not_a_choice", param.default, param)]
