"""Step-wise training of the MNIST classifier used by the metrics (cross-entropy, random shifts)."""

import time
from dataclasses import asdict, dataclass
from typing import ClassVar

import torch
import torch.nn.functional as F

from .errors import ConfigError
from .guard import DivergenceGuard
from .mnist import ImageSource
from .models.classifier import Classifier
from .optim import OptimizerConfig, apply_settings, build_optimizer, cosine_lr


@dataclass(frozen=True)
class ClassifierTrainConfig:
    batch_size: int = 128
    optim: OptimizerConfig = OptimizerConfig(kind="adam", lr=2e-3, beta1=0.9, beta2=0.999)
    max_shift: int = 2  # random translation (pixels), a cheap augmentation that helps generalisation
    schedule_steps: int = 0
    seed: int = 0

    def validate(self) -> None:
        if not 2 <= self.batch_size <= 4096:
            raise ConfigError(f"Batch size must be between 2 and 4096; got {self.batch_size}.")
        self.optim.validate("Classifier")


@dataclass(frozen=True)
class ClassifierStats:
    step: int
    loss: float
    accuracy: float  # on the training batch
    seconds: float

    def as_dict(self) -> dict:
        return asdict(self)


def random_shift(x: torch.Tensor, max_shift: int, generator: torch.Generator) -> torch.Tensor:
    """Translate each image by up to max_shift pixels (zero fill) -- (B, 1, 28, 28)."""
    if max_shift <= 0:
        return x
    padded = F.pad(x, (max_shift,) * 4)  # (B, 1, 28 + 2s, 28 + 2s)
    offsets = torch.randint(0, 2 * max_shift + 1, (x.shape[0], 2), generator=generator).to(x.device)
    base = torch.arange(28, device=x.device)
    rows = (base[None, :] + offsets[:, :1])[:, :, None]  # (B, 28, 1)
    cols = (base[None, :] + offsets[:, 1:])[:, None, :]  # (B, 1, 28)
    batch = torch.arange(x.shape[0], device=x.device)[:, None, None]
    return padded[batch, 0, rows, cols].unsqueeze(1)  # (B, 1, 28, 28)


class ClassifierTrainer:
    family: ClassVar[str] = "classifier"  # which model family it trains (what pages and evaluations branch on)

    def __init__(
        self, model: Classifier, source: ImageSource, config: ClassifierTrainConfig = ClassifierTrainConfig(),
        *, device: torch.device | str = "cpu",
    ) -> None:
        config.validate()
        self.device = torch.device(device)
        self.model = model.to(self.device)
        self.source = source  # images in [0, 1]
        self.config = config
        self.rng = torch.Generator().manual_seed(config.seed)
        self.optimizers = {"classifier": build_optimizer(model.parameters(), config.optim)}
        self.iteration = 0
        self.guard = DivergenceGuard(self.model, self.optimizers, owner=self, counters=("iteration",))

    def step(self) -> ClassifierStats:
        start = time.perf_counter()
        cfg = self.config
        x, y = self.source.batch_with_labels(cfg.batch_size, self.rng)
        x = random_shift(x, cfg.max_shift, self.rng).to(self.device)
        logits = self.model(x)
        loss = F.cross_entropy(logits, y.to(self.device))
        value = loss.item()
        self.guard.check_loss(value, "the classifier loss", self.iteration)
        optimizer = self.optimizers["classifier"]
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if cfg.schedule_steps > 0:
            apply_settings(optimizer, cfg.optim, lr=cosine_lr(cfg.optim.lr, self.iteration, cfg.schedule_steps))
        optimizer.step()
        self.iteration += 1
        self.guard.maybe_take(self.iteration)
        accuracy = float((logits.argmax(1) == y.to(self.device)).float().mean())
        return ClassifierStats(self.iteration, value, accuracy, time.perf_counter() - start)
