"""Translations: both languages have the same keys, no empty strings, and the same placeholders."""

from __future__ import annotations

import re

import pytest

from ui.catalog import LANGUAGES, LOCALES_DIR, all_keys, load_catalog, missing_marker

# A str.format placeholder such as {name} or {value:.3f}; "{{" and "}}" are literal braces, not placeholders.
_PLACEHOLDER = re.compile(r"(?<!\{)\{([A-Za-z_][A-Za-z0-9_]*)(?:[!:][^{}]*)?\}(?!\})")


def _placeholders(text: str) -> set[str]:
    return set(_PLACEHOLDER.findall(text.replace("{{", "").replace("}}", "")))


def test_every_language_has_a_folder_with_files():
    for lang in LANGUAGES:
        assert sorted((LOCALES_DIR / lang).glob("*.toml")), f"no TOML files in locales/{lang}"


def test_same_files_in_every_language():
    names = {lang: sorted(p.name for p in (LOCALES_DIR / lang).glob("*.toml")) for lang in LANGUAGES}
    assert names["zh"] == names["en"]


def test_same_keys_in_every_language():
    en = all_keys("en")
    for lang in LANGUAGES:
        keys = all_keys(lang)
        assert not en - keys, f"missing in {lang}: {sorted(en - keys)}"
        assert not keys - en, f"only in {lang}: {sorted(keys - en)}"


@pytest.mark.parametrize("lang", list(LANGUAGES))
def test_no_empty_values(lang):
    empty = sorted(k for k, v in load_catalog(lang).strings.items() if not v.strip())
    assert not empty, f"empty strings in {lang}: {empty}"


def test_placeholders_match_between_languages():
    en = load_catalog("en").strings
    for lang in LANGUAGES:
        other = load_catalog(lang).strings
        mismatched = {
            k: (sorted(_placeholders(en[k])), sorted(_placeholders(other[k])))
            for k in en.keys() & other.keys()
            if _placeholders(en[k]) != _placeholders(other[k])
        }
        assert not mismatched, f"placeholders differ between en and {lang}: {mismatched}"


def test_no_value_contains_the_missing_marker():
    for lang in LANGUAGES:
        bad = sorted(k for k, v in load_catalog(lang).strings.items() if "⟦" in v or "⟧" in v)
        assert not bad, f"{lang}: values contain the missing-key marker: {bad}"


def test_missing_key_shows_a_marker_and_never_raises():
    from ui.i18n import t

    assert t("home.no_such_key") == missing_marker("home.no_such_key") == "⟦home.no_such_key⟧"
    assert t("no_such_file.key", x=1) == "⟦no_such_file.key⟧"


def test_formatting():
    from ui.i18n import t

    assert t("common.device_cpu", threads=4) == "CPU (4 threads)"
    # A missing argument does not raise; it shows the text plus a marker.
    assert "⟦" in t("common.device_cpu", wrong=4)
