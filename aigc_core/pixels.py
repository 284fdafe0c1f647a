"""The one place where pixel ranges change.

MNIST is stored as uint8 in [0, 255]. GAN generators work in [-1, 1] (tanh output), VAEs and the
classifier in [0, 1].
"""

import torch


def uint8_to_unit(images: torch.Tensor) -> torch.Tensor:
    """uint8 [0, 255] -> float32 [0, 1]."""
    return images.to(torch.float32) / 255.0


def uint8_to_signed(images: torch.Tensor) -> torch.Tensor:
    """uint8 [0, 255] -> float32 [-1, 1]."""
    return images.to(torch.float32) / 127.5 - 1.0


def signed_to_unit(images: torch.Tensor) -> torch.Tensor:
    """[-1, 1] -> [0, 1], clamped so display code never sees out-of-range values."""
    return ((images + 1.0) * 0.5).clamp(0.0, 1.0)


def unit_to_signed(images: torch.Tensor) -> torch.Tensor:
    """[0, 1] -> [-1, 1]."""
    return images * 2.0 - 1.0


def unit_to_uint8(images: torch.Tensor) -> torch.Tensor:
    """[0, 1] float -> uint8 [0, 255], rounding to nearest."""
    return (images.clamp(0.0, 1.0) * 255.0).round().to(torch.uint8)
