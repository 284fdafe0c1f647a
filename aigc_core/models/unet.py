"""Denoisers for diffusion models: ε_θ(x_t, t, y) (or v_θ) for 28x28 images and for 2-D points.

- `UNet`: a compact U-Net (Ronneberger et al., 2015) as DDPM uses it (Ho et al., 2020): residual blocks with
  GroupNorm (Wu & He, 2018) and SiLU, a sinusoidal time embedding (Vaswani et al., 2017) passed through an MLP and
  added inside every block, and an optional class embedding added to it (for classifier-free guidance, Ho &
  Salimans, 2022). The image is first folded into `patch`² channels at (28/patch)² positions (pixel unshuffle, as
  ViT/DiT patches do): at 28x28 a 32-channel map is memory-bound on a CPU (a 3x3 conv runs at ~90 GFLOP/s against
  ~210 at 14x14 on the 2-core target, and GroupNorm + SiLU 25x slower), so the work happens at 14x14 and 7x7.
  `patch=1` gives the plain full-resolution U-Net.
- `ToyDenoiser`: an MLP for 2-D points with the same time (and optional class) embedding added per layer.

Both take `forward(x_t, t, y=None)`: x_t (B, ...), t (B,) integer or float timesteps, y (B,) labels in
0 … num_classes - 1, or the null label `num_classes` (= unconditional), or None (all unconditional). Dropping labels
during training is the trainer's job. Each config also names the process its weights belong to (noise schedule,
T, ε- or v-prediction), so a checkpoint is enough to sample from.
"""

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..diffusion import MAX_TIMESTEPS, PREDICTIONS, SCHEDULES, Prediction, ScheduleKind
from ..errors import ConfigError
from .common import embedding, init_weights
from .conditional import seed_embeddings

IMAGE_SIDE = 28
MAX_CHANNELS = 512


@dataclass(frozen=True)
class UNetConfig:
    channels: tuple[int, ...] = (32, 64)  # per resolution: 28/patch, then halved at each further level
    patch: int = 2  # pixel-unshuffle factor: 2 folds 28x28x1 into 14x14x4; 1 is a plain full-resolution U-Net
    blocks: int = 1  # residual blocks per level on the way down (one more, taking the skip, on the way up)
    time_dim: int = 128  # width of the time (+ class) embedding
    groups: int = 8  # GroupNorm groups
    num_classes: int = 10  # 0 = unconditional; label `num_classes` is the null label ∅
    schedule: ScheduleKind = "cosine"  # the noise schedule the weights are trained for
    timesteps: int = 1000  # T
    prediction: Prediction = "epsilon"  # what the network outputs: ε or v

    def validate(self) -> None:
        _check_process(self)
        if self.patch not in (1, 2, 4):
            raise ConfigError(f"U-Net patch must be 1, 2 or 4; got {self.patch!r}.")
        if not 1 <= len(self.channels) <= 3 or not all(isinstance(c, int) and 1 <= c <= MAX_CHANNELS for c in self.channels):
            raise ConfigError(f"U-Net channels must be 1 to 3 levels of 1 … {MAX_CHANNELS}; got {self.channels!r}.")
        side = IMAGE_SIDE // self.patch
        if side % 2 ** (len(self.channels) - 1):
            raise ConfigError(f"{len(self.channels)} levels do not fit {side}x{side} positions (each level halves it).")
        if self.groups < 1 or any(c % self.groups for c in self.channels):
            raise ConfigError(f"U-Net channels {self.channels} must be multiples of groups = {self.groups}.")
        if not 1 <= self.blocks <= 4 or not 8 <= self.time_dim <= 1024 or not 0 <= self.num_classes <= 1000:
            raise ConfigError(f"U-Net blocks must be 1-4, time_dim 8-1024 and num_classes 0-1000; got {self}.")


@dataclass(frozen=True)
class ToyDenoiserConfig:
    width: int = 128
    layers: int = 3  # hidden layers, each with the time embedding added
    time_dim: int = 32
    num_classes: int = 0  # 0 = unconditional
    schedule: ScheduleKind = "linear"
    timesteps: int = 200
    prediction: Prediction = "epsilon"

    def validate(self) -> None:
        _check_process(self)
        if not 1 <= self.width <= 4096 or not 1 <= self.layers <= 16 or not 2 <= self.time_dim <= 1024 or self.time_dim % 2:
            raise ConfigError(f"Toy denoiser: width 1-4096, layers 1-16 and an even time_dim 2-1024 needed; got {self}.")
        if not 0 <= self.num_classes <= 1000:
            raise ConfigError(f"Toy denoiser: num_classes must be 0-1000; got {self.num_classes}.")


def _check_process(config: "UNetConfig | ToyDenoiserConfig") -> None:
    """The process fields: a known schedule and prediction, and a valid T."""
    if config.schedule not in SCHEDULES:
        raise ConfigError(f"Unknown noise schedule {config.schedule!r}; choose one of {', '.join(SCHEDULES)}.")
    if config.prediction not in PREDICTIONS:
        raise ConfigError(f"Unknown prediction {config.prediction!r}; choose one of {', '.join(PREDICTIONS)}.")
    if isinstance(config.timesteps, bool) or not isinstance(config.timesteps, int) or not 1 <= config.timesteps <= MAX_TIMESTEPS:
        raise ConfigError(f"T must be a whole number from 1 to {MAX_TIMESTEPS}; got {config.timesteps!r}.")


def sinusoidal_embedding(t: torch.Tensor, dim: int, max_period: float = 10_000.0) -> torch.Tensor:
    """Transformer position encoding of the timestep (Vaswani et al., 2017; Ho et al., 2020):
    [sin(t ω_i), cos(t ω_i)] with ω_i = max_period^(-i / (dim/2)), i = 0 … dim/2 - 1. t (B,) -> (B, dim)."""
    half = dim // 2
    omega = torch.exp(-math.log(max_period) * torch.arange(half, device=t.device, dtype=torch.float32) / half)
    angles = t.float()[:, None] * omega[None]  # (B, half)
    return torch.cat([angles.sin(), angles.cos()], dim=1)


class _Embedding(nn.Module):
    """e(t, y) = MLP(sinusoid(t)) + E[y]; y = None or the null label embeds ∅ (a learned vector of its own)."""

    def __init__(self, time_dim: int, num_classes: int, sinusoid_dim: int) -> None:
        super().__init__()
        self.sinusoid_dim, self.num_classes = sinusoid_dim, num_classes
        self.mlp = nn.Sequential(nn.Linear(sinusoid_dim, time_dim), nn.SiLU(), nn.Linear(time_dim, time_dim))
        self.label = embedding(num_classes + 1, time_dim) if num_classes > 0 else None

    def forward(self, t: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
        e = self.mlp(sinusoidal_embedding(t, self.sinusoid_dim))  # (B, time_dim)
        if self.label is not None:
            if y is None:
                y = torch.full((len(t),), self.num_classes, dtype=torch.long, device=t.device)
            e = e + self.label(y)
        return e


class ResBlock(nn.Module):
    """GN -> SiLU -> conv3x3 -> + proj(e) -> GN -> SiLU -> conv3x3, plus a (1x1) skip (Ho et al.'s block, no dropout)."""

    def __init__(self, c_in: int, c_out: int, time_dim: int, groups: int) -> None:
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, c_in)
        self.conv1 = nn.Conv2d(c_in, c_out, 3, padding=1)
        self.time = nn.Linear(time_dim, c_out)
        self.norm2 = nn.GroupNorm(groups, c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1)
        self.skip = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else nn.Identity()

    def forward(self, x: torch.Tensor, e: torch.Tensor) -> torch.Tensor:
        # e is SiLU(embedding), (B, time_dim); shapes (B, c, H, W) throughout
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.time(e)[:, :, None, None]
        h = self.conv2(F.silu(self.norm2(h)))
        return h + self.skip(x)


def _seeded_init(module: nn.Module, seed: int) -> None:
    """Every weight from one generator: init_weights for convs and linears, N(0, 1) for embeddings (PyTorch's
    default, which would draw from the process-wide RNG)."""
    generator = torch.Generator().manual_seed(seed)
    init_weights(module, generator)
    seed_embeddings(module, generator)


class UNet(nn.Module):
    clip_denoised = True  # images live in [-1, 1], so samplers may clamp x̂_0 there

    def __init__(self, config: UNetConfig = UNetConfig(), *, seed: int = 0) -> None:
        super().__init__()
        config.validate()
        self.config = config
        ch, d, g = config.channels, config.time_dim, config.groups
        self.embedding = _Embedding(d, config.num_classes, sinusoid_dim=max(32, ch[0]))
        folded = config.patch**2
        self.stem = nn.Conv2d(folded, ch[0], 3, padding=1)  # (B, ch0, 28/p, 28/p)
        self.down = nn.ModuleList()
        self.downsample = nn.ModuleList()
        for i, c in enumerate(ch):
            self.down.append(nn.ModuleList(ResBlock(c, c, d, g) for _ in range(config.blocks)))
            if i < len(ch) - 1:
                self.downsample.append(nn.Conv2d(c, ch[i + 1], 3, stride=2, padding=1))  # halves H, W
        self.middle = ResBlock(ch[-1], ch[-1], d, g)
        self.up = nn.ModuleList()
        self.upsample = nn.ModuleList()
        for i in reversed(range(len(ch))):
            c = ch[i]
            blocks = [ResBlock(2 * c, c, d, g)] + [ResBlock(c, c, d, g) for _ in range(config.blocks - 1)]
            self.up.append(nn.ModuleList(blocks))
            if i > 0:
                self.upsample.append(nn.ConvTranspose2d(c, ch[i - 1], 4, stride=2, padding=1))  # doubles H, W
        self.out_norm = nn.GroupNorm(g, ch[0])
        self.out = nn.Conv2d(ch[0], folded, 3, padding=1)
        _seeded_init(self, seed)

    @property
    def null_label(self) -> int:
        return self.config.num_classes

    @property
    def sample_shape(self) -> tuple[int, ...]:
        return (1, IMAGE_SIDE, IMAGE_SIDE)

    def forward(self, x_t: torch.Tensor, t: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """x_t (B, 1, 28, 28), t (B,), y (B,) or None -> ε̂ or v̂ (B, 1, 28, 28)."""
        e = F.silu(self.embedding(t, y))  # (B, time_dim); every block reads SiLU(e)
        h = self.stem(F.pixel_unshuffle(x_t, self.config.patch))  # (B, ch0, 28/p, 28/p)
        skips = []
        for i, blocks in enumerate(self.down):
            for block in blocks:
                h = block(h, e)
            skips.append(h)
            if i < len(self.downsample):
                h = self.downsample[i](h)  # (B, ch[i+1], H/2, W/2)
        h = self.middle(h, e)
        for j, blocks in enumerate(self.up):
            h = torch.cat([h, skips.pop()], dim=1)  # (B, 2c, H, W)
            for block in blocks:
                h = block(h, e)
            if j < len(self.upsample):
                h = self.upsample[j](h)  # (B, c_prev, 2H, 2W)
        out = self.out(F.silu(self.out_norm(h)))  # (B, p², 28/p, 28/p)
        return F.pixel_shuffle(out, self.config.patch)  # (B, 1, 28, 28)

    def sample_noise(self, n: int, generator: torch.Generator, device: torch.device | str = "cpu") -> torch.Tensor:
        """x_T ~ N(0, I), (n, 1, 28, 28), drawn on the CPU from `generator`."""
        return torch.randn((n, *self.sample_shape), generator=generator).to(device)


class ToyDenoiser(nn.Module):
    clip_denoised = False  # points are not bounded

    def __init__(self, config: ToyDenoiserConfig = ToyDenoiserConfig(), *, seed: int = 0) -> None:
        super().__init__()
        config.validate()
        self.config = config
        w = config.width
        self.embedding = _Embedding(w, config.num_classes, sinusoid_dim=config.time_dim)
        self.inp = nn.Linear(2, w)
        self.hidden = nn.ModuleList(nn.Linear(w, w) for _ in range(config.layers))
        self.time = nn.ModuleList(nn.Linear(w, w) for _ in range(config.layers))
        self.out = nn.Linear(w, 2)
        _seeded_init(self, seed)

    @property
    def null_label(self) -> int:
        return self.config.num_classes

    @property
    def sample_shape(self) -> tuple[int, ...]:
        return (2,)

    def forward(self, x_t: torch.Tensor, t: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """x_t (B, 2), t (B,), y (B,) or None -> ε̂ or v̂ (B, 2)."""
        e = F.silu(self.embedding(t, y))  # (B, width)
        h = self.inp(x_t)
        for layer, time in zip(self.hidden, self.time):
            h = F.silu(layer(F.silu(h)) + time(e))  # (B, width)
        return self.out(h)

    def sample_noise(self, n: int, generator: torch.Generator, device: torch.device | str = "cpu") -> torch.Tensor:
        return torch.randn((n, 2), generator=generator).to(device)


Denoiser = UNet | ToyDenoiser
DenoiserConfig = UNetConfig | ToyDenoiserConfig
