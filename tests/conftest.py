"""Fixtures shared by the trainer tests (test_trainers.py, test_trainer_safety.py): real MNIST digits, small."""

import pytest
import torch

from aigc_core.mnist import Digits, ImageSource, load_mnist


@pytest.fixture(scope="module")
def one_thread():
    """Tiny models: one thread is fastest, and two OpenMP threads on a busy 2-core machine can be 30x slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def digits() -> Digits:
    test = load_mnist("test")
    return Digits(images=test.images[:512], labels=test.labels[:512])


@pytest.fixture(scope="module")
def signed(digits) -> ImageSource:
    return ImageSource(digits, pixel_range="signed")


@pytest.fixture(scope="module")
def unit(digits) -> ImageSource:
    return ImageSource(digits, pixel_range="unit")

