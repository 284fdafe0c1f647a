"""Sample-quality metrics, each a small function of tensors with a reference test.

- Classifier score: the Inception Score of Salimans et al., "Improved Techniques for Training GANs" (2016),
  exp(E_x[KL(p(y|x) || p(y))]), computed with an MNIST classifier instead of Inception.
- Fréchet distance between Gaussians fitted to features (Heusel et al., "GANs Trained by a Two Time-Scale
  Update Rule Converge to a Local Nash Equilibrium", 2017, eq. 6; Dowson & Landau, 1982):
  d^2 = ||mu1 - mu2||^2 + Tr(S1 + S2 - 2 (S1 S2)^(1/2)).
- 2-D metrics for the toy playground: KL and Jensen-Shannon divergences between grid histograms, and
  mode coverage (how many Gaussian modes receive samples; Srivastava et al., "VEEGAN", 2017).

Everything is computed in float64; results are plain Python numbers. Misuse (wrong shapes, NaN) raises
ValueError: these inputs come from code, not from users.
"""

from __future__ import annotations

import math

import numpy as np
import torch

ArrayLike = np.ndarray | torch.Tensor


def classifier_score(probs: torch.Tensor) -> float:
    """exp(mean_x KL(p(y|x) || p(y))) for class probabilities probs (N, K), rows summing to 1.

    Ranges from 1 (every prediction equal) to K (confident predictions, classes balanced).
    """
    p = torch.as_tensor(probs).detach().to("cpu", torch.float64)
    if p.ndim != 2 or p.shape[0] == 0 or p.shape[1] == 0:
        raise ValueError(f"probs must be (N, K) with N, K >= 1; got {tuple(p.shape)}.")
    if not torch.isfinite(p).all() or p.min() < -1e-6 or (p.sum(dim=1) - 1).abs().max() > 1e-3:
        raise ValueError("probs must be finite, non-negative and each row must sum to 1.")
    p = p.clamp_min(0)
    p = p / p.sum(dim=1, keepdim=True)
    p_y = p.mean(dim=0, keepdim=True)  # (1, K) marginal class distribution
    # xlogy gives 0 log 0 = 0, so one-hot rows need no epsilon; p_y > 0 wherever p > 0.
    kl = (torch.xlogy(p, p) - torch.xlogy(p, p_y)).sum(dim=1)  # (N,)
    return math.exp(kl.mean().item())


def gaussian_stats(features: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Mean (D,) and unbiased covariance (D, D) of features (N, D), in float64. Needs N >= 2."""
    x = _as_float64(features)
    if x.ndim != 2 or x.shape[0] < 2 or x.shape[1] == 0:
        raise ValueError(f"features must be (N, D) with N >= 2, D >= 1; got {x.shape}.")
    if not np.isfinite(x).all():
        raise ValueError("features contain NaN or infinity.")
    return x.mean(axis=0), np.atleast_2d(np.cov(x, rowvar=False))


def frechet_distance(mu1: ArrayLike, sigma1: ArrayLike, mu2: ArrayLike, sigma2: ArrayLike) -> float:
    """Squared Fréchet (2-Wasserstein) distance between N(mu1, sigma1) and N(mu2, sigma2), >= 0.

    Tr((S1 S2)^(1/2)) equals Tr((R S2 R)^(1/2)) with R = S1^(1/2), because S1 S2 is similar to the
    symmetric matrix R S2 R. Using only symmetric eigendecompositions (and clamping the tiny negative
    eigenvalues rounding produces) avoids the complex parts a general sqrtm returns; no scipy needed.
    """
    mu1, mu2 = _as_float64(mu1).reshape(-1), _as_float64(mu2).reshape(-1)
    sigma1, sigma2 = np.atleast_2d(_as_float64(sigma1)), np.atleast_2d(_as_float64(sigma2))
    d = mu1.shape[0]
    if mu2.shape != (d,) or sigma1.shape != (d, d) or sigma2.shape != (d, d):
        raise ValueError(f"Shapes do not match: {mu1.shape}, {sigma1.shape}, {mu2.shape}, {sigma2.shape}.")
    if not all(np.isfinite(a).all() for a in (mu1, mu2, sigma1, sigma2)):
        raise ValueError("Statistics contain NaN or infinity.")
    root1 = _sqrt_psd(sigma1)
    middle = root1 @ _symmetric(sigma2) @ root1
    trace_sqrt = np.sqrt(np.clip(np.linalg.eigvalsh(_symmetric(middle)), 0, None)).sum()
    diff = mu1 - mu2
    distance = diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2 * trace_sqrt
    return max(float(distance), 0.0)  # rounding can leave a tiny negative for identical inputs


def fid_from_features(a: ArrayLike, b: ArrayLike) -> float:
    """Fréchet distance between Gaussians fitted to two feature sets (N, D) and (M, D)."""
    return frechet_distance(*gaussian_stats(a), *gaussian_stats(b))


def _as_float64(x: ArrayLike) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().double().numpy()
    return np.asarray(x, dtype=np.float64)


def _symmetric(m: np.ndarray) -> np.ndarray:
    return (m + m.T) / 2


def _sqrt_psd(m: np.ndarray) -> np.ndarray:
    """Symmetric square root of a positive semi-definite matrix."""
    eigenvalues, vectors = np.linalg.eigh(_symmetric(m))
    return (vectors * np.sqrt(np.clip(eigenvalues, 0, None))) @ vectors.T


def class_counts(labels: torch.Tensor, num_classes: int = 10) -> list[int]:
    """How many labels fall in each class 0..num_classes-1."""
    labels = torch.as_tensor(labels).reshape(-1)
    if labels.is_floating_point() or labels.is_complex():
        raise ValueError("labels must be integers.")
    if labels.numel() and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"labels must lie in 0..{num_classes - 1}.")
    return torch.bincount(labels.long().cpu(), minlength=num_classes).tolist()


def grid_histogram(
    points: ArrayLike, bounds: tuple[float, float] = (-3.5, 3.5), bins: int = 40
) -> torch.Tensor:
    """Probabilities (bins, bins) float64 of 2-D points on a square grid; entry [i, j] is x-bin i, y-bin j.

    Points outside the bounds (including ±inf) are clipped into the edge bins rather than dropped, so that
    mass a generator throws off-screen still counts against it in grid_kl_js. Same layout and edge rules
    as np.histogram2d(x, y) on clipped points: bins are half-open except the last, which includes `high`.
    """
    x = torch.as_tensor(points).detach().to("cpu", torch.float64)
    low, high = float(bounds[0]), float(bounds[1])
    if x.ndim != 2 or x.shape[1] != 2 or x.shape[0] == 0:
        raise ValueError(f"points must be (N, 2) with N >= 1; got {tuple(x.shape)}.")
    if not high > low or bins < 1:
        raise ValueError(f"Need low < high and bins >= 1; got bounds={bounds}, bins={bins}.")
    if torch.isnan(x).any():
        raise ValueError("points contain NaN, which has no place on the grid.")
    cell = torch.floor((x.clamp(low, high) - low) / (high - low) * bins).long().clamp(0, bins - 1)  # (N, 2)
    flat = cell[:, 0] * bins + cell[:, 1]
    counts = torch.bincount(flat, minlength=bins * bins).double()
    return (counts / counts.sum()).reshape(bins, bins)


def grid_kl_js(
    real: ArrayLike,
    fake: ArrayLike,
    bounds: tuple[float, float] = (-3.5, 3.5),
    bins: int = 40,
    eps: float = 1e-8,
) -> tuple[float, float]:
    """(KL(real || fake), JS(real, fake)) in nats between grid histograms.

    KL adds eps to every cell and renormalises, because a fake histogram with empty cells where real
    points fall would make it infinite. JS needs no smoothing (it is bounded), so it is exact and
    0 <= JS <= ln 2.
    """
    p = grid_histogram(real, bounds, bins).reshape(-1)
    q = grid_histogram(fake, bounds, bins).reshape(-1)
    p_smooth, q_smooth = (p + eps) / (1 + eps * p.numel()), (q + eps) / (1 + eps * q.numel())
    kl = (p_smooth * (p_smooth.log() - q_smooth.log())).sum()
    m = (p + q) / 2
    js = 0.5 * (torch.xlogy(p, p) - torch.xlogy(p, m)).sum() + 0.5 * (torch.xlogy(q, q) - torch.xlogy(q, m)).sum()
    return max(kl.item(), 0.0), min(max(js.item(), 0.0), math.log(2))


def mode_coverage(
    points: ArrayLike, centers: ArrayLike, radius: float, min_count: int | None = None
) -> tuple[int, list[int]]:
    """(number of covered modes, samples per mode) for points (N, 2) and mode centres (K, 2).

    Each point counts for its nearest centre only, and only when it lies within `radius` of it, so
    overlapping radii never count a point twice. A mode is covered when it holds at least min_count
    points; the default is 1% of the points (at least 1), so a few stray samples do not count as a mode.
    """
    x = torch.as_tensor(points).detach().to("cpu", torch.float64)
    c = torch.as_tensor(centers).detach().to("cpu", torch.float64)
    if x.ndim != 2 or c.ndim != 2 or x.shape[1] != c.shape[1] or c.shape[0] == 0:
        raise ValueError(f"points (N, D) and centers (K, D) needed; got {tuple(x.shape)}, {tuple(c.shape)}.")
    if min_count is None:
        min_count = max(1, math.ceil(0.01 * x.shape[0]))
    if x.shape[0] == 0:
        return 0, [0] * c.shape[0]
    distance, nearest = torch.cdist(x, c).min(dim=1)  # (N,) each; NaN points are never within radius
    hits = nearest[distance <= radius]
    counts = torch.bincount(hits, minlength=c.shape[0]).tolist()
    return sum(count >= min_count for count in counts), counts


def conditional_accuracy(probs: torch.Tensor, requested: torch.Tensor, num_classes: int = 10) -> tuple[float, list[float]]:
    """How often the classifier's top class equals the class the model was asked for: overall, and per requested
    class (NaN for a class never requested). probs (N, K), requested (N,) integer labels."""
    p = torch.as_tensor(probs).detach().cpu()
    asked = torch.as_tensor(requested).reshape(-1).long().cpu()
    if p.ndim != 2 or len(p) != len(asked) or len(asked) == 0:
        raise ValueError(f"probs (N, K) and requested (N,) must match; got {tuple(p.shape)} and {tuple(asked.shape)}.")
    hit = (p.argmax(dim=1) == asked).double()
    per_class = []
    for k in range(num_classes):
        mask = asked == k
        per_class.append(float(hit[mask].mean()) if mask.any() else float("nan"))
    return float(hit.mean()), per_class
