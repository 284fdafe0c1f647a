"""Building blocks shared by the models, and seeded weight initialisation.

PyTorch's default initialisers draw from the process-wide RNG, which every browser session on the
server shares; `init_weights` redraws every weight from a caller-supplied generator instead, so the
same seed always gives the same network.
"""

import math
from typing import Literal

import torch
from torch import nn

InitScheme = Literal["default", "dcgan"]


def mlp(
    sizes: tuple[int, ...],
    *,
    slope: float = 0.2,
    batchnorm: bool = False,
    final_activation: nn.Module | None = None,
) -> nn.Sequential:
    """Linear layers of the given sizes with LeakyReLU(slope) between them (ReLU when slope == 0)."""
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(n_in, n_out))
        if i < len(sizes) - 2:
            if batchnorm:
                layers.append(nn.BatchNorm1d(n_out))
            layers.append(nn.LeakyReLU(slope) if slope > 0 else nn.ReLU())
    if final_activation is not None:
        layers.append(final_activation)
    return nn.Sequential(*layers)


@torch.no_grad()
def init_weights(module: nn.Module, generator: torch.Generator, scheme: InitScheme = "default") -> None:
    """Redraw all weights from `generator` (CPU). "default" mirrors PyTorch's uniform(±1/sqrt(fan_in));
    "dcgan" uses N(0, 0.02) as in Radford et al. (2016). A model on the meta device (built only to be sized, see
    `models.size`) has no values to draw."""
    if any(p.is_meta for p in module.parameters()):
        return
    for layer in module.modules():
        if isinstance(layer, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
            weight = layer.weight
            if isinstance(layer, nn.ConvTranspose2d):
                fan_in = weight.shape[0] * weight[0, 0].numel()
            else:
                fan_in = weight[0].numel()
            bound = 1.0 / math.sqrt(max(fan_in, 1))
            if scheme == "dcgan":
                new = torch.randn(weight.shape, generator=generator) * 0.02
            else:
                new = (torch.rand(weight.shape, generator=generator) * 2 - 1) * bound
            weight.copy_(new)
            if layer.bias is not None:
                if scheme == "dcgan":
                    layer.bias.zero_()
                else:
                    layer.bias.copy_((torch.rand(layer.bias.shape, generator=generator) * 2 - 1) * bound)
        elif isinstance(layer, (nn.BatchNorm1d, nn.BatchNorm2d)):
            if layer.weight is not None:
                if scheme == "dcgan":
                    layer.weight.copy_(1.0 + torch.randn(layer.weight.shape, generator=generator) * 0.02)
                else:
                    layer.weight.fill_(1.0)
                layer.bias.zero_()
            layer.reset_running_stats()


def embedding(num: int, dim: int) -> nn.Embedding:
    """An nn.Embedding whose weights are left for the caller to seed (every model here redraws them from its own
    generator). Skipping PyTorch's own N(0, 1) draw also spares the size check (`models.size`, on the meta device)
    about a second of lazy imports that the first normal_() on a meta tensor costs."""
    return nn.Embedding(num, dim, _weight=torch.empty(num, dim))


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())
