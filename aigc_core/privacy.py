"""Differentially private training: DP-SGD (Abadi et al., "Deep Learning with Differential Privacy", 2016) with
Opacus (Yousefpour et al., 2021).

Each step draws a Poisson batch (every training digit joins with probability q = B / N), clips each digit's own
gradient to norm ≤ C, adds Gaussian noise N(0, σ²C²) to their sum and divides by the expected batch size B. No single
digit can then move the weights by more than the noise hides. The privacy spent after k steps is ε at a stated δ
from the Rényi-DP accountant of the sampled Gaussian mechanism (Mironov, 2017; Mironov, Talwar & Zhang, 2019):
ε grows with k and q, falls with σ; σ = 0 gives ε = ∞ (no guarantee at all).

`DPTrainer.step() -> DPStats` like the other trainers: the VAE (a small MLP: per-sample gradients cost memory per
parameter and per digit) or the classifier (batch norm swapped for group norm, which needs no other digit's
statistics). `private=False` trains the same network on the same data without clipping or noise: the baseline.
"""

from __future__ import annotations

import copy
import math
import time
import warnings
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Literal, get_args

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

from . import losses, pixels
from .errors import ConfigError, TrainingDiverged
from .mnist import Digits
from .models.classifier import Classifier, ClassifierConfig
from .models.vae import VAE, VAEMLPConfig

DPTarget = Literal["vae", "classifier"]
DP_TARGETS: tuple[str, ...] = get_args(DPTarget)
DP_VAE = VAEMLPConfig(z_dim=8, hidden=(64,))  # ~110k parameters: B per-sample gradients of it fit in ~30 MB
DP_CLASSIFIER = ClassifierConfig(width=8, features=64)
CONV_GROUPS = 4  # group norm's groups in place of each conv layer's batch norm
MAX_NOISE = 100.0
MIN_CLIP, MAX_CLIP = 1e-3, 1e3  # C: per-sample gradient norms of these models lie around 1-100
MAX_LR = 1.0
MAX_BATCH = 512
MIN_EXPECTED_BATCH = 4.0  # q·N: smaller and batches are often empty or single digits
ALPHAS = tuple([1 + x / 10.0 for x in range(1, 100)] + list(range(12, 64)))  # RDP orders (Opacus's defaults)


@dataclass(frozen=True)
class DPConfig:
    target: DPTarget = "vae"
    private: bool = True  # False: the non-private baseline (no clipping, no noise, ε = ∞)
    noise_multiplier: float = 1.0  # σ: noise std in units of C
    max_grad_norm: float = 1.0  # C: each digit's gradient is clipped to this norm
    batch_size: int = 64  # expected batch size B (Poisson sampling: q = B / N)
    lr: float = 2e-3  # Adam
    delta: float = 1e-5  # the δ ε is reported at; keep it below 1/N
    seed: int = 0

    def validate(self, n: int | None = None) -> None:
        if self.target not in DP_TARGETS:
            raise ConfigError(f"DP training is for the {' or '.join(DP_TARGETS)}; got {self.target!r}.")
        if self.private:
            if not math.isfinite(self.noise_multiplier) or self.noise_multiplier <= 0:
                raise ConfigError(
                    f"A noise multiplier σ of {self.noise_multiplier:g} adds no noise: ε would be infinite, no privacy "
                    "guarantee at all. Choose σ > 0 (1.0 is common), or train without DP for the baseline.")
            if self.noise_multiplier > MAX_NOISE:
                raise ConfigError(f"σ must be at most {MAX_NOISE:g}; got {self.noise_multiplier:g}.")
            if not (math.isfinite(self.max_grad_norm) and MIN_CLIP <= self.max_grad_norm <= MAX_CLIP):
                raise ConfigError(f"The clipping norm C must be from {MIN_CLIP:g} to {MAX_CLIP:g}; got "
                                  f"{self.max_grad_norm:g}. Too small and no gradient gets through, too large and "
                                  "the noise σ·C drowns the weights.")
        if not (math.isfinite(self.delta) and 0 < self.delta < 0.1):
            raise ConfigError(f"δ must be in (0, 0.1); got {self.delta:g}.")
        if isinstance(self.batch_size, bool) or not isinstance(self.batch_size, int) or not 2 <= self.batch_size <= MAX_BATCH:
            raise ConfigError(f"Batch size must be from 2 to {MAX_BATCH}; got {self.batch_size!r}.")
        if not (math.isfinite(self.lr) and 0 < self.lr <= MAX_LR):
            raise ConfigError(f"Learning rate must be > 0 and ≤ {MAX_LR:g}; got {self.lr!r}.")
        if n is not None:
            if n < 1:
                raise ConfigError("DP training needs at least one training digit; the subset is empty.")
            if self.batch_size > n:
                raise ConfigError(f"The batch size ({self.batch_size}) exceeds the {n} training digits.")


@dataclass(frozen=True)
class DPStats:
    step: int
    loss: float  # VAE: negative ELBO (nats per digit); classifier: cross-entropy
    epsilon: float  # privacy spent so far at the config's δ (inf for the baseline)
    batch: int  # digits in this Poisson batch
    seconds: float

    def as_dict(self) -> dict:
        return asdict(self)


@lru_cache(maxsize=64)
def _rdp_per_step(noise_multiplier: float, sample_rate: float) -> tuple[float, ...]:
    from opacus.accountants.analysis.rdp import compute_rdp

    return tuple(compute_rdp(q=sample_rate, noise_multiplier=noise_multiplier, steps=1, orders=list(ALPHAS)))


def epsilon_after(steps: int, *, noise_multiplier: float, sample_rate: float, delta: float) -> float:
    """ε after `steps` of the sampled Gaussian mechanism: Opacus's RDP analysis, whose per-step curve is cached
    (RDP composes by addition, so k steps are k times one step)."""
    if steps <= 0:
        return 0.0
    from opacus.accountants.analysis.rdp import get_privacy_spent

    rdp = np.asarray(_rdp_per_step(float(noise_multiplier), float(sample_rate))) * steps
    eps, _ = get_privacy_spent(orders=list(ALPHAS), rdp=rdp, delta=delta)
    return float(eps)


def build_network(target: DPTarget, seed: int) -> torch.nn.Module:
    """The network DP training starts from: a seeded small VAE, or the classifier with group norm instead of batch
    norm (batch norm mixes digits within a batch, which breaks per-sample privacy; Opacus refuses it).

    Not Opacus's ModuleValidator.fix: its GroupNorm(min(32, C), C) on the 64 features normalises them in pairs, and
    after the ReLU each pair is one 0 and one positive number: that classifier never learned (10% accuracy)."""
    if target == "vae":
        return VAE(DP_VAE, seed=seed)
    model = Classifier(DP_CLASSIFIER, seed=seed)
    for i, layer in enumerate(model.body):
        if isinstance(layer, torch.nn.BatchNorm2d):
            model.body[i] = torch.nn.GroupNorm(CONV_GROUPS, layer.num_features)
        elif isinstance(layer, torch.nn.BatchNorm1d):
            model.body[i] = torch.nn.GroupNorm(1, layer.num_features)  # all features together, as a layer norm
    return model


class DPTrainer:
    """DP-SGD (or the plain baseline) on `digits` (uint8 images and labels), one Poisson batch per `step()`."""

    def __init__(self, config: DPConfig, digits: Digits, *, device: torch.device | str = "cpu") -> None:
        config.validate(len(digits))
        self.config = config
        self.device = torch.device(device)
        self.n = len(digits)
        self.sample_rate = config.batch_size / self.n
        if config.private and self.sample_rate * self.n < MIN_EXPECTED_BATCH:
            raise ConfigError(f"Expected batches of {config.batch_size} are too small for DP-SGD; use ≥ {MIN_EXPECTED_BATCH:g}.")
        self.images = torch.from_numpy(np.array(digits.images)).unsqueeze(1)  # (N, 1, 28, 28) uint8
        self.labels = torch.from_numpy(np.array(digits.labels)).long()
        self.rng = torch.Generator().manual_seed(config.seed)  # the VAE's z draws (and the baseline's batches)
        network = build_network(config.target, config.seed).to(self.device)
        optimizer = torch.optim.Adam(network.parameters(), lr=config.lr)
        self.iteration = 0
        if config.private:
            from opacus import PrivacyEngine

            loader = DataLoader(TensorDataset(self.images, self.labels), batch_size=config.batch_size,
                                generator=torch.Generator().manual_seed(config.seed))
            with warnings.catch_warnings():  # "secure RNG off": seeded streams are the point of a teaching run
                warnings.simplefilter("ignore")
                self.engine = PrivacyEngine(accountant="rdp")
                self.model, self.optimizer, self.loader = self.engine.make_private(
                    module=network, optimizer=optimizer, data_loader=loader,
                    noise_multiplier=config.noise_multiplier, max_grad_norm=config.max_grad_norm,
                    noise_generator=torch.Generator(device=self.device).manual_seed(config.seed + 1))
            self._batches = iter(self.loader)
            self.sample_rate = float(self.loader.sample_rate)  # Opacus's q: 1 / (batches per epoch) ≈ B / N
        else:
            self.engine, self.model, self.optimizer = None, network, optimizer
        self.network = network  # the plain module (Opacus wraps it; its weights are the same tensors)
        self._good = self._snapshot()

    # -- privacy ------------------------------------------------------------------------------------------------------
    def epsilon(self, steps: int | None = None) -> float:
        if not self.config.private:
            return math.inf
        return epsilon_after(self.iteration if steps is None else steps, noise_multiplier=self.config.noise_multiplier,
                             sample_rate=self.sample_rate, delta=self.config.delta)

    # -- one step -------------------------------------------------------------------------------------------------------
    def _batch(self) -> tuple[torch.Tensor, torch.Tensor]:
        if not self.config.private:
            index = torch.randint(self.n, (self.config.batch_size,), generator=self.rng)
            return self.images[index], self.labels[index]
        try:
            return next(self._batches)
        except StopIteration:  # an "epoch" of the Poisson loader is N / B draws; the stream goes on
            self._batches = iter(self.loader)
            return next(self._batches)

    def _loss(self, raw: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        x = pixels.uint8_to_unit(raw).to(self.device)
        if self.config.target == "vae":
            eps = torch.randn((len(x), DP_VAE.z_dim), generator=self.rng).to(self.device)
            x_logits, mu, logvar = self.model(x, eps)
            return losses.reconstruction_loss(x_logits, x) + losses.kl_divergence(mu, logvar)
        return F.cross_entropy(self.model(x), y.to(self.device))

    def _snapshot(self) -> tuple[dict, dict]:
        return copy.deepcopy(self.network.state_dict()), copy.deepcopy(self.optimizer.state_dict())

    def _restore(self) -> None:
        self.network.load_state_dict(self._good[0])
        self.optimizer.load_state_dict(self._good[1])
        self.optimizer.zero_grad(set_to_none=True)

    @staticmethod
    def _backward(loss: torch.Tensor) -> None:
        with warnings.catch_warnings():  # Opacus's hooks fire on a graph whose inputs need no gradient: expected
            warnings.simplefilter("ignore")
            loss.backward()

    def step(self) -> DPStats:
        """One DP-SGD step. A NaN/inf loss or weight raises TrainingDiverged with the last good weights back in
        place; the privacy already spent stays spent (the noisy gradient was computed)."""
        start = time.perf_counter()
        raw, y = self._batch()
        self.optimizer.zero_grad(set_to_none=True)
        if len(raw) == 0:  # a Poisson batch can be empty (probability (1 - q)^N): a noise-only step
            self.optimizer.step()
            self.iteration += 1
            return DPStats(self.iteration, math.nan, self.epsilon(), 0, time.perf_counter() - start)
        loss = self._loss(raw, y)
        value = float(loss.detach())
        if not math.isfinite(value):
            self._backward(loss)  # Opacus pairs every forward with a backward (its hooks count them); then discard
            self._restore()
            raise TrainingDiverged(f"The loss became {value} at step {self.iteration + 1}; the weights of step "
                                   f"{self.iteration} are back. Lower the learning rate or the clipping norm.",
                                   step=self.iteration + 1, restored_step=self.iteration)
        self._backward(loss)
        self.optimizer.step()
        self.iteration += 1
        if not all(torch.isfinite(p).all() for p in self.network.parameters()):
            self._restore()
            self.iteration -= 1
            raise TrainingDiverged(f"The weights became NaN or infinite at step {self.iteration + 1}; the weights of "
                                   f"step {self.iteration} are back. Lower the learning rate or the clipping norm.",
                                   step=self.iteration + 1, restored_step=self.iteration)
        self._good = self._snapshot()
        return DPStats(self.iteration, value, self.epsilon(), len(raw), time.perf_counter() - start)


# -- what the weights are worth ---------------------------------------------------------------------------------------


@torch.inference_mode()
def elbo_on(model: VAE, digits: Digits, *, seed: int = 0) -> float:
    """Mean ELBO (nats per digit, higher is better) on `digits`, one seeded z each (as `evaluation.vae_test_loss`)."""
    rng = torch.Generator().manual_seed(seed)
    device = next(model.parameters()).device
    x_all = pixels.uint8_to_unit(torch.from_numpy(np.array(digits.images)).unsqueeze(1))
    total = 0.0
    for x in x_all.split(1000):
        x = x.to(device)
        eps = torch.randn((len(x), model.z_dim), generator=rng).to(device)
        x_logits, mu, logvar = model(x, eps)
        total += float(losses.reconstruction_loss(x_logits, x) + losses.kl_divergence(mu, logvar)) * len(x)
    return -total / len(digits)


@torch.inference_mode()
def accuracy_on(model: torch.nn.Module, digits: Digits) -> float:
    was_training = model.training
    model.eval()
    x_all = pixels.uint8_to_unit(torch.from_numpy(np.array(digits.images)).unsqueeze(1))
    device = next(model.parameters()).device
    correct = sum(int((model(x.to(device)).argmax(1).cpu() == y).sum())
                  for x, y in zip(x_all.split(1000), torch.from_numpy(np.array(digits.labels)).long().split(1000)))
    model.train(was_training)
    return correct / len(digits)
