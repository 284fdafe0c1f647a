"""Real or fake? A round of the game: a grid of real MNIST test digits and generated ones, the player's marks, the
score, and which model fooled the player most over the rounds of a session.

Everything here is pure and seeded: a round is a `Round` built from its seed (`compose_round`), the generated digits
of a round come from that seed too (`fake_seed`, `generated_digits`), so a round can be replayed and tested. Digits
are shown and judged as uint8 pixels, the same for the player and for the detector (`aigc_core.detector`): a
generated digit is rounded to the 256 grey levels a real one has, so neither can tell by pixel precision.
"""

from __future__ import annotations

import zlib
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from . import pixels
from .diffusion_trainer import generate as denoise
from .errors import ConfigError
from .live_eval import model_samples01
from .models.gan import GAN
from .models.unet import UNet
from .models.vae import VAE
from .seeds import stream_seed

REAL = "real"  # a tile's source when it is a real digit; otherwise the source is a model's name
GRID = 16  # tiles in a round (4 × 4)
MAX_TILES = 64
DIFFUSION_SAMPLING = {"sampler": "ddim", "steps": 25, "eta": 0.0, "guidance": 2.0}  # the CLI's `sample` defaults


@dataclass(frozen=True)
class Tile:
    source: str  # REAL, or the name of the model that drew it
    index: int  # REAL: index into the real pool (the test set); a model: which of its samples in this round


@dataclass(frozen=True)
class Round:
    seed: int
    tiles: tuple[Tile, ...]

    @property
    def fake_positions(self) -> frozenset[int]:
        return frozenset(i for i, tile in enumerate(self.tiles) if tile.source != REAL)

    def fakes_per_model(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for tile in self.tiles:
            if tile.source != REAL:
                counts[tile.source] = counts.get(tile.source, 0) + 1
        return counts


def compose_round(models: Sequence[str], seed: int, *, size: int = GRID, real_pool: int = 10_000) -> Round:
    """Half the tiles real (distinct digits of a pool of `real_pool`), half generated, spread over `models` as
    evenly as they divide (counts differ by at most one; which models get the extra tile is drawn), in a shuffled
    order. Everything is drawn from `seed`."""
    if not models or len(set(models)) != len(models) or REAL in models:
        raise ConfigError(f"A round needs one or more distinct model names; got {list(models)!r}.")
    if isinstance(size, bool) or not isinstance(size, int) or not 2 <= size <= MAX_TILES or size % 2:
        raise ConfigError(f"A round has an even number of tiles from 2 to {MAX_TILES}; got {size!r}.")
    if real_pool < size // 2:
        raise ConfigError(f"The pool of real digits ({real_pool}) is smaller than the round needs ({size // 2}).")
    rng = torch.Generator().manual_seed(stream_seed(seed, "realfake_round"))
    fakes = size // 2
    order = [models[i] for i in torch.randperm(len(models), generator=rng).tolist()]
    base, extra = divmod(fakes, len(order))
    tiles = [Tile(name, k) for rank, name in enumerate(order) for k in range(base + (rank < extra))]
    reals = torch.randperm(real_pool, generator=rng)[: size - fakes].tolist()
    tiles += [Tile(REAL, index) for index in reals]
    shuffled = torch.randperm(size, generator=rng).tolist()
    return Round(seed, tuple(tiles[i] for i in shuffled))


def fake_seed(seed: int, model: str) -> int:
    """The seed of `model`'s samples in the round (or data set) seeded `seed`: one stream per model name."""
    return stream_seed(seed, "realfake_fakes") + zlib.crc32(model.encode()) % 1_000_003


def generated_digits(model: nn.Module, n: int, seed: int) -> torch.Tensor:
    """n digits (n, 28, 28) uint8 from a GAN's generator, a VAE's decoder (z from the prior) or a U-Net denoiser
    (DDIM, digits 0-9 in turn for a class-conditional one), seeded. Leaves a shared, cached model as it was."""
    if isinstance(model, (GAN, VAE)):
        images01 = model_samples01(model, n, seed)
    elif isinstance(model, UNet):
        generator = torch.Generator().manual_seed(seed)
        classes = model.config.num_classes
        labels = (torch.arange(n) + seed) % classes if classes else None
        with torch.inference_mode():
            x_T = model.sample_noise(n, generator)
            images01 = pixels.signed_to_unit(denoise(model, x_T, labels, generator=generator, **DIFFUSION_SAMPLING))
    else:
        raise ConfigError(f"{type(model).__name__} does not draw digits; only GANs, VAEs and U-Net denoisers do.")
    return pixels.unit_to_uint8(images01.float().cpu()).reshape(n, 28, 28)


def round_images(game: Round, models: Mapping[str, nn.Module], real_pool: np.ndarray) -> np.ndarray:
    """The round's digits (size, 28, 28) uint8 in tile order: real ones from `real_pool` (N, 28, 28) uint8,
    generated ones drawn from each model with `fake_seed(game.seed, name)`."""
    drawn = {name: generated_digits(models[name], count, fake_seed(game.seed, name)).numpy()
             for name, count in game.fakes_per_model().items()}
    out = np.empty((len(game.tiles), 28, 28), dtype=np.uint8)
    for position, tile in enumerate(game.tiles):
        out[position] = real_pool[tile.index] if tile.source == REAL else drawn[tile.source][tile.index]
    return out


@dataclass(frozen=True)
class RoundScore:
    correct: int  # tiles judged right (a fake marked, a real left unmarked)
    total: int
    caught: int  # fakes marked
    fakes: int
    false_alarms: int  # real digits marked as fake
    shown: Mapping[str, int]  # fakes per model in the round
    missed: Mapping[str, int]  # fakes per model left unmarked: the model fooled the player

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0


def score_round(game: Round, marked: Collection[int]) -> RoundScore:
    """Score the set of tile positions the player marked as fake."""
    marks = set(marked)
    bad = sorted(i for i in marks if isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < len(game.tiles))
    if bad:
        raise ConfigError(f"Marked tiles must be positions 0 to {len(game.tiles) - 1}; got {bad[:8]}.")
    fakes = game.fake_positions
    shown = game.fakes_per_model()
    missed = {name: 0 for name in shown}
    for position in fakes - marks:
        missed[game.tiles[position].source] += 1
    caught = len(fakes & marks)
    false_alarms = len(marks - fakes)
    total = len(game.tiles)
    return RoundScore(correct=total - (len(fakes) - caught) - false_alarms, total=total, caught=caught,
                      fakes=len(fakes), false_alarms=false_alarms, shown=shown, missed=missed)


@dataclass(frozen=True)
class Tally:
    """A session's rounds added up: a new Tally per round (`add`), so a page can keep it in session state as is."""

    rounds: int = 0
    correct: int = 0
    total: int = 0
    shown: Mapping[str, int] = field(default_factory=dict)  # fakes per model, over all rounds
    missed: Mapping[str, int] = field(default_factory=dict)  # of those, how many fooled the player

    def add(self, score: RoundScore) -> Tally:
        names = set(self.shown) | set(score.shown)
        return Tally(
            rounds=self.rounds + 1, correct=self.correct + score.correct, total=self.total + score.total,
            shown={n: self.shown.get(n, 0) + score.shown.get(n, 0) for n in sorted(names)},
            missed={n: self.missed.get(n, 0) + score.missed.get(n, 0) for n in sorted(names)},
        )

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0

    def caught_rate(self, model: str) -> float:
        """Share of `model`'s fakes the player marked (NaN before any was shown)."""
        shown = self.shown.get(model, 0)
        return 1.0 - self.missed.get(model, 0) / shown if shown else float("nan")

    def most_fooling(self) -> str | None:
        """The model whose fakes went unmarked most often (by share, then count, then name); None while no fake
        has fooled the player."""
        fooled = [name for name, count in self.missed.items() if count > 0]
        if not fooled:
            return None
        return min(fooled, key=lambda n: (-self.missed[n] / self.shown[n], -self.missed[n], n))
