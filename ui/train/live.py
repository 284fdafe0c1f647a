"""The Train page's live view: an ``st.fragment(run_every=...)`` that the browser re-triggers about every 0.1 s
while training. Each run draws what `ui.train.view.redraw_data` computed (metrics, samples, charts, the live
diagram), then trains one slice of ~0.3 s (`ui.train.run.train_slice`) and, every 20 s of training, takes a quick
quality estimate; so Pause (a full rerun) takes effect within one slice.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import streamlit as st

from aigc_core.evaluation import real_reference
from aigc_core.live_eval import quick_score
from ui.a11y.charts import chart_area, plotly_chart
from ui.diagram import live_mermaid
from ui.i18n import t, translator
from ui.resources import try_pretrained
from ui.server import limits
from ui.train import autosave, view
from ui.train.charts import CHART_CONFIG
from ui.train.controls import SLOWMO_STATE, current_run, keep_for_reload
from ui.train.run import DEFAULT_SLICE, STATE, TrainRun, train_slice, training_threads, update_rate
from ui.train.settings import setting_key, setting_value

AUTO_RERUN_S = 0.1  # shorter than a slice: the next slice starts as soon as the last redraw is sent
QUALITY_EVERY_S = 20.0  # seconds of training between quick quality estimates


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


def maybe_measure_quality(run: TrainRun, *, force: bool = False) -> None:
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


def _live_body() -> None:
    """Draw first, then train: the elements are fresh while the slice runs, so nothing fades (Streamlit greys
    out elements of a running fragment until they are sent again). What is shown is one slice old."""
    run = current_run()
    if run is None:
        return
    limits.heartbeat(training=run.running, release_keys=(STATE, SLOWMO_STATE))
    keep_for_reload(run, full_run=False)  # keeps the parked run fresh during a long training
    with training_threads():  # the redraw runs G (samples) too: same thread policy as training
        data = view.redraw_data(run, translator())
    draw(run, data)
    if run.running:
        diverged = train_slice(run, float(setting_value(setting_key("slice"), DEFAULT_SLICE)))
        update_rate(run)
        maybe_measure_quality(run)
        autosave.maybe_save(run)  # on disk every few seconds of training (ui/server/autosave.py)
        if diverged:
            st.rerun()  # a full rerun: the message appears, the controls show Start, the fragment stops


# The grids are sent at their real size (28 px digits) and enlarged by the browser: crisp pixels, small PNGs.
PIXELATED_CSS = "<style>.st-key-train_history img { image-rendering: pixelated; }</style>"


def live_view(run: TrainRun) -> None:
    """The time-sliced view: re-runs on its own while training, so the rest of the page stays put."""
    st.html(PIXELATED_CSS)
    st.fragment(_live_body, run_every=AUTO_RERUN_S if run.running else None)()


def draw(run: TrainRun, data: view.RedrawData) -> None:
    """Metrics; samples beside the loss and D-output charts; the live diagram across the page; gradient norms
    beside the quality estimate. Sized for a projector: the samples and the diagram are the big things."""
    metric_columns = st.columns(4)
    for column, kind in zip(metric_columns, ("step", "epoch", "rate", "elapsed")):
        column.metric(t(f"train.metric_{kind}"), view.metric_text(data.numbers[kind], kind),
                      help=t(f"train.metric_{kind}_help"))
    st.caption(t("train.status_running") if run.running else t("train.status_paused"))
    with chart_area("train_live"):  # one "Show as table" for the charts, after the last of them
        _pictures(run, data)


def _pictures(run: TrainRun, data: view.RedrawData) -> None:
    left, right = st.columns([2, 3])
    with left, st.container(key="train_samples"):
        st.markdown(f"**{t('train.samples_heading')}**")
        if run.family == "diffusion":
            caption = "train_diffusion.samples_caption"
        elif getattr(run.trainer, "conditional", False):  # a class-conditional GAN or VAE: a row per digit
            caption = "train.samples_caption_conditional"
        else:
            caption = "train.samples_caption"
        st.html(view.image_html(data.grid, t(caption)))
        if data.recon is not None:
            st.markdown(f"**{t('train.recon_heading')}**")
            st.html(view.image_html(data.recon, t("train.recon_caption")))
    with right:
        if data.figures:
            for figure in data.figures[:2]:
                plotly_chart(figure, config=CHART_CONFIG)
        else:
            st.info(t("train.no_steps_yet"))
    st.markdown(f"**{t('train.diagram_heading')}**")
    live_mermaid(data.diagram, key="train_live_diagram")
    if run.family == "gan":
        st.caption(t("train.diagram_caption_running" if run.running else "train.diagram_caption",
                     k=run.trainer.config.d_steps))
    bottom_left, bottom_right = st.columns(2)
    if len(data.figures) > 2:
        plotly_chart(data.figures[2], where=bottom_left, config=CHART_CONFIG)
    with bottom_right:
        if data.quality is not None:
            plotly_chart(data.quality, config=CHART_CONFIG)
            st.caption(t("train.quality_caption"))
        elif run.quality_error:
            st.caption(t("train.quality_unavailable"))
        else:
            st.caption(t("train.quality_later", seconds=int(QUALITY_EVERY_S)))
