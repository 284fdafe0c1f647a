"""The Train page's controller: the session's trainer, Start / Pause / Reset, single D and G steps, the time-sliced
live fragment and divergence handling. What a redraw shows (samples, charts, diagram, quality estimates) is in
ui/live_view.py, the sidebar's set-up in ui/train_settings.py, the "Save and load" tab in ui/train_export.py,
the step records and what a divergence rollback undoes in ui/live_record.py.

Everything a user trains lives in ``st.session_state[STATE]`` (a `LiveRun`); shared caches are only read (a
pretrained model is deep-copied into the session's trainer). Training runs in slices: the live view is an
``st.fragment(run_every=...)`` that calls ``aigc_core.slicing.run_slice(trainer, ~0.3 s)`` and then redraws, so
Pause (a full rerun) takes effect within one slice. The work of a redraw is in `live_view.redraw_data()` (pure,
no Streamlit calls), which `bench/bench_live.py` times together with `run_slice`.
"""

from __future__ import annotations

import contextlib
import math
import os
import time
from dataclasses import dataclass, field
from typing import Any

import streamlit as st
import torch

from aigc_core import images
from aigc_core.errors import AigcError, CheckpointError, ConfigError, TrainingDiverged
from aigc_core.factory import build_trainer
from aigc_core.gan_trainer import GANTrainer
from aigc_core.history import MetricHistory, SnapshotTimeline
from aigc_core.mnist import to_tensor
from aigc_core.playground import one_thread
from aigc_core.resume import trainer_from_checkpoint
from aigc_core.slicing import run_slice
from ui import limits, parking
from ui import live_view as view
from ui.live_record import note_divergence, record_steps
from ui.i18n import t
from ui.models import device, mnist, try_pretrained
from ui.train_settings import DEFAULT_SLICE, SAVED, Settings, set_widgets, setting_key, setting_value

STATE = "train_run"
LIMIT_MESSAGE = "train_limit_message"  # why Start was refused (a per-session cap), shown once above the controls
AUTO_RERUN_S = 0.1  # shorter than a slice: the next slice starts as soon as the last redraw is sent
SNAPSHOT_EVERY = 100  # steps between sample-grid snapshots (doubles when the timeline is full)
GAN_FIELDS = ("step", "d_updates", "d_loss", "g_loss", "d_real", "d_fake", "grad_norm_d", "grad_norm_g", "seconds")
VAE_FIELDS = ("step", "loss", "recon", "kl", "grad_norm", "seconds")
QUALITY_FIELDS = ("step", "classifier_score", "fid", "samples")


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
    rolled_back_to: int | None = None  # the step a divergence rolled the trainer back to, until training goes on
    rolled_back_updates: int | None = None  # GAN: the D updates of those weights (a lone D step keeps the step)
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


def new_run(settings: Settings, trainer: Any, origin: str, origin_name: str = "") -> LiveRun:
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
        return new_run(settings, trainer, "pretrained", settings.preset)
    trainer = build_trainer(settings.model_config, settings.train_config, device=device())
    limits.enforce(model=trainer.model)
    return new_run(settings, trainer, "scratch")


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
        set_widgets(run.widget_values)
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
        set_widgets(run.widget_values)


def pending_panel(run: LiveRun) -> None:
    with st.container(border=True):
        st.warning(t("train.pending", steps=run.trainer.iteration), icon=":material/warning:")
        left, right = st.columns(2)
        left.button(t("train.pending_build"), on_click=_confirm_rebuild, type="primary", key="train_btn_rebuild",
                    icon=":material/add_circle:", width="stretch")
        right.button(t("train.pending_keep"), on_click=_keep_current, key="train_btn_keep",
                     icon=":material/undo:", width="stretch")


# --- stepping ------------------------------------------------------------------------------------------------


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
            records = run_slice(run.trainer, seconds, keep_going=lambda: run.running)
        diverged = None
    except TrainingDiverged as exc:
        records, diverged = getattr(exc, "records", []), exc
    record_steps(run, records, "both")
    run.train_seconds += time.perf_counter() - start
    if diverged is not None:
        note_divergence(run, diverged)
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
        note_divergence(run, exc)
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


def _live_body() -> None:
    """Draw first, then train: the elements are fresh while the slice runs, so nothing fades (Streamlit greys
    out elements of a running fragment until they are sent again). What is shown is one slice old."""
    run = current_run()
    if run is None:
        return
    limits.heartbeat(training=run.running, release_keys=(STATE, "train_slowmo_stepper"))
    keep_for_reload(run, full_run=False)  # keeps the parked run fresh during a long training
    with training_threads():  # the redraw runs G (samples) too: same thread policy as training
        data = view.redraw_data(run)
    view.draw(run, data)
    if run.running:
        diverged = train_slice(run, float(setting_value(setting_key("slice"), DEFAULT_SLICE)))
        view.update_rate(run)
        view.maybe_measure_quality(run)
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


def model_caption(run: LiveRun) -> str:
    params = sum(p.numel() for p in run.trainer.model.parameters())
    origin = {"scratch": t("train.origin_scratch"), "pretrained": t("train.origin_pretrained", name=run.origin_name),
              "upload": t("train.origin_upload", name=run.origin_name)}[run.origin]
    return t("train.model_caption", preset=t(f"train.preset_name.{run.settings.preset}"), params=f"{params:,}",
             origin=origin)
