"""Denoising diffusion: noise schedules, the forward process, the training targets (`process`) and the samplers
(`sampling`). Import from here: ``from aigc_core import diffusion as dm``.

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

from .process import (  # noqa: F401  (the package's public API)
    COSINE_S, DiffusionModelConfig, MAX_BETA, MAX_GUIDANCE, MAX_TIMESTEPS, NoiseSchedule, PREDICTIONS, Prediction,
    SAMPLERS, SCHEDULES, Sampler, ScheduleKind, check_t, coefficient, cosine_betas, linear_betas, make_schedule,
    predict_x0_eps, q_sample, schedule_for, simple_loss, simple_loss_per_sample, training_target, v_target,
)
from .sampling import (  # noqa: F401
    SamplerState, Step, check_eta, check_guidance, check_steps, ddim_sigma, ddim_step, ddpm_step, guided_output,
    predict, sample, sample_steps, timesteps,
)
