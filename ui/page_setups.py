"""The shareable set-ups of the Train page and the 2-D Playground (`ui.share` schemas and their glue).

Playground: its widgets have fixed keys and fixed defaults, so the generic `ui.share.sync_setup` /
`write_setup` do everything::

    playground_link_in()            # before the sidebar widgets
    ...
    playground_link_out()           # after them: URL + the link box

Train: a preset decides the defaults of everything else (a DCGAN link that only changes the loss is
``?preset=dcgan&loss=hinge``), and the widgets are the Train page's (``ui.train_settings``)::

    train_link_in()                 # before sidebar_settings: a new link becomes the preset + its changes
    settings = sidebar_settings(...)  # ui.train_settings
    train_link_out(settings)        # after: URL + the link box
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import streamlit as st

from aigc_core import playground as pg
from aigc_core.gan_trainer import GANTrainConfig
from aigc_core.losses import GAN_LOSSES
from aigc_core.optim import MAX_LR
from aigc_core.presets import get_preset
from aigc_core.vae_trainer import MAX_BETA
from ui.share import (
    Param, Schema, Value, current_params, parse_setup, pending_link, share_link_box, show_notices, sync_setup,
    with_defaults, write_setup,
)

SEED_MAX = 2**31 - 1

# --- 2-D Playground -------------------------------------------------------------------------------------------


def _playground_setup() -> Schema:
    from ui import playground_controls as pc  # the Playground's own option lists, so the link and widgets agree

    d = pc.DEFAULTS
    return (
        Param("data", d["pg_data"], choices=pc.DATA_OPTIONS, widget="pg_data", label="playground.data_label"),
        Param("pretrained", d["pg_pretrained"], widget="pg_pretrained", label="playground.pretrained_label"),
        Param("layers", d["pg_layers"], choices=(1, 2, 3, 4), widget="pg_layers", label="playground.layers_label"),
        Param("width", d["pg_width"], choices=pc.WIDTH_OPTIONS, widget="pg_width", label="playground.width_label"),
        Param("z", d["pg_zdim"], choices=(1, 2), widget="pg_zdim", label="playground.zdim_label"),
        Param("noise", d["pg_noise"], choices=("gaussian", "uniform"), widget="pg_noise",
              label="playground.noise_label"),
        Param("loss", d["pg_loss"], choices=pg.PLAYGROUND_LOSSES, widget="pg_loss", label="playground.loss_label"),
        Param("k", d["pg_k"], low=1, high=10, widget="pg_k", label="playground.k_label"),
        Param("batch", d["pg_batch"], choices=pc.BATCH_OPTIONS, widget="pg_batch", label="playground.batch_label"),
        Param("opt_g", d["pg_g_opt"], choices=pg.OPTIMIZER_KINDS, widget="pg_g_opt",
              label="playground.g_opt_label"),
        Param("lr_g", d["pg_g_lr"], choices=pc.LR_OPTIONS, widget="pg_g_lr", label="playground.g_lr_label"),
        Param("opt_d", d["pg_d_opt"], choices=pg.OPTIMIZER_KINDS, widget="pg_d_opt",
              label="playground.d_opt_label"),
        Param("lr_d", d["pg_d_lr"], choices=pc.LR_OPTIONS, widget="pg_d_lr", label="playground.d_lr_label"),
        Param("seed", d["pg_seed"], low=0, high=SEED_MAX, widget="pg_seed", label="playground.seed_label"),
    )


def playground_link_in() -> None:
    """Before the Playground's sidebar widgets: a newly opened link sets them (bad values: defaults + notice)."""
    sync_setup(_playground_setup())


def playground_link_out() -> None:
    """After the Playground's widgets: the set-up into the URL, and the link box in the sidebar."""
    setup = _playground_setup()
    write_setup(setup)
    with st.sidebar:
        share_link_box()


# --- Train ----------------------------------------------------------------------------------------------------

# URL name -> the Train page's canonical setting name (train_settings.setting_key(name) is "train_<name>");
# {f}: the family.
_TRAIN_WIDGETS = {
    "start": "start", "loss": "gan_loss", "k": "gan_k", "lr_g": "g_lr", "lr_d": "d_lr", "lr": "v_lr",
    "beta": "vae_beta", "batch": "{f}_batch", "z": "{f}_z", "seed": "{f}_seed",
}
_GAN_ONLY, _VAE_ONLY = {"loss", "k", "lr_g", "lr_d"}, {"lr", "beta"}


def _train_presets() -> dict[str, str]:
    """Preset name -> its family, for the presets the Train page offers."""
    from ui import train_settings as ts

    return {name: family for family, names in ts.PRESETS.items() for name in names}


def _train_setup() -> Schema:
    from ui import train_settings as ts

    presets = _train_presets()
    first = ts.PRESETS["gan"][0]
    return (
        Param("preset", first, choices=tuple(presets), label="train.preset"),
        Param("start", "scratch", choices=("scratch", "pretrained"), label="train.start_from"),
        Param("loss", "non_saturating", choices=GAN_LOSSES, label="train.loss"),
        Param("k", 1, low=1, high=50, label="train.k"),
        Param("lr_g", 2e-4, low=1e-6, high=MAX_LR, label="train.optim_g"),
        Param("lr_d", 2e-4, low=1e-6, high=MAX_LR, label="train.optim_d"),
        Param("lr", 1e-3, low=1e-6, high=MAX_LR, label="train.lr"),
        Param("beta", 1.0, low=0.0, high=MAX_BETA, label="train.beta"),
        Param("batch", 64, choices=ts.BATCH_SIZES, label="train.batch"),
        Param("z", 64, low=1, high=256, label="train.z_dim"),
        Param("seed", 0, low=0, high=SEED_MAX, label="train.seed"),
    )


def train_values(family: str, preset: str, start: str, model_config: Any, train_config: Any) -> dict[str, Value]:
    """The shareable values of a Train set-up (the fields of the other family are left out)."""
    values: dict[str, Value] = {
        "preset": preset, "start": start, "batch": int(train_config.batch_size), "z": int(model_config.z_dim),
        "seed": int(train_config.seed),
    }
    if isinstance(train_config, GANTrainConfig):
        values.update(loss=train_config.loss, k=int(train_config.d_steps), lr_g=float(train_config.g_optim.lr),
                      lr_d=float(train_config.d_optim.lr))
    else:
        values.update(lr=float(train_config.optim.lr), beta=float(train_config.beta))
    return values


def train_schema_for(preset: str) -> Schema:
    """The Train schema whose defaults are ``preset``'s own settings (so only changes go into a link)."""
    family = _train_presets()[preset]
    recipe = get_preset(preset)
    defaults = train_values(family, preset, "scratch", recipe.model_config, recipe.train_config)
    del defaults["preset"]  # the preset itself keeps the page's default, so a link always names a changed one
    return with_defaults(_train_setup(), defaults)


def _train_widget_values(family: str, values: Mapping[str, Value]) -> dict[str, Value]:
    from ui import train_settings as ts

    skip = _VAE_ONLY if family == "gan" else _GAN_ONLY
    out: dict[str, Value] = {ts.setting_key("family"): family, ts.setting_key(f"preset_{family}"): values["preset"]}
    for url_name, setting in _TRAIN_WIDGETS.items():
        if url_name not in skip:
            out[ts.setting_key(setting.format(f=family))] = values[url_name]
    return out


def train_link_in() -> None:
    """Before ``sidebar_settings``: a newly opened link becomes its preset's settings plus the link's changes."""
    from ui import train_settings as ts

    if pending_link(_train_setup()) is None:
        return
    params = current_params()
    preset = str(parse_setup(_train_setup()[:1], params)[0]["preset"])
    values, notices = parse_setup(train_schema_for(preset), params)  # defaults: this preset's settings
    family = _train_presets()[preset]
    ts.set_widgets(ts.preset_widget_values(family, preset))  # everything not in the link: the preset's
    ts.set_widgets(_train_widget_values(family, values))
    show_notices(notices)


def train_link_out(settings: Any) -> None:
    """After ``sidebar_settings``: the set-up into the URL (changes from its preset only) and the link box."""
    values = train_values(settings.family, settings.preset, settings.start, settings.model_config,
                          settings.train_config)
    write_setup(train_schema_for(settings.preset), values)
    with st.sidebar:
        share_link_box()
