"""GAN networks (Goodfellow et al., 2014): a generator G(z) and a discriminator D(x) returning a logit.

Three families share one container, `GAN`:
- `MLPGANConfig`: fully connected G and D for 28x28 images (the source article's network is one
  instance of it, see `ARTICLE_GAN`);
- `DCGANConfig`: transposed-conv G and strided-conv D (Radford et al., 2016) for 28x28;
- `ToyGANConfig`: small MLPs for 2-D points (the playground).
With `num_classes` > 0 the MNIST GANs are class-conditional (`models.conditional`): G(z, y) and a projection
discriminator D(x, y) (Miyato & Koyama, 2018).
D always returns a raw score (a logit); each loss decides what to do with it. That is the fix for
the article's sigmoid-then-BCE, which saturates in float32.
"""

from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn

from .common import init_weights, mlp
from .conditional import ConditionalGenerator, ProjectionDiscriminator, seed_embeddings, split_head

Noise = Literal["gaussian", "uniform"]


@dataclass(frozen=True)
class MLPGANConfig:
    z_dim: int = 100
    g_hidden: tuple[int, ...] = (128, 128)
    d_hidden: tuple[int, ...] = (128,)
    slope: float = 0.01
    g_batchnorm: bool = False
    noise: Noise = "gaussian"
    num_classes: int = 0  # > 0: class-conditional (G(z, y), projection D); 0 = unconditional
    label_dim: int = 16  # size of the label embedding concatenated to z


# The source article's MNIST GAN, shape for shape: G 100-128-128-784 tanh, D 784-128-1, LeakyReLU(0.01).
ARTICLE_GAN = MLPGANConfig()
STRONG_MLP_GAN = MLPGANConfig(z_dim=64, g_hidden=(256, 512, 1024), d_hidden=(512, 256), slope=0.2, g_batchnorm=True)


@dataclass(frozen=True)
class DCGANConfig:
    z_dim: int = 64
    width: int = 64  # channels of D's first conv; G mirrors it
    noise: Noise = "gaussian"
    # One more stage in each network (about 1.5x the compute): G starts from 4w channels at 7x7 and ends with a
    # 3x3 conv at 28x28; D goes on down to 4x4. It lifts the classifier score past ~7 (see docs/PRETRAINED.md).
    deep: bool = False
    # D's last feature map gets one extra channel: the spread of its features across small groups of the batch
    # (minibatch standard deviation, Karras et al. 2018). A G that draws too few kinds of digit is easy to spot.
    minibatch_std: bool = False
    num_classes: int = 0  # > 0: class-conditional (G(z, y), projection D); 0 = unconditional
    label_dim: int = 16  # size of the label embedding concatenated to z


@dataclass(frozen=True)
class ToyGANConfig:
    z_dim: int = 2  # 1 or 2, as in GAN Lab
    hidden_layers: int = 2
    width: int = 32
    noise: Noise = "gaussian"


class _Unflatten(nn.Module):
    def __init__(self, shape: tuple[int, ...]) -> None:
        super().__init__()
        self.shape = shape

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.view(x.shape[0], *self.shape)


class MinibatchStd(nn.Module):
    """Appends one channel: the mean standard deviation of the features over runs of up to `group` samples.

    Groups are contiguous, so a joint pass over [real; fake] mixes the two halves unless the half batch is a
    multiple of the group size used (`keeps_halves_apart`); the trainer falls back to two passes otherwise.
    """

    def __init__(self, group: int = 4) -> None:
        super().__init__()
        self.group = group

    def group_size(self, batch: int) -> int:
        """The largest group of at most `group` samples that divides `batch`."""
        return next(n for n in range(min(self.group, batch), 0, -1) if batch % n == 0)

    def keeps_halves_apart(self, half: int) -> bool:
        """Whether, over a batch of 2 * `half`, no group takes samples from both halves."""
        return half % self.group_size(2 * half) == 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        g = self.group_size(b)
        spread = x.view(b // g, g, c, h, w).var(dim=1, unbiased=False).add(1e-8).sqrt()  # (b/g, c, h, w)
        per_group = spread.mean(dim=(1, 2, 3)).repeat_interleave(g).view(b, 1, 1, 1).expand(b, 1, h, w)
        return torch.cat([x, per_group], dim=1)


def _g_inputs(config: "MLPGANConfig | DCGANConfig") -> int:
    """G's input width: z, plus the label embedding for a conditional GAN."""
    return config.z_dim + (config.label_dim if config.num_classes > 0 else 0)


def _mlp_networks(config: MLPGANConfig) -> tuple[nn.Module, nn.Module]:
    generator = nn.Sequential(
        mlp((_g_inputs(config), *config.g_hidden, 784), slope=config.slope, batchnorm=config.g_batchnorm,
            final_activation=nn.Tanh()),
        _Unflatten((1, 28, 28)),  # (B, 784) -> (B, 1, 28, 28)
    )
    # The article fed (28, 28, 1) images to a Dense layer without flattening; we flatten first.
    discriminator = nn.Sequential(nn.Flatten(), mlp((784, *config.d_hidden, 1), slope=config.slope))
    return generator, discriminator


def _dcgan_networks(config: DCGANConfig) -> tuple[nn.Module, nn.Module]:
    w = config.width
    top = 4 * w if config.deep else 2 * w  # G's channels at 7x7
    generator: list[nn.Module] = [
        nn.Linear(_g_inputs(config), top * 7 * 7, bias=False),
        _Unflatten((top, 7, 7)),
        nn.BatchNorm2d(top),
        nn.ReLU(),
        nn.ConvTranspose2d(top, top // 2, 4, stride=2, padding=1, bias=False),  # (B, top/2, 14, 14)
        nn.BatchNorm2d(top // 2),
        nn.ReLU(),
    ]
    if config.deep:
        generator += [
            nn.ConvTranspose2d(2 * w, w, 4, stride=2, padding=1, bias=False),  # (B, w, 28, 28)
            nn.BatchNorm2d(w),
            nn.ReLU(),
            nn.Conv2d(w, 1, 3, padding=1),
        ]
    else:
        generator.append(nn.ConvTranspose2d(w, 1, 4, stride=2, padding=1))  # (B, 1, 28, 28)
    generator.append(nn.Tanh())
    discriminator: list[nn.Module] = [
        nn.Conv2d(1, w, 4, stride=2, padding=1),  # (B, w, 14, 14)
        nn.LeakyReLU(0.2),
        nn.Conv2d(w, 2 * w, 4, stride=2, padding=1),  # (B, 2w, 7, 7)
        nn.LeakyReLU(0.2),
    ]
    if config.deep:
        discriminator += [nn.Conv2d(2 * w, 4 * w, 3, stride=2, padding=1), nn.LeakyReLU(0.2)]  # (B, 4w, 4, 4)
    channels, side = (4 * w, 4) if config.deep else (2 * w, 7)
    if config.minibatch_std:
        discriminator.append(MinibatchStd())
        channels += 1
    discriminator += [nn.Flatten(), nn.Linear(channels * side * side, 1)]
    return nn.Sequential(*generator), nn.Sequential(*discriminator)


def _toy_networks(config: ToyGANConfig) -> tuple[nn.Module, nn.Module]:
    hidden = (config.width,) * config.hidden_layers
    generator = mlp((config.z_dim, *hidden, 2), slope=0.0)
    discriminator = mlp((2, *hidden, 1), slope=0.0)
    return generator, discriminator


GANConfig = MLPGANConfig | DCGANConfig | ToyGANConfig


class GAN(nn.Module):
    """Generator + discriminator, with the noise distribution they were trained on."""

    def __init__(self, config: GANConfig, *, seed: int = 0) -> None:
        super().__init__()
        self.config = config
        if isinstance(config, DCGANConfig):
            self.generator, self.discriminator = _dcgan_networks(config)
            scheme = "dcgan"
        elif isinstance(config, ToyGANConfig):
            self.generator, self.discriminator = _toy_networks(config)
            scheme = "default"
        else:
            self.generator, self.discriminator = _mlp_networks(config)
            scheme = "default"
        if self.num_classes > 0:
            self.generator = ConditionalGenerator(self.generator, self.num_classes, config.label_dim)
            self.discriminator = ProjectionDiscriminator(*split_head(self.discriminator), self.num_classes)
        rng = torch.Generator().manual_seed(seed)
        init_weights(self, rng, scheme)
        seed_embeddings(self, rng)

    @property
    def num_classes(self) -> int:
        return getattr(self.config, "num_classes", 0)

    @property
    def conditional(self) -> bool:
        return self.num_classes > 0

    @property
    def z_dim(self) -> int:
        return self.config.z_dim

    def sample_noise(self, n: int, generator: torch.Generator, device: torch.device | str = "cpu") -> torch.Tensor:
        """z ~ N(0, I) or U(-1, 1)^d, drawn on the CPU from `generator` so results do not depend on the device."""
        shape = (n, self.config.z_dim)
        if self.config.noise == "uniform":
            z = torch.rand(shape, generator=generator) * 2 - 1
        else:
            z = torch.randn(shape, generator=generator)
        return z.to(device)
