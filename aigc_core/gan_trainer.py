"""Step-wise GAN training: one call to `step()` = k discriminator updates + one generator update.

`step_d()` and `step_g()` are exposed on their own for the step-by-step teaching mode (as in GAN Lab).
Every call returns a `GANStats` record of plain floats; nothing is printed or drawn here.
"""

import copy
import math
import time
from dataclasses import asdict, dataclass, field, replace
from typing import Protocol

import torch

from . import losses
from .errors import ConfigError
from .guard import DivergenceGuard
from .models.gan import GAN
from .optim import OptimizerConfig, apply_settings, build_optimizer, cosine_lr

FIXED_NOISE_SIZE = 64
MAX_BATCH = 4096


class BatchSource(Protocol):
    def batch(self, size: int, generator: torch.Generator) -> torch.Tensor: ...


@dataclass(frozen=True)
class GANTrainConfig:
    loss: losses.GANLoss = "non_saturating"
    batch_size: int = 64
    d_steps: int = 1  # k discriminator updates per generator update
    g_optim: OptimizerConfig = field(default_factory=lambda: OptimizerConfig(lr=2e-4))
    d_optim: OptimizerConfig = field(default_factory=lambda: OptimizerConfig(lr=2e-4))
    clip_grad_norm: float = 0.0  # 0 = off
    label_smoothing: float = 0.0  # one-sided: real targets become 1 - s
    weight_clip: float = 0.01  # WGAN critic weight clipping
    gp_weight: float = 10.0  # WGAN-GP λ
    ema: float = 0.0  # decay of an exponential moving average of G's weights used for samples; 0 = off
    schedule_steps: int = 0  # cosine learning-rate decay over this many iterations; 0 = constant
    seed: int = 0

    def validate(self) -> None:
        if self.loss not in losses.GAN_LOSSES:
            raise ConfigError(f"Unknown loss {self.loss!r}; choose one of {', '.join(losses.GAN_LOSSES)}.")
        if not 2 <= self.batch_size <= MAX_BATCH:
            raise ConfigError(f"Batch size must be between 2 and {MAX_BATCH}; got {self.batch_size}.")
        if not 1 <= self.d_steps <= 50:
            raise ConfigError(f"k (D steps per G step) must be between 1 and 50; got {self.d_steps}.")
        self.g_optim.validate("Generator")
        self.d_optim.validate("Discriminator")
        if not (0 <= self.label_smoothing <= 0.5):
            raise ConfigError(f"Label smoothing must be in [0, 0.5]; got {self.label_smoothing}.")
        if not (math.isfinite(self.clip_grad_norm) and self.clip_grad_norm >= 0):
            raise ConfigError(f"Gradient clipping must be ≥ 0 (0 = off); got {self.clip_grad_norm}.")
        if not 0 <= self.ema < 1:
            raise ConfigError(f"EMA decay must be in [0, 1); got {self.ema}.")


@dataclass(frozen=True)
class GANStats:
    step: int  # generator updates so far
    d_updates: int
    phase: str  # "d", "g" or "both"
    d_loss: float
    g_loss: float
    d_real: float  # mean D(x): a probability for minimax / non-saturating, a raw score otherwise
    d_fake: float  # mean D(G(z))
    grad_norm_d: float
    grad_norm_g: float
    seconds: float

    def as_dict(self) -> dict:
        return asdict(self)


_NAN = float("nan")


class GANTrainer:
    def __init__(
        self,
        model: GAN,
        source: BatchSource,
        config: GANTrainConfig = GANTrainConfig(),
        *,
        device: torch.device | str = "cpu",
    ) -> None:
        config.validate()
        self.device = torch.device(device)
        self.model = model.to(self.device)
        self.source = source
        self.config = config
        self.rng = torch.Generator().manual_seed(config.seed)
        self.fixed_z = model.sample_noise(FIXED_NOISE_SIZE, torch.Generator().manual_seed(config.seed + 7919), self.device)
        self.optimizers = {
            "g": build_optimizer(model.generator.parameters(), config.g_optim),
            "d": build_optimizer(model.discriminator.parameters(), config.d_optim),
        }
        self.ema_generator = copy.deepcopy(model.generator).requires_grad_(False) if config.ema > 0 else None
        self.iteration = 0
        self.d_updates = 0
        self.last = GANStats(0, 0, "both", _NAN, _NAN, _NAN, _NAN, _NAN, _NAN, 0.0)
        self.guard = DivergenceGuard(self.model, self.optimizers)

    # -- configuration -------------------------------------------------------------------------
    def update_config(self, config: GANTrainConfig) -> None:
        """Apply new hyperparameters from the next step; optimizer state survives unless its kind changes."""
        config.validate()
        for name, new, old in (("g", config.g_optim, self.config.g_optim), ("d", config.d_optim, self.config.d_optim)):
            if new.kind != old.kind:
                network = self.model.generator if name == "g" else self.model.discriminator
                self.optimizers[name] = build_optimizer(network.parameters(), new)
            else:
                apply_settings(self.optimizers[name], new)
        if config.ema > 0 and self.ema_generator is None:
            self.ema_generator = copy.deepcopy(self.model.generator).requires_grad_(False)
        self.config = config

    # -- one update of each network ------------------------------------------------------------
    def _lr(self, optim: OptimizerConfig) -> float:
        return cosine_lr(optim.lr, self.iteration, self.config.schedule_steps)

    def _finish_update(self, name: str, parameters: list[torch.nn.Parameter], what: str) -> float:
        """Clip (or just measure) the gradient norm, refuse non-finite gradients, then step."""
        max_norm = self.config.clip_grad_norm if self.config.clip_grad_norm > 0 else math.inf
        norm = float(torch.nn.utils.clip_grad_norm_(parameters, max_norm, foreach=True))
        self.guard.check(norm, f"the {what} gradient norm", self.iteration)
        optimizer = self.optimizers[name]
        if self.config.schedule_steps > 0:
            optim_config = self.config.g_optim if name == "g" else self.config.d_optim
            apply_settings(optimizer, optim_config, lr=self._lr(optim_config))
        optimizer.step()
        return norm

    def step_d(self) -> GANStats:
        start = time.perf_counter()
        cfg, model = self.config, self.model
        real = self.source.batch(cfg.batch_size, self.rng).to(self.device)
        z = model.sample_noise(cfg.batch_size, self.rng, self.device)
        with torch.no_grad():
            fake = model.generator(z)
        scores = model.discriminator(torch.cat([real, fake]))  # one pass over (2B, ...)
        real_scores, fake_scores = scores[: cfg.batch_size], scores[cfg.batch_size :]
        loss = losses.discriminator_loss(cfg.loss, real_scores, fake_scores, label_smoothing=cfg.label_smoothing)
        if cfg.loss == "wgan_gp":
            loss = loss + cfg.gp_weight * losses.gradient_penalty(model.discriminator, real, fake, self.rng)
        d_loss = float(loss.detach())
        self.guard.check(d_loss, "the discriminator loss", self.iteration)
        optimizer = self.optimizers["d"]
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        params = list(model.discriminator.parameters())
        norm = self._finish_update("d", params, "discriminator")
        if cfg.loss == "wgan":
            with torch.no_grad():
                torch._foreach_clamp_min_(params, -cfg.weight_clip)
                torch._foreach_clamp_max_(params, cfg.weight_clip)
        self.d_updates += 1
        with torch.no_grad():
            d_real = float(losses.discriminator_probability(cfg.loss, real_scores).mean())
            d_fake = float(losses.discriminator_probability(cfg.loss, fake_scores).mean())
        self.last = replace(
            self.last, step=self.iteration, d_updates=self.d_updates, phase="d", d_loss=d_loss,
            d_real=d_real, d_fake=d_fake, grad_norm_d=norm, seconds=time.perf_counter() - start,
        )
        return self.last

    def step_g(self) -> GANStats:
        start = time.perf_counter()
        cfg, model = self.config, self.model
        z = model.sample_noise(cfg.batch_size, self.rng, self.device)
        model.discriminator.requires_grad_(False)  # gradients flow through D into G, but D is not updated
        try:
            fake_scores = model.discriminator(model.generator(z))
            loss = losses.generator_loss(cfg.loss, fake_scores)
            g_loss = float(loss.detach())
            self.guard.check(g_loss, "the generator loss", self.iteration)
            optimizer = self.optimizers["g"]
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
        finally:
            model.discriminator.requires_grad_(True)
        norm = self._finish_update("g", list(model.generator.parameters()), "generator")
        self.iteration += 1
        self._update_ema()
        self.guard.maybe_take(self.iteration)
        with torch.no_grad():
            d_fake = float(losses.discriminator_probability(cfg.loss, fake_scores).mean())
        self.last = replace(
            self.last, step=self.iteration, d_updates=self.d_updates, phase="g", g_loss=g_loss,
            d_fake=d_fake, grad_norm_g=norm, seconds=time.perf_counter() - start,
        )
        return self.last

    def step(self) -> GANStats:
        """One iteration: k D updates, then one G update."""
        start = time.perf_counter()
        for _ in range(self.config.d_steps):
            d_stats = self.step_d()
        g_stats = self.step_g()
        # Report D(G(z)) as D saw it during its own update, so D(x) and D(G(z)) are comparable.
        self.last = replace(g_stats, phase="both", d_fake=d_stats.d_fake, seconds=time.perf_counter() - start)
        return self.last

    # -- sampling ------------------------------------------------------------------------------
    @torch.no_grad()
    def _update_ema(self) -> None:
        if self.ema_generator is None or self.config.ema <= 0:
            return
        live = list(self.model.generator.parameters())
        torch._foreach_lerp_(list(self.ema_generator.parameters()), live, 1.0 - self.config.ema)
        for ema_buffer, buffer in zip(self.ema_generator.buffers(), self.model.generator.buffers()):
            ema_buffer.copy_(buffer)

    def sampling_generator(self) -> torch.nn.Module:
        return self.ema_generator if self.ema_generator is not None else self.model.generator

    def sample(self, z: torch.Tensor | None = None) -> torch.Tensor:
        """G(z) on the CPU (fixed noise by default), in eval mode, without touching training state."""
        return generate(self.sampling_generator(), self.fixed_z if z is None else z, self.device)


def generate(generator: torch.nn.Module, z: torch.Tensor, device: torch.device | str = "cpu") -> torch.Tensor:
    """Run a generator in eval mode under inference_mode and return CPU output; restores its mode."""
    was_training = generator.training
    generator.eval()
    try:
        with torch.inference_mode():
            out = generator(z.to(device))
    finally:
        generator.train(was_training)
    return out.float().cpu()
