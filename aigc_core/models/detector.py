"""A tiny real-or-generated detector for 28×28 digits: two strided convolutions and one logit.

Deliberately small (about 26 k parameters, 0.1 MB) so that it trains in a minute on a busy CPU: the point it makes is that
even a weak, cheap classifier separates most generated digits from real ones (Wang et al., 2020, "CNN-generated
images are surprisingly easy to spot... for now"). Trained by `aigc_core.detector`.
"""

from dataclasses import dataclass

import torch
from torch import nn

from .classifier import MNIST_MEAN, MNIST_STD
from .common import init_weights


@dataclass(frozen=True)
class DetectorConfig:
    width: int = 8  # channels of the first convolution; the second has twice as many
    hidden: int = 32  # units before the logit


class Detector(nn.Module):
    """x (B, 1, 28, 28) in [0, 1] -> (B,) logit of "generated"."""

    def __init__(self, config: DetectorConfig = DetectorConfig(), *, seed: int = 0) -> None:
        super().__init__()
        self.config = config
        w = config.width
        self.body = nn.Sequential(
            nn.Conv2d(1, w, 3, stride=2, padding=1), nn.LeakyReLU(0.2),  # (B, w, 14, 14)
            nn.Conv2d(w, 2 * w, 3, stride=2, padding=1), nn.LeakyReLU(0.2),  # (B, 2w, 7, 7)
            nn.Flatten(),  # (B, 2w * 49)
            nn.Linear(2 * w * 49, config.hidden), nn.LeakyReLU(0.2),
            nn.Linear(config.hidden, 1),
        )
        init_weights(self, torch.Generator().manual_seed(seed))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body((x - MNIST_MEAN) / MNIST_STD).squeeze(1)
