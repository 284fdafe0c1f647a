"""Label conditioning for the GAN and the VAE ("draw me a 7").

- Generator: the label's learned embedding is concatenated to z, so G(z, y) = body([z; e(y)]) (Mirza & Osindero, 2014).
- Discriminator: the projection discriminator of Miyato & Koyama (2018), D(x, y) = ψ(φ(x)) + ⟨V_y, φ(x)⟩: one
  unconditional score on D's features plus their inner product with the label's embedding. Without a label it is
  ψ(φ(x)) alone, the label-free part (what code that knows nothing of labels, e.g. a membership attack, reads).
- VAE: a one-hot label goes into the encoder beside x and into the decoder beside z (Sohn et al., 2015).

A generator or decoder called without labels draws the classes 0, 1, …, K-1, 0, 1, … in turn (`cycle_labels`), so
code that only knows G(z) still gets a balanced batch.
"""

import torch
from torch import nn
from torch.nn import functional as F

from ..errors import ConfigError
from .common import embedding

MAX_CLASSES = 1000  # a config check: a label table larger than this is a typo, not a model


def cycle_labels(n: int, num_classes: int, device: torch.device | str = "cpu") -> torch.Tensor:
    """0, 1, …, K-1, 0, 1, … (n labels): a balanced batch, the order an evaluation uses."""
    return (torch.arange(n) % num_classes).to(device)


def row_labels(num_classes: int, per_row: int, device: torch.device | str = "cpu") -> torch.Tensor:
    """0 × per_row, 1 × per_row, …: a grid drawn `per_row` wide shows one digit per row."""
    return torch.arange(num_classes).repeat_interleave(per_row).to(device)


def check_labels(labels: torch.Tensor, num_classes: int, n: int) -> None:
    """ConfigError unless `labels` are n whole numbers in 0 … K-1."""
    if labels.dim() != 1 or len(labels) != n:
        raise ConfigError(f"Expected {n} class labels, one per sample; got a tensor of shape {tuple(labels.shape)}.")
    if labels.dtype.is_floating_point or labels.dtype == torch.bool:
        raise ConfigError("Class labels must be whole numbers.")
    if n and (int(labels.min()) < 0 or int(labels.max()) >= num_classes):
        raise ConfigError(f"Class labels must lie in 0 … {num_classes - 1}; got {labels.tolist()[:8]}.")


def seed_embeddings(module: nn.Module, generator: torch.Generator) -> None:
    """N(0, 1) for every nn.Embedding (PyTorch's default, but from `generator` instead of the process RNG)."""
    if any(p.is_meta for p in module.parameters()):
        return
    with torch.no_grad():
        for layer in module.modules():
            if isinstance(layer, nn.Embedding):
                layer.weight.copy_(torch.randn(layer.weight.shape, generator=generator))


class ConditionalGenerator(nn.Module):
    """G(z, y) = body([z; e(y)]). `body` takes z_dim + label_dim inputs."""

    def __init__(self, body: nn.Module, num_classes: int, label_dim: int) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.label_embedding = embedding(num_classes, label_dim)
        self.body = body

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        if y is None:
            y = cycle_labels(len(z), self.num_classes, z.device)
        return self.body(torch.cat([z, self.label_embedding(y)], dim=1))


class ProjectionDiscriminator(nn.Module):
    """D(x, y) = ψ(φ(x)) + ⟨V_y, φ(x)⟩; `features` is φ (ends in a flat vector), `head` is the linear ψ."""

    def __init__(self, features: nn.Module, head: nn.Linear, num_classes: int) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.features = features
        self.head = head
        self.label_embedding = embedding(num_classes, head.in_features)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        phi = self.features(x)  # (B, F)
        score = self.head(phi)  # (B, 1)
        if y is None:
            return score
        return score + (self.label_embedding(y) * phi).sum(dim=1, keepdim=True)


def split_head(discriminator: nn.Sequential) -> tuple[nn.Sequential, nn.Linear]:
    """An unconditional D ending in a Linear(F, 1) -> (φ = everything before it, ψ = that layer); nested
    Sequentials (the MLP discriminator's) are opened up first."""
    layers: list[nn.Module] = []
    for layer in discriminator:
        layers.extend(layer if isinstance(layer, nn.Sequential) else [layer])
    head = layers[-1]
    if not isinstance(head, nn.Linear):
        raise ConfigError("A projection discriminator needs a network that ends in a linear layer.")
    return nn.Sequential(*layers[:-1]), head


def one_hot(labels: torch.Tensor, num_classes: int) -> torch.Tensor:
    return F.one_hot(labels, num_classes).float()
