"""The Train page's controller: the session's trainer, Start / Pause / Reset, single D and G steps, the time-sliced
live view, snapshots, quality estimates and divergence handling. The sidebar's set-up is in ui/train_settings.py,
the "Save and load" tab in ui/train_export.py.

Everything a user trains lives in ``st.session_state[STATE]`` (a `LiveRun`); shared caches are only read (a
pretrained model is deep-copied into the session's trainer). Training runs in slices: the live view is an
``st.fragment(run_every=...)`` that calls ``aigc_core.slicing.run_slice(trainer, ~0.3 s)`` and then redraws, so
Pause (a full rerun) takes effect within one slice. The work of a redraw is in `redraw_data()` (pure, no
Streamlit calls), which `bench/bench_live.py` times together with `run_slice`.
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
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import streamlit as st
import torch
from PIL import Image

from aigc_core import images, pixels
from aigc_core.diagrams import gan_diagram, vae_diagram
from aigc_core.errors import AigcError, CheckpointError, ConfigError, TrainingDiverged
from aigc_core.evaluation import real_reference
from aigc_core.factory import build_trainer
from aigc_core.gan_trainer import GANTrainer
from aigc_core.history import MetricHistory, SnapshotTimeline
from aigc_core.live_eval import quick_score
from aigc_core.losses import LOGIT_LOSSES
from aigc_core.mnist import to_tensor
from aigc_core.playground import one_thread
from aigc_core.resume import trainer_from_checkpoint
from aigc_core.slicing import run_slice
from ui import charts, limits, parking
from ui.i18n import current_language, t
from ui.live_diagram import live_mermaid
from ui.models import device, mnist, try_pretrained
from ui.slowmo import gan_labels, vae_labels
from ui.train_settings import DEFAULT_SLICE, SAVED, Settings, _get, _key, _set_widgets

STATE = "train_run"
LIMIT_MESSAGE = "train_limit_message"  # why Start was refused (a per-session cap), shown once above the controls
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


def model_caption(run: LiveRun) -> str:
    params = sum(p.numel() for p in run.trainer.model.parameters())
    origin = {"scratch": t("train.origin_scratch"), "pretrained": t("train.origin_pretrained", name=run.origin_name),
              "upload": t("train.origin_upload", name=run.origin_name)}[run.origin]
    return t("train.model_caption", preset=t(f"train.preset_name.{run.settings.preset}"), params=f"{params:,}",
             origin=origin)
