"""Divergence guard: detect non-finite losses/gradients before they reach the weights, and keep a
snapshot of the last state known to be finite, so a diverging run never loses trained work."""

import copy
import math

import torch
from torch import nn

from .errors import TrainingDiverged

ADVICE = (
    "Try a learning rate 10x smaller, gradient clipping (e.g. 1.0 or 10), or a gentler loss "
    "(non-saturating or WGAN-GP)."
)


def all_finite(module: nn.Module) -> bool:
    return all(bool(torch.isfinite(p).all()) for p in module.parameters())


class DivergenceGuard:
    """Snapshots model + optimizers every `every` steps while everything is finite."""

    def __init__(self, model: nn.Module, optimizers: dict[str, torch.optim.Optimizer], every: int = 100) -> None:
        self.model = model
        self.optimizers = optimizers
        self.every = every
        self._snapshot: tuple[dict, dict] | None = None
        self.snapshot_step = 0
        self.take(0)

    def take(self, step: int) -> None:
        if not all_finite(self.model):
            return
        model_state = {k: v.detach().clone() for k, v in self.model.state_dict().items()}
        optim_state = {name: copy.deepcopy(opt.state_dict()) for name, opt in self.optimizers.items()}
        self._snapshot = (model_state, optim_state)
        self.snapshot_step = step

    def maybe_take(self, step: int) -> None:
        if step % self.every == 0:
            self.take(step)

    def check(self, value: float, what: str, step: int) -> None:
        """Raise TrainingDiverged (after restoring finite weights) when `value` is NaN or inf."""
        if math.isfinite(value):
            return
        restored = ""
        if not all_finite(self.model) and self._snapshot is not None:
            self.restore()
            restored = f" Weights were restored from step {self.snapshot_step}, the last finite state."
        else:
            restored = " The update was not applied, so the weights are the last finite ones."
        raise TrainingDiverged(f"Training diverged at step {step}: {what} became {value}.{restored} {ADVICE}")

    def restore(self) -> None:
        assert self._snapshot is not None
        model_state, optim_state = self._snapshot
        self.model.load_state_dict(model_state)
        for name, opt in self.optimizers.items():
            opt.load_state_dict(optim_state[name])
