"""Denoising diffusion, part 2: the reverse process. One ancestral DDPM step or DDIM step, classifier-free
guidance as one batched network call, the strided timestep sequence, full samplers (step by step for an explorer,
or to x_0) and the network's one-shot guess at t. Formulas and papers: the package docstring
(`aigc_core.diffusion`).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import NamedTuple

import torch

from ..errors import ConfigError
from .process import (
    MAX_GUIDANCE, PREDICTIONS, SAMPLERS, NoiseSchedule, Prediction, Sampler, check_t, predict_x0_eps,
)


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
