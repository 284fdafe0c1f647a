"""Slow motion: one GAN iteration walked through phase by phase, as in GAN Lab's slow-motion mode
(Kahng et al., "GAN Lab: Understanding Complex Deep Generative Models using Interactive Visual
Experimentation", 2018).

An iteration of Goodfellow et al. (2014), Algorithm 1, is k discriminator updates and one generator update;
each update is six phases (sample z -> G(z) -> D's scores -> loss -> gradients -> update), named by the keys
of `diagrams.GAN_PHASES`. `SlowMotion.advance()` runs exactly one of the trainer's own phase methods (the ones
`GANTrainer.step()` is made of, so no math is repeated here) and returns a `PhaseRecord` with the real values
at that point. A completed walk leaves the trainer exactly where `step()` would have: same weights, same
random numbers drawn, same stats record. A walk can be abandoned at any phase (`reset()`): nothing is applied
to the weights before an update phase.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import torch

from . import losses
from .diagrams import GAN_PHASES
from .errors import TrainingDiverged
from .gan_trainer import GANStats, GANTrainer, UpdatePass

PHASE_KEYS: tuple[str, ...] = tuple(phase.key for phase in GAN_PHASES)
D_PHASES, G_PHASES = PHASE_KEYS[:6], PHASE_KEYS[6:]
PREVIEW = 16  # samples kept for display at the sampling / generating phases

# Keys of PhaseRecord.values (all floats), by what they measure:
#   z_mean, z_std     mean and standard deviation of the noise batch z
#   batch, z_dim      batch size and noise dimension
#   d_real, d_fake    mean D(x) and mean D(G(z)) (probabilities for the logit losses, raw scores otherwise)
#   d_loss, g_loss    the loss of the network being updated
#   grad_d, grad_g    its gradient norm (before clipping)
#   step_d, step_g    how far the update moved its weights: ‖θ_after − θ_before‖₂
#   lr                the learning rate the update used
# `SlowMotion.diagram_values` collects the ones `diagrams.gan_diagram(values=...)` shows.


@dataclass(frozen=True)
class PhaseRecord:
    key: str  # a diagrams.GAN_PHASES key, e.g. "d_score"
    number: int  # 1..12: position in diagrams.GAN_PHASES (D's phases 1-6, G's 7-12)
    network: str  # "d" or "g": whose turn it is
    d_round: int  # which of the k D updates (1..k); 0 during G's turn
    values: Mapping[str, float]
    real: torch.Tensor | None = None  # up to PREVIEW real samples (CPU), at d_sample_z
    fake: torch.Tensor | None = None  # up to PREVIEW samples G(z) (CPU), at the generate phases
    stats: GANStats | None = None  # after an update phase; after g_update, the whole iteration's record
    iteration_done: bool = False


@dataclass
class SlowMotion:
    """Walks `trainer` through one iteration a phase at a time. Keep one per trainer (e.g. in session state)."""

    trainer: GANTrainer
    preview: int = PREVIEW
    history: list[PhaseRecord] = field(default_factory=list)  # the phases of the current (or last) iteration
    _index: int = 0  # next phase, an index into PHASE_KEYS
    _d_round: int = 1
    _pass: UpdatePass | None = None
    _d_stats: GANStats | None = None
    _start: float = 0.0
    _values: dict[str, float] = field(default_factory=dict)
    _seen: tuple[int, int] = (0, 0)  # (trainer.iteration, trainer.d_updates) after the walk's last phase

    # -- where the walk stands ---------------------------------------------------------------------------------
    @property
    def next_key(self) -> str:
        return PHASE_KEYS[self._index]

    @property
    def next_number(self) -> int:
        return self._index + 1

    @property
    def d_round(self) -> int:
        """The D update the walk is in (1..k), or 0 during G's turn."""
        return self._d_round if self._index < len(D_PHASES) else 0

    @property
    def in_progress(self) -> bool:
        """True between the first phase of an iteration and its last."""
        return self._index > 0 or self._d_round > 1

    @property
    def diagram_values(self) -> Mapping[str, float]:
        """The live numbers for `diagrams.gan_diagram(values=...)`: this iteration's so far, else the last step's."""
        last = self.trainer.last
        base = {"d_real": last.d_real, "d_fake": last.d_fake, "d_loss": last.d_loss, "g_loss": last.g_loss,
                "grad_d": last.grad_norm_d, "grad_g": last.grad_norm_g}
        base = {k: v for k, v in base.items() if not math.isnan(v)}
        return MappingProxyType({**base, **self._values})

    def reset(self) -> None:
        """Abandon the walk. Safe at any phase: nothing reaches the weights before an update phase."""
        self.history = []
        self._index, self._d_round, self._pass, self._d_stats, self._values = 0, 1, None, None, {}

    # -- moving on ---------------------------------------------------------------------------------------------
    def advance(self) -> PhaseRecord:
        """Run the next phase and return what it produced. TrainingDiverged propagates (after a reset).

        A walk whose trainer has moved on since its last phase (a step taken by other means, a rollback) starts
        over: its tensors belong to weights that are gone (as `slowmo_diffusion.DiffusionSlowMotion` does)."""
        if self.in_progress and (self.trainer.iteration, self.trainer.d_updates) != self._seen:
            self.reset()
        if not self.in_progress:
            self.history, self._values, self._start = [], {}, time.perf_counter()
        key = PHASE_KEYS[self._index]
        try:
            record = self._run(key)
        except TrainingDiverged:
            self.reset()
            raise
        self.history.append(record)
        self._values.update({k: v for k, v in record.values.items() if k in _DIAGRAM_KEYS})
        self._move_on(record)
        self._seen = (self.trainer.iteration, self.trainer.d_updates)
        return record

    def finish_iteration(self) -> GANStats:
        """Run the remaining phases of the current iteration (a whole one if none is under way)."""
        while True:
            record = self.advance()
            if record.iteration_done:
                assert record.stats is not None
                return record.stats

    def _move_on(self, record: PhaseRecord) -> None:
        if record.key == "d_update":
            if self._d_round < self.trainer.config.d_steps:
                self._d_round += 1
                self._index = 0
            else:
                self._index = len(D_PHASES)
        elif record.key == "g_update":
            self._index, self._d_round, self._pass, self._d_stats = 0, 1, None, None
        else:
            self._index += 1

    def _run(self, key: str) -> PhaseRecord:
        trainer, network = self.trainer, key[0]
        step_name = key[2:]  # "sample_z", "generate", "score", "loss", "gradients", "update"
        values: dict[str, float] = {}
        real = fake = None
        stats = None
        done = False
        if step_name == "sample_z":
            self._pass = trainer.begin_d() if network == "d" else trainer.begin_g()
            z = self._pass.z
            values = {"z_mean": float(z.mean()), "z_std": float(z.std()), "batch": float(z.shape[0]),
                      "z_dim": float(z.shape[1])}
            if self._pass.real is not None:
                real = self._pass.real[: self.preview].detach().float().cpu()
        else:
            p = self._require_pass(network)
            if step_name == "generate":
                trainer.generate_fake(p)
                fake = p.fake[: self.preview].detach().float().cpu()
            elif step_name == "score":
                trainer.discriminate(p)
                values = self._scores(p)
            elif step_name == "loss":
                trainer.compute_loss(p)
                values = {f"{network}_loss": p.loss_value}
            elif step_name == "gradients":
                trainer.compute_gradients(p)
                values = {f"grad_{network}": p.grad_norm}
            else:  # update
                optimizer = trainer.optimizers[network]
                before = [q.detach().clone() for q in p.parameters]
                stats = trainer.apply_update(p)
                values = {f"step_{network}": _distance(before, p.parameters),
                          "lr": float(optimizer.param_groups[0]["lr"])}
                if network == "d":
                    self._d_stats = stats
                else:
                    assert self._d_stats is not None
                    stats = trainer.finish_iteration(self._d_stats, stats, self._start)
                    done = True
        return PhaseRecord(
            key=key, number=PHASE_KEYS.index(key) + 1, network=network,
            d_round=self._d_round if network == "d" else 0, values=MappingProxyType(values),
            real=real, fake=fake, stats=stats, iteration_done=done,
        )

    def _require_pass(self, network: str) -> UpdatePass:
        if self._pass is None or self._pass.network != network:  # cannot happen through advance()
            raise RuntimeError("slow motion lost its place; call reset()")
        return self._pass

    def _scores(self, p: UpdatePass) -> dict[str, float]:
        loss = self.trainer.config.loss
        with torch.no_grad():
            values = {"d_fake": float(losses.discriminator_probability(loss, p.fake_scores).mean())}
            if p.real_scores is not None:
                values["d_real"] = float(losses.discriminator_probability(loss, p.real_scores).mean())
        return values


_DIAGRAM_KEYS = frozenset({"d_real", "d_fake", "d_loss", "g_loss", "grad_d", "grad_g"})


def _distance(before: list[torch.Tensor], after: list[torch.nn.Parameter]) -> float:
    """‖after − before‖₂ over all tensors together."""
    with torch.no_grad():
        total = sum(float((a.detach() - b).pow(2).sum()) for a, b in zip(after, before))
    return math.sqrt(total)
