"""The Train page's set-up in the URL. A preset decides the defaults of everything else (a DCGAN link that only
changes the loss is ``?preset=dcgan&loss=hinge``), and the widgets are the Train page's (``ui.train.settings``)::

    link_in()                       # before sidebar_settings: a new link becomes the preset + its changes
    settings = sidebar_settings(...)  # ui.train.settings
    link_out(settings)              # after: URL + the link box
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import streamlit as st

from aigc_core.diffusion import MAX_GUIDANCE
from aigc_core.diffusion_trainer import DiffusionTrainConfig
from aigc_core.gan_trainer import MAX_D_STEPS, GANTrainConfig
from aigc_core.losses import GAN_LOSSES
from aigc_core.optim import MAX_LR
from aigc_core.presets import get_preset
from aigc_core.seeds import SEED_MAX
from aigc_core.vae_trainer import MAX_BETA
from ui.share.codec import Param, Schema, Value, parse_setup, with_defaults
from ui.share.sync import current_params, pending_link, share_link_box, show_notices, write_setup
from ui.train import settings as ts

# URL name -> the Train page's canonical setting name (train_settings.setting_key(name) is "train_<name>");
# {f}: the family, {o}: its optimizer's widgets (ts.OPTIMIZER_NAMES).
_TRAIN_WIDGETS = {
    "start": "start", "loss": "gan_loss", "k": "gan_k", "lr_g": "g_lr", "lr_d": "d_lr", "lr": "{o}_lr",
    "beta": "vae_beta", "guidance": "diffusion_guidance", "steps": "diffusion_steps", "batch": "{f}_batch",
    "z": "{f}_z", "seed": "{f}_seed",
}
_COMMON = {"start", "batch", "seed"}
_FIELDS = {  # the URL names each family's link carries
    "gan": _COMMON | {"loss", "k", "lr_g", "lr_d", "z"},
    "vae": _COMMON | {"lr", "beta", "z"},
    "diffusion": _COMMON | {"lr", "guidance", "steps"},
}


def train_presets() -> dict[str, str]:
    """Preset name -> its family, for the presets the Train page offers."""
    return {name: family for family, names in ts.PRESETS.items() for name in names}


def setup() -> Schema:
    """Every field a Train link may carry; a link uses those of its preset's family (`_FIELDS`)."""

    presets = train_presets()
    first = ts.PRESETS["gan"][0]
    return (
        Param("preset", first, choices=tuple(presets), label="train.preset"),
        Param("start", "scratch", choices=("scratch", "pretrained"), label="train.start_from"),
        Param("loss", "non_saturating", choices=GAN_LOSSES, label="train.loss"),
        Param("k", 1, low=1, high=MAX_D_STEPS, label="train.k"),
        Param("lr_g", 2e-4, low=1e-6, high=MAX_LR, label="train.optim_g"),
        Param("lr_d", 2e-4, low=1e-6, high=MAX_LR, label="train.optim_d"),
        Param("lr", 1e-3, low=1e-6, high=MAX_LR, label="train.lr"),
        Param("beta", 1.0, low=0.0, high=MAX_BETA, label="train.beta"),
        Param("guidance", 2.0, low=0.0, high=MAX_GUIDANCE, label="train_diffusion.guidance"),
        Param("steps", 25, choices=ts.SAMPLE_STEP_CHOICES, label="train_diffusion.steps"),
        Param("batch", 64, choices=ts.BATCH_SIZES, label="train.batch"),
        Param("z", 64, low=1, high=ts.MAX_Z_DIM, label="train.z_dim"),
        Param("seed", 0, low=0, high=SEED_MAX, label="train.seed"),
    )


def train_values(family: str, preset: str, start: str, model_config: Any, train_config: Any) -> dict[str, Value]:
    """The shareable values of a Train set-up (the fields of the other family are left out)."""
    values: dict[str, Value] = {
        "preset": preset, "start": start, "batch": int(train_config.batch_size), "seed": int(train_config.seed),
    }
    if family != "diffusion":
        values["z"] = int(model_config.z_dim)
    if isinstance(train_config, GANTrainConfig):
        values.update(loss=train_config.loss, k=int(train_config.d_steps), lr_g=float(train_config.g_optim.lr),
                      lr_d=float(train_config.d_optim.lr))
    elif isinstance(train_config, DiffusionTrainConfig):
        values.update(lr=float(train_config.optim.lr), guidance=float(train_config.guidance),
                      steps=int(train_config.sample_steps))
    else:
        values.update(lr=float(train_config.optim.lr), beta=float(train_config.beta))
    return values


def train_schema_for(preset: str) -> Schema:
    """The Train schema whose defaults are ``preset``'s own settings (so only changes go into a link)."""
    family = train_presets()[preset]
    recipe = get_preset(preset)
    defaults = train_values(family, preset, "scratch", recipe.model_config, recipe.train_config)
    del defaults["preset"]  # the preset itself keeps the page's default, so a link always names a changed one
    return with_defaults(setup(), defaults)


def _widget_values(family: str, values: Mapping[str, Value]) -> dict[str, Value]:
    out: dict[str, Value] = {ts.setting_key("family"): family, ts.setting_key(f"preset_{family}"): values["preset"]}
    optimizer = ts.OPTIMIZER_NAMES.get(family, "")
    for url_name, setting in _TRAIN_WIDGETS.items():
        if url_name in _FIELDS[family]:
            out[ts.setting_key(setting.format(f=family, o=optimizer))] = values[url_name]
    return out


def link_in() -> None:
    """Before ``sidebar_settings``: a newly opened link becomes its preset's settings plus the link's changes."""
    if pending_link(setup()) is None:
        return
    params = current_params()
    preset = str(parse_setup(setup()[:1], params)[0]["preset"])
    values, notices = parse_setup(train_schema_for(preset), params)  # defaults: this preset's settings
    family = train_presets()[preset]
    ts.set_widgets(ts.preset_widget_values(family, preset))  # everything not in the link: the preset's
    ts.set_widgets(_widget_values(family, values))
    show_notices(notices)


def link_out(settings: Any) -> None:
    """After ``sidebar_settings``: the set-up into the URL (changes from its preset only) and the link box."""
    values = train_values(settings.family, settings.preset, settings.start, settings.model_config,
                          settings.train_config)
    write_setup(train_schema_for(settings.preset), values)
    with st.sidebar:
        share_link_box()
