"""Metrics against independent computations (NumPy by hand, closed forms, np.histogram2d)."""

import math

import numpy as np
import pytest
import torch

from aigc_core.metrics import (
    class_counts,
    classifier_score,
    fid_from_features,
    frechet_distance,
    gaussian_stats,
    grid_histogram,
    grid_kl_js,
    mode_coverage,
)
from aigc_core.toy2d import MODE_RADIUS, mode_centers


# --- classifier score -------------------------------------------------------------------------------------


def test_classifier_score_extremes():
    assert classifier_score(torch.full((50, 10), 0.1)) == pytest.approx(1.0)
    one_hot = torch.eye(10).repeat(7, 1)  # confident and balanced
    assert classifier_score(one_hot) == pytest.approx(10.0)
    assert classifier_score(torch.eye(10)[[3] * 20]) == pytest.approx(1.0)  # confident but one class only


def test_classifier_score_matches_numpy_reference():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(200, 10)) * 3
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    marginal = probs.mean(axis=0)
    expected = math.exp(np.mean(np.sum(probs * np.log(probs / marginal), axis=1)))
    assert classifier_score(torch.from_numpy(probs).float()) == pytest.approx(expected, rel=1e-5)


def test_classifier_score_rejects_bad_probs():
    with pytest.raises(ValueError):
        classifier_score(torch.ones(4, 3))
    with pytest.raises(ValueError):
        classifier_score(torch.ones(4))
    with pytest.raises(ValueError):
        classifier_score(torch.tensor([[float("nan"), 1.0]]))


# --- Fréchet distance -------------------------------------------------------------------------------------


def test_fid_of_a_set_with_itself_is_zero():
    features = torch.randn(500, 16, generator=torch.Generator().manual_seed(0))
    assert fid_from_features(features, features) == pytest.approx(0.0, abs=1e-8)


def test_frechet_distance_diagonal_closed_form():
    mu1, mu2 = np.array([0.0, 1.0, -2.0]), np.array([1.0, 1.0, 0.5])
    s1, s2 = np.array([1.0, 4.0, 0.25]), np.array([2.0, 1.0, 0.25])
    expected = np.sum((mu1 - mu2) ** 2) + np.sum(s1 + s2 - 2 * np.sqrt(s1 * s2))
    assert frechet_distance(mu1, np.diag(s1), mu2, np.diag(s2)) == pytest.approx(expected, rel=1e-12)


def _sqrtm_denman_beavers(a: np.ndarray, iterations: int = 60) -> np.ndarray:
    # An independent square root of a (non-symmetric) matrix with positive eigenvalues.
    y, z = a.copy(), np.eye(len(a))
    for _ in range(iterations):
        y, z = (y + np.linalg.inv(z)) / 2, (z + np.linalg.inv(y)) / 2
    return y


def test_frechet_distance_full_covariance_against_general_sqrtm():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(5, 5)), rng.normal(size=(5, 5))
    s1, s2 = a @ a.T + 0.1 * np.eye(5), b @ b.T + 0.1 * np.eye(5)
    mu1, mu2 = rng.normal(size=5), rng.normal(size=5)
    root = _sqrtm_denman_beavers(s1 @ s2)
    np.testing.assert_allclose(root @ root, s1 @ s2, atol=1e-8)
    expected = np.sum((mu1 - mu2) ** 2) + np.trace(s1 + s2 - 2 * root)
    assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(expected, rel=1e-9)


def test_frechet_distance_is_robust_to_singular_covariances():
    # Rank-1 covariances (fewer samples than dimensions) must not produce NaN or a negative distance.
    v = np.array([1.0, 2.0, 3.0])
    s = np.outer(v, v)
    assert frechet_distance(np.zeros(3), s, np.zeros(3), s) == pytest.approx(0.0, abs=1e-9)
    assert math.isfinite(fid_from_features(np.random.default_rng(0).normal(size=(3, 8)), np.zeros((4, 8))))


def test_gaussian_stats_match_numpy_and_reject_bad_input():
    features = np.random.default_rng(2).normal(size=(40, 3))
    mean, cov = gaussian_stats(torch.from_numpy(features))
    np.testing.assert_allclose(mean, features.mean(axis=0))
    np.testing.assert_allclose(cov, np.cov(features.T))
    assert gaussian_stats(np.array([[1.0], [3.0]]))[1].shape == (1, 1)
    with pytest.raises(ValueError):
        gaussian_stats(np.zeros((1, 3)))
    with pytest.raises(ValueError):
        frechet_distance(np.zeros(2), np.eye(2), np.zeros(3), np.eye(3))


# --- class counts -----------------------------------------------------------------------------------------


def test_class_counts():
    assert class_counts(torch.tensor([0, 1, 1, 9, 9, 9])) == [1, 2, 0, 0, 0, 0, 0, 0, 0, 3]
    assert class_counts(torch.tensor([], dtype=torch.long), num_classes=3) == [0, 0, 0]
    with pytest.raises(ValueError):
        class_counts(torch.tensor([10]))


# --- grid histogram, KL and JS ----------------------------------------------------------------------------


def _numpy_histogram(points: np.ndarray, bounds=(-3.5, 3.5), bins=40) -> np.ndarray:
    clipped = np.clip(points, *bounds)
    counts, _, _ = np.histogram2d(clipped[:, 0], clipped[:, 1], bins=bins, range=[bounds, bounds])
    return counts / counts.sum()


def test_grid_histogram_matches_histogram2d_with_clipping():
    rng = np.random.default_rng(3)
    points = rng.normal(scale=2.0, size=(5000, 2))  # some fall outside [-3.5, 3.5]
    points[:3] = [[np.inf, 0.0], [-1e9, 1e9], [3.5, -3.5]]  # far away and exactly on the bounds
    ours = grid_histogram(points).numpy()
    np.testing.assert_allclose(ours, _numpy_histogram(points), atol=1e-15)
    assert ours.sum() == pytest.approx(1.0)
    with pytest.raises(ValueError):
        grid_histogram(np.array([[np.nan, 0.0]]))


def test_grid_kl_js_against_numpy_reference():
    rng = np.random.default_rng(4)
    real = rng.normal(size=(3000, 2))
    fake = rng.normal(loc=0.7, scale=1.3, size=(2000, 2))
    eps = 1e-8
    p, q = _numpy_histogram(real, (-3, 3), 20), _numpy_histogram(fake, (-3, 3), 20)
    ps, qs = (p + eps) / (p + eps).sum(), (q + eps) / (q + eps).sum()
    kl_expected = np.sum(ps * np.log(ps / qs))
    m = (p + q) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        js_expected = 0.5 * np.nansum(np.where(p > 0, p * np.log(p / m), 0)) + 0.5 * np.nansum(
            np.where(q > 0, q * np.log(q / m), 0)
        )
    kl, js = grid_kl_js(real, fake, bounds=(-3, 3), bins=20, eps=eps)
    assert kl == pytest.approx(kl_expected, rel=1e-10)
    assert js == pytest.approx(js_expected, rel=1e-10)
    assert grid_kl_js(fake, real, bounds=(-3, 3), bins=20)[1] == pytest.approx(js, rel=1e-12)


def test_grid_kl_js_identical_and_disjoint():
    points = np.random.default_rng(5).uniform(-1, 1, size=(1000, 2))
    assert grid_kl_js(points, points) == pytest.approx((0.0, 0.0), abs=1e-12)
    kl, js = grid_kl_js(np.full((10, 2), -2.0), np.full((10, 2), 2.0))
    assert js == pytest.approx(math.log(2))
    assert kl > 10  # large but finite thanks to eps


# --- mode coverage ----------------------------------------------------------------------------------------


def test_mode_coverage_counts_hand_made_points():
    centers = mode_centers("ring")
    points = centers[[0, 1, 2, 4, 6]].repeat_interleave(20, dim=0)  # 5 of 8 modes, 20 points each
    points = torch.cat([points, torch.zeros(3, 2)])  # 3 points in the middle, near no mode
    covered, counts = mode_coverage(points, centers, MODE_RADIUS["ring"])
    assert covered == 5
    assert counts == [20, 20, 20, 0, 20, 0, 20, 0]


def test_mode_coverage_min_count_and_radius():
    centers = torch.tensor([[0.0, 0.0], [1.0, 0.0]])
    points = torch.tensor([[0.0, 0.05]] * 99 + [[1.0, 0.0]] + [[0.5, 0.0]])
    # Default min_count is ceil(1% of 101 points) = 2, so the single point at (1, 0) does not cover its mode.
    assert mode_coverage(points, centers, radius=0.1) == (1, [99, 1])
    assert mode_coverage(points, centers, radius=0.1, min_count=1) == (2, [99, 1])
    assert mode_coverage(points, centers, radius=0.01) == (0, [0, 1])
