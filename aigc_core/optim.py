"""Optimizer settings shared by the trainers: a frozen config, a builder, and an in-place updater."""

import math
from dataclasses import dataclass
from typing import Iterable, Literal

import torch

from .errors import ConfigError

OptimizerKind = Literal["adam", "sgd", "rmsprop"]
OPTIMIZERS: tuple[str, ...] = ("adam", "sgd", "rmsprop")
MAX_LR = 1e3  # larger is certainly a typo; up to here the divergence guard shows what happens


@dataclass(frozen=True)
class OptimizerConfig:
    kind: OptimizerKind = "adam"
    lr: float = 2e-4
    beta1: float = 0.5  # Adam's beta1, SGD's momentum, RMSprop's momentum
    beta2: float = 0.999  # Adam's beta2, RMSprop's alpha

    def validate(self, name: str) -> None:
        if self.kind not in OPTIMIZERS:
            raise ConfigError(f"{name}: optimizer must be one of {', '.join(OPTIMIZERS)}, not {self.kind!r}.")
        if not (math.isfinite(self.lr) and 0 < self.lr <= MAX_LR):
            raise ConfigError(f"{name}: learning rate must be > 0 and ≤ {MAX_LR:g}; got {self.lr!r}.")
        for label, value in (("beta1", self.beta1), ("beta2", self.beta2)):
            if not (math.isfinite(value) and 0 <= value < 1):
                raise ConfigError(f"{name}: {label} must be in [0, 1); got {value!r}.")


def build_optimizer(params: Iterable[torch.nn.Parameter], config: OptimizerConfig) -> torch.optim.Optimizer:
    params = list(params)
    if config.kind == "adam":
        return torch.optim.Adam(params, lr=config.lr, betas=(config.beta1, config.beta2), foreach=True)
    if config.kind == "sgd":
        return torch.optim.SGD(params, lr=config.lr, momentum=config.beta1, foreach=True)
    return torch.optim.RMSprop(params, lr=config.lr, alpha=config.beta2, momentum=config.beta1, foreach=True)


def apply_settings(optimizer: torch.optim.Optimizer, config: OptimizerConfig, lr: float | None = None) -> None:
    """Change lr / betas in place (keeps the optimizer's state), effective from the next step."""
    for group in optimizer.param_groups:
        group["lr"] = config.lr if lr is None else lr
        if "betas" in group:
            group["betas"] = (config.beta1, config.beta2)
        if "momentum" in group:
            group["momentum"] = config.beta1
        if "alpha" in group:
            group["alpha"] = config.beta2


def clip_and_measure(parameters: list[torch.nn.Parameter], max_norm: float) -> float:
    """Total L2 norm of the gradients, before clipping; clips them to `max_norm` unless it is inf. Without
    clipping this skips clip_grad_norm_'s rescale-by-1.0 pass over every gradient (about 8% of a small GAN's step).
    Both cases measure the norm the same way, so turning clipping on does not change the reported norm."""
    grads = [p.grad for p in parameters if p.grad is not None]
    if not grads:
        return 0.0
    norms = torch._foreach_norm(grads)
    if grads[0].is_cpu:
        # Inside a training step every extra kind of op runs from cold caches (~45 µs each on the 2-core target),
        # so the per-tensor norms are combined in Python (one hot .item() each), not by stack + vector_norm.
        norm = math.hypot(*(tensor_norm.item() for tensor_norm in norms))
    else:  # on a GPU each .item() waits for the device: one wait in all
        norm = torch.linalg.vector_norm(torch.stack(norms)).item()
    if not math.isinf(max_norm):
        torch.nn.utils.clip_grads_with_norm_(parameters, max_norm, torch.tensor(norm), foreach=True)
    return norm


def cosine_lr(base_lr: float, step: int, total_steps: int) -> float:
    """Cosine decay from base_lr to 5% of it over total_steps (Loshchilov & Hutter, 2017); constant if total_steps <= 0."""
    if total_steps <= 0:
        return base_lr
    progress = min(step / total_steps, 1.0)
    return base_lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * progress)))
