"""The 2-D GAN playground: what GAN Lab (Kahng et al., "GAN Lab: Understanding Complex Deep Generative Models
using Interactive Visual Experimentation", IEEE VIS 2018) draws, computed from a `GANTrainer` on 2-D points.

- the discriminator heatmap: D's verdict on a grid of the plane (a probability for the logit losses);
- the generator manifold: a grid (or, for 1-D noise, a line) in noise space pushed through G;
- generator gradients: -dl/dG(z) on generated points, where l is the per-sample generator loss
  (L_G = mean_i l(G(z_i))), i.e. the direction in which the next G update wants each point to move;
- KL / JS divergences between real and generated grid histograms (`metrics.grid_kl_js`) and mode coverage
  (`metrics.mode_coverage`, the VEEGAN count) for the distributions that have modes;
- `PlaygroundSettings`: the page's knobs as one frozen record, split into what applies from the next step
  (`GANTrainer.update_config`) and what needs a fresh model (architecture, noise, data, seed);
- `TrainerPair`: two configurations trained side by side on the same data from the same initial weights;
- `one_thread()`: run these tiny networks on one CPU thread (see its docstring for why and what it costs).

Everything here is plain PyTorch/NumPy; display functions run under `torch.inference_mode()`.
"""

from __future__ import annotations

import copy
import hashlib
import math
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
import numpy as np
import torch
from torch import nn

from . import losses, metrics, toy2d
from .errors import ConfigError, DataError
from .gan_trainer import GANStats, GANTrainConfig, GANTrainer, generate
from .models.gan import GAN, Noise, ToyGANConfig
from .optim import OptimizerConfig
from .toy2d import PointSource

PLANE_BOUNDS: tuple[float, float] = (-3.5, 3.5)  # the square every view draws (toy2d keeps data inside it)
HEATMAP_RESOLUTION = 40  # cells per side: 1,600 D evaluations per redraw
MANIFOLD_LINES = 11  # grid lines per noise axis (2-D noise)
MANIFOLD_POINTS = 41  # points along each grid line
MANIFOLD_POINTS_1D = 201  # points along the single line of 1-D noise
FAKE_POINTS = 2048  # generated points behind the histograms, KL/JS and mode coverage
SHOWN_POINTS = 512  # real and generated points drawn on the plane
ARROW_POINTS = 48  # generated points that carry a gradient arrow
CUSTOM = "custom"  # PlaygroundSettings.data for a user's own point set
OPTIMIZER_KINDS: tuple[str, ...] = ("sgd", "adam")
PLAYGROUND_LOSSES: tuple[str, ...] = ("minimax", "non_saturating", "least_squares", "wgan_gp", "hinge")
MAX_HIDDEN_LAYERS = 4
MAX_WIDTH = 128

# Fields whose change needs a fresh model; every other field applies from the next step.
RESET_FIELDS: tuple[str, ...] = ("data", "data_id", "hidden_layers", "width", "z_dim", "noise", "seed", "pretrained")


# -- threads ---------------------------------------------------------------------------------------------------

_threads_lock = threading.Lock()
_threads_users = 0
_threads_before = 0


@contextmanager
def one_thread() -> Iterator[None]:
    """Run torch on one intra-op CPU thread inside the block.

    The playground's networks are tiny (a 256 x 64 batch), so splitting an op across threads costs more than it
    saves, and on a busy machine every split waits for a second core: on our shared 2-core machine one step took
    0.13 s with 1 thread and 6 s with 2 (bench/bench_playground.py prints both). torch's thread count is
    process-wide, so concurrent users are counted and the count they found is restored when the last one leaves;
    other work in the same process runs on one thread meanwhile (for the length of a slice).
    """
    global _threads_users, _threads_before
    with _threads_lock:
        if _threads_users == 0:
            _threads_before = torch.get_num_threads()
            if _threads_before != 1:
                torch.set_num_threads(1)
        _threads_users += 1
    try:
        yield
    finally:
        with _threads_lock:
            _threads_users -= 1
            if _threads_users == 0 and torch.get_num_threads() != _threads_before:
                torch.set_num_threads(_threads_before)


# -- settings --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlaygroundSettings:
    """Every knob of the playground. Defaults are the `toy_gan` preset, so the shipped toy models fit them."""

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
    pretrained: bool = False

    def validate(self) -> None:
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

    def model_config(self) -> ToyGANConfig:
        return ToyGANConfig(z_dim=self.z_dim, hidden_layers=self.hidden_layers, width=self.width, noise=self.noise)

    def train_config(self) -> GANTrainConfig:
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


# -- the plane and the views -----------------------------------------------------------------------------


def plane_grid(
    resolution: int = HEATMAP_RESOLUTION, bounds: tuple[float, float] = PLANE_BOUNDS
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Cell centres of a resolution x resolution grid: (xs (R,), ys (R,), points (R*R, 2)).

    points[i * R + j] = (xs[j], ys[i]), so D's values reshape to (R, R) with rows along y: the layout of a
    heatmap's z (row i is y = ys[i]).
    """
    if resolution < 1:
        raise ValueError(f"resolution must be >= 1; got {resolution}.")
    low, high = bounds
    cell = (high - low) / resolution
    ticks = low + cell * (torch.arange(resolution, dtype=torch.float32) + 0.5)
    ys, xs = torch.meshgrid(ticks, ticks, indexing="ij")  # (R, R) each
    return ticks, ticks.clone(), torch.stack([xs.reshape(-1), ys.reshape(-1)], dim=1)


@dataclass(frozen=True)
class Heatmap:
    """D over the plane. values[i, j] is at (xs[j], ys[i]); zmid is the neutral value ("D cannot tell")."""

    xs: np.ndarray  # (R,)
    ys: np.ndarray  # (R,)
    values: np.ndarray  # (R, R)
    zmin: float
    zmid: float
    zmax: float
    probability: bool  # True: values are D(x) in [0, 1]; False: raw scores (critic values)


def _device_of(module: nn.Module) -> torch.device:
    return next(module.parameters()).device


@torch.inference_mode()
def _scores(discriminator: nn.Module, points: torch.Tensor) -> torch.Tensor:
    return discriminator(points.to(_device_of(discriminator))).reshape(-1).float().cpu()


def discriminator_heatmap(
    discriminator: nn.Module,
    loss: str,
    *,
    resolution: int = HEATMAP_RESOLUTION,
    bounds: tuple[float, float] = PLANE_BOUNDS,
    real: torch.Tensor | None = None,
    fake: torch.Tensor | None = None,
) -> Heatmap:
    """D's opinion of every cell of the plane, with a colour scale whose middle means "cannot tell".

    - minimax / non-saturating: D(x) = sigmoid(score) in [0, 1], neutral 0.5;
    - least squares: D is trained towards 1 on real and 0 on fake, so [0, 1] with neutral 0.5;
    - hinge: the margin is at 0 and the targets at ±1, so [-1, 1] with neutral 0;
    - WGAN(-GP): a critic has no fixed scale or offset; neutral is halfway between its mean on `real` and
      on `fake` (the grid's median when they are not given) and the range is the largest deviation seen.
    """
    xs, ys, points = plane_grid(resolution, bounds)
    scores = _scores(discriminator, points)  # (R*R,)
    values = losses.discriminator_probability(loss, scores)  # type: ignore[arg-type]
    if loss in losses.LOGIT_LOSSES or loss == "least_squares":
        zmin, zmid, zmax = 0.0, 0.5, 1.0
    elif loss == "hinge":
        zmin, zmid, zmax = -1.0, 0.0, 1.0
    else:
        if real is not None and fake is not None and len(real) and len(fake):
            zmid = 0.5 * (float(_scores(discriminator, real).mean()) + float(_scores(discriminator, fake).mean()))
        else:
            zmid = float(values.median())
        spread = float((values - zmid).abs().max())
        spread = spread if math.isfinite(spread) and spread > 1e-6 else 1.0
        zmin, zmax = zmid - spread, zmid + spread
    return Heatmap(
        xs=xs.numpy(), ys=ys.numpy(), values=values.reshape(resolution, resolution).numpy(),
        zmin=zmin, zmid=zmid, zmax=zmax, probability=loss in losses.LOGIT_LOSSES,
    )


def noise_extent(noise: str) -> float:
    """Half-width of the noise square the manifold covers: U(-1, 1) all of it, N(0, 1) ±2σ (95% per axis)."""
    return 1.0 if noise == "uniform" else 2.0


@dataclass(frozen=True)
class Manifold:
    """Polylines in the plane: G applied to straight lines in noise space. lines[l] is one polyline (P, 2)."""

    lines: np.ndarray  # (L, P, 2)
    z_dim: int


def noise_lines(z_dim: int, noise: str, *, lines: int = MANIFOLD_LINES, points: int = MANIFOLD_POINTS) -> torch.Tensor:
    """Straight lines in noise space: (L, P, z_dim). 1-D noise: one line of MANIFOLD_POINTS_1D points;
    2-D noise: `lines` lines of constant z2 followed by `lines` lines of constant z1."""
    extent = noise_extent(noise)
    if z_dim == 1:
        return torch.linspace(-extent, extent, MANIFOLD_POINTS_1D).reshape(1, -1, 1)
    if z_dim != 2:
        raise ValueError(f"The manifold is drawn for 1-D or 2-D noise, not {z_dim}-D.")
    along = torch.linspace(-extent, extent, points)  # (P,)
    across = torch.linspace(-extent, extent, lines)  # (L,)
    a, c = torch.meshgrid(across, along, indexing="ij")  # (L, P): a is constant along a line
    constant_z2 = torch.stack([c, a], dim=-1)  # z1 varies, z2 = a
    constant_z1 = torch.stack([a, c], dim=-1)  # z2 varies, z1 = a
    return torch.cat([constant_z2, constant_z1])  # (2L, P, 2)


def generator_manifold(generator: nn.Module, z_dim: int, noise: str, **kwargs: int) -> Manifold:
    """G pushed over `noise_lines`: how G warps the noise square into the plane."""
    z = noise_lines(z_dim, noise, **kwargs)  # (L, P, z_dim)
    out = generate(generator, z.reshape(-1, z_dim), _device_of(generator))  # (L*P, 2)
    return Manifold(lines=out.reshape(z.shape[0], z.shape[1], 2).numpy(), z_dim=z_dim)


@dataclass(frozen=True)
class GeneratorGradients:
    """Generated points G(z) (N, 2) and -dl/dG(z) at each (N, 2), l the per-sample generator loss."""

    points: np.ndarray
    directions: np.ndarray


def generator_gradients(model: GAN, loss: str, z: torch.Tensor) -> GeneratorGradients:
    """Where the generator's loss pushes each generated point: -d l(G(z_i)) / d G(z_i).

    The batch loss is the mean of per-sample terms, so its gradient at a point is 1/N of the per-sample
    gradient; we multiply by N so an arrow does not depend on how many points are drawn. Only the points get
    gradients (autograd.grad), never the weights, so training state is untouched.
    """
    device = _device_of(model.generator)
    with torch.no_grad():
        x = model.generator(z.to(device))
    x = x.detach().requires_grad_(True)  # (N, 2)
    with torch.enable_grad():
        batch_loss = losses.generator_loss(loss, model.discriminator(x))  # type: ignore[arg-type]
        (grad,) = torch.autograd.grad(batch_loss, x)
    directions = -grad * x.shape[0]
    return GeneratorGradients(points=x.detach().cpu().numpy(), directions=directions.detach().cpu().numpy())


@dataclass(frozen=True)
class Coverage:
    covered: int
    total: int
    counts: list[int]  # generated points per mode


def coverage(data: str, fake: torch.Tensor) -> Coverage | None:
    """How many of a distribution's Gaussian modes hold generated points; None for data without modes."""
    if data not in toy2d.MODE_RADIUS:
        return None
    centers = toy2d.mode_centers(data)
    covered, counts = metrics.mode_coverage(fake, centers, toy2d.MODE_RADIUS[data])
    return Coverage(covered=covered, total=len(counts), counts=counts)


@dataclass(frozen=True)
class ViewNoise:
    """Fixed noise for the views of one model, so frames differ only because the model changed."""

    samples: torch.Tensor  # (FAKE_POINTS, z_dim): drawn points (first SHOWN_POINTS), KL/JS, coverage
    arrows: torch.Tensor  # (ARROW_POINTS, z_dim)


def view_noise(model: GAN, seed: int) -> ViewNoise:
    generator = torch.Generator().manual_seed(seed + 104_729)  # apart from the trainer's own streams
    samples = model.sample_noise(FAKE_POINTS, generator)
    return ViewNoise(samples=samples, arrows=samples[:ARROW_POINTS])


def shown_real(source: PointSource, seed: int, n: int = SHOWN_POINTS) -> torch.Tensor:
    """A fixed subset of the real pool to draw (all of it when the pool is small), (n', 2) on the CPU."""
    pool = source.points.cpu()
    if len(pool) <= n:
        return pool
    index = torch.randperm(len(pool), generator=torch.Generator().manual_seed(seed + 15_485_863))[:n]
    return pool[index]


@dataclass(frozen=True)
class PlaygroundView:
    """Everything one redraw shows. Layers that are switched off are None."""

    iteration: int
    real: np.ndarray  # (N, 2)
    fake: np.ndarray  # (SHOWN_POINTS, 2)
    kl: float
    js: float
    coverage: Coverage | None
    heatmap: Heatmap | None
    manifold: Manifold | None
    gradients: GeneratorGradients | None


def compute_view(
    trainer: GANTrainer,
    *,
    data: str,
    real_shown: torch.Tensor,
    noise: ViewNoise,
    heatmap: bool = True,
    manifold: bool = True,
    gradients: bool = True,
) -> PlaygroundView:
    """One frame of the playground from the trainer's current weights (training state is not touched)."""
    model: GAN = trainer.model
    loss = trainer.config.loss
    fake_all = trainer.sample(noise.samples)  # (FAKE_POINTS, 2) on the CPU
    kl, js = metrics.grid_kl_js(trainer.source.points.cpu(), fake_all, PLANE_BOUNDS)
    return PlaygroundView(
        iteration=trainer.iteration,
        real=real_shown.numpy(),
        fake=fake_all[:SHOWN_POINTS].numpy(),
        kl=kl,
        js=js,
        coverage=coverage(data, fake_all),
        heatmap=discriminator_heatmap(model.discriminator, loss, real=real_shown, fake=fake_all[:SHOWN_POINTS])
        if heatmap else None,
        manifold=generator_manifold(trainer.sampling_generator(), model.z_dim, model.config.noise)
        if manifold else None,
        gradients=generator_gradients(model, loss, noise.arrows) if gradients else None,
    )


# -- history -------------------------------------------------------------------------------------------------


@dataclass
class History:
    """Curves over training: one row per redraw, thinned to at most `limit` rows (every other row dropped)."""

    limit: int = 300  # a point per pixel of the 300 px charts; every row is redrawn each frame
    step: list[int] | None = None
    d_loss: list[float] | None = None
    g_loss: list[float] | None = None
    kl: list[float] | None = None
    js: list[float] | None = None

    def __post_init__(self) -> None:
        for name in ("step", "d_loss", "g_loss", "kl", "js"):
            if getattr(self, name) is None:
                setattr(self, name, [])

    def __len__(self) -> int:
        return len(self.step)  # type: ignore[arg-type]

    def record(self, step: int, d_loss: float, g_loss: float, kl: float, js: float) -> None:
        if self.step and step == self.step[-1]:  # a redraw without training: refresh the row
            for name, value in (("d_loss", d_loss), ("g_loss", g_loss), ("kl", kl), ("js", js)):
                getattr(self, name)[-1] = value
            return
        for name, value in (("step", step), ("d_loss", d_loss), ("g_loss", g_loss), ("kl", kl), ("js", js)):
            getattr(self, name).append(value)
        if len(self) > self.limit:
            for name in ("step", "d_loss", "g_loss", "kl", "js"):
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
) -> GANTrainer:
    """A trainer for the settings on `source`; `model` (e.g. a pretrained copy) replaces a fresh one."""
    settings.validate()
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

