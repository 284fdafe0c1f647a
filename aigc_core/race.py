"""The race (issue 20): one model of each family trained from scratch for the same wall-clock budget, interleaved on
one machine by a fair scheduler, with their quality measured as they go.

Fairness: `FairScheduler` always steps the lane (family) with the least accumulated step time, timed by a clock
around each `trainer.step()`. Steps differ in cost (on 2 CPU threads a GAN step takes ~15 ms, a VAE step ~8 ms, a
diffusion step ~150 ms), so the step counts differ but the compute does not: at any moment two lanes are at most one
step of the costliest apart, so each lane's share of the compute tends to a third.

The race clock is the training time of all lanes together. Measuring stops it: its time is kept apart (and
reported), so no family is charged for being measured. A measurement is sliced too (a diffusion sampler run over
256 images takes seconds on a CPU), so a live page can pause between its chunks.

- `MnistRace`: GAN, VAE and diffusion on MNIST (the Train page's live presets, or their class-conditional
  variants), each measured by the classifier score and FID of a fixed batch (`evaluation.score_images`);
- `ToyRace` (aigc_core/race_toy.py): GAN and diffusion on 2-D toy data, measured with the 2-D Playground's own
  views (KL / JS of grid histograms and mode coverage, `aigc_core.playground`). There is no VAE for 2-D points.
- `Race.verdict()`: what the measurements say (who reached the best value, when each first passed the goal),
  computed from the numbers, for a page to put into words.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, replace
from typing import Any, ClassVar

import numpy as np
import torch

from . import pixels, seeds
from .errors import AigcError, ConfigError
from .evaluation import score_images
from .factory import build_trainer
from .finite import require_finite_samples
from .images import make_grid
from .models.conditional import cycle_labels
from .presets import get_preset, live_train_config
from .slicing import Steppable

Clock = Callable[[], float]
Work = Generator[None, None, dict[str, float]]  # a measurement: yields between chunks, returns its values

MNIST_FAMILIES: tuple[str, ...] = ("gan", "vae", "diffusion")
# The Train page's live recipes, one per family; the conditional set feeds the digit's label to all three.
MNIST_PRESETS: Mapping[bool, Mapping[str, str]] = {
    False: {"gan": "gan_mlp_live", "vae": "vae_mlp_fast", "diffusion": "diffusion_live"},
    True: {"gan": "cgan_live", "vae": "cvae_live", "diffusion": "diffusion_live"},
}
MIN_BUDGET_S, MAX_BUDGET_S = 1.0, 600.0
MAX_SAMPLES = 1000
GRID_IMAGES, GRID_COLUMNS = 60, 10  # each family's picture: six rows of ten (conditional: a column per digit)
DIFFUSION_CHUNK = 32  # images a diffusion measurement samples per chunk (about a second on a busy CPU)
SCORE_GOAL = 5.0  # MNIST: "first passed a classifier score of 5" (the real test set scores 9.83)


# -- the fair scheduler ------------------------------------------------------------------------------------------


@dataclass
class Lane:
    """One family in the race: its trainer and what it has used."""

    family: str
    trainer: Steppable
    seconds: float = 0.0  # accumulated step time (the scheduler's clock)
    steps: int = 0
    error: str | None = None  # why it left the race (a diverged step, non-finite samples); None while it runs
    failed_at: float | None = None  # the race clock when it left

    @property
    def active(self) -> bool:
        return self.error is None


class FairScheduler:
    """Steps the lane with the least accumulated step time, so the lanes share the compute equally."""

    def __init__(self, trainers: Mapping[str, Steppable], *, clock: Clock = time.perf_counter) -> None:
        if not trainers:
            raise ConfigError("A race needs at least one trainer.")
        self.lanes: dict[str, Lane] = {family: Lane(family, trainer) for family, trainer in trainers.items()}
        self.clock = clock

    @property
    def total(self) -> float:
        """Training seconds of all lanes together: the race clock."""
        return sum(lane.seconds for lane in self.lanes.values())

    def shares(self) -> dict[str, float]:
        """Each lane's fraction of the compute used so far (0 for all before the first step)."""
        total = self.total
        return {family: (lane.seconds / total if total > 0 else 0.0) for family, lane in self.lanes.items()}

    def next_lane(self) -> Lane | None:
        """The active lane with the least step time (the first in order on a tie), or None when none is left."""
        active = [lane for lane in self.lanes.values() if lane.active]
        return min(active, key=lambda lane: lane.seconds) if active else None

    def fail(self, lane: Lane, message: str) -> None:
        lane.error, lane.failed_at = message, self.total

    def step(self) -> Lane | None:
        """One step of the neediest lane. A step that raises an `AigcError` (a diverged step: the trainer has put its
        last good weights back) takes that lane out of the race; the others go on. Returns the lane, or None."""
        lane = self.next_lane()
        if lane is None:
            return None
        start = self.clock()
        try:
            lane.trainer.step()
        except AigcError as exc:
            lane.seconds += self.clock() - start  # the failed step was compute too
            self.fail(lane, str(exc))
            return lane
        lane.seconds += self.clock() - start
        lane.steps += 1
        return lane

    def run(self, seconds: float, *, until_total: float = math.inf) -> int:
        """Step lanes for about `seconds` of the clock (at least one step), stopping early once the race clock
        reaches `until_total` or no lane is left. Returns the number of steps taken."""
        deadline = self.clock() + seconds
        steps = 0
        while self.total < until_total:
            if self.step() is None:
                break
            steps += 1
            if self.clock() >= deadline:
                break
        return steps


# -- a race: training in slices, measurements at marks of the race clock -------------------------------------


@dataclass(frozen=True)
class Measurement:
    race_s: float  # the race clock when it was taken
    family: str
    steps: int  # this family's steps so far
    compute_s: float  # this family's training seconds so far
    values: Mapping[str, float]  # what was measured (MnistRace: classifier_score, fid, ...; ToyRace: kl, js, ...)
    eval_s: float  # how long measuring took (not on the race clock)


@dataclass(frozen=True)
class FamilyResult:
    family: str
    steps: int
    compute_s: float
    share: float
    best: float | None  # the best main value measured (highest score, or lowest KL)
    best_at_s: float | None
    final: float | None  # the last measurement's main value
    reached_goal_at_s: float | None  # the race clock at the first measurement past the goal; None: never
    error: str | None


@dataclass(frozen=True)
class Verdict:
    metric: str
    goal: float
    higher_is_better: bool
    winner: str | None  # the family with the best value measured; None when nothing was measured
    first_to_goal: str | None
    results: tuple[FamilyResult, ...]
    race_s: float
    eval_s: float

    def result(self, family: str) -> FamilyResult:
        return next(r for r in self.results if r.family == family)


class Race:
    """Trainers stepped fairly for `budget_s` seconds of the race clock, each measured every `measure_every_s`
    (and at the start and the end). Subclasses say what a measurement is (`_measure`) and what "better" means."""

    metric: ClassVar[str]
    higher_is_better: ClassVar[bool]
    goal: ClassVar[float]

    def __init__(self, trainers: Mapping[str, Steppable], *, budget_s: float, measure_every_s: float,
                 clock: Clock = time.perf_counter) -> None:
        if not (math.isfinite(budget_s) and MIN_BUDGET_S <= budget_s <= MAX_BUDGET_S):
            raise ConfigError(f"The race's budget must be {MIN_BUDGET_S:g} to {MAX_BUDGET_S:g} s; got {budget_s}.")
        if not (math.isfinite(measure_every_s) and measure_every_s > 0):
            raise ConfigError(f"The time between measurements must be positive; got {measure_every_s}.")
        self.scheduler = FairScheduler(trainers, clock=clock)
        self.clock = clock
        self.budget_s = float(budget_s)
        self.measure_every_s = float(measure_every_s)
        self.measurements: list[Measurement] = []
        self.eval_s = 0.0  # measuring time, all families together
        self._due: list[str] = list(self.scheduler.lanes)  # families still to measure at the current mark
        self._work: tuple[str, Work, float] | None = None  # (family, its measurement, eval seconds so far)
        self._next_mark = self.measure_every_s
        self._ended = False  # the budget is used up (or every lane has left); the last measurements were queued

    # -- state ---------------------------------------------------------------------------------------------------
    @property
    def lanes(self) -> dict[str, Lane]:
        return self.scheduler.lanes

    @property
    def race_s(self) -> float:
        return self.scheduler.total

    @property
    def progress(self) -> float:
        return min(1.0, self.race_s / self.budget_s)

    @property
    def measuring(self) -> bool:
        return bool(self._due) or self._work is not None

    @property
    def done(self) -> bool:
        return self._ended and not self.measuring

    def shares(self) -> dict[str, float]:
        return self.scheduler.shares()

    def history(self, family: str) -> list[Measurement]:
        return [m for m in self.measurements if m.family == family]

    # -- work ------------------------------------------------------------------------------------------------------
    def advance(self, seconds: float) -> None:
        """About `seconds` of work (at least one step or one chunk of a measurement): first the measurements that
        are due, then training up to the next mark of the race clock (or the budget), where new ones fall due."""
        deadline = self.clock() + seconds
        while not self.done:
            if self.measuring:
                self._measure_chunk()
            else:
                until = min(self._next_mark, self.budget_s)
                self.scheduler.run(max(0.0, deadline - self.clock()), until_total=until)
                no_lane = self.scheduler.next_lane() is None
                if self.race_s >= self.budget_s or no_lane:
                    self._ended = True
                    self._due = [f for f, lane in self.lanes.items() if lane.active]
                elif self.race_s >= self._next_mark:
                    while self._next_mark <= self.race_s:
                        self._next_mark += self.measure_every_s
                    self._due = [f for f, lane in self.lanes.items() if lane.active]
            if self.clock() >= deadline:
                break

    def _measure_chunk(self) -> None:
        """One chunk of the current measurement (starting the next one due if none is under way)."""
        if self._work is None:
            family = self._due.pop(0)
            if not self.lanes[family].active:
                return
            self._work = (family, self._measure(family), 0.0)
        family, work, spent = self._work
        lane = self.lanes[family]
        start = self.clock()
        try:
            next(work)
            self._work = (family, work, spent + self.clock() - start)
            self.eval_s += self.clock() - start
            return
        except StopIteration as stop:
            values = stop.value
        except AigcError as exc:  # e.g. non-finite samples: that family leaves the race, the others go on
            values = None
            self.scheduler.fail(lane, str(exc))
        took = self.clock() - start
        self.eval_s += took
        self._work = None
        if values is not None:
            self.measurements.append(Measurement(self.race_s, family, lane.steps, lane.seconds, values, spent + took))

    def _measure(self, family: str) -> Work:
        raise NotImplementedError

    # -- what it says --------------------------------------------------------------------------------------------
    def _better(self, a: float, b: float) -> bool:
        return a > b if self.higher_is_better else a < b

    def _passes(self, value: float) -> bool:
        return value >= self.goal if self.higher_is_better else value <= self.goal

    def verdict(self) -> Verdict:
        """Per family: steps, compute and share, the best and last main value, when it first passed the goal; the
        family with the best value overall and the first to reach the goal. Computed from the measurements only."""
        shares = self.shares()
        results = []
        for family, lane in self.lanes.items():
            points = [(m.race_s, m.values[self.metric]) for m in self.history(family)
                      if math.isfinite(m.values.get(self.metric, math.nan))]
            best = None
            for when, value in points:
                if best is None or self._better(value, best[1]):
                    best = (when, value)
            reached = next((when for when, value in points if self._passes(value)), None)
            results.append(FamilyResult(
                family=family, steps=lane.steps, compute_s=lane.seconds, share=shares[family],
                best=None if best is None else best[1], best_at_s=None if best is None else best[0],
                final=points[-1][1] if points else None, reached_goal_at_s=reached, error=lane.error,
            ))
        measured = [r for r in results if r.best is not None]
        winner = None
        for r in measured:
            if winner is None or self._better(r.best, winner.best):  # type: ignore[arg-type]
                winner = r
        reached = [r for r in results if r.reached_goal_at_s is not None]
        first = min(reached, key=lambda r: r.reached_goal_at_s) if reached else None  # type: ignore[arg-type,return-value]
        return Verdict(metric=self.metric, goal=self.goal, higher_is_better=self.higher_is_better,
                       winner=None if winner is None else winner.family,
                       first_to_goal=None if first is None else first.family,
                       results=tuple(results), race_s=self.race_s, eval_s=self.eval_s)


# -- MNIST: GAN, VAE and diffusion -----------------------------------------------------------------------------


@dataclass(frozen=True)
class MnistRaceConfig:
    budget_s: float = 180.0  # the race clock's length: the three families share it, about a third each
    conditional: bool = False  # the class-conditional presets (cgan_live, cvae_live, diffusion_live)
    seed: int = 0
    samples: int = 256  # images each measurement scores, per family (the same fixed noise every time)
    measure_every_s: float = 15.0

    def validate(self) -> None:
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or not 0 <= self.seed <= seeds.SEED_MAX:
            raise ConfigError(f"The seed must be a whole number from 0 to {seeds.SEED_MAX}; got {self.seed!r}.")
        if isinstance(self.samples, bool) or not isinstance(self.samples, int) or not 2 <= self.samples <= MAX_SAMPLES:
            raise ConfigError(f"A measurement needs 2 to {MAX_SAMPLES} samples; got {self.samples!r}.")

    def presets(self) -> Mapping[str, str]:
        return MNIST_PRESETS[self.conditional]


def mnist_model_configs(config: MnistRaceConfig) -> dict[str, tuple[Any, Any]]:
    """(model config, training config) per family, from the live presets. Without labels the denoiser is built
    unconditional too (`num_classes=0`), so no family of the race sees the digits' labels."""
    out = {}
    for family, name in config.presets().items():
        preset = get_preset(name)
        model_config = preset.model_config
        if family == "diffusion" and not config.conditional:
            model_config = replace(model_config, num_classes=0)
        out[family] = (model_config, replace(live_train_config(preset.train_config), seed=config.seed))
    return out


class MnistRace(Race):
    metric = "classifier_score"
    higher_is_better = True
    goal = SCORE_GOAL

    def __init__(self, config: MnistRaceConfig, classifier: torch.nn.Module, *, device: torch.device | str = "cpu",
                 trainers: Mapping[str, Steppable] | None = None, clock: Clock = time.perf_counter) -> None:
        config.validate()
        if trainers is None:
            trainers = {family: build_trainer(model, train, data="mnist", device=device)
                        for family, (model, train) in mnist_model_configs(config).items()}
        super().__init__(trainers, budget_s=config.budget_s, measure_every_s=config.measure_every_s, clock=clock)
        self.config = config
        self.classifier = classifier
        self.grids: dict[str, np.ndarray] = {}  # the last measured samples of each family, as one picture
        # The same labels for every family when conditional: 0-9 in turn, so a grid of ten columns is a digit per column.
        self.labels = cycle_labels(config.samples, 10) if config.conditional else None

    def _measure(self, family: str) -> Work:
        trainer: Any = self.lanes[family].trainer
        n = self.config.samples
        noise = trainer.model.sample_noise(n, seeds.generator(self.config.seed, "fixed_noise"))  # (n, …) fixed
        labels = self.labels if getattr(trainer, "conditional", False) else None
        if family == "diffusion":
            parts = []
            for i in range(0, n, DIFFUSION_CHUNK):
                chunk = None if labels is None else labels[i:i + DIFFUSION_CHUNK]
                parts.append(trainer.sample(noise[i:i + DIFFUSION_CHUNK], chunk))
                if i + DIFFUSION_CHUNK < n:
                    yield
            images01 = pixels.signed_to_unit(torch.cat(parts))
        elif family == "gan":
            images01 = pixels.signed_to_unit(trainer.sample(noise, labels))
        else:
            images01 = trainer.sample(noise, labels)  # a VAE decodes to [0, 1]
        require_finite_samples(images01, what=f"The {family.upper()}'s samples")
        result = score_images(images01.clamp(0, 1), self.classifier, labels)
        self.grids[family] = make_grid(images01[:GRID_IMAGES], GRID_COLUMNS)
        values = {"classifier_score": float(result["classifier_score"]), "fid": float(result["fid"])}
        if labels is not None:
            values["conditional_accuracy"] = float(result["conditional_accuracy"])
        return values
