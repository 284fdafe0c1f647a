"""The Train page's controller: set-up from the sidebar, the session's trainer, Start / Pause / Reset, single D and G
steps, the time-sliced live view, snapshots, quality estimates, divergence handling, export and resume.

Everything a user trains lives in ``st.session_state[STATE]`` (a `LiveRun`); shared caches are only read (a
pretrained model is deep-copied into the session's trainer). Training runs in slices: the live view is an
``st.fragment(run_every=...)`` that calls ``aigc_core.slicing.run_slice(trainer, ~0.3 s)`` and then redraws, so
Pause (a full rerun) takes effect within one slice. The work of a redraw is in `redraw_data()` (pure, no
Streamlit calls), which `bench/bench_live.py` times together with `run_slice`.

Widget values are mirrored in ``st.session_state[SAVED]`` because Streamlit forgets the values of widgets that
were not drawn (e.g. after visiting another page); without the mirror, coming back would silently reset the
hyperparameters of a model in training.
"""

from __future__ import annotations

import base64
import contextlib
import html
import io
import math
import os
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import streamlit as st
import torch
from PIL import Image

from aigc_core import images, pixels
from aigc_core.checkpoints import checkpoint_zip, load_checkpoint_zip
from aigc_core.diagrams import gan_diagram, vae_diagram
from aigc_core.errors import AigcError, CheckpointError, ConfigError, TrainingDiverged
from aigc_core.evaluation import real_reference
from aigc_core.factory import build_trainer
from aigc_core.gan_trainer import GANTrainConfig, GANTrainer
from aigc_core.history import MetricHistory, SnapshotTimeline
from aigc_core.live_eval import quick_score
from aigc_core.losses import GAN_LOSSES, LOGIT_LOSSES
from aigc_core.mnist import to_tensor
from aigc_core.optim import MAX_LR, OPTIMIZERS, OptimizerConfig
from aigc_core.playground import one_thread
from aigc_core.presets import LIVE_GAN_PRESETS, get_preset
from aigc_core.resume import train_config_from_dict, trainer_from_checkpoint
from aigc_core.slicing import run_slice
from aigc_core.vae_trainer import MAX_BETA, VAETrainConfig
from ui import charts, limits, parking
from ui.i18n import current_language, t
from ui.live_diagram import live_mermaid
from ui.models import available_pretrained, device, mnist, try_pretrained
from ui.slowmo import gan_labels, vae_labels
from ui.teacher import is_teacher_mode

STATE = "train_run"
LIMIT_MESSAGE = "train_limit_message"  # why Start was refused (a per-session cap), shown once above the controls
SAVED = "train_saved_widgets"
FAMILIES = ("gan", "vae")
PRESETS = {"gan": (*LIVE_GAN_PRESETS, "gan_mlp"), "vae": ("vae_mlp_z20", "vae_mlp_z2", "vae_conv")}
BATCH_SIZES = (8, 16, 32, 64, 128, 256, 512)
SLICE_CHOICES = (0.2, 0.3, 0.5, 1.0, 2.0)  # seconds of training between redraws
DEFAULT_SLICE = 0.3
AUTO_RERUN_S = 0.1  # shorter than a slice: the next slice starts as soon as the last redraw is sent
SNAPSHOT_EVERY = 100  # steps between sample-grid snapshots (doubles when the timeline is full)
QUALITY_EVERY_S = 20.0  # seconds of training between quick quality estimates
DIAGRAM_EVERY_S = 1.5  # the live diagram changes at most this often
CHARTS_EVERY_S = 1.0  # while running, the charts take new data at most this often (see redraw_data)
CHART_POINTS = 400
MNIST_TRAIN_SIZE = 60_000
GAN_FIELDS = ("step", "d_updates", "d_loss", "g_loss", "d_real", "d_fake", "grad_norm_d", "grad_norm_g", "seconds")
VAE_FIELDS = ("step", "loss", "recon", "kl", "grad_norm", "seconds")
QUALITY_FIELDS = ("step", "classifier_score", "fid", "samples")


# --- set-up --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    """What the sidebar asks for."""

    family: str
    preset: str
    start: str  # "scratch" or "pretrained"
    model_config: Any
    train_config: Any

    @property
    def structure(self) -> tuple:
        """The part that needs a new model when it changes (everything else is applied in place)."""
        return (self.family, self.preset, self.start, self.model_config, self.train_config.seed)


def _key(name: str) -> str:
    """The canonical name of a sidebar setting (what SAVED and the value dicts use)."""
    return f"train_{name}"


# Widgets whose option labels are translated. Streamlit sends such a widget's value back as its label, so after a
# language switch the old label would match no option and the widget would silently jump to its first option
# (e.g. the loss of a model in training). These widgets get a key per language; their value survives via SAVED.
_TRANSLATED = frozenset(_key(n) for n in ("preset_gan", "preset_vae", "start", "gan_loss", "g_opt", "d_opt", "v_opt",
                                          "slice"))


def _wkey(canonical: str) -> str:
    """The widget key of a setting in the current language (English keeps the canonical key)."""
    lang = current_language()
    return canonical if canonical not in _TRANSLATED or lang == "en" else f"{canonical}__{lang}"


def _get(canonical: str, default: Any = None) -> Any:
    return st.session_state.get(_wkey(canonical), default)


def preset_widget_values(family: str, preset_name: str) -> dict[str, Any]:
    """The sidebar's values for a preset's defaults (widget key -> value)."""
    preset = get_preset(preset_name)
    values = {_key(f"preset_{family}"): preset_name, _key("start"): "scratch",
              _key(f"{family}_z"): int(preset.model_config.z_dim)}
    values.update(train_widget_values(family, preset.train_config))
    return values


def train_widget_values(family: str, config: GANTrainConfig | VAETrainConfig) -> dict[str, Any]:
    f = family
    values: dict[str, Any] = {_key(f"{f}_batch"): config.batch_size, _key(f"{f}_clip"): float(config.clip_grad_norm),
                              _key(f"{f}_seed"): int(config.seed)}
    if isinstance(config, GANTrainConfig):
        values.update({_key("gan_loss"): config.loss, _key("gan_k"): config.d_steps})
        optims = {"g": config.g_optim, "d": config.d_optim}
    else:
        values[_key("vae_beta")] = float(config.beta)
        optims = {"v": config.optim}
    for name, optim in optims.items():
        values.update({_key(f"{name}_opt"): optim.kind, _key(f"{name}_lr"): float(optim.lr),
                       _key(f"{name}_b1"): float(optim.beta1), _key(f"{name}_b2"): float(optim.beta2)})
    return values


def _set_widgets(values: dict[str, Any]) -> None:
    """Write widget values (only from callbacks or before the widgets are drawn) and remember them."""
    for key, value in values.items():
        st.session_state[_wkey(key)] = value
    st.session_state.setdefault(SAVED, {}).update(values)


def _ensure_defaults() -> None:
    """Before drawing the sidebar: restore remembered widget values, fill the rest from the preset."""
    saved = st.session_state.setdefault(SAVED, {})
    defaults = {_key("family"): "gan", _key("slice"): DEFAULT_SLICE, **saved}
    for key, value in defaults.items():
        if _wkey(key) not in st.session_state:
            st.session_state[_wkey(key)] = value
    family = _get(_key("family"))
    preset_name = _get(_key(f"preset_{family}"), PRESETS[family][0])
    for key, value in preset_widget_values(family, preset_name).items():
        if _wkey(key) not in st.session_state:
            st.session_state[_wkey(key)] = value


def _on_family_or_preset() -> None:
    family = _get(_key("family"))
    preset_name = _get(_key(f"preset_{family}"), PRESETS[family][0])
    _set_widgets(preset_widget_values(family, preset_name))


WIDGETS = frozenset(
    _key(name)
    for name in (
        "family", "preset_gan", "preset_vae", "start", "gan_loss", "gan_k", "vae_beta", "slice",
        *(f"{f}_{w}" for f in FAMILIES for w in ("batch", "z", "clip", "seed")),
        *(f"{o}_{w}" for o in ("g", "d", "v") for w in ("opt", "lr", "b1", "b2")),
    )
)


def _remember_widgets() -> None:
    saved = st.session_state.setdefault(SAVED, {})
    for key in WIDGETS:
        if _wkey(key) in st.session_state:
            saved[key] = st.session_state[_wkey(key)]


def _pretrained_for(preset_name: str) -> str | None:
    return preset_name if preset_name in available_pretrained() else None


def _optimizer_widgets(name: str, heading: str) -> OptimizerConfig:
    st.markdown(f"**{heading}**")
    kind = st.selectbox(t("train.optimizer"), OPTIMIZERS, key=_wkey(_key(f"{name}_opt")),
                        format_func=lambda k: t(f"train.optim.{k}"))
    lr = st.number_input(t("train.lr"), min_value=1e-6, max_value=MAX_LR, step=1e-4, format="%.6g",
                         key=_wkey(_key(f"{name}_lr")), help=t("train.lr_help"))
    b1_label = {"adam": "train.beta1", "sgd": "train.momentum", "rmsprop": "train.momentum"}[kind]
    beta1 = st.number_input(t(b1_label), min_value=0.0, max_value=0.999, step=0.05, format="%.3f",
                            key=_wkey(_key(f"{name}_b1")))
    beta2 = st.number_input(t("train.beta2" if kind == "adam" else "train.alpha"), min_value=0.0, max_value=0.9999,
                            step=0.001, format="%.4f", key=_wkey(_key(f"{name}_b2")), disabled=kind == "sgd")
    return OptimizerConfig(kind=kind, lr=float(lr), beta1=float(beta1), beta2=float(beta2))


def _optimizer_from_state(name: str) -> OptimizerConfig:
    """The optimizer its widgets would give, without drawing them (teacher mode hides them)."""
    return OptimizerConfig(kind=_get(_key(f"{name}_opt")), lr=float(_get(_key(f"{name}_lr"))),
                           beta1=float(_get(_key(f"{name}_b1"))), beta2=float(_get(_key(f"{name}_b2"))))


def sidebar_settings(run: LiveRun | None = None) -> Settings:
    """Draw the set-up in the sidebar and return what it asks for. Settings the sidebar does not show (EMA,
    label smoothing, schedule, ...) come from the current run when it uses the same preset, else the preset."""
    _ensure_defaults()
    teacher = is_teacher_mode()
    sidebar = st.sidebar
    sidebar.header(t("train.setup"))
    family = sidebar.segmented_control(t("train.family"), FAMILIES, key=_wkey(_key("family")), required=True,
                                       format_func=lambda f: t(f"train.family_{f}"), on_change=_on_family_or_preset)
    preset_name = sidebar.selectbox(t("train.preset"), PRESETS[family], key=_wkey(_key(f"preset_{family}")),
                                    format_func=lambda p: t(f"train.preset_name.{p}"), on_change=_on_family_or_preset)
    sidebar.caption(t(f"train.preset_about.{preset_name}"))
    pretrained_name = _pretrained_for(preset_name)
    if pretrained_name is None and _get(_key("start")) == "pretrained":
        st.session_state[_wkey(_key("start"))] = "scratch"
    start = sidebar.radio(t("train.start_from"), ("scratch", "pretrained"), key=_wkey(_key("start")),
                          format_func=lambda s: t(f"train.start_{s}"), disabled=pretrained_name is None,
                          help=t("train.start_help") if pretrained_name else t("train.no_pretrained", name=preset_name))
    preset = get_preset(preset_name)
    f = family
    with sidebar.expander(t("train.model_and_training"), expanded=True):
        if family == "gan":
            loss = st.selectbox(t("train.loss"), GAN_LOSSES, key=_wkey(_key("gan_loss")),
                                format_func=lambda k: t(f"train.loss_name.{k}"), help=t("train.loss_help"))
            k = st.number_input(t("train.k"), min_value=1, max_value=50, step=1, key=_wkey(_key("gan_k")), help=t("train.k_help"))
        else:
            beta = st.number_input(t("train.beta"), min_value=0.0, max_value=MAX_BETA, step=0.1, format="%.2f",
                                   key=_wkey(_key("vae_beta")), help=t("train.beta_help"))
        batch = st.select_slider(t("train.batch"), BATCH_SIZES, key=_wkey(_key(f"{f}_batch")))
        z_dim = st.number_input(t("train.z_dim"), min_value=1, max_value=256, step=1, key=_wkey(_key(f"{f}_z")),
                                disabled=start == "pretrained", help=t("train.z_help"))
        if teacher:  # teacher mode: gradient clipping, optimizers and display settings keep their values, unseen
            clip = _get(_key(f"{f}_clip"))
        else:
            clip = st.number_input(t("train.clip"), min_value=0.0, max_value=1e4, step=0.5, format="%.2f",
                                   key=_wkey(_key(f"{f}_clip")), help=t("train.clip_help"))
        seed = st.number_input(t("train.seed"), min_value=0, max_value=2**31 - 1, step=1, key=_wkey(_key(f"{f}_seed")),
                               help=t("train.seed_help"))
    if teacher:
        if family == "gan":
            g_optim, d_optim = _optimizer_from_state("g"), _optimizer_from_state("d")
        else:
            v_optim = _optimizer_from_state("v")
        sidebar.caption(t("teacher.advanced_hidden"))
    else:
        with sidebar.expander(t("train.optimizers"), expanded=False):
            if family == "gan":
                g_optim = _optimizer_widgets("g", t("train.optim_g"))
                d_optim = _optimizer_widgets("d", t("train.optim_d"))
            else:
                v_optim = _optimizer_widgets("v", t("train.optim_vae"))
        with sidebar.expander(t("train.display"), expanded=False):
            st.select_slider(t("train.redraw"), SLICE_CHOICES, key=_wkey(_key("slice")), help=t("train.redraw_help"),
                             format_func=lambda s: t("train.seconds", s=s))
    _remember_widgets()

    base = preset.train_config
    if run is not None and run.settings.preset == preset_name and run.family == family:
        base = run.trainer.config
    model_config = preset.model_config
    if start == "scratch" and int(z_dim) != model_config.z_dim:
        model_config = replace(model_config, z_dim=int(z_dim))
    common = {"batch_size": int(batch), "clip_grad_norm": float(clip), "seed": int(seed)}
    if family == "gan":
        train_config = replace(base, loss=loss, d_steps=int(k), g_optim=g_optim, d_optim=d_optim, **common)
    else:
        train_config = replace(base, beta=float(beta), optim=v_optim, **common)
    return Settings(family, preset_name, start, model_config, train_config)


# --- the session's run ---------------------------------------------------------------------------------------


@dataclass
class LiveRun:
    settings: Settings
    trainer: Any  # GANTrainer | VAETrainer
    origin: str  # "scratch", "pretrained" or "upload"
    origin_name: str = ""
    structure: tuple = ()
    widget_values: dict[str, Any] = field(default_factory=dict)
    history: MetricHistory = field(default_factory=lambda: MetricHistory(GAN_FIELDS, ("phase",)))
    quality: MetricHistory = field(default_factory=lambda: MetricHistory(QUALITY_FIELDS))
    snapshots: SnapshotTimeline = field(default_factory=lambda: SnapshotTimeline(SNAPSHOT_EVERY))
    running: bool = False
    train_seconds: float = 0.0
    images_seen: int = 0
    rate: float = math.nan  # steps per wall-clock second while running
    diverged: str | None = None
    last_action: str = ""  # "d", "g", "both" or "" (what the diagram highlights)
    quality_error: str | None = None
    last_quality_at: float = 0.0  # training seconds at the last quality estimate
    diagram: tuple[float, str | None, str] | None = None  # (when, phase, Mermaid source) of the live diagram
    charts: tuple[tuple, Any] | None = None  # (what they were built for, charts.ChartSet)
    quality_charts: tuple[str, Any] | None = None
    charts_at: float | None = None  # when the charts last took new data
    _rate_mark: tuple[float, int] | None = None
    recon_input: torch.Tensor | None = None  # VAE: 8 fixed test digits in [0, 1]

    @property
    def family(self) -> str:
        return "gan" if isinstance(self.trainer, GANTrainer) else "vae"

    @property
    def trained(self) -> bool:
        return self.trainer.iteration > 0 or len(self.history) > 0


def _new_run(settings: Settings, trainer: Any, origin: str, origin_name: str = "") -> LiveRun:
    family = "gan" if isinstance(trainer, GANTrainer) else "vae"
    history = MetricHistory(GAN_FIELDS, ("phase",)) if family == "gan" else MetricHistory(VAE_FIELDS)
    run = LiveRun(settings=settings, trainer=trainer, origin=origin, origin_name=origin_name,
                  structure=settings.structure, history=history)
    run.widget_values = dict(st.session_state.get(SAVED, {}))
    if family == "vae":
        test = mnist("test")
        run.recon_input = to_tensor(test.images[:8], "unit")
    return run


def build_run(settings: Settings) -> LiveRun:
    """A new run for these settings: from scratch, or a deep copy of a pretrained model (never the cached one)."""
    limits.enforce(batch_size=settings.train_config.batch_size)  # the server's per-session caps (ui/limits.py)
    if settings.start == "pretrained":
        checkpoint, error = try_pretrained(settings.preset)
        if checkpoint is None:
            raise CheckpointError(error or settings.preset)
        trainer = trainer_from_checkpoint(checkpoint, settings.train_config, device=device())
        limits.enforce(model=trainer.model)
        return _new_run(settings, trainer, "pretrained", settings.preset)
    trainer = build_trainer(settings.model_config, settings.train_config, device=device())
    limits.enforce(model=trainer.model)
    return _new_run(settings, trainer, "scratch")


def current_run() -> LiveRun | None:
    return st.session_state.get(STATE)


def sync_run(settings: Settings) -> tuple[LiveRun | None, bool]:
    """Make the session's run follow the sidebar. Returns (run, pending): pending = the sidebar asks for a new
    model while a trained one exists, so the page must ask before replacing it."""
    run = current_run()
    released = limits.released_notice()  # this session's model was released while it sat idle
    if released:
        st.info(released, icon=":material/hourglass_empty:")
    try:
        if run is None or (settings.structure != run.structure and not run.trained):
            run = build_run(settings)
            st.session_state[STATE] = run
            return run, False
    except AigcError as exc:
        st.error(t("train.build_failed", message=str(exc)))
        return run, False
    if settings.structure != run.structure:
        return run, True
    if settings.train_config != run.trainer.config:
        try:
            limits.enforce(batch_size=settings.train_config.batch_size)
            run.trainer.update_config(settings.train_config)
            run.settings = settings
            run.widget_values = dict(st.session_state.get(SAVED, {}))
            st.toast(t("train.applied_in_place"), icon=":material/tune:")
        except ConfigError as exc:
            st.error(str(exc))
    return run, False


def restore_after_reload(*, on_train_page: bool = True) -> None:
    """At the top of the page: a reloaded tab gets its trained run back, paused, with the sidebar it was trained
    with; a second tab opened on the same link gets a run of its own (ui/parking.py). Says which happened.
    app.py calls it on the other pages too (the run's token stays in the URL there), with a link to Train."""
    outcome = parking.adopt(STATE)
    run = current_run()
    if outcome == "restored" and run is not None:
        run.running = False  # the old tab's last slice may still be ending; Start continues from here
        _set_widgets(run.widget_values)
        steps = f"{run.trainer.iteration:,}"
        if on_train_page:
            st.success(t("train.restored", steps=steps), icon=":material/restore:")
        else:
            st.success(t("train.restored_elsewhere", steps=steps), icon=":material/restore:")
            st.page_link("pages/train.py", label=t("nav.train"), icon=":material/model_training:")  # i18n: ok (a path)
    elif outcome == "other_tab":
        st.info(t("train.other_tab"), icon=":material/tab:")
    elif outcome == "gone":
        st.info(t("train.run_gone", minutes=f"{limits.current().idle_minutes:g}"), icon=":material/history:")


def keep_for_reload(run: LiveRun | None, *, full_run: bool = True) -> None:
    """Park the session's run so that a page reload finds it again: once it has trained or is about to (Start
    reruns the whole page before the first slice, which is when the URL gets the tab's token)."""
    parking.keep(run, worth_keeping=run is not None and (run.trained or run.running), full_run=full_run)


def _confirm_rebuild() -> None:
    run = current_run()
    if run is not None:
        run.running = False
    st.session_state.pop(STATE, None)  # the next run builds from the sidebar


def _keep_current() -> None:
    run = current_run()
    if run is not None:
        _set_widgets(run.widget_values)


def pending_panel(run: LiveRun) -> None:
    with st.container(border=True):
        st.warning(t("train.pending", steps=run.trainer.iteration), icon=":material/warning:")
        left, right = st.columns(2)
        left.button(t("train.pending_build"), on_click=_confirm_rebuild, type="primary", key="train_btn_rebuild",
                    icon=":material/add_circle:", width="stretch")
        right.button(t("train.pending_keep"), on_click=_keep_current, key="train_btn_keep",
                     icon=":material/undo:", width="stretch")


# --- stepping ------------------------------------------------------------------------------------------------


def record_steps(run: LiveRun, records: list, action: str) -> None:
    """Add step records to the history (before any Streamlit call, so an interrupted redraw loses nothing)."""
    if not records:
        return
    run.history.extend(records)
    cfg = run.trainer.config
    if run.family == "gan":
        per_record = cfg.batch_size * (cfg.d_steps if action == "both" else 1 if action == "d" else 0)
    else:
        per_record = cfg.batch_size
    run.images_seen += per_record * len(records)
    run.last_action = action


def training_threads() -> contextlib.AbstractContextManager:
    """On a machine with two cores or fewer, train on one torch thread: the browser drawing the page and the
    server need the other core, and torch's second thread then waits for it. Measured on our shared 2-core
    machine (gan_mlp_live): 23.5 steps/s with one thread, 2.0 with two. Larger machines keep torch's default."""
    return one_thread() if (os.cpu_count() or 1) <= 2 else contextlib.nullcontext()


def train_slice(run: LiveRun, seconds: float) -> bool:
    """One slice of training. Returns True when training diverged (the run is then paused)."""
    start = time.perf_counter()
    try:
        with training_threads():
            records = run_slice(run.trainer, seconds)
        diverged = None
    except TrainingDiverged as exc:
        records, diverged = getattr(exc, "records", []), exc
    record_steps(run, records, "both")
    run.train_seconds += time.perf_counter() - start
    if diverged is not None:
        run.running = False
        run.diverged = str(diverged)
        return True
    return False


def _single(run: LiveRun, what: str) -> None:
    start = time.perf_counter()
    try:
        if what == "d":
            stats = run.trainer.step_d()
        elif what == "g":
            stats = run.trainer.step_g()
        else:
            stats = run.trainer.step()
        record_steps(run, [stats], what)
    except TrainingDiverged as exc:
        run.running = False
        run.diverged = str(exc)
    run.train_seconds += time.perf_counter() - start


def _on_start_pause() -> None:
    run = current_run()
    if run is None:
        return
    if not run.running:
        refused = limits.request_training()  # None, or why not: the server's cap on concurrent trainings
        if refused:
            st.session_state[LIMIT_MESSAGE] = refused
            return
    run.running = not run.running
    if not run.running:
        limits.stop_training()
    if run.running:
        run.diverged = None
        run._rate_mark = None
        st.session_state.pop("train_slowmo_stepper", None)  # an unfinished slow-motion walk is abandoned


def _on_step(what: str) -> None:
    run = current_run()
    if run is not None:
        run.running = False
        run.diverged = None
        _single(run, what)


def _on_reset() -> None:
    run = current_run()
    if run is not None:
        run.running = False
    st.session_state.pop(STATE, None)
    st.session_state.pop("train_slowmo_stepper", None)


def controls(run: LiveRun, *, pending: bool) -> None:
    refused = st.session_state.pop(LIMIT_MESSAGE, None)
    if refused:
        st.warning(refused, icon=":material/group:")
    is_gan = run.family == "gan"
    columns = st.columns(4 if is_gan else 3)
    if run.running:
        columns[0].button(t("train.pause"), on_click=_on_start_pause, key="train_btn_start", type="primary",
                          icon=":material/pause:", width="stretch")
    else:
        columns[0].button(t("train.start"), on_click=_on_start_pause, key="train_btn_start", type="primary",
                          icon=":material/play_arrow:", width="stretch", disabled=pending)
    if is_gan:
        columns[1].button(t("train.step_d"), on_click=_on_step, args=("d",), key="train_btn_step_d",
                          help=t("train.step_d_help"), icon=":material/looks_one:", width="stretch", disabled=pending)
        columns[2].button(t("train.step_g"), on_click=_on_step, args=("g",), key="train_btn_step_g",
                          help=t("train.step_g_help"), icon=":material/looks_two:", width="stretch", disabled=pending)
    else:
        columns[1].button(t("train.step_once"), on_click=_on_step, args=("both",), key="train_btn_step",
                          icon=":material/skip_next:", width="stretch", disabled=pending)
    columns[-1].button(t("train.reset"), on_click=_on_reset, key="train_btn_reset", help=t("train.reset_help"),
                       icon=":material/restart_alt:", width="stretch")


def divergence_panel(run: LiveRun) -> None:
    if not run.diverged:
        return
    with st.container(border=True):
        st.error(t("train.diverged_title"), icon=":material/error:")
        st.markdown(t("train.diverged_what"))
        st.markdown(t("train.diverged_try"))
        st.caption(t("train.diverged_detail", message=run.diverged))


# --- the live view -------------------------------------------------------------------------------------------


@dataclass
class RedrawData:
    """Everything one redraw shows, computed without Streamlit (the bench times exactly this)."""

    grid: np.ndarray  # uint8 picture of the fixed-noise samples (the browser enlarges it, pixelated)
    recon: np.ndarray | None  # VAE: inputs (top) and reconstructions (bottom)
    figures: list  # plotly figures
    quality: Any  # plotly figure or None
    diagram: str
    numbers: dict[str, float]


def sample_grid(trainer: Any) -> np.ndarray:
    """The fixed-noise samples as one uint8 picture (8 per row)."""
    samples = trainer.sample()
    if isinstance(trainer, GANTrainer):
        samples = pixels.signed_to_unit(samples)
    return images.make_grid(samples, nrow=8)


def _diagram(run: LiveRun, now: float) -> str:
    if run.diagram is not None and run.running and now - run.diagram[0] < DIAGRAM_EVERY_S:
        return run.diagram[2]
    last = run.history.last() or {}
    if run.family == "gan":
        if run.running:  # alternate, as D and G take turns many times a second
            phase = "d_update" if run.diagram is not None and run.diagram[1] == "g_update" else "g_update"
        else:
            phase = {"d": "d_update", "g": "g_update", "both": "g_update"}.get(run.last_action)
        names = {"d_real": "d_real", "d_fake": "d_fake", "d_loss": "d_loss", "g_loss": "g_loss",
                 "grad_d": "grad_norm_d", "grad_g": "grad_norm_g"}
        values = {key: last[name] for key, name in names.items() if name in last and not math.isnan(last[name])}
        source = gan_diagram(phase=phase, values=values, labels=gan_labels())
    else:
        phase = "update" if run.last_action else None
        values = {k: last[k] for k in ("recon", "kl", "loss") if k in last and not math.isnan(last[k])}
        source = vae_diagram(phase=phase, values=values, labels=vae_labels())
    run.diagram = (now, phase, source)
    return source


def redraw_data(run: LiveRun, *, now: float | None = None) -> RedrawData:
    now = time.perf_counter() if now is None else now
    trainer = run.trainer
    grid = sample_grid(trainer)
    recon = None
    if run.family == "vae" and run.recon_input is not None:
        recon_images = torch.cat([run.recon_input, trainer.reconstruct(run.recon_input)])
        recon = images.make_grid(recon_images, nrow=8)
    if run.snapshots.due(trainer.iteration) and (run.trained or not len(run.snapshots)):
        run.snapshots.add(trainer.iteration, grid)
    figures = []
    # While running, the charts take new data at most every CHARTS_EVERY_S: Streamlit identifies a Plotly chart by
    # its whole spec, so a chart with new data is a new element that the browser builds from scratch. Between
    # updates the same figures are sent again, which the browser leaves alone.
    charts_due = not run.running or run.charts_at is None or now - run.charts_at >= CHARTS_EVERY_S
    if len(run.history):
        # Rebuilt only when the titles would change: another family, loss kind (probability or score) or language.
        kind = (run.family, trainer.config.loss in LOGIT_LOSSES if run.family == "gan" else None, current_language())
        if run.charts is None or run.charts[0] != kind:
            run.charts, charts_due = (kind, charts.live_chart_set(run.family, trainer.config.loss
                                                                   if run.family == "gan" else None)), True
        figures = (run.charts[1].update(run.history.downsampled(CHART_POINTS)) if charts_due
                   else run.charts[1].figures)
    quality = None
    if len(run.quality):
        if run.quality_charts is None or run.quality_charts[0] != current_language():
            run.quality_charts, charts_due = (current_language(), charts.quality_chart_set()), True
        quality = (run.quality_charts[1].update(run.quality.downsampled(CHART_POINTS)) if charts_due
                   else run.quality_charts[1].figures)[0]
    if charts_due:
        run.charts_at = now
    numbers = {"step": float(trainer.iteration), "epoch": run.images_seen / MNIST_TRAIN_SIZE,
               "rate": run.rate, "elapsed": run.train_seconds}
    return RedrawData(grid, recon, figures, quality, _diagram(run, now), numbers)


def _update_rate(run: LiveRun) -> None:
    now = time.perf_counter()
    if not run.running:
        run._rate_mark = None
        return
    if run._rate_mark is not None:
        then, steps = run._rate_mark
        if now - then > 0.05:
            current = (run.trainer.iteration - steps) / (now - then)
            run.rate = current if math.isnan(run.rate) else 0.7 * run.rate + 0.3 * current
    run._rate_mark = (now, run.trainer.iteration)


_REFERENCE_POOL = ThreadPoolExecutor(max_workers=1, thread_name_prefix="aigc-quality-reference")
_REFERENCE_JOBS: dict[int, Future] = {}  # per classifier: the real test set's feature statistics, computed once


def _reference_ready(classifier: Any) -> bool:
    """Start computing the reference statistics in the background (once per process); True when they are ready.

    They take a few seconds (20,000 real digits through the classifier), and the live view must not stall for
    that; the result is immutable and shared, like the classifier itself."""
    job = _REFERENCE_JOBS.get(id(classifier))
    if job is None:
        job = _REFERENCE_POOL.submit(real_reference, classifier)
        _REFERENCE_JOBS[id(classifier)] = job
    return job.done() and job.exception() is None


def maybe_measure_quality(run: LiveRun, *, force: bool = False) -> None:
    """A quick classifier score / FID estimate every QUALITY_EVERY_S seconds of training (needs the classifier)."""
    if not force and (not run.running or run.train_seconds - run.last_quality_at < QUALITY_EVERY_S):
        return
    last = run.quality.last()
    if last is not None and last["step"] == run.trainer.iteration:
        return
    checkpoint, error = try_pretrained("classifier")
    if checkpoint is None:
        run.quality_error = error
        run.last_quality_at = run.train_seconds
        return
    if not _reference_ready(checkpoint.model):
        return  # try again after the next slice
    run.last_quality_at = run.train_seconds
    run.quality.append(quick_score(run.trainer, checkpoint.model))
    run.quality_error = None


def _metric_text(value: float, kind: str) -> str:
    if math.isnan(value):
        return "–"
    if kind == "step":
        return f"{int(value):,}"
    if kind == "epoch":
        return f"{value:.2f}"
    if kind == "rate":
        return f"{value:.0f}" if value >= 10 else f"{value:.1f}"
    minutes, seconds = divmod(int(value), 60)
    return f"{minutes}:{seconds:02d}"


def image_html(picture: np.ndarray, caption: str) -> str:
    """A picture as an inline PNG (data URI) with a caption, enlarged by the browser with crisp pixels.

    Inline rather than st.image: st.image serves a media file that the next slice's redraw replaces, and a
    browser that fetches it a little late (a busy projector laptop) gets a broken image."""
    buffer = io.BytesIO()
    # zlib level 1: half the time of Pillow's default level 6 for ~20% more bytes; this runs after every slice.
    Image.fromarray(np.ascontiguousarray(picture)).save(buffer, format="PNG", compress_level=1)
    png = base64.b64encode(buffer.getvalue()).decode("ascii")
    text = html.escape(caption)
    return (f'<figure style="margin:0"><img src="data:image/png;base64,{png}" alt="{text}" '
            f'style="width:100%;image-rendering:pixelated;display:block"/>'
            f'<figcaption style="text-align:center;font-size:0.875rem;opacity:0.7;margin-top:0.25rem">{text}'
            f"</figcaption></figure>")


def draw(run: LiveRun, data: RedrawData) -> None:
    """Metrics; samples beside the loss and D-output charts; the live diagram across the page; gradient norms
    beside the quality estimate. Sized for a projector: the samples and the diagram are the big things."""
    metric_columns = st.columns(4)
    for column, kind in zip(metric_columns, ("step", "epoch", "rate", "elapsed")):
        column.metric(t(f"train.metric_{kind}"), _metric_text(data.numbers[kind], kind),
                      help=t(f"train.metric_{kind}_help"))
    st.caption(t("train.status_running") if run.running else t("train.status_paused"))
    left, right = st.columns([2, 3])
    with left, st.container(key="train_samples"):
        st.markdown(f"**{t('train.samples_heading')}**")
        st.html(image_html(data.grid, t("train.samples_caption")))
        if data.recon is not None:
            st.markdown(f"**{t('train.recon_heading')}**")
            st.html(image_html(data.recon, t("train.recon_caption")))
    with right:
        if data.figures:
            for figure in data.figures[:2]:
                st.plotly_chart(figure, config=charts.CHART_CONFIG)
        else:
            st.info(t("train.no_steps_yet"))
    st.markdown(f"**{t('train.diagram_heading')}**")
    live_mermaid(data.diagram, key="train_live_diagram")
    if run.family == "gan":
        st.caption(t("train.diagram_caption_running" if run.running else "train.diagram_caption",
                     k=run.trainer.config.d_steps))
    bottom_left, bottom_right = st.columns(2)
    if len(data.figures) > 2:
        bottom_left.plotly_chart(data.figures[2], config=charts.CHART_CONFIG)
    with bottom_right:
        if data.quality is not None:
            st.plotly_chart(data.quality, config=charts.CHART_CONFIG)
            st.caption(t("train.quality_caption"))
        elif run.quality_error:
            st.caption(t("train.quality_unavailable"))
        else:
            st.caption(t("train.quality_later", seconds=int(QUALITY_EVERY_S)))


def _live_body() -> None:
    """Draw first, then train: the elements are fresh while the slice runs, so nothing fades (Streamlit greys
    out elements of a running fragment until they are sent again). What is shown is one slice old."""
    run = current_run()
    if run is None:
        return
    limits.heartbeat(training=run.running, release_keys=(STATE, "train_slowmo_stepper"))
    keep_for_reload(run, full_run=False)  # keeps the parked run fresh during a long training
    with training_threads():  # the redraw runs G (samples) too: same thread policy as training
        data = redraw_data(run)
    draw(run, data)
    if run.running:
        diverged = train_slice(run, float(_get(_key("slice"), DEFAULT_SLICE)))
        _update_rate(run)
        maybe_measure_quality(run)
        if diverged:
            st.rerun()  # a full rerun: the message appears, the controls show Start, the fragment stops


# The grids are sent at their real size (28 px digits) and enlarged by the browser: crisp pixels, small PNGs.
PIXELATED_CSS = "<style>.st-key-train_history img { image-rendering: pixelated; }</style>"


def live_view(run: LiveRun) -> None:
    """The time-sliced view: re-runs on its own while training, so the rest of the page stays put."""
    st.html(PIXELATED_CSS)
    st.fragment(_live_body, run_every=AUTO_RERUN_S if run.running else None)()


# --- history, export, resume ---------------------------------------------------------------------------------


def history_panel(run: LiveRun) -> None:
    steps = run.snapshots.steps()
    if len(steps) < 2:
        st.info(t("train.history_empty", every=run.snapshots.every))
        return
    index = st.select_slider(t("train.history_slider"), options=list(range(len(steps))), value=len(steps) - 1,
                             format_func=lambda i: t("train.history_step", step=steps[i]), key="train_scrub")
    step, grid = run.snapshots.items[index]
    with st.container(key="train_history"):
        st.image(images.to_png_data_uri(grid), caption=t("train.history_caption", step=step), width=480)  # inline


def checkpoint_bytes(run: LiveRun) -> bytes:
    """The session's model as a checkpoint zip (config.json + model.safetensors), resumable by upload."""
    trainer = run.trainer
    sampling = trainer.ema_generator if isinstance(trainer, GANTrainer) else None
    provenance = {"source": "AIGC Lab Train page", "preset": run.settings.preset, "steps": trainer.iteration,
                  "origin": run.origin if not run.origin_name else f"{run.origin}: {run.origin_name}"}
    if isinstance(trainer, GANTrainer):
        provenance["d_updates"] = trainer.d_updates
    from dataclasses import asdict

    return checkpoint_zip(trainer.model, sampling_generator=sampling, train_config=asdict(trainer.config),
                          provenance=provenance)


def grid_png(run: LiveRun) -> bytes:
    return images.to_png_bytes(images.upscale(sample_grid(run.trainer), 2))


def export_panel(run: LiveRun) -> None:
    st.markdown(t("train.export_intro"))
    name = f"aigc_{run.settings.preset}_step{run.trainer.iteration}"
    columns = st.columns(3)
    columns[0].download_button(t("train.download_model"), data=lambda: checkpoint_bytes(run), file_name=f"{name}.zip",
                               mime="application/zip", key="train_dl_model", icon=":material/download:",
                               on_click="ignore", width="stretch")
    columns[1].download_button(t("train.download_png"), data=lambda: grid_png(run), file_name=f"{name}.png",
                               mime="image/png", key="train_dl_png", icon=":material/image:", on_click="ignore",
                               width="stretch")
    columns[2].download_button(t("train.download_csv"), data=run.history.to_csv, file_name=f"{name}_metrics.csv",
                               mime="text/csv", key="train_dl_csv", icon=":material/table:", on_click="ignore",
                               width="stretch", disabled=not len(run.history))
    st.divider()
    st.markdown(t("train.upload_intro"))
    st.file_uploader(t("train.upload"), type=["zip"], key="train_upload", on_change=_on_upload,
                     help=t("train.upload_help"))
    message = st.session_state.get("train_upload_message")
    if message:
        kind, text = message
        (st.success if kind == "ok" else st.error)(text)


def resume_from_zip(data: bytes, file_name: str) -> LiveRun:
    """A run continuing an uploaded checkpoint; sets the sidebar to match it. Raises AigcError with a message."""
    checkpoint = load_checkpoint_zip(data)
    family = checkpoint.family
    if family not in FAMILIES:
        raise CheckpointError(t("train.upload_wrong_family", family=family))
    if checkpoint.architecture == "toy_gan":
        raise CheckpointError(t("train.upload_toy"))
    preset_name = next((p for p in PRESETS[family] if get_preset(p).model_config == checkpoint.model.config),
                       PRESETS[family][0])
    preset = get_preset(preset_name)
    train_config = preset.train_config
    if checkpoint.train_config:
        try:
            train_config = train_config_from_dict(family, checkpoint.train_config)
        except AigcError:
            train_config = preset.train_config  # weights are what matter; fall back to the preset's recipe
    trainer = trainer_from_checkpoint(checkpoint, train_config, device=device())
    values = {_key("family"): family, **preset_widget_values(family, preset_name),
              **train_widget_values(family, train_config), _key(f"{family}_z"): int(checkpoint.model.config.z_dim)}
    _set_widgets(values)
    settings = Settings(family, preset_name, "scratch", checkpoint.model.config, train_config)
    run = _new_run(settings, trainer, "upload", file_name)
    # What the sidebar will read back for these widget values: so it does not ask to rebuild.
    model_config = preset.model_config if preset.model_config.z_dim == checkpoint.model.config.z_dim else replace(
        preset.model_config, z_dim=int(checkpoint.model.config.z_dim))
    run.structure = Settings(family, preset_name, "scratch", model_config, train_config).structure
    run.images_seen = trainer.iteration * train_config.batch_size
    return run


def _on_upload() -> None:
    uploaded = st.session_state.get("train_upload")
    if uploaded is None:
        return
    try:
        run = resume_from_zip(uploaded.getvalue(), uploaded.name)
    except AigcError as exc:
        st.session_state["train_upload_message"] = ("error", t("train.upload_failed", message=str(exc)))
        return
    old = current_run()
    if old is not None:
        old.running = False
    st.session_state[STATE] = run
    st.session_state.pop("train_slowmo_stepper", None)
    st.session_state["train_upload_message"] = ("ok", t("train.upload_ok", name=uploaded.name,
                                                        steps=run.trainer.iteration))


def model_caption(run: LiveRun) -> str:
    params = sum(p.numel() for p in run.trainer.model.parameters())
    origin = {"scratch": t("train.origin_scratch"), "pretrained": t("train.origin_pretrained", name=run.origin_name),
              "upload": t("train.origin_upload", name=run.origin_name)}[run.origin]
    return t("train.model_caption", preset=t(f"train.preset_name.{run.settings.preset}"), params=f"{params:,}",
             origin=origin)
