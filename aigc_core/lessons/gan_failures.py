"""The GAN failures: mode collapse, vanishing gradients, an overpowering D, divergence."""

from __future__ import annotations

import copy
import math
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import torch

from .. import guard, seeds
from ..errors import ConfigError, TrainingDiverged
from ..factory import mnist_source
from ..gan_trainer import GANTrainConfig, GANTrainer
from ..guard import all_finite
from ..models.classifier import Classifier
from ..models.gan import GAN, ToyGANConfig
from ..optim import OptimizerConfig
from ..presets import get_preset
from .base import (
    Lesson, _adam, _article_trainer, _gan_record, _last_mean, _last_median, _sample_strip, class_histogram,
    generator_gradient_norm, normalized_entropy,
)



# --- mode collapse ------------------------------------------------------------------------------------------


class ModeCollapse(Lesson):
    """G alone against a frozen D: its samples pile into a few classes.

    Starts from a copy of a trained GAN (the shared model is never touched), trains only G with a raised
    learning rate for `g_steps`, and measures the class histogram of `samples` fixed-noise samples every
    `measure_every` steps.
    """

    key = "mode_collapse"

    def __init__(
        self, gan: GAN, classifier: Classifier, *, g_steps: int = 300, g_lr: float = 1e-3, samples: int = 500,
        measure_every: int = 25, seed: int = 0,
    ) -> None:
        if not isinstance(gan, GAN) or isinstance(gan.config, ToyGANConfig):
            raise ConfigError("Mode collapse needs a GAN trained on images.")
        self.g_steps, self.measure_every = g_steps, measure_every
        self.classifier = classifier
        model = copy.deepcopy(gan).requires_grad_(True).train()
        config = GANTrainConfig(loss="non_saturating", batch_size=64, g_optim=_adam(g_lr), d_optim=_adam(2e-4), seed=seed)
        device = next(model.parameters()).device
        self.trainer = GANTrainer(model, mnist_source("signed", str(device)), config, device=device)
        self.z = model.sample_noise(samples, seeds.generator(seed, "lesson_samples"), device)
        super().__init__(total=g_steps)

    def _measure(self) -> dict[str, Any]:
        counts = class_histogram(self.trainer.sampling_generator(), self.z, self.classifier)
        total = max(sum(counts), 1)
        return {
            "arm": "generator_alone", "step": self.trainer.iteration, "counts": counts,
            "entropy": normalized_entropy(counts), "top_share": max(counts) / total,
            "classes_seen": sum(c >= 0.02 * total for c in counts),
        }

    def _run(self) -> Iterator[None]:
        before = self._measure()
        self.records.append(before)
        self.samples["before"] = _sample_strip(self.trainer)
        for step in range(1, self.g_steps + 1):
            stats = self.trainer.step_g()  # D is never updated: it is frozen at its trained state
            if step % self.measure_every == 0 or step == self.g_steps:
                record = self._measure()
                record.update(g_loss=stats.g_loss, d_fake=stats.d_fake)
                self.records.append(record)
            yield
        after = self.records[-1]
        self.samples["after"] = _sample_strip(self.trainer)
        self.numbers = {
            "counts_before": before["counts"], "counts_after": after["counts"],
            "entropy_before": before["entropy"], "entropy_after": after["entropy"],
            "top_share_before": before["top_share"], "top_share_after": after["top_share"],
            "classes_before": before["classes_seen"], "classes_after": after["classes_seen"],
            "top_class_after": int(max(range(10), key=after["counts"].__getitem__)),
        }
        # Collapse: the spread over classes drops a lot and one class takes (nearly) everything or twice its share.
        self.numbers["shown"] = (
            after["entropy"] <= 0.6 * before["entropy"]
            and after["top_share"] >= min(0.9, 2 * before["top_share"])
        )


# --- vanishing gradient ---------------------------------------------------------------------------------------


class VanishingGradient(Lesson):
    """Minimax vs non-saturating G loss from the same state where D confidently rejects the fakes."""

    key = "vanishing_gradient"
    ARMS = ("minimax", "non_saturating")

    def __init__(self, *, warmup: int = 100, steps: int = 300, g_sgd_lr: float = 0.05, seed: int = 0) -> None:
        self.warmup, self.steps = warmup, steps
        base = get_preset("gan_seed_mlp").train_config
        # Phase 1: a fresh article GAN whose D alone trains fast (lr 1e-3) until it rejects G's fakes.
        self.warm = _article_trainer(replace(base, d_optim=_adam(1e-3)), seed=seed)
        self.base = base
        self.g_sgd_lr = g_sgd_lr
        self.probe_z = self.warm.model.sample_noise(256, seeds.generator(seed, "lesson_probe"))
        self.arms: dict[str, GANTrainer] = {}
        super().__init__(total=warmup + 1 + 2 * steps)

    def _run(self) -> Iterator[None]:
        for _ in range(self.warmup):
            stats = self.warm.step_d()
            self.records.append({"arm": "warmup", "step": stats.d_updates, "d_real": stats.d_real, "d_fake": stats.d_fake})
            yield
        model = self.warm.model
        norms = {loss: generator_gradient_norm(model, loss, self.probe_z) for loss in self.ARMS}
        with torch.inference_mode():
            d_fake_start = float(torch.sigmoid(model.discriminator(model.generator(self.probe_z))).mean())
        self.samples["start"] = _sample_strip(self.warm)
        ratio = norms["non_saturating"] / max(norms["minimax"], 1e-12)
        # Known as soon as the warm-up ends, so the page can show them while the two arms train.
        self.numbers.update(d_fake_start=d_fake_start, grad_norm_minimax=norms["minimax"],
                            grad_norm_non_saturating=norms["non_saturating"], ratio=ratio)
        for loss in self.ARMS:
            config = replace(
                self.base, loss=loss, g_optim=OptimizerConfig(kind="sgd", lr=self.g_sgd_lr, beta1=0.5),
            )
            arm_seed = seeds.stream_seed(self.base.seed, "lesson_second_arm")
            self.arms[loss] = _article_trainer(config, model=copy.deepcopy(model), seed=arm_seed)
        yield
        for _ in range(self.steps):
            for loss, trainer in self.arms.items():
                stats = trainer.step()
                self.records.append(_gan_record(loss, stats))
                yield
        for loss, trainer in self.arms.items():
            self.samples[loss] = _sample_strip(trainer)
        final = {loss: _last_mean(self.records, loss, "d_fake", 20) for loss in self.ARMS}
        self.numbers.update(
            d_fake_minimax=final["minimax"], d_fake_non_saturating=final["non_saturating"],
            shown=ratio >= 10 and final["non_saturating"] > 10 * final["minimax"],
        )


# --- D overpowering G -----------------------------------------------------------------------------------------


class StrongDiscriminator(Lesson):
    """Balanced (k = 1, equal learning rates) vs strong D (k = 5, D learning rate x10), same start."""

    key = "strong_discriminator"
    ARMS = ("balanced", "strong")

    def __init__(self, *, steps: int = 300, strong_k: int = 5, strong_lr: float = 2e-3, seed: int = 0) -> None:
        self.steps = steps
        base = replace(get_preset("gan_seed_mlp").train_config, d_optim=_adam(2e-4), g_optim=_adam(2e-4))
        self.settings = {
            "balanced": {"k": 1, "d_lr": 2e-4, "g_lr": 2e-4},
            "strong": {"k": strong_k, "d_lr": strong_lr, "g_lr": 2e-4},
        }
        self.arms = {
            "balanced": _article_trainer(base, seed=seed),
            "strong": _article_trainer(replace(base, d_steps=strong_k, d_optim=_adam(strong_lr)), seed=seed),
        }
        super().__init__(total=2 * steps)

    def _run(self) -> Iterator[None]:
        for _ in range(self.steps):
            for arm, trainer in self.arms.items():
                self.records.append(_gan_record(arm, trainer.step()))
                yield
        for arm, trainer in self.arms.items():
            self.samples[arm] = _sample_strip(trainer)
        window = max(10, self.steps // 6)
        numbers: dict[str, Any] = {}
        for arm in self.ARMS:
            for key in ("d_real", "d_fake", "d_loss", "g_loss"):
                numbers[f"{key}_{arm}"] = _last_median(self.records, arm, key, window)
        # D rejects the fakes and G's loss climbs, while the balanced pair keeps the contest open.
        numbers["shown"] = (
            numbers["d_fake_strong"] < 0.1 < 0.25 < numbers["d_fake_balanced"]
            and numbers["g_loss_strong"] > 2 * numbers["g_loss_balanced"]
            and numbers["d_loss_strong"] < numbers["d_loss_balanced"]
        )
        self.numbers = numbers


# --- divergence -------------------------------------------------------------------------------------------------


class Divergence(Lesson):
    """SGD at lr 1.0 until the divergence guard stops it; then Adam at lr 1.0, which stays finite but breaks."""

    key = "divergence"
    ARMS = ("sgd", "adam")

    def __init__(self, *, max_steps: int = 300, adam_steps: int = 150, lr: float = 1.0, seed: int = 0) -> None:
        self.max_steps, self.adam_steps, self.lr = max_steps, adam_steps, lr
        base = get_preset("gan_seed_mlp").train_config
        sgd = OptimizerConfig(kind="sgd", lr=lr, beta1=0.9)
        adam = OptimizerConfig(kind="adam", lr=lr, beta1=0.5)
        self.arms = {
            "sgd": _article_trainer(replace(base, g_optim=sgd, d_optim=sgd), seed=seed),
            "adam": _article_trainer(replace(base, g_optim=adam, d_optim=adam), seed=seed),
        }
        # This lesson shows what a NaN/inf check sees: SGD's losses climb past 1e6 until float32 overflows, and
        # Adam's run is wrecked while staying finite. The guard's explosion checks (a loss bound, D saturated for
        # 500 updates) would stop both arms early, as they do on the Train page, so they are off here.
        for trainer in self.arms.values():
            trainer.guard.config = guard.OFF
        super().__init__(total=max_steps + adam_steps)

    def _run(self) -> Iterator[None]:
        trainer = self.arms["sgd"]
        diverged_at: int | None = None
        message = ""
        for _ in range(self.max_steps):
            try:
                self.records.append(_gan_record("sgd", trainer.step()))
            except TrainingDiverged as exc:
                diverged_at, message = exc.step, str(exc)
                break
            yield
        self.units = self.max_steps  # the rest of this arm's budget is not needed
        weights_finite = all_finite(trainer.model)
        self.samples["sgd"] = _sample_strip(trainer)
        adam = self.arms["adam"]
        for _ in range(self.adam_steps):
            self.records.append(_gan_record("adam", adam.step()))
            yield
        self.samples["adam"] = _sample_strip(adam)
        sgd_records = [r for r in self.records if r["arm"] == "sgd"]
        self.numbers = {
            "diverged_at": diverged_at,
            "message": message,
            "weights_finite_after": weights_finite,
            "restored_to": trainer.guard.snapshot_step,
            "max_abs_loss_before": max((max(abs(r["d_loss"]), abs(r["g_loss"])) for r in sgd_records), default=0.0),
            "adam_g_loss": _last_median(self.records, "adam", "g_loss", 20),
            "adam_grad_norm_g": _last_median(self.records, "adam", "grad_norm_g", 20),
            "adam_d_fake": _last_median(self.records, "adam", "d_fake", 20),
            "adam_finite": all(math.isfinite(r["g_loss"]) for r in self.records if r["arm"] == "adam"),
        }
        self.numbers["shown"] = diverged_at is not None and weights_finite
