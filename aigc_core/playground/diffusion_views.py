"""The plane views of a denoiser on 2-D points (diffusion mode of the playground), from a `DiffusionTrainer`:

- samples: x_0 drawn by the sampler (DDIM, η = 0, Song et al., 2021, with the trainer's `sample_steps`) from a
  fixed x_T, so frames differ only because the model changed; KL / JS and mode coverage of them with the GAN
  view's metric functions;
- reverse trajectories: the positions x_τ of a fixed set of particles (the first samples) after every sampler
  step, from x_T (pure noise) down to x_0, for an animation of noise flowing onto the data;
- the denoiser's field at a chosen t: the score s(x, t) = ∇_x log q_t(x) ≈ -ε̂(x, t) / √(1 - ᾱ_t)
  (Song et al., "Score-Based Generative Modeling through SDEs", 2021, with Ho et al.'s ε-parametrisation), on a
  grid of the plane: where the network would move a point that sits there at noise level t;
- the forward process at t: the shown real points noised in closed form, x_t = √ᾱ_t x_0 + √(1 - ᾱ_t) ε
  (`aigc_core.diffusion.q_sample`, Ho et al., eq. 4).

All of it is one sampler run (samples and trajectories together) plus one network call on the grid, under
`torch.inference_mode()`; training state is not touched. While playing, a frame may pass the last frame's samples
as `pool`: then only the shown points (which hold the particles) and one block of the rest are drawn again, and
KL / JS / modes use the pool, whose other blocks are at most a few frames old. That is a third of the sampler's
work, which is most of a redraw (bench/bench_playground_diffusion.py); paused frames draw everything.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .. import diffusion as dm
from .. import metrics, seeds
from ..diffusion_trainer import DiffusionTrainer
from .views import FAKE_POINTS, PLANE_BOUNDS, SHOWN_POINTS, Coverage, coverage, plane_grid

PARTICLES = 64  # samples whose whole reverse trajectory is kept (the animated particles)
POOL_BLOCK = 256  # samples beyond the shown ones redrawn per frame when a pool is passed (1,536 / 256: 6 frames)
FIELD_RESOLUTION = 20  # arrows per side of the field grid: 400 arrows


@dataclass(frozen=True)
class DiffusionNoise:
    """Fixed randomness of one run's views: x_T of the samples (the first PARTICLES are the particles) and the
    ε that blurs the shown real points in the forward process."""

    x_T: torch.Tensor  # (FAKE_POINTS, 2)  # noqa: N815 (the paper's letter)
    forward: torch.Tensor  # (SHOWN_POINTS, 2)


def diffusion_noise(seed: int, samples: int = FAKE_POINTS, shown: int = SHOWN_POINTS) -> DiffusionNoise:
    """x_T ~ N(0, I) and the forward process's ε, both from the playground's "playground_fake" stream."""
    generator = seeds.generator(seed, "playground_fake")
    x_T = torch.randn((samples, 2), generator=generator)  # noqa: N806
    return DiffusionNoise(x_T=x_T, forward=torch.randn((shown, 2), generator=generator))


@dataclass(frozen=True)
class Trajectories:
    """positions[k] are the particles after k sampler steps: positions[0] = x_T, positions[-1] = x_0."""

    positions: np.ndarray  # (steps + 1, P, 2)
    timesteps: list[int]  # the t of each row: T, …, 0


def sample_with_trajectories(
    trainer: DiffusionTrainer, x_T: torch.Tensor, *, steps: int, particles: int = PARTICLES  # noqa: N803
) -> tuple[torch.Tensor, Trajectories]:
    """x_0 (N, 2) on the CPU from x_T (N, 2) with deterministic DDIM, and the first `particles` rows' positions
    at every step. The same sampler, model and options as `DiffusionTrainer.sample(x_T, sampler="ddim",
    steps=steps, eta=0)`, so the last positions are those samples."""
    model = trainer.sampling_model()
    device = next(model.parameters()).device
    x = x_T.to(device)
    kept = [x[:particles].float().cpu()]
    for state in dm.sample_steps(model, trainer.schedule, x, prediction=model.config.prediction, sampler="ddim",
                                 steps=steps, eta=0.0, clip_denoised=model.clip_denoised):
        x = state.step.x_prev
        kept.append(x[:particles].float().cpu())
    positions = torch.stack(kept).numpy()  # (steps + 1, P, 2)
    return x.float().cpu(), Trajectories(positions=positions, timesteps=dm.timesteps(trainer.schedule, steps))


@dataclass(frozen=True)
class ScoreField:
    """The denoiser's score estimate -ε̂ / √(1 - ᾱ_t) at grid points (N, 2), at noise level t."""

    t: int
    points: np.ndarray  # (N, 2)
    directions: np.ndarray  # (N, 2)


def score_field(trainer: DiffusionTrainer, t: int, *, resolution: int = FIELD_RESOLUTION) -> ScoreField:
    """Where the (EMA) denoiser would move a point at each grid place, at noise level t in 1 … T."""
    schedule = trainer.schedule
    if isinstance(t, bool) or not isinstance(t, int) or not 1 <= t <= schedule.T:
        raise ValueError(f"The field is drawn at a t in 1 … {schedule.T}; got {t!r}.")
    model = trainer.sampling_model()
    device = next(model.parameters()).device
    _, _, points = plane_grid(resolution, PLANE_BOUNDS)  # (R*R, 2)
    _, eps_hat = dm.predict(model, schedule, points.to(device), t, prediction=model.config.prediction,
                            clip_denoised=model.clip_denoised)
    sigma = float((1 - schedule.alpha_bars[t]).sqrt())
    return ScoreField(t=t, points=points.numpy(), directions=(-eps_hat.float().cpu() / sigma).numpy())


def forward_process(schedule: dm.NoiseSchedule, x0: torch.Tensor, t: int, noise: torch.Tensor) -> np.ndarray:
    """The shown real points x_0 (N, 2) noised to x_t with the given ε (N', 2), N' >= N: (N, 2)."""
    return dm.q_sample(schedule, x0, t, noise[: len(x0)].to(x0.dtype)).numpy()


@dataclass(frozen=True)
class DiffusionView:
    """Everything one redraw of diffusion mode shows. Layers that are switched off are None."""

    iteration: int
    t: int  # the noise level of the field and the forward process
    T: int  # noqa: N815
    real: np.ndarray  # (N, 2)
    fake: np.ndarray  # (SHOWN_POINTS, 2): x_0 from the sampler
    kl: float
    js: float
    coverage: Coverage | None
    trajectories: Trajectories | None
    field: ScoreField | None
    forward: np.ndarray | None  # (N, 2): the real points at noise level t
    samples: torch.Tensor | None = None  # (FAKE_POINTS, 2): every x_0 behind KL / JS / modes (the next pool)


def refreshed_rows(frame: int, total: int, shown: int = SHOWN_POINTS, block: int = POOL_BLOCK) -> torch.Tensor:
    """The rows of x_T a pooled frame samples again: the first `shown` (drawn, particles among them) and block
    `frame mod blocks` of the rest, so every row is at most `blocks` frames old. (K,) int64, ascending."""
    rest = max(total - shown, 0)
    blocks = max(1, -(-rest // block))  # ceil
    start = shown + (frame % blocks) * block
    return torch.cat([torch.arange(min(shown, total)), torch.arange(start, min(start + block, total))])


@torch.inference_mode()
def compute_diffusion_view(
    trainer: DiffusionTrainer,
    *,
    data: str,
    real_shown: torch.Tensor,
    noise: DiffusionNoise,
    t: int,
    steps: int | None = None,
    field: bool = True,
    forward: bool = True,
    pool: torch.Tensor | None = None,
    frame: int = 0,
) -> DiffusionView:
    """One frame of diffusion mode from the trainer's current (EMA) weights; t is clamped into 1 … T. The sampler
    takes `steps` DDIM steps (default: the trainer's `sample_steps`, also the animation's length). `pool`: the
    last frame's `samples`, of which only `refreshed_rows(frame, …)` are drawn again (None: all are drawn)."""
    schedule = trainer.schedule
    t = min(max(int(t), 1), schedule.T)
    steps = trainer.config.sample_steps if steps is None else steps
    if pool is None or pool.shape != noise.x_T.shape:
        fake_all, trajectories = sample_with_trajectories(trainer, noise.x_T, steps=steps)
    else:
        rows = refreshed_rows(frame, len(noise.x_T))
        fresh, trajectories = sample_with_trajectories(trainer, noise.x_T[rows], steps=steps)
        fake_all = pool.clone()
        fake_all[rows] = fresh
    kl, js = metrics.grid_kl_js(trainer.source.points.cpu(), fake_all, PLANE_BOUNDS)
    return DiffusionView(
        iteration=trainer.iteration, t=t, T=schedule.T,
        real=real_shown.numpy(), fake=fake_all[:SHOWN_POINTS].numpy(), kl=kl, js=js,
        coverage=coverage(data, fake_all), trajectories=trajectories,
        field=score_field(trainer, t) if field else None,
        forward=forward_process(schedule, real_shown, t, noise.forward) if forward else None,
        samples=fake_all,
    )
