"""Shareable set-ups: set-up → URL → the same set-up, and tampered links fall back to defaults with a notice."""

from __future__ import annotations

import math
from urllib.parse import parse_qsl

import pytest

from ui.share.codec import (
    MAX_VALUE_CHARS,
    Param,
    SetupValueError,
    display_raw,
    encode_setup,
    encode_value,
    parse_setup,
    parse_value,
    setup_query,
    validate_schema,
)
from ui.share.sync import notice_text

SCHEMA = (
    Param("preset", "gan_mlp_live", choices=("gan_mlp_live", "gan_seed_mlp", "dcgan"), label="nav.train"),
    Param("loss", "non_saturating", choices=("minimax", "non_saturating", "wgan_gp")),
    Param("lr", 2e-4, low=1e-6, high=1e-1),
    Param("lr_d", 2e-4, choices=(5e-5, 1e-4, 2e-4, 5e-4, 1e-3)),
    Param("k", 1, low=1, high=10),
    Param("seed", 0, low=0, high=2**31 - 1),
    Param("beta", 1.0, low=0.0, high=10.0),
    Param("ema", False),
)
DEFAULTS = {p.key: p.default for p in SCHEMA}


def _url_round_trip(values):
    """set-up → query string → parsed back, the way a browser would hand it over."""
    query = setup_query(SCHEMA, values, extra={"lang": "zh"})
    params = dict(parse_qsl(query, keep_blank_values=True))
    assert params.pop("lang") == "zh"
    return query, parse_setup(SCHEMA, params)


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"preset": "dcgan", "loss": "wgan_gp", "lr": 1e-3, "lr_d": 5e-5, "k": 5, "seed": 12345, "beta": 0.25,
         "ema": True},
        {"lr": 0.01 + 0.02, "seed": 2**31 - 1, "beta": 0.0},  # awkward floats and the bounds themselves
        {"lr": 1e-6, "k": 10},
    ],
)
def test_round_trip_gives_the_same_setup(changes):
    values = {**DEFAULTS, **changes}
    _query, (parsed, notices) = _url_round_trip(values)
    assert notices == []
    assert parsed == values
    assert all(type(parsed[k]) is type(DEFAULTS[k]) for k in parsed)


def test_only_non_default_fields_are_written():
    assert encode_setup(SCHEMA, DEFAULTS) == {}
    assert encode_setup(SCHEMA, {**DEFAULTS, "k": 3, "lr": 1e-3}) == {"k": "3", "lr": "0.001"}
    # An int given for a float field, or a float default written as another float, is still the default.
    assert encode_setup(SCHEMA, {"beta": 1, "lr": 0.0002}) == {}
    query, _ = _url_round_trip({**DEFAULTS, "seed": 7})
    assert query == "lang=zh&seed=7"


def test_missing_fields_are_defaults_and_unknown_parameters_are_ignored():
    values, notices = parse_setup(SCHEMA, {"lang": "zh", "teacher": "1", "utm_source": "x"})
    assert values == DEFAULTS and notices == []


@pytest.mark.parametrize(
    "key, raw, reason",
    [
        ("lr", "abc", "invalid"),
        ("lr", "nan", "invalid"),
        ("lr", "NaN", "invalid"),
        ("lr", "inf", "invalid"),
        ("lr", "-inf", "invalid"),
        ("lr", "1e999", "out_of_range"),
        ("lr", "1e9", "out_of_range"),
        ("lr", "0x10", "invalid"),
        ("lr", "1_0", "invalid"),
        ("lr", "", "invalid"),
        ("lr", "0", "out_of_range"),
        ("lr_d", "3e-4", "not_a_choice"),
        ("seed", "-5", "out_of_range"),
        ("seed", "1.5", "invalid"),
        ("seed", "9" * 18, "out_of_range"),
        ("seed", "9" * 30, "invalid"),
        ("seed", "1" * (MAX_VALUE_CHARS + 1), "too_long"),
        ("k", "0", "out_of_range"),
        ("k", "11", "out_of_range"),
        ("preset", "rm -rf", "not_a_choice"),
        ("preset", "<script>alert(1)</script>", "not_a_choice"),
        ("preset", "DCGAN", "not_a_choice"),
        ("preset", " dcgan", "not_a_choice"),
        ("preset", "x" * 500, "too_long"),
        ("ema", "maybe", "invalid"),
        ("beta", "-0.5", "out_of_range"),
    ],
)
def test_tampered_values_fall_back_to_the_default_with_a_notice(key, raw, reason):
    params = {"k": "4", key: raw} if key != "k" else {key: raw}
    values, notices = parse_setup(SCHEMA, params)
    assert values[key] == DEFAULTS[key]
    if key != "k":
        assert values["k"] == 4  # the other, valid fields of the link still apply
    assert [(n.key, n.raw, n.reason, n.default) for n in notices] == [(key, raw, reason, DEFAULTS[key])]


def test_accepted_spellings():
    lr = SCHEMA[2]
    assert parse_value(lr, "2e-4") == parse_value(lr, "0.0002") == parse_value(lr, " 2E-4 ") == 2e-4
    assert parse_value(SCHEMA[3], "0.00020000000001") == 2e-4  # matches the choice, returns it exactly
    assert parse_value(SCHEMA[5], "+42") == 42
    assert [parse_value(SCHEMA[7], s) for s in ("1", "true", "ON", "0", "no")] == [True, True, True, False, False]


def test_encode_refuses_values_the_schema_does_not_allow():
    with pytest.raises(SetupValueError):
        encode_value(SCHEMA[2], math.nan)
    with pytest.raises(SetupValueError):
        encode_value(SCHEMA[0], "rm -rf")
    with pytest.raises(SetupValueError):
        encode_value(SCHEMA[4], True)  # a bool is not an int here
    # encode_setup leaves such a value out instead of writing a link that would not read back.
    assert encode_setup(SCHEMA, {"k": 99, "seed": 3}) == {"seed": "3"}


def test_schema_rules():
    with pytest.raises(ValueError):
        Param("name", "free text")  # text needs choices
    with pytest.raises(ValueError):
        Param("k", 0, low=1, high=3)  # default outside its own range
    with pytest.raises(ValueError):
        Param("Bad-Key", 1)
    with pytest.raises(ValueError):
        validate_schema((Param("lang", 1),))  # owned by ui.i18n
    with pytest.raises(ValueError):
        validate_schema((Param("a", 1, widget="w"), Param("b", 2, widget="w")))
    validate_schema(SCHEMA)


def test_notice_text_is_translated_and_safe():
    _, notices = parse_setup(SCHEMA, {"preset": "`rm -rf`\n**x**", "seed": "-5"})
    texts = [notice_text(n) for n in notices]
    assert "⟦" not in "".join(texts)
    assert "`" not in display_raw("`rm -rf`") and "\n" not in display_raw("a\nb")
    assert len(display_raw("x" * 100)) <= 24
    assert "0 to 2.14748e+09" in texts[1] or "2147483647" in texts[1]
