"""2-D toy distributions for the GAN playground, and checks for user-supplied point sets; a labelled ring of 8
(`labelled_ring`, `LabelledPointSource`) for class-conditional models.

The built-ins follow the toy problems of the GAN literature: a ring of 8 Gaussians and a 5x5 grid of
Gaussians (the mode-collapse tests of Metz et al., "Unrolled GANs", 2017, and Srivastava et al., "VEEGAN",
2017), two moons, a spiral, a line segment and three disjoint regions (a target whose support is not
connected, which a continuous generator cannot match exactly; cf. GAN Lab, Kahng et al., 2018).
Every built-in lies in roughly [-2.7, 2.7]^2, inside the playground's [-3.5, 3.5]^2 view.

Randomness is always an argument (a `torch.Generator`); the global RNG is never touched.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from types import MappingProxyType

import numpy as np
import torch

from .errors import ConfigError, DataError

TOY_DISTRIBUTIONS: tuple[str, ...] = ("ring", "grid", "line", "moons", "spiral", "regions")

MIN_POINTS = 2  # the fewest points that still have a centre and a spread (normalise_points needs both)
MAX_POINTS = 100_000  # keeps an upload's pool small enough to sit on any device and to plot
MAX_ABS_VALUE = 1e6  # larger magnitudes are almost surely a unit or parsing mistake
MAX_CSV_BYTES = 20 * 1024 * 1024  # 100k lines of "x,y" take ~4 MB; anything far larger is refused unread
BOX_HALF_WIDTH = 2.5  # normalise_points maps uploads into [-2.5, 2.5]^2, like the built-ins

_RING_RADIUS = 2.0
_RING_STD = 0.08
_GRID_SPACING = 1.0
_GRID_STD = 0.05
_NOISE_STD = 0.05  # jitter for the line, moons and spiral

# A sample "belongs" to a mode when it is within ~3 standard deviations of its centre.
# Only the distributions with discrete modes (those for which mode_centers is not None) have an entry.
MODE_RADIUS: Mapping[str, float] = MappingProxyType({"ring": round(3 * _RING_STD, 6), "grid": round(3 * _GRID_STD, 6)})


def mode_centers(name: str) -> torch.Tensor | None:
    """Centres of the Gaussian modes, (K, 2) float32: ring 8, grid 25; None for distributions without modes."""
    _check_name(name)
    if name == "ring":
        angles = torch.arange(8, dtype=torch.float64) * (2 * math.pi / 8)
        return (_RING_RADIUS * torch.stack([angles.cos(), angles.sin()], dim=1)).float()
    if name == "grid":
        ticks = (torch.arange(5, dtype=torch.float32) - 2) * _GRID_SPACING  # -2 .. 2, centred
        ys, xs = torch.meshgrid(ticks, ticks, indexing="ij")
        return torch.stack([xs.reshape(-1), ys.reshape(-1)], dim=1)
    return None


def sample_toy(name: str, n: int, generator: torch.Generator) -> torch.Tensor:
    """Draw n points (n, 2) float32 on the generator's device."""
    _check_name(name)
    if not isinstance(n, int) or n < 0:
        raise ConfigError(f"The number of points must be a whole number >= 0, not {n!r}.")
    return _SAMPLERS[name](n, generator).to(torch.float32)


def _check_name(name: str) -> None:
    if name not in TOY_DISTRIBUTIONS:
        raise ConfigError(f"Unknown toy distribution {name!r}; choose one of {', '.join(TOY_DISTRIBUTIONS)}.")


def _uniform(shape: tuple[int, ...], generator: torch.Generator) -> torch.Tensor:
    return torch.rand(shape, generator=generator, device=generator.device)


def _normal(shape: tuple[int, ...], generator: torch.Generator) -> torch.Tensor:
    return torch.randn(shape, generator=generator, device=generator.device)


def _gaussian_mixture(centers: torch.Tensor, std: float, n: int, generator: torch.Generator) -> torch.Tensor:
    # Equal weights: pick a mode per point, then add isotropic noise.
    pick = torch.randint(len(centers), (n,), generator=generator, device=generator.device)
    return centers.to(generator.device)[pick] + std * _normal((n, 2), generator)


def _ring(n: int, generator: torch.Generator) -> torch.Tensor:
    return _gaussian_mixture(mode_centers("ring"), _RING_STD, n, generator)


def labelled_ring(n: int, generator: torch.Generator, std: float = _RING_STD) -> tuple[torch.Tensor, torch.Tensor]:
    """n points of the ring of 8 (n, 2) float32 and each point's mode index (n,) int64 as its class label.

    `std` widens the modes (the built-in ring uses 0.08) so that neighbouring classes can overlap."""
    if not isinstance(n, int) or n < 0 or not (math.isfinite(std) and std >= 0):
        raise ConfigError(f"Need a whole number of points >= 0 and a std >= 0; got n={n!r}, std={std!r}.")
    centers = mode_centers("ring").to(generator.device)
    labels = torch.randint(len(centers), (n,), generator=generator, device=generator.device)
    return centers[labels] + std * _normal((n, 2), generator), labels


def _grid(n: int, generator: torch.Generator) -> torch.Tensor:
    return _gaussian_mixture(mode_centers("grid"), _GRID_STD, n, generator)


def _line(n: int, generator: torch.Generator) -> torch.Tensor:
    # A segment from (-2.5, -1.25) to (2.5, 1.25): a 1-D manifold a generator can fit with a thin map.
    t = _uniform((n, 1), generator) * 2 - 1
    direction = torch.tensor([2.5, 1.25], device=generator.device)
    return t * direction + _NOISE_STD * _normal((n, 2), generator)


def _moons(n: int, generator: torch.Generator) -> torch.Tensor:
    # scikit-learn's two moons (x in [-1, 2], y in [-0.5, 1]), centred and scaled by 1.6.
    t = _uniform((n,), generator) * math.pi
    upper = _uniform((n,), generator) < 0.5
    x = torch.where(upper, t.cos(), 1 - t.cos())
    y = torch.where(upper, t.sin(), 0.5 - t.sin())
    points = torch.stack([x - 0.5, y - 0.25], dim=1) * 1.6
    return points + _NOISE_STD * _normal((n, 2), generator)


def _spiral(n: int, generator: torch.Generator) -> torch.Tensor:
    # Two turns, radius 0.25 -> 2.5. sqrt(u) puts more points on the longer outer turns, so the
    # density along the curve is roughly even.
    u = _uniform((n,), generator).sqrt()
    theta = u * 4 * math.pi
    radius = 0.25 + 2.25 * u
    points = torch.stack([radius * theta.cos(), radius * theta.sin()], dim=1)
    return points + _NOISE_STD * _normal((n, 2), generator)


# Three disjoint uniform rectangles (x0, y0, x1, y1), each drawn with probability 1/3.
_REGIONS = torch.tensor(
    [
        [-2.5, -2.0, -1.5, 2.0],  # a tall bar on the left
        [0.0, 0.75, 2.5, 2.25],  # a wide block top right
        [0.5, -2.25, 2.0, -0.75],  # a square bottom right
    ]
)


def _regions(n: int, generator: torch.Generator) -> torch.Tensor:
    boxes = _REGIONS.to(generator.device)
    pick = torch.randint(len(boxes), (n,), generator=generator, device=generator.device)
    low, high = boxes[pick, :2], boxes[pick, 2:]
    return low + (high - low) * _uniform((n, 2), generator)


_SAMPLERS: Mapping[str, Callable[[int, torch.Generator], torch.Tensor]] = MappingProxyType(
    {"ring": _ring, "grid": _grid, "line": _line, "moons": _moons, "spiral": _spiral, "regions": _regions}
)


def validate_points(points: np.ndarray | torch.Tensor) -> torch.Tensor:
    """Check a user point set and return it as a CPU float32 tensor (N, 2).

    Rules: shape (N, 2) with MIN_POINTS <= N <= MAX_POINTS, real numbers, all finite, |value| <= MAX_ABS_VALUE.
    Raises DataError with a plain message; rows are counted from 1, as a person reading the file would.
    """
    if isinstance(points, torch.Tensor):
        points = points.detach().cpu().numpy()
    array = np.asarray(points)
    if not np.issubdtype(array.dtype, np.number) or np.iscomplexobj(array):
        raise DataError(f"Points must be real numbers, not {array.dtype}.")
    if array.ndim != 2 or array.shape[1] != 2:
        raise DataError(f"Points must be a table with 2 columns (x, y); got shape {tuple(array.shape)}.")
    n = array.shape[0]
    if n < MIN_POINTS:
        raise DataError(f"Need at least {MIN_POINTS} points; got {n}.")
    if n > MAX_POINTS:
        raise DataError(f"Too many points: {n:,}; the limit is {MAX_POINTS:,}.")
    array = array.astype(np.float64)
    bad = ~np.isfinite(array)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise DataError(f"Row {row + 1} has a non-finite value ({_show(array[row, col])}).")
    too_big = np.abs(array) > MAX_ABS_VALUE
    if too_big.any():
        row, col = np.argwhere(too_big)[0]
        raise DataError(f"Row {row + 1} has a value too large to be a coordinate ({array[row, col]:g}); "
                        f"the limit is ±{MAX_ABS_VALUE:g}.")
    return torch.from_numpy(array.astype(np.float32))


def _show(value: float) -> str:
    return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")


def parse_points_csv(data: bytes | str) -> torch.Tensor:
    """Parse "x,y" lines (commas or whitespace; blank lines and '#' comments skipped) into (N, 2) float32.

    The first non-blank line is a header when none of its cells is a number (e.g. "x,y"). Errors name the
    line (counted from 1). Files over MAX_CSV_BYTES are refused before decoding; parsing stops as soon as
    the point count passes MAX_POINTS.
    """
    if len(data) > MAX_CSV_BYTES:
        raise DataError(f"The file is too large ({len(data) / 2**20:.1f} MB); "
                        f"the limit is {MAX_CSV_BYTES // 2**20} MB ({MAX_POINTS:,} points).")
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8-sig")  # -sig: spreadsheet exports often start with a byte-order mark
        except UnicodeDecodeError as error:
            raise DataError(f"The file is not UTF-8 text (byte {error.start + 1} is not valid).") from None
    else:
        text = data
    rows: list[tuple[float, float]] = []
    seen_content = False
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        cells = [cell.strip() for cell in line.split(",")] if "," in line else line.split()
        values = [_to_float(cell) for cell in cells]
        if not seen_content:
            seen_content = True
            if all(value is None for value in values):
                continue  # a header such as "x,y"
        if len(cells) != 2:
            plural = "" if len(cells) == 1 else "s"
            raise DataError(f"Line {number} has {len(cells)} value{plural}; expected 2 (x, y): {_clip(line)!r}.")
        for cell, value in zip(cells, values):
            if value is None:
                raise DataError(f"Line {number}: {_clip(cell)!r} is not a number.")
            if not math.isfinite(value):
                raise DataError(f"Line {number} has a non-finite value ({_show(value)}).")
        rows.append((values[0], values[1]))
        if len(rows) > MAX_POINTS:
            raise DataError(f"Too many points: more than {MAX_POINTS:,}.")
    if not seen_content:
        raise DataError("The file is empty: expected lines of x,y.")
    if not rows:
        raise DataError("The file has a header but no points.")
    return validate_points(np.array(rows, dtype=np.float64))


def _to_float(cell: str) -> float | None:
    try:
        return float(cell)
    except ValueError:
        return None


def _clip(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def normalise_points(points: np.ndarray | torch.Tensor) -> torch.Tensor:
    """Validate, then centre the bounding box on 0 and scale both axes alike so it fits [-2.5, 2.5]^2.

    The bounding box (not mean and std) is used so that every point lands inside the playground view;
    one scale for both axes keeps the shape undistorted. Identical points are only centred.
    """
    points = validate_points(points).double()
    low, high = points.min(dim=0).values, points.max(dim=0).values
    centred = points - (low + high) / 2
    extent = centred.abs().max()
    scale = BOX_HALF_WIDTH / extent if extent > 0 else 1.0
    return (centred * scale).float()


class PointSource:
    """A fixed pool of points (N, 2) on a device, from which training batches are drawn with replacement."""

    def __init__(self, points: np.ndarray | torch.Tensor, device: torch.device | str = "cpu") -> None:
        self.points = validate_points(points).to(device)  # (N, 2) float32
        self.device = self.points.device

    @classmethod
    def from_name(
        cls, name: str, n_pool: int = 4096, seed: int = 0, device: torch.device | str = "cpu"
    ) -> PointSource:
        """A pool of n_pool points of a built-in distribution; the same seed gives the same pool."""
        generator = torch.Generator().manual_seed(seed)
        return cls(sample_toy(name, n_pool, generator), device=device)

    def __len__(self) -> int:
        return len(self.points)

    def batch(self, size: int, generator: torch.Generator) -> torch.Tensor:
        """(size, 2) points drawn uniformly with replacement; indices come from `generator` (any device)."""
        if not isinstance(size, int) or size < 1:
            raise ConfigError(f"Batch size must be a whole number >= 1, not {size!r}.")
        index = torch.randint(len(self.points), (size,), generator=generator, device=generator.device)
        return self.points[index.to(self.device)]


class LabelledPointSource(PointSource):
    """A PointSource whose points carry class labels (N,): `batch_with_labels` draws both, as a class-conditional
    trainer asks (`DiffusionTrainer`)."""

    def __init__(
        self, points: np.ndarray | torch.Tensor, labels: torch.Tensor, device: torch.device | str = "cpu",
    ) -> None:
        super().__init__(points, device=device)
        labels = torch.as_tensor(labels)
        if labels.shape != (len(self.points),) or labels.is_floating_point() or labels.dtype == torch.bool:
            raise DataError(f"Need one whole-number label per point ({len(self.points)}); "
                            f"got {tuple(labels.shape)} {labels.dtype}.")
        if labels.numel() and int(labels.min()) < 0:
            raise DataError("Class labels must be >= 0.")
        self.labels = labels.long().to(self.device)  # (N,)

    def batch_with_labels(self, size: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """(size, 2) points and their (size,) labels, drawn uniformly with replacement."""
        if not isinstance(size, int) or size < 1:
            raise ConfigError(f"Batch size must be a whole number >= 1, not {size!r}.")
        index = torch.randint(len(self.points), (size,), generator=generator, device=generator.device).to(self.device)
        return self.points[index], self.labels[index]
