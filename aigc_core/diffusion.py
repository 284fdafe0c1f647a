"""Denoising diffusion: noise schedules, the forward process, the training targets and the samplers.

Index convention: `t` is the paper's t. Index 0 is the data itself (ᾱ_0 = 1); the network is trained on
t = 1 … T. (diffusers counts from 0, so its timestep s is our t = s + 1; the reference tests map one to the other.)

- Schedules. Linear β (Ho, Jain & Abbeel, "Denoising Diffusion Probabilistic Models", 2020): β_t evenly spaced from
  1e-4 to 0.02 over T = 1000; for other T both ends are scaled by 1000/T (as in Nichol & Dhariwal's code), so that
  every T ends near pure noise. Cosine ᾱ (Nichol & Dhariwal, "Improved Denoising Diffusion Probabilistic Models", 2021,
  eq. 17): ᾱ_t = f(t) / f(0), f(t) = cos²(((t/T + s) / (1 + s)) · π/2), s = 0.008, with β_t = 1 - ᾱ_t/ᾱ_{t-1}
  capped at 0.999. Always α_t = 1 - β_t and ᾱ_t = ∏_{s≤t} α_s; SNR(t) = ᾱ_t / (1 - ᾱ_t) (Kingma et al., 2021).
- Forward process in closed form (Ho et al., eq. 4): q(x_t | x_0) = N(√ᾱ_t x_0, (1 - ᾱ_t) I), so
  x_t = √ᾱ_t x_0 + √(1 - ᾱ_t) ε with ε ~ N(0, I).
- Objective: the "simple" loss of Ho et al. (eq. 14), E_{t, x_0, ε} ‖ε - ε_θ(x_t, t)‖², as a mean over elements;
  or the same squared error on v = √ᾱ_t ε - √(1 - ᾱ_t) x_0 (v-prediction, Salimans & Ho, "Progressive
  Distillation for Fast Sampling of Diffusion Models", 2022).
- Ancestral DDPM step (Ho et al., eqs. 6-7 and Algorithm 2), from t to any earlier s (a strided schedule uses
  β = 1 - ᾱ_t/ᾱ_s): x_s = μ̃(x_t, x̂_0) + σ z, μ̃ = √ᾱ_s β/(1 - ᾱ_t) · x̂_0 + √(ᾱ_t/ᾱ_s)(1 - ᾱ_s)/(1 - ᾱ_t) · x_t,
  σ² = β̃ = (1 - ᾱ_s)/(1 - ᾱ_t) · β.
- DDIM step (Song, Meng & Ermon, "Denoising Diffusion Implicit Models", 2021, eq. 12):
  x_s = √ᾱ_s x̂_0 + √(1 - ᾱ_s - σ²) ε̂ + σ z with σ = η √((1 - ᾱ_s)/(1 - ᾱ_t)) √(1 - ᾱ_t/ᾱ_s);
  η = 0 is deterministic, η = 1 is the ancestral DDPM step again.
- Classifier-free guidance (Ho & Salimans, "Classifier-Free Diffusion Guidance", 2022, eq. 6):
  ε̃ = (1 + w) ε_θ(x_t, c) - w ε_θ(x_t, ∅); w = 0 is the plain conditional model. Both passes run as one
  network call on a batch of twice the size.

Sampling functions run under `torch.inference_mode()` and take their randomness as a `torch.Generator` (CPU),
so the same generator state gives the same samples on any device.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal, NamedTuple, Protocol, get_args

import torch

from .errors import ConfigError

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


def _coefficient(values: torch.Tensor, t: int | torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """values[t] shaped to broadcast over `like` (B, ...): a scalar for an int t, (B, 1, …, 1) for a tensor t."""
    if isinstance(t, int):
        return values[t].to(like.dtype)  # a 0-d tensor, so float64 precision is kept until this cast
    shape = (-1,) + (1,) * (like.dim() - 1)
    return values.index_select(0, t.cpu()).to(device=like.device, dtype=like.dtype).view(shape)


# -- the forward process and the training targets ------------------------------------------------------------


def q_sample(schedule: NoiseSchedule, x0: torch.Tensor, t: int | torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
    """x_t = √ᾱ_t x_0 + √(1 - ᾱ_t) ε, a draw from q(x_t | x_0) (Ho et al., eq. 4). x0, noise: (B, ...); t: int or (B,)."""
    check_t(schedule, t)
    a = _coefficient(schedule.alpha_bars, t, x0)
    return a.sqrt() * x0 + (1 - a).sqrt() * noise


def v_target(schedule: NoiseSchedule, x0: torch.Tensor, t: int | torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
    """v = √ᾱ_t ε - √(1 - ᾱ_t) x_0 (Salimans & Ho, 2022)."""
    check_t(schedule, t)
    a = _coefficient(schedule.alpha_bars, t, x0)
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
    a = _coefficient(schedule.alpha_bars, t, x_t)
    if prediction == "epsilon":
        return (x_t - (1 - a).sqrt() * output) / a.sqrt(), output
    if prediction == "v":
        return a.sqrt() * x_t - (1 - a).sqrt() * output, a.sqrt() * output + (1 - a).sqrt() * x_t
    raise ConfigError(f"Unknown prediction {prediction!r}; choose one of {', '.join(PREDICTIONS)}.")


# -- one reverse step ---------------------------------------------------------------------------------------------


class Step(NamedTuple):
    """One reverse step: the new sample x_s, and the x̂_0 and ε̂ it was computed from (what an explorer shows)."""

    x_prev: torch.Tensor
    x0_hat: torch.Tensor
    eps_hat: torch.Tensor


def _check_pair(schedule: NoiseSchedule, t: int, t_prev: int) -> None:
    for name, value in (("t", t), ("t_prev", t_prev)):
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= schedule.T:
            raise ConfigError(f"{name} must be a whole number in [0, {schedule.T}]; got {value!r}.")
    if not t_prev < t:
        raise ConfigError(f"A reverse step goes from t to an earlier t_prev; got t={t}, t_prev={t_prev}.")


def _x0_and_eps(
    schedule: NoiseSchedule, prediction: Prediction, x_t: torch.Tensor, t: int, output: torch.Tensor, clip: bool
) -> tuple[torch.Tensor, torch.Tensor]:
    x0_hat, eps_hat = predict_x0_eps(schedule, prediction, x_t, t, output)
    if clip:  # images live in [-1, 1]; ε̂ is re-derived so that it agrees with the clipped x̂_0
        a = schedule.alpha_bars[t].to(x_t.dtype)
        x0_hat = x0_hat.clamp(-1.0, 1.0)
        eps_hat = (x_t - a.sqrt() * x0_hat) / (1 - a).sqrt()
    return x0_hat, eps_hat


def _noise(x: torch.Tensor, noise: torch.Tensor | None, generator: torch.Generator | None) -> torch.Tensor:
    if noise is not None:
        if noise.shape != x.shape:
            raise ConfigError(f"The step's noise must have the sample's shape {tuple(x.shape)}; got {tuple(noise.shape)}.")
        return noise.to(device=x.device, dtype=x.dtype)
    return torch.randn(x.shape, generator=generator, dtype=x.dtype).to(x.device)  # drawn on the CPU, like the models


def ddpm_step(
    schedule: NoiseSchedule,
    output: torch.Tensor,
    t: int,
    x_t: torch.Tensor,
    *,
    t_prev: int | None = None,
    prediction: Prediction = "epsilon",
    generator: torch.Generator | None = None,
    noise: torch.Tensor | None = None,
    clip_denoised: bool = False,
) -> Step:
    """One ancestral step of Ho et al.'s Algorithm 2, from t to t_prev (default t - 1), x: (B, ...).

    With ᾱ_t, ᾱ_s for s = t_prev and β = 1 - ᾱ_t / ᾱ_s (β_t itself when s = t - 1):
    x_s = √ᾱ_s β / (1 - ᾱ_t) · x̂_0 + √(ᾱ_t/ᾱ_s) (1 - ᾱ_s) / (1 - ᾱ_t) · x_t + σ z,  σ² = β̃ = (1 - ᾱ_s)/(1 - ᾱ_t) · β,
    z ~ N(0, I) from `noise` or `generator` (no noise is drawn for the last step, to s = 0).
    """
    t_prev = t - 1 if t_prev is None else t_prev
    _check_pair(schedule, t, t_prev)
    x0_hat, eps_hat = _x0_and_eps(schedule, prediction, x_t, t, output, clip_denoised)
    a_t, a_s = schedule.alpha_bars[t], schedule.alpha_bars[t_prev]  # float64 scalars
    beta = 1 - a_t / a_s
    coef_x0 = (a_s.sqrt() * beta / (1 - a_t)).to(x_t.dtype)
    coef_xt = ((a_t / a_s).sqrt() * (1 - a_s) / (1 - a_t)).to(x_t.dtype)
    x_prev = coef_x0 * x0_hat + coef_xt * x_t
    if t_prev > 0:
        sigma = ((1 - a_s) / (1 - a_t) * beta).clamp_min(1e-20).sqrt().to(x_t.dtype)
        x_prev = x_prev + sigma * _noise(x_t, noise, generator)
    return Step(x_prev, x0_hat, eps_hat)


def ddim_sigma(schedule: NoiseSchedule, t: int, t_prev: int, eta: float) -> float:
    """σ = η √((1 - ᾱ_s)/(1 - ᾱ_t)) √(1 - ᾱ_t/ᾱ_s) (Song et al., eq. 16) for s = t_prev."""
    a_t, a_s = schedule.alpha_bars[t], schedule.alpha_bars[t_prev]
    return float(eta * ((1 - a_s) / (1 - a_t) * (1 - a_t / a_s)).sqrt())


def ddim_step(
    schedule: NoiseSchedule,
    output: torch.Tensor,
    t: int,
    x_t: torch.Tensor,
    *,
    t_prev: int,
    eta: float = 0.0,
    prediction: Prediction = "epsilon",
    generator: torch.Generator | None = None,
    noise: torch.Tensor | None = None,
    clip_denoised: bool = False,
) -> Step:
    """One DDIM step (Song et al., eq. 12) from t to s = t_prev:
    x_s = √ᾱ_s x̂_0 + √(1 - ᾱ_s - σ²) ε̂ + σ z, σ from `ddim_sigma`; η = 0 draws no noise at all."""
    _check_pair(schedule, t, t_prev)
    check_eta(eta)
    x0_hat, eps_hat = _x0_and_eps(schedule, prediction, x_t, t, output, clip_denoised)
    a_s = schedule.alpha_bars[t_prev]
    sigma = ddim_sigma(schedule, t, t_prev, eta)
    direction = (1 - a_s - sigma**2).clamp_min(0).sqrt().to(x_t.dtype)  # "direction pointing to x_t"
    x_prev = a_s.sqrt().to(x_t.dtype) * x0_hat + direction * eps_hat
    if sigma > 0:
        x_prev = x_prev + sigma * _noise(x_t, noise, generator)
    return Step(x_prev, x0_hat, eps_hat)


def check_eta(eta: float) -> None:
    if isinstance(eta, bool) or not isinstance(eta, (int, float)) or not (math.isfinite(eta) and 0 <= eta <= 1):
        raise ConfigError(f"DDIM's η must be between 0 (deterministic) and 1 (as DDPM); got {eta!r}.")


# -- classifier-free guidance and full samplers ---------------------------------------------------------------


def check_guidance(guidance: float) -> None:
    if isinstance(guidance, bool) or not isinstance(guidance, (int, float)) or not (
        math.isfinite(guidance) and 0 <= guidance <= MAX_GUIDANCE
    ):
        raise ConfigError(f"The guidance weight w must be between 0 and {MAX_GUIDANCE:g}; got {guidance!r}.")


def guided_output(
    model: torch.nn.Module,
    x_t: torch.Tensor,
    t: torch.Tensor,
    y: torch.Tensor | None,
    guidance: float,
    null_label: int,
) -> torch.Tensor:
    """The network's output with classifier-free guidance (Ho & Salimans, eq. 6):
    (1 + w) · out(x_t, c) - w · out(x_t, ∅), both from one call on [x_t; x_t] with labels [c; ∅].
    x_t: (B, ...), t: (B,), y: (B,) labels or None (unconditional: one plain pass)."""
    if y is None or guidance == 0:
        return model(x_t, t, y)
    null = torch.full_like(y, null_label)
    both = model(torch.cat([x_t, x_t]), torch.cat([t, t]), torch.cat([y, null]))  # (2B, ...)
    conditional, unconditional = both.chunk(2)
    return torch.lerp(unconditional, conditional, 1.0 + guidance)  # ε_∅ + (1 + w)(ε_c - ε_∅)


def check_steps(schedule: NoiseSchedule, steps: int) -> None:
    if isinstance(steps, bool) or not isinstance(steps, int) or not 1 <= steps <= schedule.T:
        raise ConfigError(f"The number of sampling steps must be a whole number from 1 to T = {schedule.T}; got {steps!r}.")


def timesteps(schedule: NoiseSchedule, steps: int) -> list[int]:
    """The strided sequence T = τ_steps > … > τ_1 > τ_0 = 0 a sampler visits: round(linspace(T, 0, steps + 1)).

    Evenly spaced and starting at T itself, where x_T ~ N(0, I) is what the forward process ends in (the
    "trailing" spacing; Lin et al., 2024, show that starting below T leaves signal the model never saw).
    """
    check_steps(schedule, steps)
    return [round(schedule.T * (steps - i) / steps) for i in range(steps + 1)]  # spacing ≥ 1, so all distinct


class SamplerState(NamedTuple):
    """The sampler after one step: it went from t to t_prev; `step` holds x_{t_prev}, x̂_0 and ε̂."""

    index: int  # 1 … steps
    t: int
    t_prev: int
    step: Step


def sample_steps(
    model: torch.nn.Module,
    schedule: NoiseSchedule,
    x_T: torch.Tensor,  # noqa: N803
    *,
    prediction: Prediction = "epsilon",
    sampler: Sampler = "ddim",
    steps: int = 25,
    eta: float = 0.0,
    y: torch.Tensor | None = None,
    guidance: float = 0.0,
    null_label: int = 0,
    generator: torch.Generator | None = None,
    clip_denoised: bool = False,
) -> Iterator[SamplerState]:
    """Yield the sampler's state after each of `steps` reverse steps from x_T (B, ...) down to x_0.

    `sampler` "ddpm" takes ancestral steps (Ho et al.) over the strided sequence, "ddim" DDIM steps with η (Song
    et al.). `y` (B,) are class labels (None: unconditional); `guidance` is w of classifier-free guidance. Each step
    is computed under inference_mode, which is off again while the caller holds the yielded state.
    """
    if sampler not in SAMPLERS:
        raise ConfigError(f"Unknown sampler {sampler!r}; choose one of {', '.join(SAMPLERS)}.")
    if prediction not in PREDICTIONS:
        raise ConfigError(f"Unknown prediction {prediction!r}; choose one of {', '.join(PREDICTIONS)}.")
    check_eta(eta)
    check_guidance(guidance)
    if guidance != 0 and y is None:
        raise ConfigError("Classifier-free guidance needs class labels y; use w = 0 for unconditional samples.")
    sequence = timesteps(schedule, steps)
    device = x_T.device
    if y is not None:
        y = y.to(device)
        if y.shape != (x_T.shape[0],):
            raise ConfigError(f"Labels y must have shape ({x_T.shape[0]},); got {tuple(y.shape)}.")
    x = x_T
    was_training = model.training
    model.eval()
    try:
        for index, (t, t_prev) in enumerate(zip(sequence[:-1], sequence[1:]), start=1):
            with torch.inference_mode():
                t_batch = torch.full((x.shape[0],), t, dtype=torch.long, device=device)  # (B,)
                output = guided_output(model, x, t_batch, y, guidance, null_label)
                if sampler == "ddpm":
                    step = ddpm_step(schedule, output, t, x, t_prev=t_prev, prediction=prediction,
                                     generator=generator, clip_denoised=clip_denoised)
                else:
                    step = ddim_step(schedule, output, t, x, t_prev=t_prev, eta=eta, prediction=prediction,
                                     generator=generator, clip_denoised=clip_denoised)
            x = step.x_prev
            yield SamplerState(index, t, t_prev, step)
    finally:
        model.train(was_training)


def sample(
    model: torch.nn.Module,
    schedule: NoiseSchedule,
    x_T: torch.Tensor,  # noqa: N803
    *,
    prediction: Prediction = "epsilon",
    sampler: Sampler = "ddim",
    steps: int = 25,
    eta: float = 0.0,
    y: torch.Tensor | None = None,
    guidance: float = 0.0,
    null_label: int = 0,
    generator: torch.Generator | None = None,
    clip_denoised: bool = False,
) -> torch.Tensor:
    """x_0 (B, ...) from x_T (B, ...), on x_T's device: `sample_steps` run to the end (the same options)."""
    x = x_T
    for state in sample_steps(model, schedule, x_T, prediction=prediction, sampler=sampler, steps=steps, eta=eta, y=y,
                              guidance=guidance, null_label=null_label, generator=generator,
                              clip_denoised=clip_denoised):
        x = state.step.x_prev
    return x


def predict(
    model: torch.nn.Module,
    schedule: NoiseSchedule,
    x_t: torch.Tensor,
    t: int,
    *,
    prediction: Prediction = "epsilon",
    y: torch.Tensor | None = None,
    guidance: float = 0.0,
    null_label: int = 0,
    clip_denoised: bool = False,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The network's one-shot guess at t: (x̂_0, ε̂) for x_t (B, ...), with guidance w when labels y (B,) are given.
    What a denoising explorer shows beside x_t; runs under inference_mode in eval mode."""
    check_t(schedule, t)
    check_guidance(guidance)
    if guidance != 0 and y is None:
        raise ConfigError("Classifier-free guidance needs class labels y; use w = 0 for unconditional predictions.")
    if t == 0:
        return x_t.clone(), torch.zeros_like(x_t)  # the data itself: nothing to remove
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            t_batch = torch.full((x_t.shape[0],), t, dtype=torch.long, device=x_t.device)
            output = guided_output(model, x_t, t_batch, None if y is None else y.to(x_t.device), guidance, null_label)
            return _x0_and_eps(schedule, prediction, x_t, t, output, clip_denoised)
    finally:
        model.train(was_training)
