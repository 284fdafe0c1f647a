"""What the playground trains: the page's knobs (`PlaygroundSettings`), trainer pairs side by side, the curve
history, and a user's own points."""

from __future__ import annotations

import copy
import hashlib
import math
from dataclasses import dataclass, fields, replace
from typing import Literal, get_args
import numpy as np
import torch

from .. import losses, toy2d
from ..errors import ConfigError, DataError
from ..diffusion_trainer import DiffusionStats, DiffusionTrainConfig, DiffusionTrainer
from ..gan_trainer import GANStats, GANTrainConfig, GANTrainer
from ..models.gan import GAN, Noise, ToyGANConfig
from ..models.unet import ToyDenoiser, ToyDenoiserConfig
from ..optim import OptimizerConfig
from ..presets import get_preset
from ..toy2d import PointSource

CUSTOM = "custom"  # PlaygroundSettings.data for a user's own point set
Family = Literal["gan", "diffusion"]
FAMILIES: tuple[str, ...] = get_args(Family)
# Diffusion mode trains the `toy_diffusion` recipe; the page changes only its batch, step size and seed.
TOY_DIFFUSION = get_preset("toy_diffusion")
PlaygroundTrainer = GANTrainer | DiffusionTrainer
OPTIMIZER_KINDS: tuple[str, ...] = ("sgd", "adam")
PLAYGROUND_LOSSES: tuple[str, ...] = ("minimax", "non_saturating", "least_squares", "wgan_gp", "hinge")
MAX_HIDDEN_LAYERS = 4
MAX_WIDTH = 128
MAX_D_STEPS = 10  # k on the plane: D updates per G update (the GAN trainer allows more; GAN Lab offers up to 10)

# Fields whose change needs a fresh model; every other field applies from the next step.
RESET_FIELDS: tuple[str, ...] = ("family", "data", "data_id", "hidden_layers", "width", "z_dim", "noise", "seed", "pretrained")


# -- settings --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlaygroundSettings:
    """Every knob of the playground. Defaults are the `toy_gan` preset, so the shipped toy models fit them; in
    diffusion mode the `toy_diffusion` preset with batch_size, denoiser_lr and seed put in (the GAN fields rest)."""

    family: Family = "gan"
    data: str = "ring"  # a toy2d name or CUSTOM
    data_id: str = ""  # for CUSTOM: a digest of the points (`points_digest`), so new points count as new data
    hidden_layers: int = 2
    width: int = 64
    z_dim: int = 2  # 1 or 2
    noise: Noise = "gaussian"
    loss: losses.GANLoss = "non_saturating"
    g_optimizer: str = "adam"
    g_lr: float = 1e-3
    d_optimizer: str = "adam"
    d_lr: float = 1e-3
    d_steps: int = 1  # k
    batch_size: int = 256
    seed: int = 0
    pretrained: bool = False  # GAN only: there are no shipped denoisers for the plane
    denoiser_lr: float = TOY_DIFFUSION.train_config.optim.lr

    def validate(self) -> None:
        if self.family not in FAMILIES:
            raise ConfigError(f"Unknown model family {self.family!r}; choose one of {', '.join(FAMILIES)}.")
        if self.data != CUSTOM and self.data not in toy2d.TOY_DISTRIBUTIONS:
            raise ConfigError(f"Unknown data {self.data!r}; choose one of {', '.join(toy2d.TOY_DISTRIBUTIONS)} "
                              f"or {CUSTOM!r}.")
        if not 1 <= self.hidden_layers <= MAX_HIDDEN_LAYERS:
            raise ConfigError(f"Hidden layers must be between 1 and {MAX_HIDDEN_LAYERS}; got {self.hidden_layers}.")
        if not 1 <= self.width <= MAX_WIDTH:
            raise ConfigError(f"Neurons per layer must be between 1 and {MAX_WIDTH}; got {self.width}.")
        if self.z_dim not in (1, 2):
            raise ConfigError(f"Noise must be 1-D or 2-D; got {self.z_dim}-D.")
        if self.noise not in ("gaussian", "uniform"):
            raise ConfigError(f"Noise must be 'gaussian' or 'uniform'; got {self.noise!r}.")
        if self.loss not in PLAYGROUND_LOSSES:
            raise ConfigError(f"Unknown loss {self.loss!r}; choose one of {', '.join(PLAYGROUND_LOSSES)}.")
        for name, kind in (("Generator", self.g_optimizer), ("Discriminator", self.d_optimizer)):
            if kind not in OPTIMIZER_KINDS:
                raise ConfigError(f"{name}: optimizer must be one of {', '.join(OPTIMIZER_KINDS)}; got {kind!r}.")
        self.train_config().validate()

    def model_config(self) -> ToyGANConfig | ToyDenoiserConfig:
        if self.family == "diffusion":
            return TOY_DIFFUSION.model_config
        return ToyGANConfig(z_dim=self.z_dim, hidden_layers=self.hidden_layers, width=self.width, noise=self.noise)

    def train_config(self) -> GANTrainConfig | DiffusionTrainConfig:
        if self.family == "diffusion":
            base: DiffusionTrainConfig = TOY_DIFFUSION.train_config
            return replace(base, batch_size=self.batch_size, optim=replace(base.optim, lr=self.denoiser_lr),
                           seed=self.seed)
        return GANTrainConfig(
            loss=self.loss,
            batch_size=self.batch_size,
            d_steps=self.d_steps,
            g_optim=_optimizer(self.g_optimizer, self.g_lr),
            d_optim=_optimizer(self.d_optimizer, self.d_lr),
            seed=self.seed,
        )


def _optimizer(kind: str, lr: float) -> OptimizerConfig:
    # Adam with beta1 = 0.5 (Radford et al., 2016) as in our presets; plain SGD without momentum, as in GAN Lab.
    return OptimizerConfig(kind=kind, lr=lr, beta1=0.5 if kind == "adam" else 0.0)  # type: ignore[arg-type]


def reset_changes(old: PlaygroundSettings, new: PlaygroundSettings) -> list[str]:
    """Names of the fields that differ and need a fresh model (in RESET_FIELDS order); [] = apply live."""
    return [name for name in RESET_FIELDS if getattr(old, name) != getattr(new, name)]


def live_changes(old: PlaygroundSettings, new: PlaygroundSettings) -> list[str]:
    """Names of the fields that differ and apply from the next step."""
    return [f.name for f in fields(PlaygroundSettings) if f.name not in RESET_FIELDS
            and getattr(old, f.name) != getattr(new, f.name)]


def points_digest(points: torch.Tensor) -> str:
    """A short digest of a point set (N, 2): equal points give equal digests."""
    array = np.ascontiguousarray(points.detach().cpu().numpy().astype(np.float32))
    return hashlib.sha256(array.tobytes()).hexdigest()[:16]


def pretrained_name(data: str) -> str:
    """Folder name under pretrained/ of the shipped model for a built-in distribution (`toy_<data>`)."""
    return f"toy_{data}"


def fresh_copy(model: GAN) -> GAN:
    """A trainable copy of a (shared, read-only) model, e.g. a cached pretrained checkpoint."""
    clone = copy.deepcopy(model)
    return clone.train().requires_grad_(True)


# -- history -------------------------------------------------------------------------------------------------


_COLUMNS = ("step", "d_loss", "g_loss", "kl", "js", "loss")


@dataclass
class History:
    """Curves over training: one row per redraw, thinned to at most `limit` rows (every other row dropped).

    A GAN records d_loss and g_loss; a denoiser, one network with one objective, records `loss` (the simple loss)
    and leaves d_loss and g_loss NaN, as a GAN leaves `loss` (the charts drop NaN)."""

    limit: int = 300  # a point per pixel of the 300 px charts; every row is redrawn each frame
    step: list[int] | None = None
    d_loss: list[float] | None = None
    g_loss: list[float] | None = None
    kl: list[float] | None = None
    js: list[float] | None = None
    loss: list[float] | None = None

    def __post_init__(self) -> None:
        for name in _COLUMNS:
            if getattr(self, name) is None:
                setattr(self, name, [])

    def __len__(self) -> int:
        return len(self.step)  # type: ignore[arg-type]

    def record(self, step: int, d_loss: float, g_loss: float, kl: float, js: float, loss: float = math.nan) -> None:
        later = next((i for i, s in enumerate(self.step) if s > step), None)  # type: ignore[arg-type]
        if later is not None:  # the trainer rolled back after a divergence: those rows are to be redone
            for name in _COLUMNS:
                del getattr(self, name)[later:]
        row = {"step": step, "d_loss": d_loss, "g_loss": g_loss, "kl": kl, "js": js, "loss": loss}
        if self.step and step == self.step[-1]:  # a redraw without training: refresh the row
            for name in _COLUMNS[1:]:
                getattr(self, name)[-1] = row[name]
            return
        for name in _COLUMNS:
            getattr(self, name).append(row[name])
        if len(self) > self.limit:
            for name in _COLUMNS:
                column = getattr(self, name)
                setattr(self, name, column[:-1:2] + column[-1:])  # keep the newest row


def mean_losses(records: list[GANStats], fallback: GANStats) -> tuple[float, float]:
    """Mean D and G loss over a slice's records (the trainer's last record when the slice was empty).
    NaN entries (an update that has not happened yet) are skipped."""
    rows = records or [fallback]
    result = []
    for name in ("d_loss", "g_loss"):
        values = [getattr(r, name) for r in rows if math.isfinite(getattr(r, name))]
        result.append(sum(values) / len(values) if values else float("nan"))
    return result[0], result[1]


def mean_loss(records: list[DiffusionStats], fallback: DiffusionStats) -> float:
    """Mean denoising loss over a slice's records (the trainer's last record when the slice was empty)."""
    values = [r.loss for r in (records or [fallback]) if math.isfinite(r.loss)]
    return sum(values) / len(values) if values else math.nan


# -- side by side ---------------------------------------------------------------------------------------------


class TrainerPair:
    """Two trainers stepped together: `step()` advances both by one iteration (it works with run_slice).

    Built by `build_pair` from one model: the same initial weights, the same data pool and the same seed,
    so the runs differ only in the hyperparameters that were changed.
    """

    def __init__(self, first: GANTrainer, second: GANTrainer) -> None:
        self.trainers = (first, second)

    def step(self) -> tuple[GANStats, GANStats]:
        return self.trainers[0].step(), self.trainers[1].step()

    @property
    def iteration(self) -> int:
        return self.trainers[0].iteration


def build_trainer(
    settings: PlaygroundSettings, source: PointSource, *, model: GAN | None = None, device: torch.device | str = "cpu"
) -> PlaygroundTrainer:
    """A trainer for the settings on `source`; `model` (e.g. a pretrained copy) replaces a fresh one (GAN only)."""
    settings.validate()
    if settings.family == "diffusion":
        if model is not None:
            raise ConfigError("Diffusion mode starts from a fresh denoiser; there are no pretrained ones.")
        denoiser = ToyDenoiser(settings.model_config(), seed=settings.seed)  # type: ignore[arg-type]
        return DiffusionTrainer(denoiser, source, settings.train_config(), device=device)  # type: ignore[arg-type]
    if model is None:
        model = GAN(settings.model_config(), seed=settings.seed)
    elif model.config != settings.model_config():
        raise ConfigError("The model does not match the settings' architecture; reset to apply the settings.")
    return GANTrainer(model, source, settings.train_config(), device=device)


def build_pair(
    first: PlaygroundSettings,
    second: PlaygroundSettings,
    source: PointSource,
    *,
    model: GAN | None = None,
    device: torch.device | str = "cpu",
) -> TrainerPair:
    """Two trainers from identical initial weights. `second` may differ from `first` in live fields only."""
    if first.family != "gan":
        raise ConfigError("Side by side compares two GAN configurations.")
    if reset_changes(first, second):
        raise ConfigError(f"Side-by-side runs must share data, architecture and seed; "
                          f"these differ: {', '.join(reset_changes(first, second))}.")
    a = build_trainer(first, source, model=model, device=device)
    b = build_trainer(second, source, model=fresh_copy(a.model), device=device)
    return TrainerPair(a, b)


# -- your own points -------------------------------------------------------------------------------------------


def candidate_grid(spacing: float = 0.25, bounds: tuple[float, float] = (-3.0, 3.0)) -> torch.Tensor:
    """Points a user can pick on the plane (click, box or lasso), (M, 2) row by row."""
    ticks = torch.arange(bounds[0], bounds[1] + spacing / 2, spacing, dtype=torch.float32)
    ys, xs = torch.meshgrid(ticks, ticks, indexing="ij")
    return torch.stack([xs.reshape(-1), ys.reshape(-1)], dim=1)


def spray(centers: torch.Tensor | np.ndarray, per_point: int = 24, std: float = 0.08, seed: int = 0) -> torch.Tensor:
    """A small Gaussian cloud around each picked point, (K * per_point, 2), like GAN Lab's brush: a handful of
    exact points would let D memorise them, a cloud gives a density to learn. Validated like an upload."""
    c = torch.as_tensor(np.asarray(centers, dtype=np.float32))  # (K, 2); one picked point is fine
    if c.ndim != 2 or c.shape[1] != 2 or len(c) == 0:
        raise DataError(f"Picked points must be a non-empty table of (x, y); got shape {tuple(c.shape)}.")
    generator = torch.Generator().manual_seed(seed)
    noise = torch.randn((len(c), per_point, 2), generator=generator) * std
    return toy2d.validate_points((c[:, None, :] + noise).reshape(-1, 2))
