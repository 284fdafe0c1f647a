"""The Train page's redraw: what one redraw shows (`redraw_data`: the fixed-noise samples, charts, the diagram's
source, the numbers) as plain data. Pure: it takes the page's translator, and this module does not import
Streamlit, so `bench/bench_live.py` times it as it is. ui/train/live.py draws it.
"""

from __future__ import annotations

import base64
import html
import io
import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from PIL import Image

from aigc_core import images, pixels
from aigc_core.diagrams import DIFFUSION_PHASES, diffusion_diagram, gan_diagram, vae_diagram
from aigc_core.losses import LOGIT_LOSSES
from ui.catalog import Translator
from ui.labels import diffusion_labels, gan_labels, vae_labels
from ui.train import charts
from ui.train.run import TrainRun

DIAGRAM_EVERY_S = 1.5  # the live diagram changes at most this often
CHARTS_EVERY_S = 1.0  # while running, the charts take new data at most this often (see redraw_data)
CHART_POINTS = 400
# A denoiser's grid runs the whole sampler (steps x one U-Net pass over 64 images): while training it is redrawn at
# most this often, so the slices keep most of the time. GANs and VAEs draw theirs in one pass, at every redraw.
GRID_EVERY_S = {"diffusion": 2.0}
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
    """The fixed-noise samples as one uint8 picture: 8 x 8, or for a class-conditional model one row per digit."""
    samples = trainer.sample()
    if trainer.family in ("gan", "diffusion"):  # both generate in [-1, 1]
        samples = pixels.signed_to_unit(samples)
    return images.make_grid(samples, nrow=trainer.grid_columns)


def _grid(run: TrainRun, now: float) -> tuple[np.ndarray, bool]:
    """(the samples picture, whether it was drawn now): reused while it would show the same thing, and for a
    denoiser while training, for up to GRID_EVERY_S."""
    config = run.trainer.config
    shows = (run.trainer.iteration, getattr(config, "guidance", None), getattr(config, "sample_steps", None))
    if run.grid is not None and (run.grid[1] == shows or (
            run.running and now - run.grid[0] < GRID_EVERY_S.get(run.family, 0.0))):
        return run.grid[2], False
    picture = sample_grid(run.trainer)
    run.grid = (now, shows, picture)
    return picture, True


def _diagram(run: TrainRun, now: float, tr: Translator) -> str:
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
        source = gan_diagram(phase=phase, values=values, labels=gan_labels(tr),
                             conditional=getattr(run.trainer, "conditional", False))
    elif run.family == "diffusion":
        keys = [phase.key for phase in DIFFUSION_PHASES][1:]  # while running: add noise, predict, loss, update, …
        previous = run.diagram[1] if run.diagram is not None else None
        if run.running:
            phase = keys[(keys.index(previous) + 1) % len(keys)] if previous in keys else keys[0]
        else:
            phase = "update" if run.last_action else None
        names = {"loss": "loss", "grad": "grad_norm"}
        values = {key: last[name] for key, name in names.items() if name in last and not math.isnan(last[name])}
        source = diffusion_diagram(phase=phase, values=values, labels=diffusion_labels(tr))
    else:
        phase = "update" if run.last_action else None
        values = {k: last[k] for k in ("recon", "kl", "loss") if k in last and not math.isnan(last[k])}
        source = vae_diagram(phase=phase, values=values, labels=vae_labels(tr),
                             conditional=getattr(run.trainer, "conditional", False))
    run.diagram = (now, phase, source)
    return source


def redraw_data(run: TrainRun, tr: Translator, *, now: float | None = None) -> RedrawData:
    """What the next redraw shows, in `tr`'s language. Updates the run's caches (snapshots, charts, diagram)."""
    now = time.perf_counter() if now is None else now
    trainer = run.trainer
    grid, fresh = _grid(run, now)
    recon = None
    if run.family == "vae" and run.recon_input is not None:
        labels = run.recon_labels if getattr(trainer, "conditional", False) else None
        recon_images = torch.cat([run.recon_input, trainer.reconstruct(run.recon_input, labels)])
        recon = images.make_grid(recon_images, nrow=8)
    if fresh and run.snapshots.due(trainer.iteration) and (run.trained or not len(run.snapshots)):
        run.snapshots.add(trainer.iteration, grid)
    figures = []
    # While running, the charts take new data at most every CHARTS_EVERY_S: Streamlit identifies a Plotly chart by
    # its whole spec, so a chart with new data is a new element that the browser builds from scratch. Between
    # updates the same figures are sent again, which the browser leaves alone.
    charts_due = not run.running or run.charts_at is None or now - run.charts_at >= CHARTS_EVERY_S
    if len(run.history):
        # Rebuilt only when the titles would change: another family, loss kind (probability or score) or language.
        kind = (run.family, trainer.config.loss in LOGIT_LOSSES if run.family == "gan" else None, tr.lang)
        if run.charts is None or run.charts[0] != kind:
            timesteps = getattr(trainer.model.config, "timesteps", 1000)
            run.charts, charts_due = (kind, charts.live_chart_set(tr, run.family, trainer.config.loss
                                                                   if run.family == "gan" else None, timesteps)), True
        figures = (run.charts[1].update(run.history.downsampled(CHART_POINTS)) if charts_due
                   else run.charts[1].figures)
    quality = None
    if len(run.quality):
        if run.quality_charts is None or run.quality_charts[0] != tr.lang:
            run.quality_charts, charts_due = (tr.lang, charts.quality_chart_set(tr)), True
        quality = (run.quality_charts[1].update(run.quality.downsampled(CHART_POINTS)) if charts_due
                   else run.quality_charts[1].figures)[0]
    if charts_due:
        run.charts_at = now
    numbers = {"step": float(trainer.iteration), "epoch": run.images_seen / MNIST_TRAIN_SIZE,
               "rate": run.rate, "elapsed": run.train_seconds}
    return RedrawData(grid, recon, figures, quality, _diagram(run, now, tr), numbers)


def metric_text(value: float, kind: str) -> str:
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
