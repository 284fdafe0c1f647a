"""Divergence guard: detect non-finite losses/gradients before they reach the weights, and keep a
snapshot of the last state known to be good, so a diverging run never loses trained work.

A run usually diverges by blowing its weights up (say to 1e19) while they are still finite; the step after,
the loss overflows. Those weights are useless, so on a non-finite value the guard rolls back to its snapshot.
A snapshot is taken every `every` steps while the weights are finite, and only becomes the restore point
once a later loss computed from it was finite (so it is never a state that already produced inf/NaN).

NaN is the last symptom, not the only one. Two explosions stay finite and are caught too (`GuardConfig`):
- a loss beyond a bound no healthy run comes near (Adam at lr 1000 drove a G loss to 4e16 for 3,000 steps);
- a discriminator saturated at D(x) = 1, D(G(z)) = 0 for many updates in a row: D has won outright and G's
  gradient carries nothing. Only the logit losses (minimax, non-saturating) report probabilities that can say so.
Both raise the same TrainingDiverged after the same rollback, with what happened and what to try.
"""

import copy
import math
from dataclasses import dataclass

import torch
from torch import nn

from .errors import TrainingDiverged

ADVICE = (
    "Try a learning rate 10x smaller, gradient clipping (e.g. 1.0 or 10), or a gentler loss "
    "(non-saturating or WGAN-GP)."
)


SATURATION_ADVICE = (
    "Give D less power: a smaller D learning rate or fewer D steps per G step (k), one-sided label smoothing "
    "(0.1), an R1 penalty, or the WGAN-GP loss."
)


@dataclass(frozen=True)
class GuardConfig:
    """What the guard counts as a run that has gone wrong, besides NaN/inf (which it always refuses).

    max_abs_loss: every loss we train is an average per sample: a GAN loss is O(1) (a logit loss of 1e6 means D
    is e^1e6 sure), a WGAN critic's scores stay within its clipping or gradient penalty, and a VAE's negative
    ELBO is at most a few thousand nats for 784 pixels. 1e6 is a thousand times above any healthy value and far
    below where float32 overflows, so crossing it is an explosion under way. 0 turns the check off.
    saturation_steps: this many D updates in a row with mean D(x) > 1 - saturation_margin and mean D(G(z)) <
    saturation_margin. At 1e-3 D's logits are beyond ±6.9 on average on both halves; a run that D wins for a
    moment (a strong-D lesson, a toy GAN after a mode jump) recovers within tens of updates, while one that stays
    there for 500 (five redraws of the Train page at its usual pace) is not coming back. 0 turns it off.
    """

    max_abs_loss: float = 1e6
    saturation_steps: int = 500
    saturation_margin: float = 1e-3


OFF = GuardConfig(max_abs_loss=0.0, saturation_steps=0)  # NaN/inf only: for experiments that show an explosion


def all_finite(module: nn.Module) -> bool:
    """Whether every parameter is finite. x * 0 is 0 for finite x and NaN for inf or NaN, so one sum per tensor
    answers exactly (no overflow is possible) at a fifth of the cost of isfinite().all() per tensor."""
    params = [p.detach() for p in module.parameters()]
    if not params:
        return True
    return bool(torch.stack([t.sum() for t in torch._foreach_mul(params, 0.0)]).sum() == 0)


class DivergenceGuard:
    """Snapshots model + optimizers (+ `extras`, e.g. an EMA generator) every `every` steps while all is finite.

    `counters` names integer attributes of `owner` (the trainer's step counters) that are snapshotted and
    restored with the weights: after a rollback the trainer's step count is that of the weights it holds.
    """

    def __init__(
        self,
        model: nn.Module,
        optimizers: dict[str, torch.optim.Optimizer],
        every: int = 100,
        extras: dict[str, nn.Module] | None = None,
        owner: object | None = None,
        counters: tuple[str, ...] = (),
        config: GuardConfig = GuardConfig(),
    ) -> None:
        if counters and owner is None:
            raise ValueError("counters need the owner that holds them")
        self.model = model
        self.optimizers = optimizers  # the trainer's own dict: optimizers it replaces later are seen here
        self.extras = extras if extras is not None else {}  # modules restored together with the model
        self.owner = owner
        self.counters = counters
        self.every = every
        self.config = config  # may be replaced between steps (a lesson that shows an explosion turns checks off)
        self.saturated_for = 0  # D updates in a row with D saturated at 1 / 0
        self._snapshot: tuple | None = None  # confirmed: a finite loss was computed from it
        self._pending: tuple | None = None  # taken, not yet confirmed
        self.snapshot_step = 0
        self.take(0)

    def take(self, step: int) -> None:
        if not (all_finite(self.model) and all(all_finite(m) for m in self.extras.values())):
            return
        model_state = {k: v.detach().clone() for k, v in self.model.state_dict().items()}
        extra_state = {name: copy.deepcopy(m.state_dict()) for name, m in self.extras.items()}
        # Keep the optimizer object with its state: one replaced since (new kind) must not get a foreign state.
        optim_state = {name: (opt, copy.deepcopy(opt.state_dict())) for name, opt in self.optimizers.items()}
        counter_state = {name: int(getattr(self.owner, name)) for name in self.counters}
        self._pending = (model_state, extra_state, optim_state, counter_state, step)

    def maybe_take(self, step: int) -> None:
        if step % self.every == 0:
            self.take(step)

    def check(self, value: float, what: str, step: int) -> None:
        """Raise TrainingDiverged (after restoring the last good weights) when `value` is NaN or inf."""
        if math.isfinite(value):
            # A finite value computed from the pending state confirms it, unless D is saturated right now.
            if self._pending is not None and self.saturated_for == 0:
                self._snapshot, self._pending = self._pending, None
                self.snapshot_step = self._snapshot[-1]
            return
        self.diverge(step, f"{what} became {value}", ADVICE, kind="non_finite")

    def check_loss(self, value: float, what: str, step: int) -> None:
        """`check`, plus: raise TrainingDiverged when |value| is beyond the config's `max_abs_loss`."""
        bound = self.config.max_abs_loss
        if bound > 0 and math.isfinite(value) and abs(value) > bound:
            self.diverge(step, f"{what} became {value:.3g}, beyond {bound:.0e}, far above any healthy run's "
                               "(the weights are exploding while still finite)", ADVICE, kind="explosion")
        self.check(value, what, step)

    def observe_discriminator(self, d_real: float, d_fake: float, step: int) -> None:
        """Count D updates in a row with mean D(x) > 1 - margin and mean D(G(z)) < margin (probabilities); raise
        TrainingDiverged once there have been `saturation_steps` of them."""
        limit, margin = self.config.saturation_steps, self.config.saturation_margin
        if limit <= 0:
            return
        if not (d_real > 1 - margin and d_fake < margin):
            self.saturated_for = 0
            return
        self.saturated_for += 1
        if self.saturated_for >= limit:
            what = (f"D has been saturated for {self.saturated_for} updates in a row (mean D(x) {d_real:.4f} > "
                    f"{1 - margin:g}, mean D(G(z)) {d_fake:.2g} < {margin:g}): D has won outright, its loss gives G "
                    "no useful gradient, and the run is not coming back")
            self.diverge(step, what, SATURATION_ADVICE, kind="saturation")

    def diverge(self, step: int, what: str, advice: str, *, kind: str = "non_finite") -> None:
        """Roll back to the confirmed snapshot (if any) and raise TrainingDiverged explaining `what` happened."""
        self._pending = None
        self.saturated_for = 0
        restored_step: int | None = None
        if self._snapshot is not None:
            self.restore()
            restored_step = self.snapshot_step
            restored = f" Weights were restored from step {restored_step}, the last state known to be good."
        else:
            restored = " The update was not applied, so the weights are the last finite ones."
        raise TrainingDiverged(f"Training diverged at step {step}: {what}.{restored} {advice}",
                               step=step, restored_step=restored_step, kind=kind)

    def restore(self) -> None:
        """Load the confirmed snapshot, step counters included. Optimizer hyperparameters (lr, betas) stay as
        currently configured."""
        assert self._snapshot is not None
        model_state, extra_state, optim_state, counter_state, _ = self._snapshot
        self.model.load_state_dict(model_state)
        for name, value in counter_state.items():
            setattr(self.owner, name, value)
        for name, module in self.extras.items():
            if name in extra_state:
                module.load_state_dict(extra_state[name])
        for name, opt in self.optimizers.items():
            saved_opt, saved_state = optim_state.get(name, (None, None))
            if saved_opt is not opt:  # replaced after the snapshot: drop the state it built on the lost weights
                opt.state.clear()
                continue
            settings = [{k: v for k, v in group.items() if k != "params"} for group in opt.param_groups]
            opt.load_state_dict(copy.deepcopy(saved_state))  # deepcopy: the snapshot can be restored again
            for group, current in zip(opt.param_groups, settings):
                group.update(current)
