"""Shareable set-ups, the half without Streamlit (ui/share/sync.py is the glue). Pure: `Param` schemas, and
parsing and encoding a set-up to and from a ``Mapping[str, str]`` (the URL query), with every untrusted value checked. No Streamlit and no translations here:
this is what tests/test_share.py checks on its own, and tests/test_layering.py keeps it that way.
"""

from __future__ import annotations

import logging
import math
import numbers
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from urllib.parse import urlencode

Value = bool | int | float | str
Schema = tuple["Param", ...]

MAX_VALUE_CHARS = 32  # longer URL values are refused before any parsing
# Names other modules own in the URL; a set-up may not use them.
RESERVED_KEYS = frozenset({"lang", "teacher", "tstep", "embed", "embed_options"})

_KEY = re.compile(r"[a-z][a-z0-9_]{0,15}")
_INT = re.compile(r"[+-]?\d{1,18}")
_FLOAT = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d{1,3})?")
_TRUE, _FALSE = frozenset({"1", "true", "yes", "on"}), frozenset({"0", "false", "no", "off"})

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


def validate_schema(schema: Schema) -> None:
    """Raises ValueError for a set-up that would clash in the URL or in session state."""
    keys = [p.key for p in schema]
    widgets = [p.widget for p in schema if p.widget is not None]
    if len(set(keys)) != len(keys) or len(set(widgets)) != len(widgets):
        raise ValueError(f"duplicate URL names or widget keys in {keys}")
    if RESERVED_KEYS & set(keys):
        raise ValueError(f"reserved URL names in a set-up: {sorted(RESERVED_KEYS & set(keys))}")
