"""The memorization lesson: one small VAE trained on 100 digits and the same VAE on all 60,000, interleaved.

Every `measure_every` steps both decode the same prior codes, and each sample's distance to the nearest digit of *its
own* training set is measured (pixel space, `aigc_core.neighbours`). Each run's yardstick is how far fresh test digits
lie from that same training set: a run whose samples sit much closer to its training digits than fresh digits do is
reproducing its training set rather than the distribution (Meehan, Chaudhuri & Dasgupta, 2020). The ratio of the two
medians is what the runs are compared on: 100 digits are farther from everything than 60,000 are, so raw distances
to different training sets are not comparable, ratios to each set's own yardstick are.

The model is a 2-D-code MLP VAE (a small decoder of `vae_mlp_fast`'s width): with 100 digits each code region of
the plane is owned by one digit, so prior samples land on near-copies; on 60,000 digits they blend. A VAE's samples
are decoder means (a little blurred), so even copies keep a few pixel units of distance; see the verdict's numbers.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any, ClassVar

import numpy as np
import torch

from .. import seeds
from ..copying import nearest_distances, reference_images, training_pixel_index
from ..errors import ConfigError
from ..factory import build_trainer
from ..mnist import ImageSource, load_mnist, subset, to_tensor
from ..models.vae import VAEMLPConfig
from ..neighbours import NeighbourIndex, copy_report, flatten_images
from ..presets import get_preset
from ..vae_trainer import VAETrainer
from .base import SAMPLE_COUNT, Lesson

ARMS = ("small", "full")  # trained on `small` digits / on all 60,000; records also hold a "control" line
MODEL = VAEMLPConfig(z_dim=2, hidden=(400,))
SHOWN_FACTOR = 0.85  # the small run's ratio must be below this share of the full run's for the verdict
CONTROL_MARGIN = 0.95  # ... and below this share of the control's (the full run's samples against the same 100 digits)


class Memorization(Lesson):
    """Two runs of one small VAE, on a seeded subset and on all training digits; their samples' nearest-neighbour
    distances to their own training sets over time, against each set's yardstick."""

    key = "memorization"
    QUICK: ClassVar[dict[str, Any]] = {"steps": 200, "measure_every": 50, "samples": 32, "reference_digits": 300}
    MEASURES: ClassVar[tuple[str, ...]] = ("small", "full", "control")  # the lines of the distance chart

    def __init__(self, *, small: int = 100, steps: int = 2000, measure_every: int = 100, samples: int = 64,
                 reference_digits: int = 1000, seed: int = 0) -> None:
        train = load_mnist("train")
        if small >= len(train):
            raise ConfigError(f"The small run needs fewer digits than the full run's {len(train):,}; got {small}.")
        if steps < 1 or measure_every < 1 or not 1 <= samples <= 64:
            raise ConfigError("Give at least one step, a positive measuring interval and 1 to 64 samples.")
        digits, self.positions = subset(train, small, seed=seed)  # ConfigError for 0 or too many
        self.small, self.steps, self.measure_every = small, steps, measure_every
        preset = get_preset("vae_mlp_fast")
        train_config = replace(preset.train_config, seed=seed)
        self.arms: dict[str, VAETrainer] = {
            "small": build_trainer(MODEL, train_config,  # type: ignore[dict-item]
                                   source=ImageSource(digits, pixel_range="unit")),
            "full": build_trainer(MODEL, train_config),  # type: ignore[dict-item]
        }
        self.train_images = {"small": digits.images, "full": train.images}  # uint8 (N, 28, 28), read-only
        self.z = torch.randn((samples, MODEL.z_dim), generator=seeds.generator(seed, "lesson_samples"))
        self.reference_digits = reference_digits
        self.indexes: dict[str, NeighbourIndex] = {}
        self.yardstick: dict[str, np.ndarray] = {}
        measurements = steps // measure_every + 1
        super().__init__(total=2 + 2 * steps + measurements)

    def _prepare(self) -> None:
        """The indexes and each training set's yardstick (the 60,000 index is shared by the whole process)."""
        self.indexes = {"small": NeighbourIndex(flatten_images(self.train_images["small"])),
                        "full": training_pixel_index()}
        fresh = flatten_images(reference_images(self.reference_digits))
        self.yardstick = {arm: nearest_distances(self.indexes[arm], fresh) for arm in ARMS}
        self.numbers["yardstick"] = {arm: float(np.median(self.yardstick[arm])) for arm in ARMS}

    def _samples(self, arm: str) -> torch.Tensor:
        return self.arms[arm].sample(self.z).cpu()  # (S, 1, 28, 28) in [0, 1]

    def _measure(self) -> None:
        for arm in ARMS:
            images = self._samples(arm)
            found = self.indexes[arm].search(flatten_images(images), 1)
            distances = found.distances[:, 0].numpy()
            report = copy_report(distances, self.yardstick[arm])
            step = self.arms[arm].iteration
            self.records.append({"arm": arm, "step": step, "median": float(np.median(distances)),
                                 "yardstick": self.numbers["yardstick"][arm], "ratio": report.median_ratio,
                                 "copy_share": report.copy_share})
            nearest = to_tensor(self.train_images[arm][found.indices[:SAMPLE_COUNT, 0].numpy()], "unit")
            self.samples[arm] = images[:SAMPLE_COUNT]
            self.samples[f"{arm}_nearest"] = nearest
            self.numbers[arm] = {"median": float(np.median(distances)), "ratio": report.median_ratio,
                                 "copy_share": report.copy_share, "threshold": report.threshold, "step": step,
                                 "distances": distances[:SAMPLE_COUNT].tolist()}
            if arm == "full":  # the control: a model that never saw the 100 digits, measured against them
                control = copy_report(nearest_distances(self.indexes["small"], flatten_images(images)),
                                      self.yardstick["small"])
                self.records.append({"arm": "control", "step": step,
                                     "median": float(np.median(control.sample_distances)),
                                     "yardstick": self.numbers["yardstick"]["small"], "ratio": control.median_ratio,
                                     "copy_share": control.copy_share})
                self.numbers["control"] = {"median": float(np.median(control.sample_distances)),
                                           "ratio": control.median_ratio, "copy_share": control.copy_share}

    def _run(self) -> Iterator[None]:
        self._prepare()
        yield
        self._measure()
        yield
        for step in range(1, self.steps + 1):
            for arm in ARMS:
                self.arms[arm].step()
                yield
            if step % self.measure_every == 0 or step == self.steps:
                self._measure()
                yield
        small, full, control = self.numbers["small"], self.numbers["full"], self.numbers["control"]
        self.numbers.update(small_digits=self.small, steps=self.steps, ratio_small=small["ratio"],
                            ratio_full=full["ratio"], ratio_control=control["ratio"], median_small=small["median"],
                            median_full=full["median"], share_small=small["copy_share"],
                            share_full=full["copy_share"])
        # Shown: closer to its own digits than fresh digits are, far more than the full run, and closer to those 100
        # digits than a model that never saw them (blurry samples alone sit nearer to a small set: the control).
        self.numbers["shown"] = (small["ratio"] < SHOWN_FACTOR * full["ratio"]
                                 and small["ratio"] < CONTROL_MARGIN * control["ratio"])
