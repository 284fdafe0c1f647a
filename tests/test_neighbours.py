"""Nearest training images (aigc_core.neighbours): the fast bounded search must give exactly what brute force
gives, find a planted copy, and the copy report must tell copies from fresh digits."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from aigc_core.errors import ConfigError
from aigc_core.mnist import load_mnist
from aigc_core.neighbours import NeighbourIndex, copy_report, flatten_images

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def train_rows() -> torch.Tensor:
    return flatten_images(load_mnist("train").images[:6000])


@pytest.fixture(scope="module")
def index(train_rows) -> NeighbourIndex:
    return NeighbourIndex(train_rows)


def _brute(rows: torch.Tensor, queries: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """An independent reference: torch.cdist and a full sort."""
    d = torch.cdist(queries.double(), rows.double())
    order = d.argsort(dim=1)[:, :k]
    return torch.gather(d, 1, order), order


def test_the_matrix_product_equals_brute_force_on_digits(index, train_rows):
    queries = flatten_images(load_mnist("test").images[:40])
    found = index.search(queries, 5)
    distances, indices = _brute(train_rows, queries, 5)
    assert torch.equal(found.indices, indices)
    assert torch.allclose(found.distances.double(), distances, atol=1e-3)


@pytest.mark.parametrize("k", [1, 5])
@pytest.mark.parametrize("candidates", [16, 256])
def test_the_bounded_search_equals_brute_force_on_digits(index, train_rows, k, candidates):
    queries = flatten_images(load_mnist("test").images[:40])
    found = index.search(queries, k, bounded=True, candidates=candidates)
    distances, indices = _brute(train_rows, queries, k)
    assert torch.equal(found.indices, indices)
    assert torch.allclose(found.distances.double(), distances, atol=1e-4)
    assert (found.distances[:, 1:] >= found.distances[:, :-1]).all()


def test_few_candidates_fall_back_and_stay_exact(index, train_rows):
    """With 16 candidates the bound cannot settle every query: those are searched in full, never guessed."""
    queries = flatten_images(load_mnist("test").images[:40])
    found = index.search(queries, 5, bounded=True, candidates=16)
    assert found.exact_fallbacks > 0
    assert torch.equal(found.indices, _brute(train_rows, queries, 5)[1])


def test_a_copied_training_digit_is_found_at_distance_zero(index, train_rows):
    copies = train_rows[[17, 4242]] + torch.randn(2, 784) * 1e-4
    found = index.search(copies, 1)
    assert found.indices[:, 0].tolist() == [17, 4242]
    assert found.distances.max() < 0.01


def test_random_points_agree_with_brute_force_in_any_dimension():
    generator = torch.Generator().manual_seed(0)
    rows = torch.randn(3000, 20, generator=generator)
    queries = torch.randn(30, 20, generator=generator)
    index = NeighbourIndex(rows, projection_dim=8)
    for bounded in (False, True):
        found = index.search(queries, 3, bounded=bounded, candidates=64)
        assert torch.equal(found.indices, _brute(rows, queries, 3)[1])


def test_bad_queries_and_indexes_get_clear_errors(index):
    with pytest.raises(ConfigError, match=r"\(M, 784\)"):
        index.search(torch.zeros(3, 100))
    with pytest.raises(ConfigError, match="finite"):
        index.search(torch.full((2, 784), float("nan")))
    with pytest.raises(ConfigError, match="k must be"):
        index.search(torch.zeros(2, 784), k=0)
    with pytest.raises(ConfigError, match="non-empty"):
        NeighbourIndex(torch.zeros(0, 784))


def test_the_copy_report_separates_copies_from_fresh_digits(index):
    fresh = index.search(flatten_images(load_mnist("test").images[:200]), 1).distances[:, 0].numpy()
    copies = index.search(index.rows[:50] + 0.01, 1).distances[:, 0].numpy()
    other_fresh = index.search(flatten_images(load_mnist("test").images[200:260]), 1).distances[:, 0].numpy()
    copied = copy_report(copies, fresh)
    honest = copy_report(other_fresh, fresh)
    assert copied.copy_share == 1.0 and copied.median_ratio < 0.1
    assert honest.copy_share < 0.1 and 0.8 < honest.median_ratio < 1.25
    with pytest.raises(ConfigError):
        copy_report(np.array([]), fresh)
