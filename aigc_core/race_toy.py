"""The race on 2-D toy data: the 2-D Playground's GAN against its denoiser, with the MNIST race's fair scheduler
(aigc_core/race.py: `Race`, `FairScheduler`), each judged by the playground's own views (KL / JS of grid histograms
and mode coverage). There is no VAE for 2-D points in the core.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch

from . import seeds
from .errors import ConfigError
from .factory import build_trainer
from .finite import require_finite_samples
from .presets import get_preset
from .race import Clock, Race, Work
from .slicing import Steppable
from .toy2d import TOY_DISTRIBUTIONS

TOY_FAMILIES: tuple[str, ...] = ("gan", "diffusion")
TOY_PRESETS: Mapping[str, str] = {"gan": "toy_gan", "diffusion": "toy_diffusion"}
KL_GOAL = 0.5  # "first fell below a KL of 0.5 nats"


@dataclass(frozen=True)
class ToyRaceConfig:
    budget_s: float = 60.0
    data: str = "ring"
    seed: int = 0
    measure_every_s: float = 3.0

    def validate(self) -> None:
        if self.data not in TOY_DISTRIBUTIONS:
            raise ConfigError(f"Unknown toy distribution {self.data!r}; choose one of {', '.join(TOY_DISTRIBUTIONS)}.")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or not 0 <= self.seed <= seeds.SEED_MAX:
            raise ConfigError(f"The seed must be a whole number from 0 to {seeds.SEED_MAX}; got {self.seed!r}.")


class ToyRace(Race):
    """The 2-D Playground's GAN (`toy_gan`) against its denoiser (`toy_diffusion`) on one toy distribution, each
    judged by the playground's own view: 2,048 samples from fixed noise, KL / JS of grid histograms, modes."""

    metric = "kl"
    higher_is_better = False
    goal = KL_GOAL

    def __init__(self, config: ToyRaceConfig, *, device: torch.device | str = "cpu",
                 trainers: Mapping[str, Steppable] | None = None, clock: Clock = time.perf_counter) -> None:
        from . import playground as pg  # the views and their metric functions

        config.validate()
        if trainers is None:
            trainers = {}
            for family, name in TOY_PRESETS.items():
                preset = get_preset(name)
                train = replace(preset.train_config, seed=config.seed)
                trainers[family] = build_trainer(preset.model_config, train, data=config.data, device=device)
        super().__init__(trainers, budget_s=config.budget_s, measure_every_s=config.measure_every_s, clock=clock)
        self.config = config
        self._pg = pg
        first: Any = next(iter(trainers.values()))
        self.real = pg.shown_real(first.source, config.seed)  # (≤ 512, 2) real points drawn beside the samples
        self.points: dict[str, np.ndarray] = {}  # each family's last measured samples (the shown ones)
        self.modes: dict[str, tuple[int, int]] = {}  # (covered, total) at the last measurement, for modal data

    def _measure(self, family: str) -> Work:
        pg = self._pg
        trainer: Any = self.lanes[family].trainer
        if family == "diffusion":
            view = pg.compute_diffusion_view(trainer, data=self.config.data, real_shown=self.real,
                                             noise=pg.diffusion_noise(self.config.seed), t=1, field=False, forward=False)
        else:
            view = pg.compute_view(trainer, data=self.config.data, real_shown=self.real,
                                   noise=pg.view_noise(trainer.model, self.config.seed),
                                   heatmap=False, manifold=False, gradients=False)
        require_finite_samples(torch.as_tensor(view.fake), what=f"The {family.upper()}'s samples")
        self.points[family] = view.fake
        values = {"kl": float(view.kl), "js": float(view.js)}
        if view.coverage is not None:
            self.modes[family] = (view.coverage.covered, view.coverage.total)
            values["modes"] = float(view.coverage.covered)
            values["modes_total"] = float(view.coverage.total)
        return values
        yield  # unreachable: makes this a generator like every measurement (one chunk: 2,048 tiny samples)

