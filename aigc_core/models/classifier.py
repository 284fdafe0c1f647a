"""A small LeNet-style MNIST classifier (LeCun et al., 1998, with batch norm), used by the metrics.

`features(x)` returns the penultimate layer, on which FID is computed (Heusel et al., 2017).
"""

from dataclasses import dataclass

import torch
from torch import nn

from .common import init_weights

MNIST_MEAN, MNIST_STD = 0.1307, 0.3081


@dataclass(frozen=True)
class ClassifierConfig:
    width: int = 16  # 32 is no more accurate here and 10x slower to train on CPU
    features: int = 128


class Classifier(nn.Module):
    def __init__(self, config: ClassifierConfig = ClassifierConfig(), *, seed: int = 0) -> None:
        super().__init__()
        self.config = config
        w = config.width

        def block(c_in: int, c_out: int) -> list[nn.Module]:
            return [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU()]

        self.body = nn.Sequential(
            *block(1, w), *block(w, w), nn.MaxPool2d(2),  # (B, w, 14, 14)
            *block(w, 2 * w), *block(2 * w, 2 * w), nn.MaxPool2d(2),  # (B, 2w, 7, 7)
            nn.Flatten(), nn.Linear(2 * w * 49, config.features), nn.BatchNorm1d(config.features), nn.ReLU(),
        )
        self.head = nn.Linear(config.features, 10)
        init_weights(self, torch.Generator().manual_seed(seed))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """x: (B, 1, 28, 28) in [0, 1] -> (B, features)."""
        return self.body((x - MNIST_MEAN) / MNIST_STD)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))
