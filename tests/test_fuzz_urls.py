"""Property-based fuzzing (Hypothesis) of the URL parameters every shared link carries (ui/share/codec.py), with
the pages' real schemas (Train for each of its presets, the 2-D Playground).

Properties: any query string parses without raising, every value it yields is one the schema allows (so a widget
can always show it), and the values a page writes read back unchanged with no notice. Deterministic: derandomize
and no example database. Seeded with the tampered links a careless or hostile user would try.
"""

from __future__ import annotations

import math

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ui.playground import link as playground_link
from ui.share.codec import MAX_VALUE_CHARS, Param, encode_setup, parse_setup
from ui.train.link import train_presets, train_schema_for

FUZZ = settings(max_examples=150, deadline=1000, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow])
SCHEMAS = {**{f"train:{name}": train_schema_for(name) for name in sorted(train_presets())},
           "playground": playground_link.setup()}
HOSTILE = ["", " ", "nan", "inf", "-inf", "1e309", "-0", "0x10", "1_000", "true", "ＴＲＵＥ", "１２８", "1e9",
           "![x](http://img.example.invalid/a.png)", "<script>alert(1)</script>", "a" * (MAX_VALUE_CHARS + 1),
           "\u202e", "\x00", "0.1.2", "[1,2]", "%00", "rm -rf /"]


def allowed(param: Param, value: object) -> bool:
    """Is `value` one the schema allows (the type of the default, within the bounds or among the choices)?"""
    if type(value) is not param.kind:
        return False
    if isinstance(value, float) and not math.isfinite(value):
        return False
    if param.choices is not None:
        if isinstance(value, float):
            return any(math.isclose(value, c, rel_tol=1e-9) for c in param.choices)
        return value in param.choices
    return ((param.low is None or value >= param.low) and (param.high is None or value <= param.high))


@st.composite
def queries(draw) -> tuple[str, dict[str, str]]:
    name = draw(st.sampled_from(sorted(SCHEMAS)))
    keys = [p.key for p in SCHEMAS[name]] + ["lang", "run", "teacher", "x"]
    raw = st.sampled_from(HOSTILE) | st.text(max_size=40) | st.floats(allow_nan=True).map(str) | st.integers().map(str)
    return name, draw(st.dictionaries(st.sampled_from(keys), raw, max_size=len(keys)))


@FUZZ
@given(query=queries())
@example(query=("playground", {"seed": "1e309", "k": "nan", "data": "<img src=x>", "width": "-1"}))
@example(query=("train:gan_mlp_live", {"preset": "dcgan\x00", "batch": "100", "lr_g": "inf", "k": "1e9"}))
def test_any_query_parses_to_values_the_widgets_can_show(query):
    name, params = query
    schema = SCHEMAS[name]
    values, notices = parse_setup(schema, params)
    assert set(values) == {p.key for p in schema}
    for param in schema:
        assert allowed(param, values[param.key]), (param.key, values[param.key])
    assert {n.key for n in notices} <= set(params)  # a notice only ever names a parameter the link had


@FUZZ
@given(query=queries())
def test_what_a_page_writes_reads_back_unchanged(query):
    name, params = query
    schema = SCHEMAS[name]
    values, _ = parse_setup(schema, params)  # any values the page could hold
    again, notices = parse_setup(schema, encode_setup(schema, values))
    assert notices == [] and again == values


def test_the_allowed_check_can_fail():
    param = Param("k", 1, low=1, high=50)
    assert allowed(param, 50) and not allowed(param, 51) and not allowed(param, 1.0)
