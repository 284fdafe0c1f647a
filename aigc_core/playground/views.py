"""The plane views of the playground: D's heatmap, G's manifold, the generator gradients, mode coverage and
the view a redraw shows (`compute_view`). Display functions run under `torch.inference_mode()`."""

from __future__ import annotations

import math
from dataclasses import dataclass
import numpy as np
import torch
from torch import nn

from .. import losses, metrics, seeds, toy2d
from ..gan_trainer import GANTrainer, generate
from ..models.gan import GAN
from ..toy2d import PointSource

PLANE_BOUNDS: tuple[float, float] = (-3.5, 3.5)  # the square every view draws (toy2d keeps data inside it)
HEATMAP_RESOLUTION = 40  # cells per side: 1,600 D evaluations per redraw
MANIFOLD_LINES = 11  # grid lines per noise axis (2-D noise)
MANIFOLD_POINTS = 41  # points along each grid line
MANIFOLD_POINTS_1D = 201  # points along the single line of 1-D noise
FAKE_POINTS = 2048  # generated points behind the histograms, KL/JS and mode coverage
SHOWN_POINTS = 512  # real and generated points drawn on the plane
ARROW_POINTS = 48  # generated points that carry a gradient arrow


# -- the plane and the views -----------------------------------------------------------------------------


def plane_grid(
    resolution: int = HEATMAP_RESOLUTION, bounds: tuple[float, float] = PLANE_BOUNDS
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Cell centres of a resolution x resolution grid: (xs (R,), ys (R,), points (R*R, 2)).

    points[i * R + j] = (xs[j], ys[i]), so D's values reshape to (R, R) with rows along y: the layout of a
    heatmap's z (row i is y = ys[i]).
    """
    if resolution < 1:
        raise ValueError(f"resolution must be >= 1; got {resolution}.")
    low, high = bounds
    cell = (high - low) / resolution
    ticks = low + cell * (torch.arange(resolution, dtype=torch.float32) + 0.5)
    ys, xs = torch.meshgrid(ticks, ticks, indexing="ij")  # (R, R) each
    return ticks, ticks.clone(), torch.stack([xs.reshape(-1), ys.reshape(-1)], dim=1)


@dataclass(frozen=True)
class Heatmap:
    """D over the plane. values[i, j] is at (xs[j], ys[i]); zmid is the neutral value ("D cannot tell")."""

    xs: np.ndarray  # (R,)
    ys: np.ndarray  # (R,)
    values: np.ndarray  # (R, R)
    zmin: float
    zmid: float
    zmax: float
    probability: bool  # True: values are D(x) in [0, 1]; False: raw scores (critic values)


def _device_of(module: nn.Module) -> torch.device:
    return next(module.parameters()).device


@torch.inference_mode()
def _scores(discriminator: nn.Module, points: torch.Tensor) -> torch.Tensor:
    return discriminator(points.to(_device_of(discriminator))).reshape(-1).float().cpu()


def discriminator_heatmap(
    discriminator: nn.Module,
    loss: str,
    *,
    resolution: int = HEATMAP_RESOLUTION,
    bounds: tuple[float, float] = PLANE_BOUNDS,
    real: torch.Tensor | None = None,
    fake: torch.Tensor | None = None,
) -> Heatmap:
    """D's opinion of every cell of the plane, with a colour scale whose middle means "cannot tell".

    - minimax / non-saturating: D(x) = sigmoid(score) in [0, 1], neutral 0.5;
    - least squares: D is trained towards 1 on real and 0 on fake, so [0, 1] with neutral 0.5;
    - hinge: the margin is at 0 and the targets at ±1, so [-1, 1] with neutral 0;
    - WGAN(-GP): a critic has no fixed scale or offset; neutral is halfway between its mean on `real` and
      on `fake` (the grid's median when they are not given) and the range is the largest deviation seen.
    """
    xs, ys, points = plane_grid(resolution, bounds)
    scores = _scores(discriminator, points)  # (R*R,)
    values = losses.discriminator_probability(loss, scores)  # type: ignore[arg-type]
    if loss in losses.LOGIT_LOSSES or loss == "least_squares":
        zmin, zmid, zmax = 0.0, 0.5, 1.0
    elif loss == "hinge":
        zmin, zmid, zmax = -1.0, 0.0, 1.0
    else:
        if real is not None and fake is not None and len(real) and len(fake):
            zmid = 0.5 * (float(_scores(discriminator, real).mean()) + float(_scores(discriminator, fake).mean()))
        else:
            zmid = float(values.median())
        spread = float((values - zmid).abs().max())
        spread = spread if math.isfinite(spread) and spread > 1e-6 else 1.0
        zmin, zmax = zmid - spread, zmid + spread
    return Heatmap(
        xs=xs.numpy(), ys=ys.numpy(), values=values.reshape(resolution, resolution).numpy(),
        zmin=zmin, zmid=zmid, zmax=zmax, probability=loss in losses.LOGIT_LOSSES,
    )


def noise_extent(noise: str) -> float:
    """Half-width of the noise square the manifold covers: U(-1, 1) all of it, N(0, 1) ±2σ (95% per axis)."""
    return 1.0 if noise == "uniform" else 2.0


@dataclass(frozen=True)
class Manifold:
    """Polylines in the plane: G applied to straight lines in noise space. lines[l] is one polyline (P, 2)."""

    lines: np.ndarray  # (L, P, 2)
    z_dim: int


def noise_lines(z_dim: int, noise: str, *, lines: int = MANIFOLD_LINES, points: int = MANIFOLD_POINTS) -> torch.Tensor:
    """Straight lines in noise space: (L, P, z_dim). 1-D noise: one line of MANIFOLD_POINTS_1D points;
    2-D noise: `lines` lines of constant z2 followed by `lines` lines of constant z1."""
    extent = noise_extent(noise)
    if z_dim == 1:
        return torch.linspace(-extent, extent, MANIFOLD_POINTS_1D).reshape(1, -1, 1)
    if z_dim != 2:
        raise ValueError(f"The manifold is drawn for 1-D or 2-D noise, not {z_dim}-D.")
    along = torch.linspace(-extent, extent, points)  # (P,)
    across = torch.linspace(-extent, extent, lines)  # (L,)
    a, c = torch.meshgrid(across, along, indexing="ij")  # (L, P): a is constant along a line
    constant_z2 = torch.stack([c, a], dim=-1)  # z1 varies, z2 = a
    constant_z1 = torch.stack([a, c], dim=-1)  # z2 varies, z1 = a
    return torch.cat([constant_z2, constant_z1])  # (2L, P, 2)


def generator_manifold(generator: nn.Module, z_dim: int, noise: str, **kwargs: int) -> Manifold:
    """G pushed over `noise_lines`: how G warps the noise square into the plane."""
    z = noise_lines(z_dim, noise, **kwargs)  # (L, P, z_dim)
    out = generate(generator, z.reshape(-1, z_dim), _device_of(generator))  # (L*P, 2)
    return Manifold(lines=out.reshape(z.shape[0], z.shape[1], 2).numpy(), z_dim=z_dim)


@dataclass(frozen=True)
class GeneratorGradients:
    """Generated points G(z) (N, 2) and -dl/dG(z) at each (N, 2), l the per-sample generator loss."""

    points: np.ndarray
    directions: np.ndarray


def generator_gradients(model: GAN, loss: str, z: torch.Tensor) -> GeneratorGradients:
    """Where the generator's loss pushes each generated point: -d l(G(z_i)) / d G(z_i).

    The batch loss is the mean of per-sample terms, so its gradient at a point is 1/N of the per-sample
    gradient; we multiply by N so an arrow does not depend on how many points are drawn. Only the points get
    gradients (autograd.grad), never the weights, so training state is untouched.
    """
    device = _device_of(model.generator)
    with torch.no_grad():
        x = model.generator(z.to(device))
    x = x.detach().requires_grad_(True)  # (N, 2)
    with torch.enable_grad():
        batch_loss = losses.generator_loss(loss, model.discriminator(x))  # type: ignore[arg-type]
        (grad,) = torch.autograd.grad(batch_loss, x)
    directions = -grad * x.shape[0]
    return GeneratorGradients(points=x.detach().cpu().numpy(), directions=directions.detach().cpu().numpy())


@dataclass(frozen=True)
class Coverage:
    covered: int
    total: int
    counts: list[int]  # generated points per mode


def coverage(data: str, fake: torch.Tensor) -> Coverage | None:
    """How many of a distribution's Gaussian modes hold generated points; None for data without modes."""
    if data not in toy2d.MODE_RADIUS:
        return None
    centers = toy2d.mode_centers(data)
    covered, counts = metrics.mode_coverage(fake, centers, toy2d.MODE_RADIUS[data])
    return Coverage(covered=covered, total=len(counts), counts=counts)


@dataclass(frozen=True)
class ViewNoise:
    """Fixed noise for the views of one model, so frames differ only because the model changed."""

    samples: torch.Tensor  # (FAKE_POINTS, z_dim): drawn points (first SHOWN_POINTS), KL/JS, coverage
    arrows: torch.Tensor  # (ARROW_POINTS, z_dim)


def view_noise(model: GAN, seed: int) -> ViewNoise:
    generator = seeds.generator(seed, "playground_fake")
    samples = model.sample_noise(FAKE_POINTS, generator)
    return ViewNoise(samples=samples, arrows=samples[:ARROW_POINTS])


def shown_real(source: PointSource, seed: int, n: int = SHOWN_POINTS) -> torch.Tensor:
    """A fixed subset of the real pool to draw (all of it when the pool is small), (n', 2) on the CPU."""
    pool = source.points.cpu()
    if len(pool) <= n:
        return pool
    index = torch.randperm(len(pool), generator=seeds.generator(seed, "playground_subset"))[:n]
    return pool[index]


@dataclass(frozen=True)
class PlaygroundView:
    """Everything one redraw shows. Layers that are switched off are None."""

    iteration: int
    real: np.ndarray  # (N, 2)
    fake: np.ndarray  # (SHOWN_POINTS, 2)
    kl: float
    js: float
    coverage: Coverage | None
    heatmap: Heatmap | None
    manifold: Manifold | None
    gradients: GeneratorGradients | None


def compute_view(
    trainer: GANTrainer,
    *,
    data: str,
    real_shown: torch.Tensor,
    noise: ViewNoise,
    heatmap: bool = True,
    manifold: bool = True,
    gradients: bool = True,
) -> PlaygroundView:
    """One frame of the playground from the trainer's current weights (training state is not touched)."""
    model: GAN = trainer.model
    loss = trainer.config.loss
    fake_all = trainer.sample(noise.samples)  # (FAKE_POINTS, 2) on the CPU
    kl, js = metrics.grid_kl_js(trainer.source.points.cpu(), fake_all, PLANE_BOUNDS)
    return PlaygroundView(
        iteration=trainer.iteration,
        real=real_shown.numpy(),
        fake=fake_all[:SHOWN_POINTS].numpy(),
        kl=kl,
        js=js,
        coverage=coverage(data, fake_all),
        heatmap=discriminator_heatmap(model.discriminator, loss, real=real_shown, fake=fake_all[:SHOWN_POINTS])
        if heatmap else None,
        manifold=generator_manifold(trainer.sampling_generator(), model.z_dim, model.config.noise)
        if manifold else None,
        gradients=generator_gradients(model, loss, noise.arrows) if gradients else None,
    )
