"""Denoising diffusion, part 1: noise schedules, the forward process q(x_t | x_0) in closed form, the training
targets (ε or v) and the "simple" loss, and x̂_0 / ε̂ from a network's output. The papers and formulas are listed
in the package docstring (`aigc_core.diffusion`); the reverse process is in `sampling`.
"""


from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, Protocol, get_args

import torch

from ..errors import ConfigError

ScheduleKind = Literal["linear", "cosine"]
SCHEDULES: tuple[str, ...] = get_args(ScheduleKind)
Prediction = Literal["epsilon", "v"]
PREDICTIONS: tuple[str, ...] = get_args(Prediction)
Sampler = Literal["ddpm", "ddim"]
SAMPLERS: tuple[str, ...] = get_args(Sampler)

MAX_TIMESTEPS = 4000  # T; the papers use 1000 (Ho et al.) to 4000 (Nichol & Dhariwal)
MAX_GUIDANCE = 20.0  # w; samples are already saturated well below this
MAX_BETA = 0.999  # Nichol & Dhariwal's cap, which keeps the cosine schedule's last steps from being singular
COSINE_S = 0.008  # Nichol & Dhariwal's offset s


@dataclass(frozen=True, eq=False)
class NoiseSchedule:
    """β, α and ᾱ for t = 0 … T as float64 tensors of shape (T + 1,); index 0 is the data (β_0 = 0, ᾱ_0 = 1)."""

    kind: str
    betas: torch.Tensor  # (T + 1,)
    alphas: torch.Tensor  # (T + 1,) α_t = 1 - β_t
    alpha_bars: torch.Tensor  # (T + 1,) ᾱ_t = ∏_{s ≤ t} α_s, decreasing from 1

    @property
    def T(self) -> int:  # noqa: N802 (the paper's letter)
        return len(self.betas) - 1

    def snr(self, t: int | torch.Tensor) -> torch.Tensor:
        """Signal-to-noise ratio ᾱ_t / (1 - ᾱ_t) (inf at t = 0)."""
        a = self.alpha_bars[check_t(self, t)]
        return a / (1 - a)


def linear_betas(T: int, beta_start: float = 1e-4, beta_end: float = 0.02) -> torch.Tensor:  # noqa: N803
    """Ho et al.'s β_1 … β_T evenly spaced from beta_start to beta_end (given for T = 1000, scaled by 1000/T),
    capped at MAX_BETA; float64 (T,)."""
    scale = 1000 / T
    return torch.linspace(scale * beta_start, scale * beta_end, T, dtype=torch.float64).clamp(max=MAX_BETA)


def cosine_betas(T: int, s: float = COSINE_S, max_beta: float = MAX_BETA) -> torch.Tensor:  # noqa: N803
    """Nichol & Dhariwal's β_t = min(1 - f(t)/f(t-1), max_beta), f(t) = cos²(((t/T + s)/(1 + s)) π/2); (T,)."""
    steps = torch.arange(T + 1, dtype=torch.float64) / T
    f = torch.cos((steps + s) / (1 + s) * math.pi / 2) ** 2  # (T + 1,) f(0) … f(T)
    return (1 - f[1:] / f[:-1]).clamp(max=max_beta)


def make_schedule(kind: ScheduleKind = "linear", T: int = 1000) -> NoiseSchedule:  # noqa: N803
    """The schedule of the given kind over T steps."""
    if kind not in SCHEDULES:
        raise ConfigError(f"Unknown noise schedule {kind!r}; choose one of {', '.join(SCHEDULES)}.")
    if isinstance(T, bool) or not isinstance(T, int) or not 1 <= T <= MAX_TIMESTEPS:
        raise ConfigError(f"The number of diffusion steps T must be a whole number from 1 to {MAX_TIMESTEPS}; got {T!r}.")
    betas = linear_betas(T) if kind == "linear" else cosine_betas(T)
    betas = torch.cat([torch.zeros(1, dtype=torch.float64), betas])  # (T + 1,) index 0 is the data
    alphas = 1 - betas
    return NoiseSchedule(kind, betas, alphas, torch.cumprod(alphas, dim=0))


class DiffusionModelConfig(Protocol):
    """What a denoiser's config says about the process its weights were trained for."""

    schedule: str
    timesteps: int
    prediction: str


def schedule_for(config: DiffusionModelConfig) -> NoiseSchedule:
    """The schedule a denoiser was trained with (its config names the kind and T)."""
    return make_schedule(config.schedule, config.timesteps)  # type: ignore[arg-type]


def check_t(schedule: NoiseSchedule, t: int | torch.Tensor) -> int | torch.Tensor:
    """t itself, after checking that it is a whole number (or an integer tensor) in [0, T]."""
    if isinstance(t, torch.Tensor):
        if t.is_floating_point() or t.is_complex() or t.dtype == torch.bool:
            raise ConfigError(f"Timesteps must be integers; got a {t.dtype} tensor.")
        if t.numel() and (int(t.min()) < 0 or int(t.max()) > schedule.T):
            raise ConfigError(f"Timesteps must lie in [0, {schedule.T}]; got {int(t.min())} … {int(t.max())}.")
        return t
    if isinstance(t, bool) or not isinstance(t, int) or not 0 <= t <= schedule.T:
        raise ConfigError(f"A timestep must be a whole number in [0, {schedule.T}]; got {t!r}.")
    return t


def coefficient(values: torch.Tensor, t: int | torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """values[t] shaped to broadcast over `like` (B, ...): a scalar for an int t, (B, 1, …, 1) for a tensor t."""
    if isinstance(t, int):
        return values[t].to(like.dtype)  # a 0-d tensor, so float64 precision is kept until this cast
    shape = (-1,) + (1,) * (like.dim() - 1)
    return values.index_select(0, t.cpu()).to(device=like.device, dtype=like.dtype).view(shape)


# -- the forward process and the training targets ------------------------------------------------------------


def q_sample(schedule: NoiseSchedule, x0: torch.Tensor, t: int | torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
    """x_t = √ᾱ_t x_0 + √(1 - ᾱ_t) ε, a draw from q(x_t | x_0) (Ho et al., eq. 4). x0, noise: (B, ...); t: int or (B,)."""
    check_t(schedule, t)
    a = coefficient(schedule.alpha_bars, t, x0)
    return a.sqrt() * x0 + (1 - a).sqrt() * noise


def v_target(schedule: NoiseSchedule, x0: torch.Tensor, t: int | torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
    """v = √ᾱ_t ε - √(1 - ᾱ_t) x_0 (Salimans & Ho, 2022)."""
    check_t(schedule, t)
    a = coefficient(schedule.alpha_bars, t, x0)
    return a.sqrt() * noise - (1 - a).sqrt() * x0


def training_target(
    schedule: NoiseSchedule, prediction: Prediction, x0: torch.Tensor, t: int | torch.Tensor, noise: torch.Tensor
) -> torch.Tensor:
    """What the network is trained to output: ε (Ho et al.) or v (Salimans & Ho)."""
    if prediction == "epsilon":
        return noise
    if prediction == "v":
        return v_target(schedule, x0, t, noise)
    raise ConfigError(f"Unknown prediction {prediction!r}; choose one of {', '.join(PREDICTIONS)}.")


def simple_loss_per_sample(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """‖target - output‖² averaged over each sample's elements: (B, ...) -> (B,). Its mean is Ho et al.'s L_simple."""
    return (output - target).pow(2).flatten(1).mean(dim=1)


def simple_loss(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """L_simple = E ‖ε - ε_θ(x_t, t)‖² (Ho et al., eq. 14), as a mean over all elements (or the same on v)."""
    return (output - target).pow(2).mean()


def predict_x0_eps(
    schedule: NoiseSchedule, prediction: Prediction, x_t: torch.Tensor, t: int | torch.Tensor, output: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """(x̂_0, ε̂) from the network's output at t.

    ε-prediction: x̂_0 = (x_t - √(1 - ᾱ_t) ε̂) / √ᾱ_t. v-prediction: x̂_0 = √ᾱ_t x_t - √(1 - ᾱ_t) v̂ and
    ε̂ = √ᾱ_t v̂ + √(1 - ᾱ_t) x_t.
    """
    a = coefficient(schedule.alpha_bars, t, x_t)
    if prediction == "epsilon":
        return (x_t - (1 - a).sqrt() * output) / a.sqrt(), output
    if prediction == "v":
        return a.sqrt() * x_t - (1 - a).sqrt() * output, a.sqrt() * output + (1 - a).sqrt() * x_t
    raise ConfigError(f"Unknown prediction {prediction!r}; choose one of {', '.join(PREDICTIONS)}.")
