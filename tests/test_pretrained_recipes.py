"""Every folder in pretrained/ was made by its preset: the recorded configs must still be the preset's.

A preset edited after its weights were trained would make `scripts/train_pretrained.sh` produce something other
than what is shipped (and the README's figures would describe another recipe).
"""

import json
from dataclasses import replace
from pathlib import Path

import pytest

from aigc_core.cli import _jsonable as _plain  # the CLI's own config -> JSON, as written into config.json
from aigc_core.presets import get_preset

ALL_FOLDERS = sorted(p.parent for p in (Path(__file__).resolve().parent.parent / "pretrained").glob("*/config.json"))


def _command(folder: Path) -> str:
    return json.loads((folder / "config.json").read_text())["provenance"]["command"]


# Folders made by `train --model <preset>`; the detector is made by `train-detector`, from its own config.
FOLDERS = [folder for folder in ALL_FOLDERS if _command(folder).startswith("python -m aigc_core train ")]


@pytest.mark.parametrize("folder", ALL_FOLDERS, ids=[f.name for f in ALL_FOLDERS])
def test_every_pretrained_folder_names_the_command_that_made_it(folder):
    assert _command(folder).split(" --")[0] in {"python -m aigc_core train", "python -m aigc_core train-detector"}


@pytest.mark.parametrize("folder", FOLDERS, ids=[f.name for f in FOLDERS])
def test_pretrained_configs_are_their_presets(folder):
    meta = json.loads((folder / "config.json").read_text())
    preset = get_preset(meta["provenance"]["preset"])
    saved = meta["train_config"]
    # Fields added to a config after the weights were made count as their defaults; the CLI sets seed and the
    # schedule's length per run.
    expected = _plain(replace(preset.train_config, seed=saved["seed"],
                              **({"schedule_steps": saved["schedule_steps"]} if "schedule_steps" in saved else {})))
    defaults = _plain(type(preset.train_config)())
    assert {**{k: defaults[k] for k in expected if k not in saved}, **saved} == expected
    model_defaults = _plain(preset.model_config)  # model fields added later (num_classes) count as their defaults
    assert {**{k: v for k, v in model_defaults.items() if k not in meta["model_config"]}, **meta["model_config"]} \
        == model_defaults
    steps = meta["provenance"]["steps"]
    assert steps == preset.steps or f"--steps {steps}" in meta["provenance"]["command"]


def test_live_training_caps_a_long_ema_and_keeps_the_rest():
    from aigc_core.presets import LIVE_EMA, PRESETS, live_train_config

    long = replace(get_preset("dcgan").train_config, ema=0.9999)
    capped = live_train_config(long)
    assert capped.ema == LIVE_EMA and replace(capped, ema=long.ema) == long  # only the decay changes
    for name, preset in PRESETS.items():  # a short EMA, no EMA, VAEs and the classifier pass through unchanged
        if getattr(preset.train_config, "ema", 0.0) <= LIVE_EMA:
            assert live_train_config(preset.train_config) is preset.train_config, name
