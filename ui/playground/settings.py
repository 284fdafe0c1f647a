"""The playground's sidebar: data, model and training settings (-> `PlaygroundSettings`, one or two side by side).
The toolbar above the chart is ui/playground/controls.py.

Widget defaults go into `st.session_state` before the widgets are drawn (the widgets take no `value=`), so
callbacks can change them, e.g. the pretrained toggle sets the architecture to the shipped model's.
"""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from aigc_core import playground as pg
from aigc_core.seeds import SEED_MAX
from aigc_core.toy2d import TOY_DISTRIBUTIONS
from ui.playground import run as state
from ui.i18n import t
from ui.teacher import is_teacher_mode

LR_OPTIONS = (1e-4, 3e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 1.0)
BATCH_OPTIONS = (16, 32, 64, 128, 256, 512, 1024)
WIDTH_OPTIONS = (2, 4, 8, 16, 32, 64, 128)
REDRAW_DEFAULT = 50  # iterations per redraw while playing (GAN Lab also redraws only every few iterations)
DATA_OPTIONS = (*TOY_DISTRIBUTIONS, pg.CUSTOM)
# What only one family uses; the other family's widgets are not drawn but keep their values.
GAN_ONLY = ("pg_pretrained", "pg_layers", "pg_width", "pg_zdim", "pg_noise", "pg_loss", "pg_k", "pg_g_opt", "pg_g_lr",
            "pg_d_opt", "pg_d_lr", "pg_compare", "pg_b_loss", "pg_b_k", "pg_b_g_opt", "pg_b_g_lr", "pg_b_d_opt",
            "pg_b_d_lr", "pg_slowmo")
DIFFUSION_ONLY = ("pg_dn_lr",)
# What teacher mode hides (ui.teacher): the architecture, the side-by-side comparison and the display settings.
TEACHER_HIDDEN = ("pg_layers", "pg_width", "pg_zdim", "pg_noise", "pg_compare", "pg_b_loss", "pg_b_k", "pg_b_g_opt",
                  "pg_b_g_lr", "pg_b_d_opt", "pg_b_d_lr", "pg_redraw")
ARCHITECTURE_KEYS = {"pg_layers": "hidden_layers", "pg_width": "width", "pg_zdim": "z_dim", "pg_noise": "noise"}

_DEFAULT = pg.PlaygroundSettings()
DEFAULTS: dict[str, object] = {
    "pg_family": _DEFAULT.family,
    "pg_data": _DEFAULT.data,
    "pg_pretrained": False,
    "pg_layers": _DEFAULT.hidden_layers,
    "pg_width": _DEFAULT.width,
    "pg_zdim": _DEFAULT.z_dim,
    "pg_noise": _DEFAULT.noise,
    "pg_loss": _DEFAULT.loss,
    "pg_k": _DEFAULT.d_steps,
    "pg_batch": _DEFAULT.batch_size,
    "pg_g_opt": _DEFAULT.g_optimizer,
    "pg_g_lr": _DEFAULT.g_lr,
    "pg_d_opt": _DEFAULT.d_optimizer,
    "pg_d_lr": _DEFAULT.d_lr,
    "pg_seed": _DEFAULT.seed,
    "pg_dn_lr": _DEFAULT.denoiser_lr,
    "pg_compare": False,
    "pg_b_loss": "minimax",  # the classic comparison: the saturating loss next to the non-saturating one
    "pg_b_k": _DEFAULT.d_steps,
    "pg_b_g_opt": _DEFAULT.g_optimizer,
    "pg_b_g_lr": _DEFAULT.g_lr,
    "pg_b_d_opt": _DEFAULT.d_optimizer,
    "pg_b_d_lr": _DEFAULT.d_lr,
    "pg_redraw": REDRAW_DEFAULT,
    "pg_slowmo": False,
    state.PLAYING_KEY: False,
}


def init_defaults() -> None:
    for key, value in DEFAULTS.items():
        st.session_state.setdefault(key, value)


def _use_pretrained_architecture() -> None:
    """Callback of the data choice and the pretrained toggle: show the shipped model's architecture."""
    if not st.session_state.get("pg_pretrained"):
        return
    config = state.pretrained_config(st.session_state.get("pg_data", "ring"))
    if config is None:
        return
    for key, name in ARCHITECTURE_KEYS.items():
        st.session_state[key] = getattr(config, name)


def _lr(label_key: str, key: str) -> None:
    st.select_slider(t(label_key), options=LR_OPTIONS, key=key, format_func=lambda v: f"{v:g}",
                     help=t("playground.lr_help"))


def _optimizer(label_key: str, key: str) -> None:
    st.segmented_control(t(label_key), options=pg.OPTIMIZER_KINDS, key=key, required=True,
                         format_func=lambda v: t(f"playground.optimizer.{v}"), help=t("playground.optimizer_help"))


def _loss(key: str) -> None:
    st.selectbox(t("playground.loss_label"), options=pg.PLAYGROUND_LOSSES, key=key,
                 format_func=lambda v: t(f"playground.loss.{v}"), help=t("playground.loss_help"))


def _family_changed() -> None:
    st.session_state[state.PLAYING_KEY] = False  # the other family's run starts paused


def _keep(keys: tuple[str, ...]) -> None:
    """Widgets that are not drawn in this run keep their values (Streamlit would otherwise forget them)."""
    ss = st.session_state
    for key in keys:
        if key in ss:
            ss[key] = ss[key]


def family_control() -> None:
    """GAN | Diffusion, at the top of the sidebar."""
    with st.sidebar:
        st.segmented_control(t("playground.family_label"), options=pg.FAMILIES, key="pg_family", required=True,
                             format_func=lambda v: t(f"playground.family.{v}"), on_change=_family_changed,
                             help=t("playground.family_help"))


def _diffusion_sidebar() -> None:
    """Diffusion mode: the data, the `toy_diffusion` denoiser as it is, and its training knobs."""
    _keep(GAN_ONLY + (TEACHER_HIDDEN if is_teacher_mode() else ()))
    with st.sidebar:
        st.subheader(t("playground.sidebar_title"))
        with st.expander(t("playground.section_data"), expanded=True):
            st.selectbox(t("playground.data_label"), options=DATA_OPTIONS, key="pg_data",
                         format_func=lambda v: t(f"playground.data.{v}"), help=t("playground.data_help"))
        config, steps = pg.TOY_DIFFUSION.model_config, pg.TOY_DIFFUSION.train_config.sample_steps
        with st.expander(t("playground.section_training"), expanded=True):
            st.caption(t("playground.denoiser_note", layers=config.layers, width=config.width, T=config.timesteps,
                         schedule=config.schedule, steps=steps))
            st.select_slider(t("playground.batch_label"), options=BATCH_OPTIONS, key="pg_batch",
                             help=t("playground.batch_help"))
            _lr("playground.dn_lr_label", "pg_dn_lr")
            st.number_input(t("playground.seed_label"), min_value=0, max_value=SEED_MAX, step=1, key="pg_seed",
                            help=t("playground.seed_help"))
        if not is_teacher_mode():
            with st.expander(t("playground.section_display"), expanded=False):
                st.slider(t("playground.redraw_label"), 1, 200, key="pg_redraw", help=t("playground.redraw_help"))


def sidebar_settings() -> None:
    """Draw the settings in the sidebar (read them with `current_settings`)."""
    ss = st.session_state
    if ss["pg_family"] == "diffusion":
        _diffusion_sidebar()
        return
    _keep(DIFFUSION_ONLY)
    with st.sidebar:
        st.subheader(t("playground.sidebar_title"))
        with st.expander(t("playground.section_data"), expanded=True):
            st.selectbox(t("playground.data_label"), options=DATA_OPTIONS, key="pg_data",
                         format_func=lambda v: t(f"playground.data.{v}"), on_change=_use_pretrained_architecture,
                         help=t("playground.data_help"))
            available = state.pretrained_available(ss["pg_data"])
            st.toggle(t("playground.pretrained_label"), key="pg_pretrained", disabled=not available,
                      on_change=_use_pretrained_architecture,
                      help=t("playground.pretrained_help") if available else t("playground.pretrained_missing"))
        locked = bool(ss["pg_pretrained"]) and available
        teacher = is_teacher_mode()
        if teacher:  # teacher mode: architecture, side by side and display keep their values, unseen
            for key in TEACHER_HIDDEN:
                if key in ss:
                    ss[key] = ss[key]  # a widget that is not drawn would otherwise lose its value
        else:
            with st.expander(t("playground.section_model"), expanded=False):
                if locked:
                    st.caption(t("playground.architecture_locked"))
                st.select_slider(t("playground.layers_label"), options=(1, 2, 3, 4), key="pg_layers", disabled=locked,
                                 help=t("playground.layers_help"))
                st.select_slider(t("playground.width_label"), options=WIDTH_OPTIONS, key="pg_width", disabled=locked,
                                 help=t("playground.width_help"))
                st.segmented_control(t("playground.zdim_label"), options=(1, 2), key="pg_zdim", required=True,
                                     format_func=lambda v: t(f"playground.zdim.{v}"), disabled=locked,
                                     help=t("playground.zdim_help"))
                st.segmented_control(t("playground.noise_label"), options=("gaussian", "uniform"), key="pg_noise",
                                     required=True, format_func=lambda v: t(f"playground.noise.{v}"), disabled=locked,
                                     help=t("playground.noise_help"))
                st.caption(t("playground.architecture_note"))
        with st.expander(t("playground.section_training"), expanded=True):
            _loss("pg_loss")
            st.slider(t("playground.k_label"), 1, pg.MAX_D_STEPS, key="pg_k", help=t("playground.k_help"))
            st.select_slider(t("playground.batch_label"), options=BATCH_OPTIONS, key="pg_batch",
                             help=t("playground.batch_help"))
            _optimizer("playground.g_opt_label", "pg_g_opt")
            _lr("playground.g_lr_label", "pg_g_lr")
            _optimizer("playground.d_opt_label", "pg_d_opt")
            _lr("playground.d_lr_label", "pg_d_lr")
            st.number_input(t("playground.seed_label"), min_value=0, max_value=SEED_MAX, step=1, key="pg_seed",
                            help=t("playground.seed_help"))
        if teacher:
            st.caption(t("teacher.advanced_hidden"))
        else:
            with st.expander(t("playground.section_compare"), expanded=bool(ss["pg_compare"])):
                st.toggle(t("playground.compare_label"), key="pg_compare", help=t("playground.compare_help"))
                if ss["pg_compare"]:
                    st.caption(t("playground.b_heading"))
                    _loss("pg_b_loss")
                    st.slider(t("playground.k_label"), 1, pg.MAX_D_STEPS, key="pg_b_k")
                    _optimizer("playground.g_opt_label", "pg_b_g_opt")
                    _lr("playground.g_lr_label", "pg_b_g_lr")
                    _optimizer("playground.d_opt_label", "pg_b_d_opt")
                    _lr("playground.d_lr_label", "pg_b_d_lr")
            with st.expander(t("playground.section_display"), expanded=False):
                st.slider(t("playground.redraw_label"), 1, 200, key="pg_redraw", help=t("playground.redraw_help"))


def current_settings() -> list[pg.PlaygroundSettings]:
    """[settings] or, side by side, [settings A, settings B], from the widgets and the user's own points."""
    ss = st.session_state
    diffusion = ss["pg_family"] == "diffusion"
    locked = not diffusion and bool(ss["pg_pretrained"]) and state.pretrained_available(ss["pg_data"])
    custom = ss["pg_data"] == pg.CUSTOM
    points = ss.get(state.CUSTOM_POINTS_KEY)
    # A pretrained model brings its own architecture (whatever the widgets say, e.g. after a share link).
    shipped = state.pretrained_config(ss["pg_data"]) if locked else None
    architecture = {name: getattr(shipped, name) if shipped is not None else ss[key]
                    for key, name in ARCHITECTURE_KEYS.items()}
    first = pg.PlaygroundSettings(
        family=ss["pg_family"], denoiser_lr=float(ss["pg_dn_lr"]), data=ss["pg_data"],
        data_id=pg.points_digest(points) if custom and points is not None else "",
        hidden_layers=int(architecture["hidden_layers"]), width=int(architecture["width"]),
        z_dim=int(architecture["z_dim"]), noise=architecture["noise"], loss=ss["pg_loss"], g_optimizer=ss["pg_g_opt"], g_lr=float(ss["pg_g_lr"]),
        d_optimizer=ss["pg_d_opt"], d_lr=float(ss["pg_d_lr"]), d_steps=int(ss["pg_k"]),
        batch_size=int(ss["pg_batch"]), seed=int(ss["pg_seed"]), pretrained=locked,
    )
    if diffusion or not ss["pg_compare"]:
        return [first]
    second = replace(first, loss=ss["pg_b_loss"], d_steps=int(ss["pg_b_k"]), g_optimizer=ss["pg_b_g_opt"],
                     g_lr=float(ss["pg_b_g_lr"]), d_optimizer=ss["pg_b_d_opt"], d_lr=float(ss["pg_b_d_lr"]))
    return [first, second]
