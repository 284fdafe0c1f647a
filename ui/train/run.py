"""The Train page's run: what a session trains (`TrainRun`, kept in ``st.session_state[STATE]`` by
ui/train/controls.py), the `Settings` it was built from, what it remembers of its steps (history, images seen, what
a divergence rollback undoes) and one time slice of training.

Pure: no Streamlit import (the layering test checks it), so a redraw interrupted by the next rerun has lost
nothing, and `bench/bench_live.py` calls `train_slice` as the page does.
"""

from __future__ import annotations

import contextlib
import math
import os
import time
from dataclasses import dataclass, field, replace
from typing import Any

import torch

from aigc_core.errors import TrainingDiverged
from aigc_core.history import MetricHistory, SnapshotTimeline
from aigc_core.device import one_thread
from aigc_core.slicing import run_slice

STATE = "train_run"
# Steps between sample-grid snapshots at first; a full timeline (120) drops every other one and spaces the next
# ones as far apart, so it always spans the whole run: the History tab and its animated GIF (~60-120 frames).
SNAPSHOT_EVERY = 10
GAN_FIELDS = ("step", "d_updates", "d_loss", "g_loss", "d_real", "d_fake", "grad_norm_d", "grad_norm_g", "seconds")
VAE_FIELDS = ("step", "loss", "recon", "kl", "grad_norm", "seconds")
# A diffusion step's loss by noise level (DiffusionStats.loss_by_t) is kept as one column per quarter of t.
DIFFUSION_FIELDS = ("step", "loss", "loss_by_t_0", "loss_by_t_1", "loss_by_t_2", "loss_by_t_3", "grad_norm", "seconds")
QUALITY_FIELDS = ("step", "classifier_score", "fid", "samples")


def new_history(family: str) -> MetricHistory:
    """An empty step history with the columns of this family's stats records."""
    if family == "gan":
        return MetricHistory(GAN_FIELDS, ("phase",))
    return MetricHistory(DIFFUSION_FIELDS if family == "diffusion" else VAE_FIELDS)
DEFAULT_SLICE = 0.3  # seconds of training between redraws (the sidebar offers others)


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


@dataclass
class TrainRun:
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
    diverged_kind: str = "non_finite"  # TrainingDiverged.kind: what the divergence panel explains
    rolled_back_to: int | None = None  # the step a divergence rolled the trainer back to, until training goes on
    rolled_back_updates: int | None = None  # GAN: the D updates of those weights (a lone D step keeps the step)
    last_action: str = ""  # "d", "g", "both" or "" (what the diagram highlights)
    quality_error: str | None = None
    last_quality_at: float = 0.0  # training seconds at the last quality estimate
    diagram: tuple[float, str | None, str] | None = None  # (when, phase, Mermaid source) of the live diagram
    charts: tuple[tuple, Any] | None = None  # (what they were built for, charts.ChartSet)
    quality_charts: tuple[str, Any] | None = None
    charts_at: float | None = None  # when the charts last took new data
    grid: tuple[float, tuple, Any] | None = None  # (when, what it shows: step and sampler settings, uint8 picture)
    _rate_mark: tuple[float, int] | None = None
    recon_input: torch.Tensor | None = None  # VAE: 8 fixed test digits in [0, 1]
    recon_labels: torch.Tensor | None = None  # their labels (a conditional VAE needs them to encode)

    @property
    def family(self) -> str:
        return self.trainer.family

    @property
    def trained(self) -> bool:
        return self.trainer.iteration > 0 or len(self.history) > 0

    def setup(self) -> Settings:
        """The set-up this run trains with now (its settings, with the trainer's own config)."""
        return replace(self.settings, train_config=self.trainer.config)


# --- bookkeeping ------------------------------------------------------------------------------------------------


def record_steps(run: TrainRun, records: list, action: str) -> None:
    """Add step records to the history (before any Streamlit call, so an interrupted redraw loses nothing)."""
    if not records:
        return
    forget_rolled_back(run)
    run.history.extend(records)
    cfg = run.trainer.config
    if run.family == "gan":
        per_record = cfg.batch_size * (cfg.d_steps if action == "both" else 1 if action == "d" else 0)
    else:
        per_record = cfg.batch_size
    run.images_seen += per_record * len(records)
    run.last_action = action


def note_divergence(run: TrainRun, exc: TrainingDiverged) -> None:
    """Pause the run and keep the message. The trainer went back to an earlier step: the diverged tail stays on
    the charts while the run is paused (that is the lesson) and is forgotten by the next steps recorded."""
    run.running = False
    run.diverged = str(exc)
    run.diverged_kind = exc.kind
    if exc.restored_step is not None:
        run.rolled_back_to = exc.restored_step
        run.rolled_back_updates = run.trainer.d_updates if run.family == "gan" else None
        run.images_seen = max(0, run.images_seen - images_undone(run))


def images_undone(run: TrainRun) -> int:
    """Images counted for the updates a rollback undid: the epoch shown is that of the weights the trainer holds.
    A D update (GAN) or a step (VAE) each saw one batch; the trainer's counters are those of the restored weights."""
    last = run.history.last()
    if last is None:
        return 0
    trainer = run.trainer
    if run.family == "gan":
        undone = int(last["d_updates"]) - trainer.d_updates
    else:
        undone = int(last["step"]) - trainer.iteration
    return max(0, undone) * trainer.config.batch_size


def forget_rolled_back(run: TrainRun) -> None:
    """The records after the step the trainer went back to are being redone: drop the old ones."""
    if run.rolled_back_to is None:
        return
    step, run.rolled_back_to = run.rolled_back_to, None
    updates, run.rolled_back_updates = run.rolled_back_updates, None
    if updates is None:
        run.history.drop_after(step)
    else:  # a D update made after the snapshot carries the snapshot's step: count D updates instead
        run.history.drop_after(updates, column="d_updates")
    run.quality.drop_after(step)
    run.snapshots.drop_after(step)


def animation_frames(run: TrainRun) -> list[tuple[int, Any]]:
    """(step, uint8 grid) for the GIF of the run: the kept snapshots, and the grid on screen when it shows a later
    step (snapshots are taken every few steps: the film ends where the run is)."""
    frames = list(run.snapshots.items)
    if run.grid is not None:
        step = int(run.grid[1][0])
        if not frames or step > frames[-1][0]:
            frames.append((step, run.grid[2]))
    return frames


def update_rate(run: TrainRun) -> None:
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


# --- training (no Streamlit calls) -----------------------------------------------------------------------------


def training_threads(one_thread_rule: bool = True) -> contextlib.AbstractContextManager:
    """On a machine with two cores or fewer, train on one torch thread: the browser drawing the page and the
    server need the other core, and torch's second thread then waits for it. Measured on our shared 2-core
    machine (gan_mlp_live): 23.5 steps/s with one thread, 2.0 with two. Larger machines keep torch's default, as
    does a caller that sets its own thread count (`one_thread_rule=False`, e.g. a bench's ``--threads``)."""
    return one_thread() if one_thread_rule and (os.cpu_count() or 1) <= 2 else contextlib.nullcontext()


def train_slice(run: TrainRun, seconds: float, *, one_thread_rule: bool = True) -> bool:
    """One slice of training. Returns True when training diverged (the run is then paused)."""
    start = time.perf_counter()
    try:
        with training_threads(one_thread_rule):
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
