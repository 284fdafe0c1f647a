"""Translation catalogs. Pure (no Streamlit import): every user-facing string lives in ``locales/<lang>/<file>.toml``.

A key is ``<file>.<key>``: ``home.title`` is ``title`` in ``locales/<lang>/home.toml``. Tables inside a file nest
with dots (``[intro] lead = "..."`` in ``home.toml`` is ``home.intro.lead``). Every ``*.toml`` file in the folder is
loaded, so a page adds its strings by adding its own file to both languages.

A `Translator` is one language's catalog as a function (``tr("train.title")``). Pure code (a redraw, a chart
builder, a bench) takes one as an argument; pages use ``ui.i18n.t``, which picks the session's language.
A missing key shows ``⟦key⟧`` so it is easy to spot on screen and in tests; nothing here raises on a bad string.

Placeholders: ``tr("common.device_cpu", threads=4)`` formats ``"CPU ({threads} threads)"`` with ``str.format``.
Formatting only happens when keyword arguments are passed, so strings without placeholders (e.g. LaTeX such as
``\\frac{a}{b}``) need no escaping; a string that is formatted must write a literal brace as ``{{`` or ``}}``.
"""

from __future__ import annotations

import logging
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
# Language names are shown in their own language (an endonym), so they are the same in every locale.
LANGUAGES: Mapping[str, str] = MappingProxyType({"en": "English", "zh": "中文"})
DEFAULT_LANG = "en"
MISSING_OPEN, MISSING_CLOSE = "⟦", "⟧"

_log = logging.getLogger("ui.i18n")


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


def fingerprint(lang: str) -> tuple[tuple[str, int, int], ...]:
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
    files = fingerprint(lang)
    strings: dict[str, str] = {}
    errors: list[str] = []
    if not files:
        errors.append(f"no translation files in {folder}")
    for name, _size, _mtime in files:
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
    return Catalog(lang, MappingProxyType(strings), files, tuple(errors))


def all_keys(lang: str) -> set[str]:
    """Every key of a language (strict load: raises ``ValueError`` on a malformed file). For tests."""
    return set(load_catalog(lang, strict=True).strings)


def missing_marker(key: str) -> str:
    return f"{MISSING_OPEN}{key}{MISSING_CLOSE}"


@dataclass(frozen=True)
class Translator:
    """``t`` bound to one language's catalog, with no Streamlit call: what pure functions take as an argument
    (``redraw_data(run, tr)``; a bench or test builds one with `load_translator`)."""

    catalog: Catalog

    @property
    def lang(self) -> str:
        return self.catalog.lang

    def __call__(self, key: str, /, **fmt: object) -> str:
        return render(key, self.catalog.strings.get(key), fmt)


def load_translator(lang: str) -> Translator:
    """A translator read from disk, for code outside a Streamlit run (benches, tests)."""
    return Translator(load_catalog(lang, strict=False))


def render(key: str, text: str | None, fmt: Mapping[str, object]) -> str:
    if text is None:
        return missing_marker(key)
    if not fmt:
        return text
    try:
        return text.format(**fmt)
    except (KeyError, IndexError, ValueError, AttributeError) as exc:
        _log.warning("i18n: cannot format %r with %s: %r", key, sorted(fmt), exc)
        return f"{text} {missing_marker(key + ': format')}"
