"""Latent tools: interpolation endpoints and norms, traversal, manifold grid order, PCA against NumPy SVD."""

import numpy as np
import pytest
import torch

from aigc_core.errors import ConfigError
from aigc_core.latent import lerp, manifold_grid, pca, slerp, traversal


def codes(n: int, d: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(n, d, generator=torch.Generator().manual_seed(seed))


def test_lerp_endpoints_and_midpoint():
    z0, z1 = codes(2, 8)
    path = lerp(z0, z1, 5)
    assert path.shape == (5, 8) and path.dtype == torch.float32
    assert torch.equal(path[0], z0) and torch.equal(path[-1], z1)
    torch.testing.assert_close(path[2], (z0 + z1) / 2)
    assert lerp(z0[None], z1[None], 3).shape == (3, 8)  # (1, D) is accepted too


def test_slerp_endpoints_exact_and_norm_constant_for_equal_norms():
    z0, z1 = codes(2, 16, seed=1)
    z1 = z1 / z1.norm() * z0.norm()
    path = slerp(z0, z1, 9)
    assert torch.equal(path[0], z0) and torch.equal(path[-1], z1)
    torch.testing.assert_close(path.norm(dim=1), torch.full((9,), z0.norm().item()))
    # Equal angular steps between consecutive points.
    cosines = torch.nn.functional.cosine_similarity(path[:-1], path[1:], dim=1)
    torch.testing.assert_close(cosines, cosines.mean().expand(8))


def test_slerp_norms_stay_between_for_unequal_norms():
    z0, z1 = torch.tensor([2.0, 0.0]), torch.tensor([0.0, 3.0])
    norms = slerp(z0, z1, 11).norm(dim=1)
    assert norms.min() >= 2.0 - 1e-6 and norms.max() <= 3.0 + 1e-6


def test_slerp_falls_back_to_lerp_for_parallel_and_zero_vectors():
    z = torch.tensor([1.0, 2.0, 3.0])
    for other in (2 * z, -z, torch.zeros(3), z.clone()):
        path = slerp(z, other, 4)
        assert torch.isfinite(path).all()
        torch.testing.assert_close(path, lerp(z, other, 4))


def test_interpolation_rejects_bad_arguments():
    with pytest.raises(ConfigError):
        lerp(torch.zeros(3), torch.ones(3), 1)
    with pytest.raises(ValueError):
        slerp(torch.zeros(3), torch.ones(4), 5)


def test_traversal_sets_one_coordinate():
    z = codes(1, 6)[0]
    out = traversal(z, 2, [-1.0, 0.0, 2.5])
    assert out.shape == (3, 6)
    assert out[:, 2].tolist() == [-1.0, 0.0, 2.5]
    others = [i for i in range(6) if i != 2]
    assert torch.equal(out[:, others], z[others].expand(3, 5))
    assert torch.equal(z, codes(1, 6)[0])  # z itself untouched
    with pytest.raises(ConfigError):
        traversal(z, 6, [0.0])


def test_manifold_grid_values_and_display_order():
    n = 4
    grid = manifold_grid(n, low_q=0.1, high_q=0.9)
    assert grid.shape == (n * n, 2) and grid.dtype == torch.float32
    ticks = torch.distributions.Normal(0.0, 1.0).icdf(torch.tensor([0.1, 0.1 + 0.8 / 3, 0.9 - 0.8 / 3, 0.9]))
    image = grid.reshape(n, n, 2)  # (row, column, xy) as displayed
    torch.testing.assert_close(image[0, :, 0], ticks)  # x increases left to right
    torch.testing.assert_close(image[:, 0, 1], ticks.flip(0))  # y decreases top to bottom
    assert torch.equal(image[:, :, 0], image[:1, :, 0].expand(n, n))  # columns share x
    assert torch.equal(image[:, :, 1], image[:, :1, 1].expand(n, n))  # rows share y
    assert image[0, -1].tolist() == pytest.approx([1.2815516, 1.2815516], rel=1e-6)  # top right = (+, +)


def test_manifold_grid_rejects_bad_arguments():
    for kwargs in ({"n": 1}, {"n": 3, "low_q": 0.0}, {"n": 3, "low_q": 0.6, "high_q": 0.4}):
        with pytest.raises(ConfigError):
            manifold_grid(**kwargs)


def test_pca_matches_numpy_svd_up_to_sign():
    rng = np.random.default_rng(0)
    z_np = rng.normal(size=(200, 5)) @ np.diag([5.0, 3.0, 1.0, 0.5, 0.1]) + rng.normal(size=5)
    result = pca(torch.from_numpy(z_np).float(), k=2)
    centred = z_np - z_np.mean(axis=0)
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    np.testing.assert_allclose(result.mean.numpy(), z_np.mean(axis=0), rtol=1e-5, atol=1e-5)
    for ours, ref in zip(result.components.numpy(), vt[:2]):
        assert abs(abs(ours @ ref) - 1) < 1e-5  # same direction up to sign
    np.testing.assert_allclose(result.explained_variance_ratio.numpy(), (s**2 / (s**2).sum())[:2], rtol=1e-5)
    # Projections agree with NumPy's up to each component's sign.
    signs = np.sign(np.sum(result.components.numpy() * vt[:2], axis=1))
    np.testing.assert_allclose(result.project(torch.from_numpy(z_np).float()).numpy(), centred @ vt[:2].T * signs,
                               rtol=1e-4, atol=1e-4)


def test_pca_round_trip_and_deterministic_sign():
    z = codes(50, 3) @ torch.tensor([[2.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 0.0]])  # lies in a plane
    result = pca(z, k=2)
    torch.testing.assert_close(result.unproject(result.project(z)), z, rtol=1e-5, atol=1e-5)
    biggest = result.components.abs().argmax(dim=1)
    assert (result.components[torch.arange(2), biggest] > 0).all()
    torch.testing.assert_close(result.explained_variance_ratio.sum(), torch.tensor(1.0))
    with pytest.raises(ConfigError):
        pca(z, k=4)
