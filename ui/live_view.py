"""The Train page's live view: what one redraw shows (`redraw_data`, pure, no Streamlit calls: `bench/bench_live.py`
times it), how it is drawn (`draw`: metrics, samples, charts, the live diagram), and the quick quality estimate taken
between slices. The fragment that alternates redraws and training slices is `ui.live.live_view`.
"""

from __future__ import annotations

import base64
import html
import io
import math
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import streamlit as st
import torch
from PIL import Image

from aigc_core import images, pixels
from aigc_core.diagrams import gan_diagram, vae_diagram
from aigc_core.evaluation import real_reference
from aigc_core.gan_trainer import GANTrainer
from aigc_core.live_eval import quick_score
from aigc_core.losses import LOGIT_LOSSES
from ui import charts
from ui.i18n import current_language, t
from ui.live_diagram import live_mermaid
from ui.models import try_pretrained
from ui.slowmo import gan_labels, vae_labels

if TYPE_CHECKING:
    from ui.live import LiveRun

QUALITY_EVERY_S = 20.0  # seconds of training between quick quality estimates
DIAGRAM_EVERY_S = 1.5  # the live diagram changes at most this often
CHARTS_EVERY_S = 1.0  # while running, the charts take new data at most this often (see redraw_data)
CHART_POINTS = 400
MNIST_TRAIN_SIZE = 60_000


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


def update_rate(run: LiveRun) -> None:
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
