"""Shareable set-ups: a page's settings in the URL query string, typed and validated both ways.

A page describes its set-up once, as a tuple of `Param` (URL name, default, allowed range or choices, and
optionally the session-state key of the widget that shows it)::

    TRAIN_SETUP = (
        Param("preset", "gan_mlp_live", choices=LIVE_GAN_PRESETS, widget="train_preset", label="train.preset"),
        Param("lr_g", 2e-4, low=1e-6, high=1e-1, widget="train_lr_g"),
        Param("seed", 0, low=0, high=2**31 - 1, widget="train_seed"),
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
``Mapping[str, str]`` and are tested without Streamlit; the Streamlit glue below them is thin.
"""

from __future__ import annotations

import logging
import math
import numbers
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from urllib.parse import urlencode

import streamlit as st

from ui.i18n import t
from ui.parking import PARAM as PARK_PARAM

Value = bool | int | float | str
Schema = tuple["Param", ...]

MAX_VALUE_CHARS = 32  # longer URL values are refused before any parsing
# Names other modules own in the URL; a set-up may not use them.
RESERVED_KEYS = frozenset({"lang", "teacher", "tstep", "embed", "embed_options"})

_KEY = re.compile(r"[a-z][a-z0-9_]{0,15}")
_INT = re.compile(r"[+-]?\d{1,18}")
_FLOAT = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d{1,3})?")
_TRUE, _FALSE = frozenset({"1", "true", "yes", "on"}), frozenset({"0", "false", "no", "off"})

_APPLIED_KEY = "_aigc_share_applied"  # schema id -> the URL items this session last applied or wrote

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Param:
    """One set-up field. Its type is the type of ``default`` (bool, int, float or str).

    - ``low`` / ``high``: inclusive bounds for numbers. ``choices``: the only allowed values (required for
      strings, so a URL can never inject free text; for floats a choice matches within 1e-9 relative).
    - ``widget``: session-state key of the widget showing this field (used by `sync_setup` / `write_setup`).
    - ``label``: i18n key of the field's name, shown in notices; without it the URL name is shown.
    """

    key: str
    default: Value
    low: float | None = None
    high: float | None = None
    choices: tuple[Value, ...] | None = None
    widget: str | None = None
    label: str | None = None

    def __post_init__(self) -> None:
        if not _KEY.fullmatch(self.key):
            raise ValueError(f"invalid URL parameter name {self.key!r}")
        if isinstance(self.default, str) and self.choices is None:
            raise ValueError(f"{self.key}: a text parameter needs choices")
        if isinstance(self.default, bool) and (self.low is not None or self.high is not None):
            raise ValueError(f"{self.key}: a yes/no parameter has no range")
        if self.choices is not None:
            object.__setattr__(self, "choices", tuple(self.choices))
        if _check(self, self.default) is not None:
            raise ValueError(f"{self.key}: the default {self.default!r} is not allowed by its own rules")

    @property
    def kind(self) -> type:
        return type(self.default)


@dataclass(frozen=True)
class Notice:
    """A URL value that was not used. ``reason``: invalid, too_long, out_of_range or not_a_choice."""

    key: str
    raw: str
    reason: str
    default: Value
    param: Param


class SetupValueError(ValueError):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# ----------------------------------------------------------------------------------------------- pure codec


def _check(param: Param, value: Value) -> str | None:
    """None if ``value`` (already of the right type) is allowed, else the reason it is not."""
    if isinstance(value, float) and not math.isfinite(value):
        return "invalid"
    if param.choices is not None:
        return None if _match_choice(param, value) is not None else "not_a_choice"
    if isinstance(value, bool) or isinstance(value, str):
        return None
    if (param.low is not None and value < param.low) or (param.high is not None and value > param.high):
        return "out_of_range"
    return None


def _match_choice(param: Param, value: Value) -> Value | None:
    for choice in param.choices or ():
        if isinstance(value, float) and isinstance(choice, (int, float)) and not isinstance(choice, bool):
            if math.isclose(value, choice, rel_tol=1e-9, abs_tol=0.0):
                return choice
        elif type(value) is type(choice) and value == choice:
            return choice
    return None


def _coerce(param: Param, value: object) -> Value:
    """A Python value (e.g. from a widget) as the parameter's type; raises SetupValueError if it is not one."""
    kind = param.kind
    if isinstance(value, bool) or kind is bool:
        if isinstance(value, bool) and kind is bool:
            return value
    elif kind is int:
        if isinstance(value, numbers.Integral):
            return int(value)
        if isinstance(value, numbers.Real) and float(value).is_integer():
            return int(value)
    elif kind is float:
        if isinstance(value, numbers.Real):
            return float(value)
    elif isinstance(value, str):
        return value
    raise SetupValueError("invalid")


def parse_value(param: Param, raw: str) -> Value:
    """The typed value of one URL string; raises `SetupValueError` (with a ``reason``) when it is not allowed."""
    if len(raw) > MAX_VALUE_CHARS:
        raise SetupValueError("too_long")
    text = raw.strip()
    kind = param.kind
    value: Value
    if kind is bool:
        if text.lower() in _TRUE:
            value = True
        elif text.lower() in _FALSE:
            value = False
        else:
            raise SetupValueError("invalid")
    elif kind is int:
        if not _INT.fullmatch(text):
            raise SetupValueError("invalid")
        value = int(text)
    elif kind is float:
        if not _FLOAT.fullmatch(text):  # refuses nan, inf, hex, underscores, "1e99999"
            raise SetupValueError("invalid")
        value = float(text)
        if not math.isfinite(value):
            raise SetupValueError("out_of_range")
    else:
        value = raw  # text is compared exactly as given: " gan" is not "gan"
    reason = _check(param, value)
    if reason is not None:
        raise SetupValueError(reason)
    if param.choices is not None:
        value = _match_choice(param, value)  # the canonical choice (e.g. 2e-4 for "0.00020000000001")
    return value


def encode_value(param: Param, value: object) -> str:
    """The URL string of a value; raises `SetupValueError` if the value is not allowed."""
    value = _coerce(param, value)
    reason = _check(param, value)
    if reason is not None:
        raise SetupValueError(reason)
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return repr(value)  # the shortest text that reads back as exactly this float ("0.0002", "1e-05")
    return str(value)


def is_default(param: Param, value: object) -> bool:
    try:
        return encode_value(param, value) == encode_value(param, param.default)
    except SetupValueError:
        return False


def parse_setup(schema: Iterable[Param], params: Mapping[str, str]) -> tuple[dict[str, Value], list[Notice]]:
    """Every field's value from URL parameters: parsed, validated, or the default with a `Notice`.

    Unknown parameters are ignored (other parts of the app own them); a missing one is simply the default.
    """
    values: dict[str, Value] = {}
    notices: list[Notice] = []
    for param in schema:
        raw = params.get(param.key)
        if raw is None:
            values[param.key] = param.default
            continue
        try:
            values[param.key] = parse_value(param, str(raw))
        except SetupValueError as exc:
            values[param.key] = param.default
            notices.append(Notice(param.key, str(raw), exc.reason, param.default, param))
    return values, notices


def encode_setup(schema: Iterable[Param], values: Mapping[str, object]) -> dict[str, str]:
    """URL parameters for ``values``: only the fields that differ from their default (short links).

    A missing field counts as its default. A value the schema does not allow is left out (and logged), so a
    widget with a wider range than its schema can never produce a link that reads back differently.
    """
    out: dict[str, str] = {}
    for param in schema:
        if param.key not in values:
            continue
        try:
            text = encode_value(param, values[param.key])
        except SetupValueError as exc:
            _log.warning("share: %s=%r not encoded (%s)", param.key, values[param.key], exc.reason)
            continue
        if text != encode_value(param, param.default):
            out[param.key] = text
    return out


def with_defaults(schema: Iterable[Param], defaults: Mapping[str, object]) -> Schema:
    """The same schema with some defaults replaced (e.g. a preset's own settings), each checked by its rules."""
    return tuple(replace(p, default=_coerce(p, defaults[p.key])) if p.key in defaults else p for p in schema)


def setup_query(schema: Iterable[Param], values: Mapping[str, object], extra: Mapping[str, str] = {}) -> str:
    """The query string (without ``?``) of a set-up plus ``extra`` parameters such as ``lang``."""
    items = {**{k: v for k, v in extra.items() if v is not None}, **encode_setup(schema, values)}
    return urlencode(items)


def display_raw(raw: str, limit: int = 24) -> str:
    """A URL value made safe to show inside a Markdown code span: printable, no backticks, shortened."""
    cleaned = "".join(ch if ch.isprintable() and ch != "`" else "?" for ch in raw)
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"


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


def validate_schema(schema: Schema) -> None:
    """Raises ValueError for a set-up that would clash in the URL or in session state."""
    keys = [p.key for p in schema]
    widgets = [p.widget for p in schema if p.widget is not None]
    if len(set(keys)) != len(keys) or len(set(widgets)) != len(widgets):
        raise ValueError(f"duplicate URL names or widget keys in {keys}")
    if RESERVED_KEYS & set(keys):
        raise ValueError(f"reserved URL names in a set-up: {sorted(RESERVED_KEYS & set(keys))}")


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
    params.pop(PARK_PARAM, None)  # the tab's own run (ui/parking.py): never part of a link for someone else
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
    from ui.i18n import DEFAULT_LANG, LANGUAGES, QUERY_PARAM

    raw = st.query_params.get(QUERY_PARAM)
    if raw is None or raw in LANGUAGES:
        return []
    del st.query_params[QUERY_PARAM]
    param = Param(QUERY_PARAM, DEFAULT_LANG, choices=tuple(LANGUAGES), label="common.language")
    return [Notice(param.key, raw, "not_a_choice", param.default, param)]
