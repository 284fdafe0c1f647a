"""Step-wise VAE training: one call to `step()` = one gradient step on the negative ELBO
(reconstruction + β·KL, Higgins et al., 2017 for β ≠ 1), reported in nats per image. A conditional VAE
(`VAE.conditional`) trains on labelled batches: each digit is encoded and decoded with its own label."""

import math
import time
from dataclasses import asdict, dataclass
from typing import ClassVar

import torch

from . import losses, seeds
from .errors import ConfigError
from .guard import DivergenceGuard
from .gan_trainer import CONDITIONAL_COLUMNS, GRID_COLUMNS, MAX_BATCH, BatchSource
from .models.conditional import check_labels, cycle_labels, row_labels
from .models.vae import VAE
from .optim import OptimizerConfig, apply_settings, build_optimizer, clip_and_measure, cosine_lr

FIXED_NOISE_SIZE = 64
MAX_BETA = 1000.0


@dataclass(frozen=True)
class VAETrainConfig:
    batch_size: int = 128
    optim: OptimizerConfig = OptimizerConfig(kind="adam", lr=1e-3, beta1=0.9, beta2=0.999)
    beta: float = 1.0  # weight of the KL term
    reconstruction: losses.Reconstruction = "bce"
    clip_grad_norm: float = 0.0
    schedule_steps: int = 0  # cosine learning-rate decay over this many steps; 0 = constant
    seed: int = 0

    def validate(self) -> None:
        if not 2 <= self.batch_size <= MAX_BATCH:
            raise ConfigError(f"Batch size must be between 2 and {MAX_BATCH}; got {self.batch_size}.")
        self.optim.validate("VAE")
        if not (math.isfinite(self.beta) and 0 <= self.beta <= MAX_BETA):
            raise ConfigError(f"β must be between 0 and {MAX_BETA:g}; got {self.beta}.")
        if self.reconstruction not in losses.RECONSTRUCTIONS:
            names = " or ".join(repr(name) for name in losses.RECONSTRUCTIONS)
            raise ConfigError(f"Reconstruction must be {names}; got {self.reconstruction!r}.")
        if not (math.isfinite(self.clip_grad_norm) and self.clip_grad_norm >= 0):
            raise ConfigError(f"Gradient clipping must be ≥ 0 (0 = off); got {self.clip_grad_norm}.")


@dataclass(frozen=True)
class VAEStats:
    step: int
    loss: float  # recon + β·KL, the optimised objective
    recon: float  # nats per image
    kl: float  # nats per image
    grad_norm: float
    seconds: float

    def as_dict(self) -> dict:
        return asdict(self)


class VAETrainer:
    family: ClassVar[str] = "vae"  # which model family it trains (what pages and evaluations branch on)

    def __init__(
        self, model: VAE, source: BatchSource, config: VAETrainConfig = VAETrainConfig(), *, device: torch.device | str = "cpu"
    ) -> None:
        config.validate()
        self.device = torch.device(device)
        self.model = model.to(self.device)
        self.source = source  # must yield images in [0, 1]
        self.config = config
        self.rng = torch.Generator().manual_seed(config.seed)
        self.conditional = model.conditional
        if self.conditional and not hasattr(source, "batch_with_labels"):
            raise ConfigError("A conditional VAE needs labelled data (a source with batch_with_labels).")
        grid = model.num_classes * CONDITIONAL_COLUMNS if self.conditional else FIXED_NOISE_SIZE
        self.grid_columns = CONDITIONAL_COLUMNS if self.conditional else GRID_COLUMNS
        self.fixed_z = model.sample_noise(grid, seeds.generator(config.seed, "fixed_noise"), self.device)
        self.fixed_labels = row_labels(model.num_classes, CONDITIONAL_COLUMNS, self.device) if self.conditional else None
        self.optimizers = {"vae": build_optimizer(model.parameters(), config.optim)}
        self.iteration = 0
        nan = float("nan")
        self.last = VAEStats(0, nan, nan, nan, nan, 0.0)
        self.guard = DivergenceGuard(self.model, self.optimizers, owner=self, counters=("iteration",))

    def update_config(self, config: VAETrainConfig) -> None:
        config.validate()
        if config.optim.kind != self.config.optim.kind:
            self.optimizers["vae"] = build_optimizer(self.model.parameters(), config.optim)
        else:
            apply_settings(self.optimizers["vae"], config.optim)
        self.config = config

    def step(self) -> VAEStats:
        start = time.perf_counter()
        cfg, model = self.config, self.model
        if self.conditional:
            x, y = self.source.batch_with_labels(cfg.batch_size, self.rng)  # type: ignore[attr-defined]
            x, y = x.to(self.device), y.to(self.device)
        else:
            x, y = self.source.batch(cfg.batch_size, self.rng).to(self.device), None
        eps = torch.randn((cfg.batch_size, model.z_dim), generator=self.rng).to(self.device)
        x_logits, mu, logvar = model(x, eps, y)
        recon = losses.reconstruction_loss(x_logits, x, cfg.reconstruction)
        kl = losses.kl_divergence(mu, logvar)
        loss = recon + cfg.beta * kl
        loss_value = loss.item()
        self.guard.check_loss(loss_value, "the VAE loss", self.iteration)
        optimizer = self.optimizers["vae"]
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        max_norm = cfg.clip_grad_norm if cfg.clip_grad_norm > 0 else math.inf
        norm = clip_and_measure(list(model.parameters()), max_norm)
        self.guard.check(norm, "the gradient norm", self.iteration)
        if cfg.schedule_steps > 0:
            apply_settings(optimizer, cfg.optim, lr=cosine_lr(cfg.optim.lr, self.iteration, cfg.schedule_steps))
        optimizer.step()
        self.iteration += 1
        self.guard.maybe_take(self.iteration)
        self.last = VAEStats(
            self.iteration, loss_value, float(recon.detach()), float(kl.detach()), norm, time.perf_counter() - start
        )
        return self.last

    def sample(self, z: torch.Tensor | None = None, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Decoded pixel means in [0, 1] on the CPU (fixed noise by default). A conditional VAE decodes `labels`
        (default: the grid's rows with the fixed noise, else 0-9 in turn)."""
        if self.conditional and labels is None:
            labels = self.fixed_labels if z is None else cycle_labels(len(z), self.model.num_classes)
        z = self.fixed_z if z is None else z
        if labels is not None:
            if not self.conditional:
                raise ConfigError("This VAE is unconditional; it takes no class labels.")
            check_labels(labels, self.model.num_classes, len(z))
            labels = labels.to(self.device)
        with torch.inference_mode():
            out = torch.sigmoid(self.model.decode(z.to(self.device), labels))
        return out.float().cpu()

    def reconstruct(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """x̂ = decode(mu(x)) (the posterior mean, no sampling noise) in [0, 1]; a conditional VAE needs labels."""
        return reconstruct(self.model, x, self.device, labels)


def reconstruct(
    model: VAE, x: torch.Tensor, device: torch.device | str = "cpu", labels: torch.Tensor | None = None
) -> torch.Tensor:
    y = None if labels is None else labels.to(device)
    with torch.inference_mode():
        mu, _ = model.encode(x.to(device), y)
        return torch.sigmoid(model.decode(mu, y)).float().cpu()
