"""The Train and Playground set-ups as links: round trips, preset-relative defaults, and the widgets' options."""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import parse_qsl

import pytest

from aigc_core.presets import get_preset
from ui.playground import link as playground_link, settings as playground_settings
from ui.share.codec import encode_setup, parse_setup, setup_query, validate_schema
from ui.train import settings as train_settings
from ui.train.link import train_presets, train_schema_for, train_values


def _round_trip(schema, values):
    params = dict(parse_qsl(setup_query(schema, values)))
    return params, parse_setup(schema, params)


@pytest.mark.parametrize("preset", sorted(train_presets()))
def test_every_train_preset_is_a_short_link_and_reads_back(preset):
    family = train_presets()[preset]
    recipe = get_preset(preset)
    schema = train_schema_for(preset)
    validate_schema(schema)
    values = train_values(family, preset, "scratch", recipe.model_config, recipe.train_config)
    params, (parsed, notices) = _round_trip(schema, values)
    first = train_settings.PRESETS["gan"][0]
    assert params == ({} if preset == first else {"preset": preset})  # the preset's own settings: nothing else
    assert notices == [] and {k: parsed[k] for k in values} == values


def test_a_changed_train_setup_round_trips():
    recipe = get_preset("dcgan")
    config = replace(recipe.train_config, loss="hinge", d_steps=3, batch_size=128, seed=1234,
                     g_optim=replace(recipe.train_config.g_optim, lr=1e-3),
                     d_optim=replace(recipe.train_config.d_optim, lr=1e-4))
    values = train_values("gan", "dcgan", "scratch", replace(recipe.model_config, z_dim=100), config)
    params, (parsed, notices) = _round_trip(train_schema_for("dcgan"), values)
    assert params == {"preset": "dcgan", "loss": "hinge", "k": "3", "lr_g": "0.001", "lr_d": "0.0001",
                      "batch": "128", "z": "100", "seed": "1234"}
    assert notices == [] and {k: parsed[k] for k in values} == values


def test_train_link_tampering():
    schema = train_schema_for("gan_mlp_live")
    values, notices = parse_setup(schema, {"preset": "rm -rf", "lr_g": "abc", "k": "1e9", "batch": "100"})
    assert {n.key for n in notices} == {"preset", "lr_g", "k", "batch"}
    assert values["preset"] == train_settings.PRESETS["gan"][0] and values["batch"] == 64


def test_playground_schema_matches_its_widgets():
    schema = playground_link.setup()
    validate_schema(schema)
    for param in schema:
        assert playground_settings.DEFAULTS[param.widget] == param.default
    assert encode_setup(schema, {p.key: p.default for p in schema}) == {}
    values = {p.key: p.default for p in schema} | {"data": "spiral" if "spiral" in playground_settings.DATA_OPTIONS
                                                    else playground_settings.DATA_OPTIONS[1],
                                                    "loss": "wgan_gp", "k": 5, "lr_g": 0.03, "lr_d": 1e-4, "seed": 9}
    _params, (parsed, notices) = _round_trip(schema, values)
    assert notices == [] and parsed == values
