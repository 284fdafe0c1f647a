"""The 2-D Playground's set-up in the URL: its widgets have fixed keys and fixed defaults, so the generic
`ui.share.sync.sync_setup` / `write_setup` do everything. `family` (gan | diffusion) defaults to gan, so links made
before diffusion mode read as they did::

    link_in()            # before the sidebar widgets
    ...
    link_out()           # after them: URL + the link box
"""

from __future__ import annotations

import streamlit as st

from aigc_core import playground as pg
from aigc_core.seeds import SEED_MAX
from ui.playground import settings as pc  # the Playground's own option lists, so the link and widgets agree
from ui.share.codec import Param, Schema
from ui.share.sync import share_link_box, sync_setup, write_setup


def setup() -> Schema:
    d = pc.DEFAULTS
    return (
        Param("family", d["pg_family"], choices=pg.FAMILIES, widget="pg_family", label="playground.family_label"),
        Param("data", d["pg_data"], choices=pc.DATA_OPTIONS, widget="pg_data", label="playground.data_label"),
        Param("pretrained", d["pg_pretrained"], widget="pg_pretrained", label="playground.pretrained_label"),
        Param("layers", d["pg_layers"], choices=(1, 2, 3, 4), widget="pg_layers", label="playground.layers_label"),
        Param("width", d["pg_width"], choices=pc.WIDTH_OPTIONS, widget="pg_width", label="playground.width_label"),
        Param("z", d["pg_zdim"], choices=(1, 2), widget="pg_zdim", label="playground.zdim_label"),
        Param("noise", d["pg_noise"], choices=("gaussian", "uniform"), widget="pg_noise",
              label="playground.noise_label"),
        Param("loss", d["pg_loss"], choices=pg.PLAYGROUND_LOSSES, widget="pg_loss", label="playground.loss_label"),
        Param("k", d["pg_k"], low=1, high=pg.MAX_D_STEPS, widget="pg_k", label="playground.k_label"),
        Param("batch", d["pg_batch"], choices=pc.BATCH_OPTIONS, widget="pg_batch", label="playground.batch_label"),
        Param("opt_g", d["pg_g_opt"], choices=pg.OPTIMIZER_KINDS, widget="pg_g_opt",
              label="playground.g_opt_label"),
        Param("lr_g", d["pg_g_lr"], choices=pc.LR_OPTIONS, widget="pg_g_lr", label="playground.g_lr_label"),
        Param("opt_d", d["pg_d_opt"], choices=pg.OPTIMIZER_KINDS, widget="pg_d_opt",
              label="playground.d_opt_label"),
        Param("lr_d", d["pg_d_lr"], choices=pc.LR_OPTIONS, widget="pg_d_lr", label="playground.d_lr_label"),
        Param("seed", d["pg_seed"], low=0, high=SEED_MAX, widget="pg_seed", label="playground.seed_label"),
        Param("lr", d["pg_dn_lr"], choices=pc.LR_OPTIONS, widget="pg_dn_lr", label="playground.dn_lr_label"),
    )


def link_in() -> None:
    """Before the Playground's sidebar widgets: a newly opened link sets them (bad values: defaults + notice)."""
    sync_setup(setup())


def link_out() -> None:
    """After the Playground's widgets: the set-up into the URL, and the link box in the sidebar."""
    write_setup(setup())
    with st.sidebar:
        share_link_box()
