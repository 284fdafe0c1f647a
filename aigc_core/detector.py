"""Training and measuring the real-or-generated detector (`models.detector.Detector`).

Data, balanced by construction: every batch is half real MNIST training digits, half generated digits pooled over the
models (each model contributes the same number). Loss: binary cross-entropy on the "generated" logit. Evaluation is
held out on both sides: real digits from the *test* split, generated digits drawn with another seed stream than the
training ones. A model's accuracy is measured on a balanced set (its held-out fakes and as many real test digits):
(real judged real + fakes caught) / 2, so 50% is chance and no model looks better for having more samples.

Digits are uint8 throughout, as the Real-or-fake game shows them (`aigc_core.realfake`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .errors import ConfigError
from .models.detector import Detector, DetectorConfig
from .optim import OptimizerConfig, build_optimizer
from .pixels import uint8_to_unit
from .realfake import fake_seed, generated_digits

# The shipped generators it learns from by default. Not the DDPM: its samples cost ~100x more to draw on a CPU.
DETECTOR_MODELS = ("gan_mlp", "gan_seed_mlp", "dcgan", "vae_mlp_z20", "vae_mlp_z2")
MAX_PER_MODEL = 20_000  # generated digits per model on either side; more is a typo (and minutes of sampling)


@dataclass(frozen=True)
class DetectorTrainConfig:
    per_model: int = 2000  # generated training digits per model (the real side gets as many in all)
    held_out: int = 1000  # generated test digits per model, and real test digits (±1.5% at 95% near 95%)
    steps: int = 2000
    batch_size: int = 128  # half real, half generated
    optim: OptimizerConfig = OptimizerConfig(kind="adam", lr=2e-3, beta1=0.9, beta2=0.999)
    seed: int = 0

    def validate(self) -> None:
        for name in ("per_model", "held_out"):
            value = getattr(self, name)
            if not 1 <= value <= MAX_PER_MODEL:
                raise ConfigError(f"{name} must be from 1 to {MAX_PER_MODEL:,}; got {value}.")
        if not 2 <= self.batch_size <= 4096 or self.batch_size % 2:
            raise ConfigError(f"The batch size must be even, from 2 to 4096; got {self.batch_size}.")
        if self.steps < 1:
            raise ConfigError(f"Training needs at least one step; got {self.steps}.")
        self.optim.validate("Detector")


@dataclass(frozen=True)
class DetectorStats:
    step: int
    loss: float
    accuracy: float  # on the training batch
    seconds: float


def draw_fakes(models: Mapping[str, nn.Module], n: int, seed: int, chunk: int = 500) -> dict[str, torch.Tensor]:
    """n generated digits (n, 28, 28) uint8 per model, each model from its own stream of `seed`."""
    if not models:
        raise ConfigError("The detector needs at least one generative model to learn from.")
    out = {}
    for name, model in models.items():
        base = fake_seed(seed, name)
        out[name] = torch.cat([generated_digits(model, min(chunk, n - start), base + start)
                               for start in range(0, n, chunk)])  # chunked: the sampler's memory stays small
    return out


class DetectorTrainer:
    """`step() -> DetectorStats` on balanced batches: half from `real` (N, 28, 28) uint8, half from the pooled fakes."""

    def __init__(self, real: torch.Tensor, fakes: Mapping[str, torch.Tensor], config: DetectorTrainConfig,
                 model_config: DetectorConfig = DetectorConfig()) -> None:
        config.validate()
        self.config = config
        self.real = real
        self.fake = torch.cat(list(fakes.values()))  # (models * per_model, 28, 28): every model the same count
        if len(self.real) == 0 or len(self.fake) == 0:
            raise ConfigError("The detector needs real and generated digits to learn from.")
        self.model = Detector(model_config, seed=config.seed)
        self.optimizer = build_optimizer(self.model.parameters(), config.optim)
        self.rng = torch.Generator().manual_seed(config.seed)
        self.iteration = 0

    def step(self) -> DetectorStats:
        start = time.perf_counter()
        half = self.config.batch_size // 2
        real = self.real[torch.randint(len(self.real), (half,), generator=self.rng)]
        fake = self.fake[torch.randint(len(self.fake), (half,), generator=self.rng)]
        x = uint8_to_unit(torch.cat([real, fake]).unsqueeze(1))  # (B, 1, 28, 28)
        y = torch.cat([torch.zeros(half), torch.ones(half)])  # 1 = generated
        logits = self.model(x)
        loss = F.binary_cross_entropy_with_logits(logits, y)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        self.iteration += 1
        accuracy = float(((logits > 0).float() == y).float().mean())
        return DetectorStats(self.iteration, loss.item(), accuracy, time.perf_counter() - start)


def fake_probability(detector: Detector, digits: torch.Tensor) -> torch.Tensor:
    """p(generated) for digits (N, 28, 28) uint8, as a float tensor (N,)."""
    was_training = detector.training
    detector.eval()
    try:
        with torch.inference_mode():
            device = next(detector.parameters()).device
            x = uint8_to_unit(digits.reshape(-1, 1, 28, 28)).to(device)
            return torch.sigmoid(detector(x)).float().cpu()
    finally:
        detector.train(was_training)


def evaluate_detector(detector: Detector, real: torch.Tensor, fakes: Mapping[str, torch.Tensor]) -> dict:
    """Held-out figures: {"real_correct", "per_model": {name: {"caught", "accuracy"}}, "accuracy"} where a model's
    accuracy is balanced ((real_correct + caught) / 2) and "accuracy" is their mean over the models."""
    real_correct = float((fake_probability(detector, real) < 0.5).float().mean())
    per_model = {}
    for name, digits in fakes.items():
        caught = float((fake_probability(detector, digits) >= 0.5).float().mean())
        per_model[name] = {"caught": round(caught, 4), "accuracy": round((real_correct + caught) / 2, 4)}
    mean = sum(m["accuracy"] for m in per_model.values()) / max(len(per_model), 1)
    return {"real_correct": round(real_correct, 4), "per_model": per_model, "accuracy": round(mean, 4),
            "held_out": len(real)}


def train_detector(real_train: torch.Tensor, models: Mapping[str, nn.Module], config: DetectorTrainConfig,
                   real_test: torch.Tensor, *, on_step: Callable[[DetectorStats], None] | None = None
                   ) -> tuple[Detector, dict]:
    """Train on `config.per_model` fakes per model and as many real training digits in all; measure on held-out
    fakes (another seed stream) and `config.held_out` real test digits. Returns (detector in eval mode, metrics)."""
    config.validate()
    pick = torch.Generator().manual_seed(config.seed)
    n_real = min(len(real_train), config.per_model * len(models))
    real = real_train[torch.randperm(len(real_train), generator=pick)[:n_real]]
    trainer = DetectorTrainer(real, draw_fakes(models, config.per_model, config.seed), config)
    for _ in range(config.steps):
        stats = trainer.step()
        if on_step is not None:
            on_step(stats)
    held_real = real_test[torch.randperm(len(real_test), generator=pick)[: config.held_out]]
    held_fakes = draw_fakes(models, config.held_out, config.seed + MAX_PER_MODEL)  # seeds no training chunk used
    detector = trainer.model.eval()
    return detector, evaluate_detector(detector, held_real, held_fakes)


def config_dict(config: DetectorTrainConfig) -> dict:
    return asdict(config)
