"""What differential privacy costs and buys, measured: `python -m aigc_core privacy-sweep --out pretrained/privacy_sweep.json`.

Three experiments, each at several noise multipliers σ plus the non-private baseline (same network, data, steps):
- quality: the small DP VAE on all 60,000 training digits → ε at δ and the test ELBO (nats per digit);
- classifier: the DP classifier → ε and test accuracy;
- membership: the same VAE on a 100-digit subset, trained long → ε and the membership-inference AUC (members against
  test digits), the attack DP is meant to stop.
The Differential privacy tab shows the JSON; anything it shows was produced by this command (its line is recorded).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace
from typing import Callable

import torch

from .membership import membership_attack, training_subset
from .mnist import Digits, load_mnist
from .overfit import nonmember_digits
from .privacy import DPConfig, DPTrainer, accuracy_on, elbo_on

NOISE_LEVELS = (0.5, 1.0, 2.0)
CURVE_POINTS = 20  # ε recorded this many times along a run (the "ε as training goes" chart)


@dataclass(frozen=True)
class SweepSizes:
    quality_steps: int = 500
    classifier_steps: int = 200
    membership_steps: int = 800
    membership_subset: int = 100
    membership_batch: int = 32
    nonmembers: int = 1000
    test_digits: int = 10_000


QUICK = SweepSizes(quality_steps=6, classifier_steps=3, membership_steps=6, test_digits=500, nonmembers=100)


def _train(config: DPConfig, digits: Digits, steps: int, tick: Callable[[], None]) -> tuple[DPTrainer, list]:
    trainer = DPTrainer(config, digits)
    every = max(1, steps // CURVE_POINTS)
    curve = []
    for _ in range(steps):
        stats = trainer.step()
        tick()
        if stats.step % every == 0 or stats.step == steps:
            curve.append([stats.step, _finite(stats.epsilon), round(stats.loss, 4)])
    return trainer, curve


def _finite(value: float) -> float | None:
    return round(value, 4) if math.isfinite(value) else None  # JSON has no infinity: null = no guarantee


def _levels(noise_levels: tuple[float, ...]) -> list[float | None]:
    return [*noise_levels, None]  # None: the non-private baseline


def _config(base: DPConfig, sigma: float | None) -> DPConfig:
    return replace(base, private=False) if sigma is None else replace(base, private=True, noise_multiplier=sigma)


def run_sweep(*, sizes: SweepSizes = SweepSizes(), noise_levels: tuple[float, ...] = NOISE_LEVELS, seed: int = 0,
              delta: float = 1e-5, progress: Callable[[str, int, int], None] | None = None) -> dict:
    """All three experiments; a JSON-ready dict. `progress(stage, done, total)` after every step."""
    train, test = load_mnist("train"), load_mnist("test")
    test = training_subset(test, sizes.test_digits, seed)[0] if sizes.test_digits < len(test) else test
    levels = _levels(noise_levels)
    total = len(levels) * (sizes.quality_steps + sizes.classifier_steps + sizes.membership_steps)
    done = 0
    started = time.perf_counter()

    def tick(stage: str) -> Callable[[], None]:
        def advance() -> None:
            nonlocal done
            done += 1
            if progress is not None:
                progress(stage, done, total)
        return advance

    base = DPConfig(seed=seed, delta=delta)
    quality = []
    for sigma in levels:
        trainer, curve = _train(_config(base, sigma), train, sizes.quality_steps, tick("quality"))
        quality.append({"noise_multiplier": sigma, "epsilon": _finite(trainer.epsilon()),
                        "test_elbo": round(elbo_on(trainer.network, test, seed=seed), 3), "curve": curve})
    classifier = []
    for sigma in levels:
        trainer, _ = _train(_config(replace(base, target="classifier"), sigma), train, sizes.classifier_steps,
                            tick("classifier"))
        classifier.append({"noise_multiplier": sigma, "epsilon": _finite(trainer.epsilon()),
                           "test_accuracy": round(accuracy_on(trainer.network, test), 4)})
    members = training_subset(train, sizes.membership_subset, seed)[0]
    others = nonmember_digits(sizes.nonmembers, seed)
    membership = []
    for sigma in levels:
        config = replace(_config(base, sigma), batch_size=sizes.membership_batch)
        trainer, _ = _train(config, members, sizes.membership_steps, tick("membership"))
        trainer.network.eval()
        attack = membership_attack(trainer.network, members, others, seed=seed)
        membership.append({"noise_multiplier": sigma, "epsilon": _finite(trainer.epsilon()),
                           "auc": round(attack.auc, 4), "advantage": round(attack.advantage, 4),
                           "test_elbo": round(elbo_on(trainer.network, test, seed=seed), 3)})
    return {
        "seed": seed, "delta": delta, "noise_levels": list(noise_levels),
        "clip": base.max_grad_norm, "lr": base.lr, "accountant": "rdp",
        "quality": {"train_digits": len(train), "test_digits": len(test), "steps": sizes.quality_steps,
                    "batch_size": base.batch_size, "runs": quality},
        "classifier": {"train_digits": len(train), "steps": sizes.classifier_steps, "batch_size": base.batch_size,
                       "runs": classifier},
        "membership": {"subset": sizes.membership_subset, "nonmembers": sizes.nonmembers,
                       "steps": sizes.membership_steps, "batch_size": sizes.membership_batch, "runs": membership},
        "wall_seconds": round(time.perf_counter() - started, 1),
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
    }
