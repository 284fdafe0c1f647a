"""Latent-space tools for exploring a trained generator or VAE decoder.

- lerp and slerp: linear and spherical interpolation between two codes. Slerp is Shoemake's formula
  ("Animating rotation with quaternion curves", SIGGRAPH 1985) as recommended for Gaussian latents by
  White, "Sampling Generative Networks" (2016): sin((1-t)W)/sin(W) z0 + sin(tW)/sin(W) z1, cos W = <z0, z1>/(|z0||z1|).
- traversal: vary one latent coordinate, keep the rest.
- manifold_grid: the 2-D latent manifold picture of Kingma & Welling, "Auto-Encoding Variational Bayes"
  (2014), fig. 4: a grid of evenly spaced quantiles mapped through the inverse normal CDF.
- pca: principal component analysis by SVD of the centred codes, to draw high-dimensional latents in 2-D.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from .errors import ConfigError
from .finite import require_finite_samples

_PARALLEL_EPS = 1e-6  # below this sin(W) slerp is numerically undefined; fall back to lerp


def _pair(z0: torch.Tensor, z1: torch.Tensor, steps: int) -> tuple[torch.Tensor, torch.Tensor]:
    if not isinstance(steps, int) or steps < 2:
        raise ConfigError(f"Interpolation needs at least 2 steps, not {steps!r}.")
    z0, z1 = z0.reshape(-1), z1.reshape(-1)  # accept (D,) or (1, D)
    if z0.shape != z1.shape:
        raise ValueError(f"z0 and z1 must have the same size; got {z0.numel()} and {z1.numel()}.")
    return z0, z1


def _times(steps: int, like: torch.Tensor) -> torch.Tensor:
    return torch.linspace(0, 1, steps, dtype=torch.float64, device=like.device)[:, None]  # (steps, 1)


def lerp(z0: torch.Tensor, z1: torch.Tensor, steps: int) -> torch.Tensor:
    """(steps, D): (1 - t) z0 + t z1 for t evenly spaced in [0, 1]; the first and last rows are z0 and z1."""
    z0, z1 = _pair(z0, z1, steps)
    t = _times(steps, z0)
    # This form (not z0 + t (z1 - z0)) gives the endpoints exactly.
    return ((1 - t) * z0.double() + t * z1.double()).to(z0.dtype)


def slerp(z0: torch.Tensor, z1: torch.Tensor, steps: int) -> torch.Tensor:
    """(steps, D) spherical interpolation; equal-norm endpoints keep that norm along the whole path.

    For (nearly) parallel or opposite vectors, or a zero vector, the great circle is undefined or
    ill-conditioned, so this returns lerp instead.
    """
    z0, z1 = _pair(z0, z1, steps)
    a, b = z0.double(), z1.double()
    norms = a.norm() * b.norm()
    if norms == 0:
        return lerp(z0, z1, steps)
    omega = torch.arccos((a @ b / norms).clamp(-1, 1))
    sin_omega = torch.sin(omega)
    if sin_omega < _PARALLEL_EPS:
        return lerp(z0, z1, steps)
    t = _times(steps, z0)
    path = (torch.sin((1 - t) * omega) * a + torch.sin(t * omega) * b) / sin_omega
    path[0], path[-1] = a, b  # exact endpoints, whatever the rounding
    return path.to(z0.dtype)


def traversal(z: torch.Tensor, dim: int, values: Sequence[float] | torch.Tensor) -> torch.Tensor:
    """(len(values), D): copies of z with coordinate `dim` set to each value in turn."""
    z = z.reshape(-1)
    if not -z.numel() <= dim < z.numel():
        raise ConfigError(f"Latent dimension {dim} does not exist; the code has {z.numel()} dimensions.")
    values = torch.as_tensor(values, dtype=z.dtype, device=z.device).reshape(-1)
    out = z.repeat(len(values), 1)  # (V, D)
    out[:, dim] = values
    return out


def manifold_grid(n: int, *, low_q: float = 0.05, high_q: float = 0.95) -> torch.Tensor:
    """(n * n, 2) float32 latent points for an n x n picture of a 2-D latent space.

    Each axis takes the standard-normal quantiles of n evenly spaced probabilities in [low_q, high_q], so
    the grid is dense where the prior has mass. Order is row-major as an image is displayed: row r of the
    picture is points [r*n : (r+1)*n], x increases left to right and y *decreases* top to bottom, so that
    up on screen is up on a plot.
    """
    if not isinstance(n, int) or n < 2:
        raise ConfigError(f"The manifold grid needs n >= 2, not {n!r}.")
    if not 0 < low_q < high_q < 1:
        raise ConfigError(f"Need 0 < low_q < high_q < 1; got {low_q}, {high_q}.")
    quantiles = torch.linspace(low_q, high_q, n, dtype=torch.float64)
    ticks = torch.distributions.Normal(0.0, 1.0).icdf(quantiles)  # (n,) increasing
    ys, xs = torch.meshgrid(ticks.flip(0), ticks, indexing="ij")  # (n, n) each; row 0 = largest y
    return torch.stack([xs.reshape(-1), ys.reshape(-1)], dim=1).float()


@dataclass(frozen=True, eq=False)
class PCAResult:
    """A fitted PCA: mean (D,), components (k, D) with orthonormal rows, explained_variance_ratio (k,)."""

    mean: torch.Tensor
    components: torch.Tensor
    explained_variance_ratio: torch.Tensor

    def project(self, z: torch.Tensor) -> torch.Tensor:
        """(N, D) codes -> (N, k) coordinates along the components."""
        return (z - self.mean) @ self.components.T

    def unproject(self, coords: torch.Tensor) -> torch.Tensor:
        """(N, k) coordinates -> (N, D) codes in the plane (subspace) of the components."""
        return coords @ self.components + self.mean


def pca(z: torch.Tensor, k: int = 2) -> PCAResult:
    """Principal components of codes z (N, D) via SVD of the centred data, computed in float64.

    Signs are made deterministic: each component's largest-magnitude entry is positive.
    """
    if z.ndim != 2 or z.shape[0] < 2:
        raise ValueError(f"pca needs codes (N, D) with N >= 2; got {tuple(z.shape)}.")
    if not 1 <= k <= min(z.shape):
        raise ConfigError(f"k must be between 1 and {min(z.shape)} for codes of shape {tuple(z.shape)}; got {k}.")
    # SVD of NaN/inf fails deep in LAPACK (LinAlgError); say what is wrong instead: the codes came out non-finite.
    require_finite_samples(z.detach(), what="The latent codes")
    x = z.detach().double()
    mean = x.mean(dim=0)
    _, singular, vh = torch.linalg.svd(x - mean, full_matrices=False)  # vh: (min(N, D), D)
    components = vh[:k]
    biggest = components.abs().argmax(dim=1, keepdim=True)
    components = components * components.gather(1, biggest).sign()
    variance = singular**2
    total = variance.sum()
    ratio = variance[:k] / total if total > 0 else torch.zeros(k, dtype=torch.float64, device=x.device)
    return PCAResult(
        mean=mean.to(z.dtype), components=components.to(z.dtype), explained_variance_ratio=ratio.to(z.dtype)
    )
