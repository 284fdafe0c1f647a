"""The Train page's sidebar: its widgets and the `Settings` (ui/train/run.py) they ask for; the configs come from
the chosen preset (`aigc_core.presets`) with the widgets' values put in.

Widget values are mirrored in ``st.session_state[SAVED]`` because Streamlit forgets the values of widgets that
were not drawn (e.g. after visiting another page); without the mirror, coming back would silently reset the
hyperparameters of a model in training. Options with translated labels get a widget key per language
(`_wkey`); everything else uses the canonical key (`setting_key`).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import streamlit as st

from aigc_core.diffusion import MAX_GUIDANCE
from aigc_core.diffusion_trainer import DiffusionTrainConfig
from aigc_core.gan_trainer import MAX_D_STEPS, GANTrainConfig
from aigc_core.losses import GAN_LOSSES
from aigc_core.optim import MAX_LR, OPTIMIZERS, OptimizerConfig
from aigc_core.presets import LIVE_DIFFUSION_PRESETS, LIVE_GAN_PRESETS, get_preset, live_train_config
from aigc_core.seeds import SEED_MAX
from aigc_core.vae_trainer import MAX_BETA, VAETrainConfig
from ui.i18n import current_language, t
from ui.resources import CONDITIONAL_NAMES, PRETRAINED_DIR, available_pretrained
from ui.teacher import is_teacher_mode
from ui.train.run import DEFAULT_SLICE, Settings

SAVED = "train_saved_widgets"
FAMILIES = ("gan", "vae", "diffusion")
PRESETS = {"gan": (*LIVE_GAN_PRESETS, "gan_mlp", "cgan"),
           "vae": ("vae_mlp_z20", "vae_mlp_z2", "vae_conv", "cvae_live", "cvae"),
           "diffusion": (*LIVE_DIFFUSION_PRESETS, "diffusion")}
OPTIMIZER_NAMES = {"vae": "v", "diffusion": "n"}  # the optimizer widgets of a one-network family (a GAN has g and d)
MAX_Z_DIM = 256  # the widest latent code the sidebar and a share link offer
SAMPLE_STEP_CHOICES = (5, 10, 20, 25, 50, 100)  # DDIM steps for the progress grid: fewer is faster, more is finer
BATCH_SIZES = (8, 16, 32, 64, 128, 256, 512)
SLICE_CHOICES = (0.2, 0.3, 0.5, 1.0, 2.0)  # seconds of training between redraws


def setting_key(name: str) -> str:
    """The canonical name of a sidebar setting (what SAVED and the value dicts use)."""
    return f"train_{name}"


# Widgets whose option labels are translated. Streamlit sends such a widget's value back as its label, so after a
# language switch the old label would match no option and the widget would silently jump to its first option
# (e.g. the loss of a model in training). These widgets get a key per language; their value survives via SAVED.
_TRANSLATED = frozenset(setting_key(n) for n in ("preset_gan", "preset_vae", "preset_diffusion", "start", "gan_loss",
                                                 "g_opt", "d_opt", "v_opt", "n_opt", "slice"))


def _wkey(canonical: str) -> str:
    """The widget key of a setting in the current language (English keeps the canonical key)."""
    lang = current_language()
    return canonical if canonical not in _TRANSLATED or lang == "en" else f"{canonical}__{lang}"


def setting_value(canonical: str, default: Any = None) -> Any:
    return st.session_state.get(_wkey(canonical), default)


def _widget_key(name: str) -> str:
    """The widget key of the setting called `name` (e.g. "gan_k")."""
    return _wkey(setting_key(name))


def _setting(name: str, default: Any = None) -> Any:
    """The current value of the setting called `name`."""
    return setting_value(setting_key(name), default)


def preset_widget_values(family: str, preset_name: str) -> dict[str, Any]:
    """The sidebar's values for a preset's defaults (widget key -> value)."""
    preset = get_preset(preset_name)
    values = {setting_key(f"preset_{family}"): preset_name, setting_key("start"): "scratch"}
    if family != "diffusion":  # a denoiser has no latent code z: its "latent" is x_T, as large as the image
        values[setting_key(f"{family}_z")] = int(preset.model_config.z_dim)
    values.update(train_widget_values(family, preset.train_config))
    return values


def train_widget_values(family: str, config: GANTrainConfig | VAETrainConfig | DiffusionTrainConfig) -> dict[str, Any]:
    f = family
    values: dict[str, Any] = {setting_key(f"{f}_batch"): config.batch_size,
                              setting_key(f"{f}_clip"): float(config.clip_grad_norm),
                              setting_key(f"{f}_seed"): int(config.seed)}
    if isinstance(config, GANTrainConfig):
        values.update({setting_key("gan_loss"): config.loss, setting_key("gan_k"): config.d_steps})
        optims = {"g": config.g_optim, "d": config.d_optim}
    elif isinstance(config, DiffusionTrainConfig):
        values.update({setting_key("diffusion_guidance"): float(config.guidance),
                       setting_key("diffusion_steps"): int(config.sample_steps)})
        optims = {"n": config.optim}
    else:
        values[setting_key("vae_beta")] = float(config.beta)
        optims = {"v": config.optim}
    for name, optim in optims.items():
        values.update({setting_key(f"{name}_opt"): optim.kind, setting_key(f"{name}_lr"): float(optim.lr),
                       setting_key(f"{name}_b1"): float(optim.beta1), setting_key(f"{name}_b2"): float(optim.beta2)})
    return values


def set_widgets(values: dict[str, Any]) -> None:
    """Write widget values (only from callbacks or before the widgets are drawn) and remember them."""
    for key, value in values.items():
        st.session_state[_wkey(key)] = value
    st.session_state.setdefault(SAVED, {}).update(values)


def _ensure_defaults() -> None:
    """Before drawing the sidebar: restore remembered widget values, fill the rest from the preset."""
    saved = st.session_state.setdefault(SAVED, {})
    defaults = {setting_key("family"): "gan", setting_key("slice"): DEFAULT_SLICE, **saved}
    for key, value in defaults.items():
        if _wkey(key) not in st.session_state:
            st.session_state[_wkey(key)] = value
    family = _setting("family")
    preset_name = _setting(f"preset_{family}", PRESETS[family][0])
    for key, value in preset_widget_values(family, preset_name).items():
        if _wkey(key) not in st.session_state:
            st.session_state[_wkey(key)] = value


def _on_family_or_preset() -> None:
    family = _setting("family")
    preset_name = _setting(f"preset_{family}", PRESETS[family][0])
    set_widgets(preset_widget_values(family, preset_name))


WIDGETS = frozenset(
    setting_key(name)
    for name in (
        "family", "preset_gan", "preset_vae", "preset_diffusion", "start", "gan_loss", "gan_k", "vae_beta", "slice",
        "diffusion_guidance", "diffusion_steps",
        *(f"{f}_{w}" for f in FAMILIES for w in ("batch", "z", "clip", "seed")),
        *(f"{o}_{w}" for o in ("g", "d", "v", "n") for w in ("opt", "lr", "b1", "b2")),
    )
)


def _remember_widgets() -> None:
    saved = st.session_state.setdefault(SAVED, {})
    for key in WIDGETS:
        if _wkey(key) in st.session_state:
            saved[key] = st.session_state[_wkey(key)]


def _pretrained_for(preset_name: str) -> str | None:
    """The shipped folder a preset can start from (its own name), if there is one on disk."""
    shipped = preset_name in available_pretrained() or (
        preset_name in CONDITIONAL_NAMES and (PRETRAINED_DIR / preset_name / "config.json").is_file())
    return preset_name if shipped else None


def _optimizer_widgets(name: str, heading: str) -> OptimizerConfig:
    st.markdown(f"**{heading}**")
    kind = st.selectbox(t("train.optimizer"), OPTIMIZERS, key=_widget_key(f"{name}_opt"),
                        format_func=lambda k: t(f"train.optim.{k}"), help=t("train.optimizer_help"))
    lr = st.number_input(t("train.lr"), min_value=1e-6, max_value=MAX_LR, step=1e-4, format="%.6g",
                         key=_widget_key(f"{name}_lr"), help=t("train.lr_help"))
    b1_label = {"adam": "train.beta1", "sgd": "train.momentum", "rmsprop": "train.momentum"}[kind]
    beta1 = st.number_input(t(b1_label), min_value=0.0, max_value=0.999, step=0.05, format="%.3f",
                            key=_widget_key(f"{name}_b1"), help=t(f"{b1_label}_help"))
    beta2 = st.number_input(t("train.beta2" if kind == "adam" else "train.alpha"), min_value=0.0, max_value=0.9999,
                            step=0.001, format="%.4f", key=_widget_key(f"{name}_b2"), disabled=kind == "sgd",
                            help=t("train.beta2_help" if kind == "adam" else "train.alpha_help"))
    return OptimizerConfig(kind=kind, lr=float(lr), beta1=float(beta1), beta2=float(beta2))


def _optimizer_from_state(name: str) -> OptimizerConfig:
    """The optimizer its widgets would give, without drawing them (teacher mode hides them)."""
    return OptimizerConfig(kind=_setting(f"{name}_opt"), lr=float(_setting(f"{name}_lr")),
                           beta1=float(_setting(f"{name}_b1")), beta2=float(_setting(f"{name}_b2")))


def sidebar_settings(current: Settings | None = None) -> Settings:
    """Draw the set-up in the sidebar and return what it asks for. Settings the sidebar does not show (EMA,
    label smoothing, schedule, ...) come from `current` (the run's set-up, `TrainRun.setup()`) when it uses the
    same preset, else from the preset."""
    _ensure_defaults()
    teacher = is_teacher_mode()
    sidebar = st.sidebar
    sidebar.header(t("train.setup"))
    family = sidebar.segmented_control(t("train.family"), FAMILIES, key=_widget_key("family"), required=True,
                                       format_func=lambda f: t(f"train.family_{f}"), on_change=_on_family_or_preset,
                                       help=t("train.family_help"))
    preset_name = sidebar.selectbox(t("train.preset"), PRESETS[family], key=_widget_key(f"preset_{family}"),
                                    format_func=lambda p: t(f"train.preset_name.{p}"), on_change=_on_family_or_preset,
                                    help=t("train.preset_help"))
    sidebar.caption(t(f"train.preset_about.{preset_name}"))
    pretrained_name = _pretrained_for(preset_name)
    if pretrained_name is None and _setting("start") == "pretrained":
        st.session_state[_widget_key("start")] = "scratch"
    start = sidebar.radio(t("train.start_from"), ("scratch", "pretrained"), key=_widget_key("start"),
                          format_func=lambda s: t(f"train.start_{s}"), disabled=pretrained_name is None,
                          help=t("train.start_help") if pretrained_name else t("train.no_pretrained", name=preset_name))
    preset = get_preset(preset_name)
    f = family
    with sidebar.expander(t("train.model_and_training"), expanded=True):
        if family == "gan":
            loss = st.selectbox(t("train.loss"), GAN_LOSSES, key=_widget_key("gan_loss"),
                                format_func=lambda k: t(f"train.loss_name.{k}"), help=t("train.loss_help"))
            k = st.number_input(t("train.k"), min_value=1, max_value=MAX_D_STEPS, step=1, key=_widget_key("gan_k"),
                                help=t("train.k_help"))
        elif family == "diffusion":
            guidance = st.slider(t("train_diffusion.guidance"), 0.0, MAX_GUIDANCE, step=0.5,
                                 key=_widget_key("diffusion_guidance"), help=t("train_diffusion.guidance_help"))
            sample_steps = st.select_slider(t("train_diffusion.steps"), SAMPLE_STEP_CHOICES,
                                            key=_widget_key("diffusion_steps"), help=t("train_diffusion.steps_help"))
        else:
            beta = st.number_input(t("train.beta"), min_value=0.0, max_value=MAX_BETA, step=0.1, format="%.2f",
                                   key=_widget_key("vae_beta"), help=t("train.beta_help"))
        batch = st.select_slider(t("train.batch"), BATCH_SIZES, key=_widget_key(f"{f}_batch"), help=t("train.batch_help"))
        z_dim = None
        if family != "diffusion":
            z_dim = st.number_input(t("train.z_dim"), min_value=1, max_value=MAX_Z_DIM, step=1, key=_widget_key(f"{f}_z"),
                                    disabled=start == "pretrained", help=t("train.z_help"))
        if teacher:  # teacher mode: gradient clipping, optimizers and display settings keep their values, unseen
            clip = _setting(f"{f}_clip")
        else:
            clip = st.number_input(t("train.clip"), min_value=0.0, max_value=1e4, step=0.5, format="%.2f",
                                   key=_widget_key(f"{f}_clip"), help=t("train.clip_help"))
        seed = st.number_input(t("train.seed"), min_value=0, max_value=SEED_MAX, step=1, key=_widget_key(f"{f}_seed"),
                               help=t("train.seed_help"))
    if teacher:
        if family == "gan":
            g_optim, d_optim = _optimizer_from_state("g"), _optimizer_from_state("d")
        else:
            v_optim = _optimizer_from_state(OPTIMIZER_NAMES[family])
        sidebar.caption(t("teacher.advanced_hidden"))
    else:
        with sidebar.expander(t("train.optimizers"), expanded=False):
            if family == "gan":
                g_optim = _optimizer_widgets("g", t("train.optim_g"))
                d_optim = _optimizer_widgets("d", t("train.optim_d"))
            elif family == "diffusion":
                v_optim = _optimizer_widgets("n", t("train_diffusion.optim"))
            else:
                v_optim = _optimizer_widgets("v", t("train.optim_vae"))
        with sidebar.expander(t("train.display"), expanded=False):
            st.select_slider(t("train.redraw"), SLICE_CHOICES, key=_widget_key("slice"), help=t("train.redraw_help"),
                             format_func=lambda s: t("train.seconds", s=s))
    _remember_widgets()

    base = live_train_config(preset.train_config)
    if current is not None and current.preset == preset_name and current.family == family:
        base = current.train_config
    model_config = preset.model_config
    if start == "scratch" and z_dim is not None and int(z_dim) != model_config.z_dim:
        model_config = replace(model_config, z_dim=int(z_dim))
    common = {"batch_size": int(batch), "clip_grad_norm": float(clip), "seed": int(seed)}
    if family == "gan":
        train_config = replace(base, loss=loss, d_steps=int(k), g_optim=g_optim, d_optim=d_optim, **common)
    elif family == "diffusion":
        steps = min(int(sample_steps), model_config.timesteps)
        train_config = replace(base, guidance=float(guidance), sample_steps=steps, optim=v_optim, **common)
    else:
        train_config = replace(base, beta=float(beta), optim=v_optim, **common)
    return Settings(family, preset_name, start, model_config, train_config)
