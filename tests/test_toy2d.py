"""Toy 2-D distributions, point validation, CSV parsing and PointSource."""

import math

import numpy as np
import pytest
import torch

from aigc_core.errors import ConfigError, DataError
from aigc_core.toy2d import (
    MAX_CSV_BYTES,
    MAX_POINTS,
    MODE_RADIUS,
    TOY_DISTRIBUTIONS,
    PointSource,
    mode_centers,
    normalise_points,
    parse_points_csv,
    sample_toy,
    validate_points,
)


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("name", TOY_DISTRIBUTIONS)
def test_sample_shape_range_and_determinism(name):
    points = sample_toy(name, 2000, gen(1))
    assert points.shape == (2000, 2) and points.dtype == torch.float32
    assert points.abs().max() <= 3.0
    assert torch.equal(points, sample_toy(name, 2000, gen(1)))
    assert not torch.equal(points, sample_toy(name, 2000, gen(2)))
    assert sample_toy(name, 0, gen()).shape == (0, 2)


def test_sampling_leaves_global_rng_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    for name in TOY_DISTRIBUTIONS:
        sample_toy(name, 10, gen())
    assert torch.equal(torch.rand(3), expected)


def test_unknown_name_and_bad_n():
    with pytest.raises(ConfigError, match="Unknown toy distribution"):
        sample_toy("swiss", 10, gen())
    with pytest.raises(ConfigError):
        mode_centers("swiss")
    with pytest.raises(ConfigError):
        sample_toy("ring", -1, gen())


def test_mode_centers_geometry():
    ring = mode_centers("ring")
    assert ring.shape == (8, 2)
    torch.testing.assert_close(ring.norm(dim=1), torch.full((8,), 2.0))
    grid = mode_centers("grid")
    assert grid.shape == (25, 2)
    torch.testing.assert_close(grid.mean(dim=0), torch.zeros(2))
    assert sorted(set(grid[:, 0].tolist())) == [-2.0, -1.0, 0.0, 1.0, 2.0]
    for name in ("line", "moons", "spiral", "regions"):
        assert mode_centers(name) is None
    assert set(MODE_RADIUS) == {"ring", "grid"}


@pytest.mark.parametrize("name", ["ring", "grid"])
def test_modes_are_balanced_and_tight(name):
    centers = mode_centers(name)
    points = sample_toy(name, 25_000, gen(3))
    distance, nearest = torch.cdist(points, centers).min(dim=1)
    # ~3 std: about 99% of a 2-D Gaussian's mass lies within 3 std.
    assert (distance <= MODE_RADIUS[name]).float().mean() > 0.98
    counts = torch.bincount(nearest, minlength=len(centers)).float()
    expected = len(points) / len(centers)
    assert (counts - expected).abs().max() < 5 * math.sqrt(expected)


def test_regions_are_three_disjoint_parts():
    points = sample_toy("regions", 3000, gen())
    left = points[:, 0] < -1.0
    top_right = (points[:, 0] >= 0) & (points[:, 1] > 0)
    bottom_right = (points[:, 0] >= 0) & (points[:, 1] < 0)
    assert (left | top_right | bottom_right).all()
    for part in (left, top_right, bottom_right):
        assert 800 < int(part.sum()) < 1200


def test_validate_points_accepts_numpy_and_tensor():
    out = validate_points(np.array([[1, 2], [3, 4]], dtype=np.int64))
    assert out.dtype == torch.float32 and out.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert validate_points(torch.ones(5, 2, dtype=torch.float64)).shape == (5, 2)


@pytest.mark.parametrize(
    "points, message",
    [
        (np.zeros((5, 3)), "2 columns"),
        (np.zeros(10), "2 columns"),
        (np.zeros((0, 2)), "at least 2"),
        (np.zeros((1, 2)), "at least 2"),
        (np.zeros((MAX_POINTS + 1, 2)), "Too many points"),
        (np.array([[0, 0], [1, 1], [2, np.nan]]), r"Row 3 has a non-finite value \(nan\)"),
        (np.array([[0, -np.inf], [1, 1]]), r"Row 1 has a non-finite value \(-inf\)"),
        (np.array([[0, 0], [1e7, 1]]), "Row 2 has a value too large"),
        (np.array([["a", "b"], ["c", "d"]]), "real numbers"),
        (np.array([[1j, 0], [0, 0]]), "real numbers"),
    ],
)
def test_validate_points_rejects(points, message):
    with pytest.raises(DataError, match=message):
        validate_points(points)


def test_parse_csv_header_separators_and_comments():
    text = "\ufeffx,y\r\n1, 2\r\n\r\n# a comment\n3.5\t-4\n  5e-1   6  \n"
    out = parse_points_csv(text.encode("utf-8"))
    assert out.tolist() == [[1.0, 2.0], [3.5, -4.0], [0.5, 6.0]]
    assert parse_points_csv("1 2\n3 4").tolist() == [[1.0, 2.0], [3.0, 4.0]]


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "empty"),
        (b"\n  \n# only a comment\n", "empty"),
        (b"x,y\n", "header but no points"),
        (b"x,y\n1,2\n3,abc\n", r"Line 3: 'abc' is not a number"),
        (b"1,2\n3,4,5\n", "Line 2 has 3 values; expected 2"),
        (b"1,2\n3\n", "Line 2 has 1 value;"),
        (b"1,2\nnan,4\n", r"Line 2 has a non-finite value \(nan\)"),
        (b"1,2\n\xff\xfe,1\n", "not UTF-8"),
        (b"1,2\n", "at least 2"),
    ],
)
def test_parse_csv_errors(data, message):
    with pytest.raises(DataError, match=message):
        parse_points_csv(data)


def test_parse_csv_refuses_huge_files_unread_and_counts_points():
    with pytest.raises(DataError, match="too large"):
        parse_points_csv(b"0" * (MAX_CSV_BYTES + 1))
    with pytest.raises(DataError, match="Too many points"):
        parse_points_csv("1,2\n" * (MAX_POINTS + 1))


def test_normalise_points_fits_box_and_keeps_shape():
    raw = torch.tensor([[100.0, 10.0], [110.0, 10.0], [100.0, 15.0], [104.0, 12.0]])
    out = normalise_points(raw)
    assert out.abs().max().item() == pytest.approx(2.5)
    torch.testing.assert_close((out.max(0).values + out.min(0).values) / 2, torch.zeros(2))
    # One scale for both axes: ratios between distances are kept.
    d_raw, d_out = torch.pdist(raw.double()), torch.pdist(out.double())
    torch.testing.assert_close(d_out / d_raw, torch.full_like(d_raw, d_out[0] / d_raw[0]))
    assert normalise_points(np.ones((3, 2))).abs().max() == 0  # identical points: only centred


def test_point_source_draws_from_pool_reproducibly():
    source = PointSource.from_name("ring", n_pool=256, seed=5)
    assert len(source) == 256 and source.points.shape == (256, 2)
    assert torch.equal(source.points, PointSource.from_name("ring", n_pool=256, seed=5).points)
    batch = source.batch(64, gen(9))
    assert batch.shape == (64, 2)
    assert torch.equal(batch, source.batch(64, gen(9)))
    pool = {tuple(row) for row in source.points.tolist()}
    assert all(tuple(row) in pool for row in batch.tolist())
    with pytest.raises(ConfigError):
        source.batch(0, gen())


def test_point_source_from_custom_points():
    source = PointSource(np.array([[0.0, 0.0], [1.0, 1.0]]))
    batch = source.batch(1000, gen())
    share = (batch[:, 0] == 1.0).float().mean().item()
    assert 0.4 < share < 0.6
    with pytest.raises(DataError):
        PointSource(np.zeros((1, 2)))
