"""Does it copy? (aigc_core.copying) and the training subset (mnist.subset, factory.subset_source): copies, fresh
digits and noise get the reading their numbers call for; a bad subset size gets a clear message; the memorization
lesson's 100-digit run comes far closer to its training digits (against its yardstick) than the 60,000-digit run."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from aigc_core import copying, lessons
from aigc_core.errors import ConfigError
from aigc_core.factory import subset_source
from aigc_core.mnist import load_mnist, subset, to_tensor
from aigc_core.neighbours import NeighbourIndex, flatten_images

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.mark.parametrize("size", [0, -3, 60_001, True])
def test_a_bad_subset_size_gets_a_clear_message(size):
    with pytest.raises(ConfigError, match="between 1 and 60,000 digits"):
        subset(load_mnist("train"), size)
    with pytest.raises(ConfigError, match="between 1 and 60,000 digits"):
        subset_source("vae", size)


def test_a_subset_is_seeded_and_the_source_draws_only_from_it():
    train = load_mnist("train")
    digits, positions = subset(train, 100, seed=3)
    _, same = subset(train, 100, seed=3)
    assert np.array_equal(positions, same) and len(set(positions.tolist())) == 100
    assert not np.array_equal(positions, subset(train, 100, seed=4)[1])
    assert np.array_equal(digits.images, train.images[positions])
    source = subset_source("gan", 100, seed=3)
    batch = source.batch(256, torch.Generator().manual_seed(0))  # (256, 1, 28, 28) in [-1, 1]
    assert batch.min() >= -1 and len(source) == 100
    drawn = {bytes(row) for row in ((batch[:, 0] + 1) * 127.5).round().to(torch.uint8).numpy()}
    assert drawn <= {bytes(image) for image in digits.images}


@pytest.fixture(scope="module")
def small_space() -> tuple[NeighbourIndex, np.ndarray]:
    """The first 3,000 training digits (their positions are training positions) and a 300-digit yardstick."""
    index = NeighbourIndex(flatten_images(load_mnist("train").images[:3000]))
    return index, copying.nearest_distances(index, flatten_images(copying.reference_images(300)))


def test_chunked_distances_equal_one_search(small_space):
    index, _ = small_space
    rows = flatten_images(copying.reference_images(150))
    assert np.allclose(copying.nearest_distances(index, rows), index.search(rows, 1).distances[:, 0].numpy())


def test_copies_fresh_digits_and_noise_get_their_readings(small_space):
    index, reference = small_space
    train = load_mnist("train")
    copies = to_tensor(train.images[[5, 50, 500, 2999]], "unit") + 0.02  # (4, 1, 28, 28), near-exact copies
    check = copying.check_copies(copies.clamp(0, 1), index, reference)
    assert check.pixel.neighbours.indices[:, 0].tolist() == [5, 50, 500, 2999]
    assert check.pixel.neighbours.distances.shape == (4, copying.K)
    assert copying.reading(check.pixel.report) == "copies" and check.pixel.report.copy_share == 1.0
    fresh = to_tensor(load_mnist("test").images[-64:], "unit")  # not in the yardstick's subset (seeded, 300)
    assert copying.reading(copying.check_copies(fresh, index, reference).pixel.report) == "like_fresh"
    noise = torch.rand(16, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    assert copying.reading(copying.check_copies(noise, index, reference).pixel.report) == "farther"
    order = check.order()
    assert sorted(order.tolist()) == [0, 1, 2, 3]


def test_check_copies_refuses_bad_input(small_space):
    index, reference = small_space
    with pytest.raises(ConfigError, match="1 to 64 images"):
        copying.check_copies(torch.zeros(65, 1, 28, 28), index, reference)
    with pytest.raises(ConfigError, match="1 to 64 images"):
        copying.check_copies(torch.zeros(3, 28, 28), index, reference)


def test_the_lesson_is_reproducible_with_a_seed():
    def first_measurements(seed: int) -> list[float]:
        lesson = lessons.make_lesson("memorization", steps=3, measure_every=3, samples=8, reference_digits=50,
                                     seed=seed).run_to_end()
        return [r["median"] for r in lesson.records]
    assert first_measurements(0) == first_measurements(0) != first_measurements(1)


def test_the_lesson_refuses_bad_sizes():
    with pytest.raises(ConfigError, match="between 1 and 60,000 digits"):
        lessons.make_lesson("memorization", small=0)
    with pytest.raises(ConfigError, match="fewer digits"):
        lessons.make_lesson("memorization", small=60_000)


def test_on_100_digits_the_samples_come_far_closer_to_the_training_set_than_on_60000():
    """The lesson's point, at the quick sizes: against each training set's own yardstick (fresh digits' median
    distance to it), the 100-digit run's samples sit well below the 60,000-digit run's."""
    lesson = lessons.make_lesson("memorization", quick=True).run_to_end()
    numbers = lesson.outcome()
    assert numbers["ratio_small"] < 0.85 * numbers["ratio_full"]
    assert numbers["ratio_small"] < 0.9 < numbers["ratio_full"]
    # Both runs start from noise, far from every digit, and their distances fall as they learn.
    first = {r["arm"]: r["median"] for r in lesson.records if r["step"] == 0}
    assert first["small"] > numbers["median_small"] and first["full"] > numbers["median_full"]
    assert {"small", "small_nearest", "full", "full_nearest"} <= set(lesson.samples)
    assert lesson.samples["small_nearest"].shape == lesson.samples["small"].shape
