"""What every lesson shares: the `Lesson` protocol, the article-network trainer, records and sample strips."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import torch

from .. import losses, pixels
from ..errors import ConfigError
from ..factory import build_trainer
from ..gan_trainer import GANTrainConfig, GANTrainer
from ..metrics import class_counts
from ..models.classifier import Classifier
from ..models.gan import ARTICLE_GAN, GAN
from ..optim import OptimizerConfig

SAMPLE_COUNT = 16  # images per sample strip


def _adam(lr: float, beta1: float = 0.5) -> OptimizerConfig:
    return OptimizerConfig(kind="adam", lr=lr, beta1=beta1, beta2=0.999)


def _last_mean(records: list[dict], arm: str, key: str, last: int) -> float:
    values = [r[key] for r in records if r["arm"] == arm and key in r][-last:]
    return sum(values) / len(values) if values else float("nan")


def _last_median(records: list[dict], arm: str, key: str, last: int) -> float:
    """Median of the last values: GAN losses spike now and then, and one spike should not decide a verdict."""
    values = sorted([r[key] for r in records if r["arm"] == arm and key in r][-last:])
    if not values:
        return float("nan")
    middle = len(values) // 2
    return values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2


def generator_gradient_norm(model: GAN, loss: losses.GANLoss, z: torch.Tensor) -> float:
    """‖∂ L_G / ∂ θ_G‖ for one batch of noise, without touching .grad or any optimizer (the state stays as it is)."""
    parameters = [p for p in model.generator.parameters() if p.requires_grad]
    if not parameters:
        raise ConfigError("This generator has no trainable parameters.")
    with torch.enable_grad():
        scores = model.discriminator(model.generator(z))
        grads = torch.autograd.grad(losses.generator_loss(loss, scores), parameters, allow_unused=True)
    squares = [g.detach().double().pow(2).sum() for g in grads if g is not None]
    return math.sqrt(float(sum(squares))) if squares else 0.0


def class_histogram(generator: torch.nn.Module, z: torch.Tensor, classifier: Classifier) -> list[int]:
    """How many of G(z) the classifier assigns to each digit (G in eval mode, restored afterwards)."""
    from ..evaluation import classify, generator_images  # evaluation imports checkpoints; keep this import local

    probs, _ = classify(classifier, generator_images(generator, z))
    return class_counts(probs.argmax(dim=1))


def normalized_entropy(counts: list[int]) -> float:
    """Entropy of a histogram divided by log(number of bins): 1 = all classes equally common, 0 = one class."""
    total = sum(counts)
    if total == 0:
        return 0.0
    probs = [c / total for c in counts if c > 0]
    return max(0.0, -sum(p * math.log(p) for p in probs) / math.log(len(counts)))


class Lesson:
    """A resumable experiment: call step() until done (each call is one small unit of work)."""

    key = ""

    def __init__(self, total: int) -> None:
        self.total = total
        self.units = 0
        self.records: list[dict[str, Any]] = []
        self.samples: dict[str, torch.Tensor] = {}  # name -> images (N, 1, 28, 28) in [0, 1]
        self.numbers: dict[str, Any] = {}
        self.done = False
        self._script: Iterator[None] = self._run()

    def _run(self) -> Iterator[None]:  # pragma: no cover - every lesson overrides it
        raise NotImplementedError
        yield

    def step(self) -> None:
        """One unit of work (a training step of one arm, or one measurement). Does nothing once done."""
        if self.done:
            return
        try:
            next(self._script)
            self.units += 1
        except StopIteration:
            self.done = True

    @property
    def remaining(self) -> int:
        return 0 if self.done else max(1, self.total - self.units)

    @property
    def progress(self) -> float:
        return 1.0 if self.done else min(self.units / max(self.total, 1), 0.99)

    def run_to_end(self) -> "Lesson":
        while not self.done:
            self.step()
        return self

    def outcome(self) -> dict[str, Any]:
        return {**self.numbers, "shown": bool(self.numbers.get("shown", False))}


def _article_trainer(config: GANTrainConfig, *, model: GAN | None = None, seed: int = 0) -> GANTrainer:
    trainer = build_trainer(ARTICLE_GAN, replace(config, seed=seed), model=model)
    assert isinstance(trainer, GANTrainer)
    return trainer


def _gan_record(arm: str, stats: Any) -> dict[str, Any]:
    return {
        "arm": arm, "step": stats.step, "d_loss": stats.d_loss, "g_loss": stats.g_loss, "d_real": stats.d_real,
        "d_fake": stats.d_fake, "grad_norm_d": stats.grad_norm_d, "grad_norm_g": stats.grad_norm_g,
    }


def _sample_strip(trainer: GANTrainer) -> torch.Tensor:
    return pixels.signed_to_unit(trainer.sample(trainer.fixed_z[:SAMPLE_COUNT]))
