"""The denoising explorer's computations: one sample's reverse process step by step, the forward process on a real
digit with its signal-to-noise ratio, what a number of sampler steps costs and gives, and DDIM's x_T as a latent space.

- Reverse trajectory: the sampler of `diffusion.sample_steps` (ancestral DDPM, Ho et al. 2020, Algorithm 2; DDIM,
  Song et al. 2021, eq. 12) run on one x_T, keeping every visited x_t with the network's x̂_0 and ε̂ at that t.
- Forward process in closed form (Ho et al., eq. 4): x_t = √ᾱ_t x_0 + √(1 - ᾱ_t) ε, whose signal-to-noise ratio is
  SNR(t) = ᾱ_t / (1 - ᾱ_t) (Kingma et al., "Variational Diffusion Models", 2021).
- DDIM with η = 0 is a deterministic map x_T ↦ x_0, so x_T is a latent code (Song et al., §5.3): interpolating two
  Gaussian x_T by slerp (Shoemake 1985, as White 2016 recommends for Gaussian codes, and as Song et al. do) keeps the
  norm ≈ √D that the network has only ever seen; lerp's midpoint is shorter by up to √2 and decodes to a blur.
- Quality of a setting: the MNIST classifier's mean probability of the requested digit on a few seeded samples (its
  top probability for unconditional ones). A quick, comparable number, not FID.

Everything runs under inference mode (through the samplers) and returns CPU float tensors; randomness is a seed or a
`torch.Generator`, so the same arguments give the same pictures.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np
import torch

from . import diffusion as dm
from . import latent, pixels
from .diffusion_trainer import generate
from .errors import ConfigError
from .evaluation import classify
from .models.classifier import Classifier
from .models.unet import Denoiser

STEP_CHOICES = (1, 2, 5, 10, 20, 25, 50, 100, 200, 500, 1000)  # what a steps slider offers (those ≤ T, and T)
NOISE_DISPLAY_SIGMA = 3.0  # ε ~ N(0, I) is shown with ±3σ mapped to black … white
MAX_SAMPLES = 64  # a timed sampler run: enough for a stable confidence, small enough for a click
MAX_FRAMES = 16  # pictures along an interpolation path
Path = Literal["slerp", "lerp"]
PATHS: tuple[str, ...] = get_args(Path)


def step_choices(T: int) -> list[int]:
    """The sampler step counts a slider offers for a process with T steps: STEP_CHOICES up to T, and T itself."""
    choices = [s for s in STEP_CHOICES if s <= T]
    return choices if choices and choices[-1] == T else [*choices, T]


def _device(model: torch.nn.Module) -> torch.device:
    return next(model.parameters()).device


def check_label(model: Denoiser, label: int | None) -> None:
    """A digit class the model can be asked for: None (unconditional) or 0 … num_classes - 1 of a conditional model."""
    if label is None:
        return
    classes = model.config.num_classes
    if classes == 0:
        raise ConfigError("This model is unconditional: it cannot be asked for a digit class.")
    if isinstance(label, bool) or not isinstance(label, int) or not 0 <= label < classes:
        raise ConfigError(f"The digit class must be a whole number from 0 to {classes - 1}; got {label!r}.")


def _labels(model: Denoiser, label: int | None, n: int) -> torch.Tensor | None:
    check_label(model, label)
    return None if label is None else torch.full((n,), label, dtype=torch.long)


def seeded_noise(model: Denoiser, seed: int, n: int = 1) -> torch.Tensor:
    """x_T ~ N(0, I), (n, 1, 28, 28) on the CPU, from `seed` alone (the same seed is the same noise everywhere)."""
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ConfigError(f"A seed must be a whole number ≥ 0; got {seed!r}.")
    return model.sample_noise(n, torch.Generator().manual_seed(seed))


# -- the reverse process, step by step ---------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Trajectory:
    """One sample's way from x_T to x_0. Index i ↔ timestep t[i]; index 0 is t = T, the last index is t = 0."""

    sampler: str
    steps: int
    label: int | None
    guidance: float  # w used (0 for an unconditional run)
    t: tuple[int, ...]  # (steps + 1,) T = τ_S > … > τ_0 = 0
    x: torch.Tensor  # (steps + 1, 1, 28, 28) x_t at each t: x[0] = x_T, x[-1] = the sample x_0
    x0_hat: torch.Tensor  # (steps + 1, ...) the network's x̂_0 at each t (at t = 0: the sample itself)
    eps_hat: torch.Tensor  # (steps + 1, ...) its ε̂ at each t (at t = 0: zeros, nothing left to remove)
    seconds: float  # wall time of the whole run


def trajectory(
    model: Denoiser,
    x_T: torch.Tensor,
    *,
    label: int | None = None,
    sampler: dm.Sampler = "ddim",
    steps: int = 50,
    eta: float = 0.0,
    guidance: float = 0.0,
    generator: torch.Generator | None = None,
) -> Trajectory:
    """Run the sampler on one x_T (1, 1, 28, 28) and keep every step's x_t, x̂_0 and ε̂. Its last x is what
    `diffusion_trainer.generate` returns for the same x_T, options and generator. `guidance` needs a label."""
    if x_T.dim() != 4 or x_T.shape[0] != 1:
        raise ConfigError(f"A trajectory follows one sample: x_T must be (1, C, H, W); got {tuple(x_T.shape)}.")
    labels = _labels(model, label, 1)
    dm.check_guidance(guidance)
    w = 0.0 if labels is None else float(guidance)
    schedule = dm.schedule_for(model.config)
    device = _device(model)
    start = time.perf_counter()
    xs, x0s, epss = [x_T.float().cpu()], [], []
    for state in dm.sample_steps(model, schedule, x_T.to(device), prediction=model.config.prediction, sampler=sampler,
                                 steps=steps, eta=eta, y=None if labels is None else labels.to(device), guidance=w,
                                 null_label=model.null_label, generator=generator, clip_denoised=model.clip_denoised):
        xs.append(state.step.x_prev.float().cpu())
        x0s.append(state.step.x0_hat.float().cpu())
        epss.append(state.step.eps_hat.float().cpu())
    seconds = time.perf_counter() - start
    x0s.append(xs[-1])  # at t = 0 the sample is its own x̂_0, and no noise is left
    epss.append(torch.zeros_like(xs[-1]))
    return Trajectory(sampler, steps, label, w, tuple(dm.timesteps(schedule, steps)), torch.cat(xs), torch.cat(x0s),
                      torch.cat(epss), seconds)


# -- the forward process and its signal-to-noise ratio --------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Noised:
    """A real digit pushed forward to t: x_t = signal · x_0 + noise · ε."""

    t: int
    x_t: torch.Tensor  # (N, 1, 28, 28)
    alpha_bar: float  # ᾱ_t
    signal: float  # √ᾱ_t
    noise: float  # √(1 - ᾱ_t)
    snr: float  # ᾱ_t / (1 - ᾱ_t); inf at t = 0


def forward_noise(schedule: dm.NoiseSchedule, x0: torch.Tensor, t: int, noise: torch.Tensor) -> Noised:
    """x_t of x0 (N, 1, 28, 28) in [-1, 1] with the given ε (same shape), and the numbers that say how noisy it is."""
    x_t = dm.q_sample(schedule, x0, t, noise)  # checks t ∈ [0, T]
    a = float(schedule.alpha_bars[t])
    return Noised(t, x_t, a, math.sqrt(a), math.sqrt(1 - a), float(schedule.snr(t)))


def snr_curve(schedule: dm.NoiseSchedule) -> tuple[np.ndarray, np.ndarray]:
    """(t, SNR(t)) for t = 1 … T, float64 arrays (t = 0, the data itself, has an infinite SNR)."""
    t = np.arange(1, schedule.T + 1)
    a = schedule.alpha_bars[1:].numpy()
    return t, a / (1 - a)


def denoise_once(
    model: Denoiser, x_t: torch.Tensor, t: int, *, label: int | None = None, guidance: float = 0.0
) -> tuple[torch.Tensor, torch.Tensor]:
    """The network's one-shot (x̂_0, ε̂) for x_t (N, 1, 28, 28) at t: how much of the digit it can see through the
    noise in one look. CPU tensors."""
    labels = _labels(model, label, x_t.shape[0])
    device = _device(model)
    x0_hat, eps_hat = dm.predict(model, dm.schedule_for(model.config), x_t.to(device), t,
                                 prediction=model.config.prediction, y=None if labels is None else labels.to(device),
                                 guidance=0.0 if labels is None else guidance, null_label=model.null_label,
                                 clip_denoised=model.clip_denoised)
    return x0_hat.float().cpu(), eps_hat.float().cpu()


def noise_to_unit(eps: torch.Tensor) -> torch.Tensor:
    """ε (any shape) for display in [0, 1]: ±NOISE_DISPLAY_SIGMA maps to black … white, 0 to mid-grey."""
    return pixels.signed_to_unit(eps / NOISE_DISPLAY_SIGMA)


# -- steps: time and quality ------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class SamplerRun:
    """A timed sampler run on `samples` seeded x_T, with the classifier's view of the results."""

    sampler: str
    steps: int
    label: int | None
    guidance: float
    samples: int
    seconds: float  # wall time of the sampler alone (not the classifier)
    network_calls: int  # forward passes: one per step, on a doubled batch under guidance
    confidence: float  # mean p(label | sample) (the top probability without a label); NaN without a classifier
    hits: float  # share of samples classified as the label (NaN without a label or classifier)
    images: torch.Tensor  # (samples, 1, 28, 28) in [0, 1]


def sampler_run(
    model: Denoiser,
    classifier: Classifier | None,
    *,
    sampler: dm.Sampler = "ddim",
    steps: int = 25,
    label: int | None = None,
    guidance: float = 0.0,
    samples: int = 8,
    seed: int = 0,
) -> SamplerRun:
    """Sample `samples` images from x_T drawn from `seed` (the sampler's own noise continues that stream), time it,
    and score it with the classifier."""
    if isinstance(samples, bool) or not isinstance(samples, int) or not 1 <= samples <= MAX_SAMPLES:
        raise ConfigError(f"A timed run takes 1 to {MAX_SAMPLES} samples; got {samples!r}.")
    labels = _labels(model, label, samples)
    dm.check_guidance(guidance)
    w = 0.0 if labels is None else float(guidance)
    generator = torch.Generator().manual_seed(seed)
    x_T = model.sample_noise(samples, generator)
    start = time.perf_counter()
    out = generate(model, x_T, labels, sampler=sampler, steps=steps, eta=0.0, guidance=w, generator=generator)
    seconds = time.perf_counter() - start
    images = pixels.signed_to_unit(out)
    confidence = hits = float("nan")
    if classifier is not None:
        probs, _ = classify(classifier, images)  # (N, 10)
        if label is None:
            confidence = float(probs.max(dim=1).values.mean())
        else:
            confidence = float(probs[:, label].mean())
            hits = float((probs.argmax(dim=1) == label).float().mean())
    return SamplerRun(sampler, steps, label, w, samples, seconds, steps, confidence, hits, images)


# -- x_T as a latent space -----------------------------------------------------------------------------------------


def noise_path(x_a: torch.Tensor, x_b: torch.Tensor, frames: int, kind: Path = "slerp") -> torch.Tensor:
    """(frames, 1, 28, 28): x_T along the slerp (or lerp) path from x_a to x_b (each (1, 1, 28, 28)); the first and
    last frames are x_a and x_b exactly."""
    if kind not in PATHS:
        raise ConfigError(f"Unknown path {kind!r}; choose one of {', '.join(PATHS)}.")
    if isinstance(frames, bool) or not isinstance(frames, int) or not 2 <= frames <= MAX_FRAMES:
        raise ConfigError(f"An interpolation shows 2 to {MAX_FRAMES} pictures; got {frames!r}.")
    path = (latent.slerp if kind == "slerp" else latent.lerp)(x_a.reshape(-1), x_b.reshape(-1), frames)  # (F, D)
    return path.reshape(frames, *x_a.shape[1:])


def decode_noises(
    model: Denoiser, x_T: torch.Tensor, *, label: int | None = None, steps: int = 25, guidance: float = 0.0
) -> torch.Tensor:
    """Deterministic DDIM (η = 0) from each x_T (N, 1, 28, 28): images (N, 1, 28, 28) in [0, 1]. The same x_T always
    gives the same picture, which is what makes x_T a latent code."""
    labels = _labels(model, label, x_T.shape[0])
    out = generate(model, x_T, labels, sampler="ddim", steps=steps, eta=0.0, guidance=0.0 if labels is None else guidance)
    return pixels.signed_to_unit(out)
