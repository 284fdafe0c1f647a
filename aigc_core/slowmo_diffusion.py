"""Slow motion for diffusion: one training step of a denoiser (Ho et al., "Denoising Diffusion Probabilistic Models",
2020, Algorithm 1) walked through phase by phase, as `aigc_core.slowmo` does for a GAN iteration.

A step is five phases, named by the keys of `diagrams.DIFFUSION_PHASES`: take a batch x_0 (labels, some replaced by
∅) -> add noise at a random level t (x_t = √ᾱ_t x_0 + √(1 - ᾱ_t) ε) -> the denoiser predicts ε̂ -> the simple loss
‖ε − ε̂‖² -> backward pass and optimizer update. `DiffusionSlowMotion.advance()` runs exactly one of the trainer's own
phase methods (the ones `DiffusionTrainer.step()` is made of, so no math is repeated here) and returns a
`DiffusionPhaseRecord` with the real values at that point and a few samples for display. A completed walk leaves
the trainer exactly where `step()` would have: same weights and EMA weights, same random numbers drawn, same stats
record. A walk can be abandoned at any phase (`reset()`): nothing reaches the weights before the update phase.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import torch

from . import diffusion as dm
from .diagrams import DIFFUSION_PHASES
from .diffusion_trainer import DiffusionPass, DiffusionStats, DiffusionTrainer
from .errors import TrainingDiverged

PHASE_KEYS: tuple[str, ...] = tuple(phase.key for phase in DIFFUSION_PHASES)
PREVIEW = 8  # samples of the batch kept for display

# Keys of DiffusionPhaseRecord.values (all floats), by phase:
#   data       batch (batch size), dropped (labels replaced by ∅; conditional models only)
#   add_noise  t_min, t_max, t_mean (the batch's noise levels), alpha_bar_min, alpha_bar_max (ᾱ at t_max and
#              t_min: how much of x_0 is left in x_t, from the noisiest sample to the cleanest), T
#   predict    output_std (spread of the network's output; a trained ε-model's output has std near 1),
#              x0_error (mean squared error of x̂_0 against x_0 over the batch)
#   loss       loss (the simple loss: mean squared error of the prediction per element)
#   update     grad (gradient norm before clipping), step (‖θ_after − θ_before‖₂), lr (the learning rate used)
# `DiffusionSlowMotion.diagram_values` collects "loss" and "grad" for `diagrams.diffusion_diagram(values=...)`.


@dataclass(frozen=True)
class DiffusionPhaseRecord:
    key: str  # a diagrams.DIFFUSION_PHASES key, e.g. "add_noise"
    number: int  # 1..5: position in diagrams.DIFFUSION_PHASES
    values: Mapping[str, float]
    x0: torch.Tensor | None = None  # up to `preview` clean samples (CPU), at "data"
    labels: tuple[int, ...] | None = None  # their labels after dropout (the model's null_label is ∅), at "data"
    t: tuple[int, ...] | None = None  # their noise levels, at "add_noise"
    x_t: torch.Tensor | None = None  # the same samples with noise (CPU), at "add_noise"
    prediction: torch.Tensor | None = None  # the network's output ε̂ (or v̂) for them (CPU), at "predict"
    x0_hat: torch.Tensor | None = None  # x̂_0 derived from that output (CPU; images clipped to [-1, 1]), at "predict"
    stats: DiffusionStats | None = None  # after the update phase: the step's record
    step_done: bool = False


@dataclass
class DiffusionSlowMotion:
    """Walks `trainer` through one training step a phase at a time. Keep one per trainer (e.g. in session state)."""

    trainer: DiffusionTrainer
    preview: int = PREVIEW
    history: list[DiffusionPhaseRecord] = field(default_factory=list)  # the phases of the current (or last) step
    _index: int = 0  # next phase, an index into PHASE_KEYS
    _pass: DiffusionPass | None = None
    _values: dict[str, float] = field(default_factory=dict)
    _begun_at: int = 0  # trainer.iteration when the walk's data phase ran

    # -- where the walk stands ---------------------------------------------------------------------------------
    @property
    def next_key(self) -> str:
        return PHASE_KEYS[self._index]

    @property
    def next_number(self) -> int:
        return self._index + 1

    @property
    def in_progress(self) -> bool:
        """True between the first phase of a step and its last."""
        return self._index > 0

    @property
    def diagram_values(self) -> Mapping[str, float]:
        """The live numbers for `diagrams.diffusion_diagram(values=...)`: this step's so far, else the last step's."""
        last = self.trainer.last
        base = {k: v for k, v in (("loss", last.loss), ("grad", last.grad_norm)) if not math.isnan(v)}
        return MappingProxyType({**base, **self._values})

    def latest(self, attribute: str) -> torch.Tensor | tuple[int, ...] | None:
        """The latest value of a record field (x0, labels, t, x_t, prediction, x0_hat) in this step's walk."""
        for record in reversed(self.history):
            value = getattr(record, attribute)
            if value is not None:
                return value
        return None

    def reset(self) -> None:
        """Abandon the walk. Safe at any phase: nothing reaches the weights before the update phase."""
        self.history, self._index, self._pass, self._values = [], 0, None, {}

    # -- moving on ---------------------------------------------------------------------------------------------
    def advance(self) -> DiffusionPhaseRecord:
        """Run the next phase and return what it produced. TrainingDiverged propagates (after a reset).

        A walk whose trainer has moved on since it began (a step taken by other means, a rollback) starts over:
        its tensors belong to weights that are gone, and a backward pass through them would fail."""
        if self.in_progress and self.trainer.iteration != self._begun_at:
            self.reset()
        if not self.in_progress:
            self.history, self._values = [], {}
        try:
            record = self._run(PHASE_KEYS[self._index])
        except TrainingDiverged:
            self.reset()
            raise
        self.history.append(record)
        self._values.update({k: v for k, v in record.values.items() if k in ("loss", "grad")})
        if record.step_done:
            self._index, self._pass = 0, None
        else:
            self._index += 1
        return record

    def finish_step(self) -> DiffusionStats:
        """Run the remaining phases of the current step (a whole one if none is under way)."""
        while True:
            record = self.advance()
            if record.step_done:
                assert record.stats is not None
                return record.stats

    def _run(self, key: str) -> DiffusionPhaseRecord:
        trainer, n = self.trainer, self.preview
        fields: dict = {}
        if key == "data":
            p = self._pass = trainer.begin_step()
            self._begun_at = trainer.iteration
            values = {"batch": float(len(p.x0))}
            fields["x0"] = _cpu(p.x0[:n])
            if p.y is not None:
                null = trainer.model.null_label
                values["dropped"] = float((p.y == null).sum())
                fields["labels"] = tuple(int(v) for v in p.y[:n].tolist())
        else:
            p = self._require_pass()
            if key == "add_noise":
                trainer.add_noise(p)
                values = self._noise_levels(p)
                fields.update(t=tuple(int(v) for v in p.t[:n].tolist()), x_t=_cpu(p.x_t[:n]))
            elif key == "predict":
                trainer.predict(p)
                values, fields = self._prediction(p)
            elif key == "loss":
                trainer.compute_loss(p)
                values = {"loss": p.loss_value}
            else:  # update
                before = [q.detach().clone() for q in trainer.model.parameters()]
                stats = trainer.apply_update(p)
                values = {"grad": p.grad_norm, "step": _distance(before, list(trainer.model.parameters())),
                          "lr": float(trainer.optimizers["denoiser"].param_groups[0]["lr"])}
                fields.update(stats=stats, step_done=True)
        return DiffusionPhaseRecord(key=key, number=PHASE_KEYS.index(key) + 1, values=MappingProxyType(values),
                                    **fields)

    def _require_pass(self) -> DiffusionPass:
        if self._pass is None:  # cannot happen through advance()
            raise RuntimeError("slow motion lost its place; call reset()")
        return self._pass

    def _noise_levels(self, p: DiffusionPass) -> dict[str, float]:
        schedule = self.trainer.schedule
        t_min, t_max = int(p.t.min()), int(p.t.max())
        return {"t_min": float(t_min), "t_max": float(t_max), "t_mean": float(p.t.double().mean()),
                "alpha_bar_min": float(schedule.alpha_bars[t_max]), "alpha_bar_max": float(schedule.alpha_bars[t_min]),
                "T": float(schedule.T)}

    def _prediction(self, p: DiffusionPass) -> tuple[dict[str, float], dict]:
        trainer, n = self.trainer, self.preview
        with torch.no_grad():  # display only: no graph, no random numbers
            output = p.output.detach()
            x0_hat, _ = dm.predict_x0_eps(trainer.schedule, trainer.prediction, p.x_t, p.t, output)
            values = {"output_std": float(output.float().std()),
                      "x0_error": float((x0_hat - p.x0).pow(2).mean())}
            if getattr(trainer.model, "clip_denoised", False):  # images live in [-1, 1]
                x0_hat = x0_hat.clamp(-1.0, 1.0)
        return values, {"prediction": _cpu(output[:n]), "x0_hat": _cpu(x0_hat[:n])}


def _cpu(x: torch.Tensor) -> torch.Tensor:
    return x.detach().float().cpu().clone()


def _distance(before: list[torch.Tensor], after: list[torch.nn.Parameter]) -> float:
    """‖after − before‖₂ over all tensors together."""
    with torch.no_grad():
        total = sum(float((a.detach() - b).pow(2).sum()) for a, b in zip(after, before))
    return math.sqrt(total)
