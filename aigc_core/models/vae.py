"""Variational auto-encoder (Kingma & Welling, 2014).

encode(x) -> (mu, logvar); z = mu + exp(logvar / 2) * eps (the reparameterisation trick);
decode(z) -> logits of Bernoulli pixel means. Inputs are (B, 1, 28, 28) in [0, 1].
A conditional VAE (`VAEMLPConfig.num_classes` > 0; Sohn et al., 2015) sees the one-hot label y beside x in the
encoder and beside z in the decoder: encode(x, y), decode(z, y). Its z then keeps what the label does not say: the
handwriting (style), while y picks the digit (content).
"""

from dataclasses import dataclass

import torch
from torch import nn

from ..errors import ConfigError
from .common import init_weights, mlp
from .conditional import check_labels, cycle_labels, one_hot


@dataclass(frozen=True)
class VAEMLPConfig:
    z_dim: int = 20
    hidden: tuple[int, ...] = (400,)
    num_classes: int = 0  # > 0: a conditional VAE (one-hot label into encoder and decoder); 0 = unconditional


@dataclass(frozen=True)
class VAEConvConfig:
    z_dim: int = 16
    width: int = 32


VAEConfig = VAEMLPConfig | VAEConvConfig


class VAE(nn.Module):
    def __init__(self, config: VAEConfig, *, seed: int = 0) -> None:
        super().__init__()
        self.config = config
        z = config.z_dim
        if isinstance(config, VAEConvConfig):
            w = config.width
            self.encoder = nn.Sequential(
                nn.Conv2d(1, w, 4, stride=2, padding=1), nn.ReLU(),  # (B, w, 14, 14)
                nn.Conv2d(w, 2 * w, 4, stride=2, padding=1), nn.ReLU(),  # (B, 2w, 7, 7)
                nn.Flatten(), nn.Linear(2 * w * 49, 256), nn.ReLU(),
            )
            self.to_stats = nn.Linear(256, 2 * z)
            self.decoder = nn.Sequential(
                nn.Linear(z, 256), nn.ReLU(), nn.Linear(256, 2 * w * 49), nn.ReLU(),
                nn.Unflatten(1, (2 * w, 7, 7)),
                nn.ConvTranspose2d(2 * w, w, 4, stride=2, padding=1), nn.ReLU(),  # (B, w, 14, 14)
                nn.ConvTranspose2d(w, 1, 4, stride=2, padding=1),  # (B, 1, 28, 28) logits
            )
        else:
            c = self.num_classes
            self.encoder = nn.Sequential(nn.Flatten(), mlp((784 + c, *config.hidden), slope=0.0), nn.ReLU())
            self.to_stats = nn.Linear(config.hidden[-1], 2 * z)
            self.decoder = nn.Sequential(
                mlp((z + c, *reversed(config.hidden), 784), slope=0.0), nn.Unflatten(1, (1, 28, 28))
            )
        init_weights(self, torch.Generator().manual_seed(seed))

    @property
    def num_classes(self) -> int:
        return getattr(self.config, "num_classes", 0)

    @property
    def conditional(self) -> bool:
        return self.num_classes > 0

    def _labelled(self, values: torch.Tensor, y: torch.Tensor | None, what: str) -> torch.Tensor:
        """[values; one_hot(y)] for a conditional VAE (values flattened); values unchanged otherwise."""
        if not self.conditional:
            return values
        if y is None:
            raise ConfigError(f"This conditional VAE needs the digit's label to {what}.")
        check_labels(y, self.num_classes, len(values))
        return torch.cat([values.flatten(1), one_hot(y.to(values.device), self.num_classes)], dim=1)

    @property
    def z_dim(self) -> int:
        return self.config.z_dim

    def encode(self, x: torch.Tensor, y: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        mu, logvar = self.to_stats(self.encoder(self._labelled(x, y, "encode a digit"))).chunk(2, dim=1)  # (B, z)
        return mu, logvar

    @staticmethod
    def reparameterize(mu: torch.Tensor, logvar: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
        return mu + torch.exp(0.5 * logvar) * eps

    def decode(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """Logits (B, 1, 28, 28); sigmoid gives pixel means in [0, 1]. A conditional VAE without labels draws the
        digits 0-9 in turn (`cycle_labels`)."""
        if self.conditional and y is None:
            y = cycle_labels(len(z), self.num_classes, z.device)
        return self.decoder(self._labelled(z, y, "decode"))

    def forward(
        self, x: torch.Tensor, eps: torch.Tensor, y: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        mu, logvar = self.encode(x, y)
        return self.decode(self.reparameterize(mu, logvar, eps), y), mu, logvar

    def sample_noise(self, n: int, generator: torch.Generator, device: torch.device | str = "cpu") -> torch.Tensor:
        return torch.randn((n, self.config.z_dim), generator=generator).to(device)
