"""The playground's per-session state: one `PlaygroundRun` per model family (one trainer, or two GANs side by
side) in `st.session_state`, built from `PlaygroundSettings`, plus the few flags the buttons set. Switching the
family (GAN | Diffusion) shows the other family's run; neither is discarded.

Training happens in exactly two places, both in `aigc_core`: `slicing.run_slice` while playing and the trainer's
`step_d` / `step_g` / `step` for the step buttons. This module only decides which to call and records the
curves. The shared pretrained checkpoints (`ui.resources.pretrained`) are copied before training
(`aigc_core.playground.fresh_copy`), never trained in place.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import streamlit as st
import torch

from aigc_core import playground as pg
from aigc_core.errors import AigcError, CheckpointError
from aigc_core.evaluation import PRETRAINED_DIR
from aigc_core.factory import toy_source
from aigc_core.diffusion_trainer import DiffusionStats
from aigc_core.gan_trainer import GANStats
from aigc_core.history import SnapshotTimeline
from aigc_core.models.gan import GAN
from aigc_core.slicing import run_slice
from aigc_core.toy2d import PointSource
from ui.resources import pretrained

RUN_KEY = "pg_run"  # the GAN run; diffusion mode keeps its own under DIFFUSION_RUN_KEY
DIFFUSION_RUN_KEY = "pg_run_diffusion"
PLAYING_KEY = "pg_playing"
ACTION_KEY = "pg_action"  # "d", "g" or "both": a step button was pressed; the live view runs it
RESET_KEY = "pg_reset_requested"
ERROR_KEY = "pg_error"  # a message to show once (e.g. training diverged while playing)
CUSTOM_POINTS_KEY = "pg_custom_points"  # (N, 2) tensor of the user's own points, or absent
CUSTOM_SOURCE_KEY = "pg_custom_source"  # where they came from: "upload" or "drawn"

# Tiny networks: the CPU beats a GPU's launch overhead here, and the plane is drawn from CPU tensors anyway.
DEVICE = torch.device("cpu")


@dataclass
class PlaygroundRun:
    """What one session is training: one trainer, or two GANs (side by side) from the same initial weights."""

    settings: list[pg.PlaygroundSettings]  # as applied to each trainer
    trainers: list[pg.PlaygroundTrainer]
    source: PointSource
    real_shown: torch.Tensor
    noise: pg.ViewNoise | pg.DiffusionNoise
    histories: list[pg.History] = field(default_factory=list)
    pretrained_steps: int | None = None  # steps behind the loaded pretrained weights, if any
    frame: int = 0  # diffusion mode: redraws so far, which picks the particles' animation frame
    samples: torch.Tensor | None = None  # diffusion mode: the last frame's samples (the next frame's pool)
    # The views of past redraws (a tuple per redraw, one view per trainer) for the animated GIF: every redraw until
    # the timeline is full, then evenly thinned (at most 120, always spanning the run; ui/playground/animation.py).
    frames: SnapshotTimeline = field(default_factory=lambda: SnapshotTimeline(every=1))

    @property
    def compare(self) -> bool:
        return len(self.trainers) == 2

    @property
    def diffusion(self) -> bool:
        return self.settings[0].family == "diffusion"

    @property
    def has_progress(self) -> bool:
        """True once any update happened (a reset would then discard trained state)."""
        return any(t.iteration > 0 or getattr(t, "d_updates", 0) > 0 for t in self.trainers)

    def apply_live(self, settings: list[pg.PlaygroundSettings]) -> list[str]:
        """Hand changed live settings to the trainers (effective from the next step); returns the changed names."""
        changed: list[str] = []
        for index, (trainer, old, new) in enumerate(zip(self.trainers, self.settings, settings)):
            live = pg.live_changes(old, new)
            if live:
                kept = {name: getattr(old, name) for name in pg.RESET_FIELDS}
                applied = pg.PlaygroundSettings(**{**new.__dict__, **kept})
                trainer.update_config(applied.train_config())
                self.settings[index] = applied
                changed += [name for name in live if name not in changed]
        return changed

    def act(self, action: str) -> list[list[GANStats | DiffusionStats]]:
        """One D update, one G update or one whole iteration on every trainer; records per trainer. A denoiser has
        one network: every action is one step (the toolbar offers it only "one iteration")."""
        records: list[list[GANStats | DiffusionStats]] = []
        for trainer in self.trainers:
            if self.diffusion:
                records.append([trainer.step()])
            elif action == "d":
                records.append([trainer.step_d()])
            elif action == "g":
                records.append([trainer.step_g()])
            else:
                records.append([trainer.step()])
        return records

    def play(self, seconds: float, max_steps: int) -> list[list[GANStats | DiffusionStats]]:
        """A time slice of training (`run_slice`); side by side, both trainers advance together."""
        if self.compare:
            pairs = run_slice(pg.TrainerPair(*self.trainers), seconds, max_steps)
            return [[a for a, _ in pairs], [b for _, b in pairs]]
        return [run_slice(self.trainers[0], seconds, max_steps)]


def run_key(family: str) -> str:
    return DIFFUSION_RUN_KEY if family == "diffusion" else RUN_KEY


def current_run() -> PlaygroundRun | None:
    """The run of the family the sidebar shows."""
    return st.session_state.get(run_key(st.session_state.get("pg_family", "gan")))


def pretrained_available(data: str) -> bool:
    return data != pg.CUSTOM and (PRETRAINED_DIR / pg.pretrained_name(data) / "config.json").is_file()


def pretrained_model(data: str) -> tuple[GAN, int | None]:
    """A trainable copy of the shipped model for `data`, and how many steps it was trained for."""
    checkpoint = pretrained(pg.pretrained_name(data))
    if not isinstance(checkpoint.model, GAN):
        raise CheckpointError(f"{pg.pretrained_name(data)} is not a GAN checkpoint.")
    steps = checkpoint.provenance.get("steps")
    return pg.fresh_copy(checkpoint.model).to(DEVICE), steps if isinstance(steps, int) else None


def pretrained_config(data: str):  # -> ToyGANConfig | None
    """The architecture of the shipped model for `data` (None when there is none)."""
    if not pretrained_available(data):
        return None
    try:
        return pretrained(pg.pretrained_name(data)).model.config
    except CheckpointError:
        return None


def data_source(settings: pg.PlaygroundSettings) -> PointSource | None:
    if settings.data == pg.CUSTOM:
        points = st.session_state.get(CUSTOM_POINTS_KEY)
        return PointSource(points, device=DEVICE) if points is not None else None
    return toy_source(settings.data, str(DEVICE))


def build_run(settings: list[pg.PlaygroundSettings]) -> PlaygroundRun | None:
    """A fresh run for the settings (None while custom data has no points yet). Raises AigcError on bad input."""
    first = settings[0]
    source = data_source(first)
    if source is None:
        return None
    model, steps = None, None
    if first.family == "diffusion":
        trainer = pg.build_trainer(first, source, device=DEVICE)
        return PlaygroundRun(settings=[first], trainers=[trainer], source=source,
                             real_shown=pg.shown_real(source, first.seed), noise=pg.diffusion_noise(first.seed),
                             histories=[pg.History()])
    if first.pretrained and pretrained_available(first.data):
        model, steps = pretrained_model(first.data)
    if len(settings) == 2:
        pair = pg.build_pair(settings[0], settings[1], source, model=model, device=DEVICE)
        trainers = list(pair.trainers)
    else:
        trainers = [pg.build_trainer(first, source, model=model, device=DEVICE)]
    return PlaygroundRun(
        settings=list(settings), trainers=trainers, source=source,
        real_shown=pg.shown_real(source, first.seed), noise=pg.view_noise(trainers[0].model, first.seed),
        histories=[pg.History() for _ in trainers], pretrained_steps=steps,
    )


def pending_changes(run: PlaygroundRun, settings: list[pg.PlaygroundSettings]) -> list[str]:
    """Changes that need a reset: reset fields of the first configuration, and switching side by side."""
    names = pg.reset_changes(run.settings[0], settings[0])
    if run.compare != (len(settings) == 2):
        names.append("compare")
    return names


def sync(settings: list[pg.PlaygroundSettings]) -> tuple[PlaygroundRun | None, list[str], str | None]:
    """Bring the session's run in line with the widgets: (run, changes waiting for a reset, error message).

    A reset that was asked for, or a change that needs one while nothing has been trained yet, rebuilds the run
    (nothing is lost). With trained state, such changes wait for Reset and are reported, never applied silently.
    Live changes go straight to the trainers.
    """
    key = run_key(settings[0].family)
    run: PlaygroundRun | None = st.session_state.get(key)
    reset = st.session_state.pop(RESET_KEY, False)
    pending = pending_changes(run, settings) if run is not None else []
    try:
        if run is None or reset or (pending and not run.has_progress):
            run = build_run(settings)
            st.session_state[key] = run
            return run, [], None
        run.apply_live(settings)  # pairs each trainer with its settings; reset fields wait for Reset
        return run, pending, None
    except AigcError as exc:
        return run, pending, str(exc)


def record(run: PlaygroundRun, records: list[list], views: list[pg.PlaygroundView] | list[pg.DiffusionView]) -> None:
    """One history row per trainer: mean losses over the records, and the view's KL / JS; the views as a frame of
    the animation (a redraw at the same iteration replaces the last; after a rollback the later frames go, like
    the history's rows)."""
    step = run.trainers[0].iteration
    run.frames.drop_after(step)
    # Only what the GIF draws: a diffusion view's whole sample pool and trajectories would be most of its memory.
    run.frames.add(step, tuple(replace(view, samples=None, trajectories=None, forward=None)
                               if isinstance(view, pg.DiffusionView) else view for view in views))
    for trainer, history, rows, view in zip(run.trainers, run.histories, records, views):
        if run.diffusion:
            nan = float("nan")
            history.record(trainer.iteration, nan, nan, view.kl, view.js, loss=pg.mean_loss(rows, trainer.last))
            continue
        d_loss, g_loss = pg.mean_losses(rows, trainer.last)
        history.record(trainer.iteration, d_loss, g_loss, view.kl, view.js)
