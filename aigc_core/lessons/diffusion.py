"""The diffusion lessons, on the ring of 8 Gaussians (`toy2d`), where the playground's toy denoiser (preset
toy_diffusion: an MLP of 3 x 64, batch 256, Adam 3e-3, EMA 0.99) trains in seconds on one CPU thread. Each lesson
trains its own small models in units of a few steps, then samples them and measures the samples with the
playground's metrics (grid KL / JS to the data, mode coverage) and their distance to the nearest mode.

- diffusion_steps: one denoiser (T = 200, linear β) sampled from one and the same x_T with ancestral DDPM at 10
  steps, DDIM (η = 0) at 10 steps and DDPM at all T steps (the reference). A strided ancestral step replaces the
  true p(x_s | x_t), a mixture over every mode x_t may still become, by one Gaussian around that mixture's mean
  with the variance of the forward step alone (Ho et al., 2020, eqs. 6-7), so over a few big steps the samples
  drift between the modes; DDIM's deterministic update (Song et al., 2021, eq. 12, a discretised probability-flow
  ODE) keeps x_t consistent with its own x̂_0 (their Table 1: η = 1 at 10 steps is far worse than η = 0).
- diffusion_guidance: a class-conditional denoiser whose label is the ring's mode index, trained with label
  dropout, each label sampled at guidance w in (0, 1, 3, 8) (classifier-free guidance, Ho & Salimans, 2022).
  Guidance samples roughly p(x | c) p(c | x)^w: fidelity (the share of samples whose nearest mode is the
  requested one) rises and diversity (the spread within a class) falls as w grows; large w also pushes the samples
  off the data, away from the other classes (the 2-D face of over-saturated images), so the distance to the
  requested mode's centre is measured too. The modes are wider than the playground's (std 0.4 against 0.08) so
  that neighbouring classes overlap and fidelity has room to rise.
- diffusion_schedule: the same denoiser trained twice at T = 50 from the same weights, batches and noise, once
  with Ho et al.'s linear β (scaled by 1000/T as in `aigc_core.diffusion`, so 0.002 … 0.4) and once with Nichol
  & Dhariwal's cosine ᾱ (2021, who introduced it because the linear schedule destroys the signal too early).
  The ᾱ_t curves are exact; the samples of each model (DDPM with all T steps) are measured.
"""

from __future__ import annotations

import math
from collections.abc import Generator, Iterator
from dataclasses import replace
from typing import Any, ClassVar

import torch

from .. import diffusion as dm
from .. import metrics, seeds, toy2d
from ..diffusion_trainer import DiffusionTrainer
from ..errors import ConfigError
from ..models.unet import ToyDenoiser, ToyDenoiserConfig
from ..device import one_thread
from ..playground.views import PLANE_BOUNDS
from ..presets import get_preset
from .base import Lesson

DATA = "ring"
POOL = 4096  # real points: the training pool, and what KL / JS compare with
TRAIN_CHUNK = 10  # training steps per unit of work: a unit takes milliseconds, far inside the page's 0.5 s slice
SAMPLE_CHUNK = 10  # sampler steps per unit of work
DESTROYED = 0.05  # ᾱ_t below this: less than 5 % of the signal's variance is left (√ᾱ_t < 0.22)
CLEAR = 0.7  # "clearly lower": at most 70 % of the other arm's KL


def _chunks(n: int, size: int) -> int:
    return -(-n // size)


# --- measurements ------------------------------------------------------------------------------------------------


def nearest_mode(points: torch.Tensor) -> torch.Tensor:
    """The index (N,) of each point's nearest ring mode."""
    return torch.cdist(points.double(), toy2d.mode_centers(DATA).double()).argmin(dim=1)


def distance_to_modes(points: torch.Tensor) -> float:
    """Mean distance of points (N, 2) to their nearest ring mode (0.1 for the data: its modes have std 0.08)."""
    return float(torch.cdist(points.double(), toy2d.mode_centers(DATA).double()).min(dim=1).values.mean())


def ring_numbers(points: torch.Tensor, real: torch.Tensor) -> dict[str, float]:
    """KL and JS of points (N, 2) to the real points on the playground's grid, modes covered and distance to them."""
    kl, js = metrics.grid_kl_js(real, points, PLANE_BOUNDS)
    covered, _ = metrics.mode_coverage(points, toy2d.mode_centers(DATA), toy2d.MODE_RADIUS[DATA])
    return {"kl": kl, "js": js, "modes": covered, "distance": distance_to_modes(points)}


def fidelity(points: torch.Tensor, labels: torch.Tensor) -> float:
    """Share of points whose nearest mode is their label (the class that was asked for)."""
    return float((nearest_mode(points) == labels).double().mean())


def offset(points: torch.Tensor, labels: torch.Tensor) -> float:
    """Realism: the mean distance of each point to the centre of its label's mode (0.5 for the lesson's data)."""
    return float((points.double() - toy2d.mode_centers(DATA).double()[labels]).norm(dim=1).mean())


def class_spread(points: torch.Tensor, labels: torch.Tensor) -> float:
    """Diversity: the root-mean-square distance of each class's points to their mean, averaged over the classes."""
    spreads = []
    for label in labels.unique():
        x = points[labels == label].double()  # (n_c, 2)
        spreads.append(float((x - x.mean(dim=0)).pow(2).sum(dim=1).mean().sqrt()))
    return sum(spreads) / len(spreads)


def destroyed_at(schedule: dm.NoiseSchedule, level: float = DESTROYED) -> int:
    """The first t at which ᾱ_t < level (T + 1 if it never gets there)."""
    below = (schedule.alpha_bars < level).nonzero()
    return int(below[0]) if len(below) else schedule.T + 1


def toy_trainer(
    model_config: ToyDenoiserConfig, source: toy2d.PointSource, *, seed: int, **train: Any,
) -> DiffusionTrainer:
    """A fresh denoiser and its trainer with the playground's toy_diffusion recipe (`train` overrides its fields)."""
    preset = get_preset("toy_diffusion")
    config = replace(preset.train_config, seed=seed, **train)
    return DiffusionTrainer(ToyDenoiser(model_config, seed=seed), source, config)


# --- what the three lessons share -----------------------------------------------------------------------------


class ToyDiffusionLesson(Lesson):
    """Training and sampling toy denoisers in units of work; `points` holds the 2-D samples of each arm."""

    QUICK: ClassVar[dict[str, int]] = {}  # make_lesson(quick=True): small sizes for the tests (seconds)

    def __init__(self, total: int, seed: int) -> None:
        super().__init__(total)
        self.seed = seed
        self.points: dict[str, torch.Tensor] = {}  # arm -> samples (N, 2); "data" -> the real points

    def step(self) -> None:
        with one_thread():  # tiny networks: a second thread only waits (see device.one_thread)
            super().step()

    def _train(self, trainers: dict[str, DiffusionTrainer], steps: int) -> Iterator[None]:
        """`steps` steps of every trainer, TRAIN_CHUNK at a time, in turn; one record per step."""
        for start in range(0, steps, TRAIN_CHUNK):
            for arm, trainer in trainers.items():
                for _ in range(min(TRAIN_CHUNK, steps - start)):
                    stats = trainer.step()
                    self.records.append({"arm": arm, "step": stats.step, "loss": stats.loss})
            yield

    def _sample(
        self, trainer: DiffusionTrainer, x_T: torch.Tensor, *, sampler: dm.Sampler, steps: int,  # noqa: N803
        labels: torch.Tensor | None = None, guidance: float = 0.0,
    ) -> Generator[None, None, torch.Tensor]:
        """x_0 (N, 2) from x_T with the trainer's EMA model, SAMPLE_CHUNK sampler steps per unit. Every call starts
        the sampler's own noise (DDPM) from the same named stream, so arms differ only in what they are told."""
        model = trainer.sampling_model()
        x = x_T
        for state in dm.sample_steps(
            model, trainer.schedule, x_T, prediction=model.config.prediction, sampler=sampler, steps=steps, y=labels,
            guidance=guidance, null_label=model.null_label, generator=seeds.generator(self.seed, "lesson_sampler"),
            clip_denoised=model.clip_denoised,
        ):
            x = state.step.x_prev
            if state.index % SAMPLE_CHUNK == 0 or state.index == steps:
                yield
        return x.float()


# --- too few sampling steps ----------------------------------------------------------------------------------------


class SamplingSteps(ToyDiffusionLesson):
    """One denoiser; the same x_T through DDPM and DDIM at `few` steps, and DDPM at all T steps (the reference)."""

    key = "diffusion_steps"
    ARMS = ("ddpm_few", "ddim_few", "reference")
    # Quick: more than one page slice (0.5 s) of work even on a fast machine, so the page test can press Stop.
    QUICK: ClassVar[dict[str, int]] = {"train_steps": 800, "samples": 1024}

    def __init__(self, *, train_steps: int = 3000, few: int = 10, samples: int = 2048, seed: int = 0) -> None:
        preset = get_preset("toy_diffusion")
        self.source = toy2d.PointSource.from_name(DATA, POOL, seed=seed)
        self.trainer = toy_trainer(preset.model_config, self.source, seed=seed)
        T = self.trainer.schedule.T  # noqa: N806
        dm.check_steps(self.trainer.schedule, few)
        self.train_steps, self.few = train_steps, few
        self.settings: dict[str, tuple[dm.Sampler, int]] = {
            "ddpm_few": ("ddpm", few), "ddim_few": ("ddim", few), "reference": ("ddpm", T),
        }
        self.x_T = torch.randn((samples, 2), generator=seeds.generator(seed, "lesson_samples"))  # noqa: N815
        units = _chunks(train_steps, TRAIN_CHUNK) + sum(_chunks(n, SAMPLE_CHUNK) for _, n in self.settings.values())
        super().__init__(units, seed)

    def _run(self) -> Iterator[None]:
        yield from self._train({"denoiser": self.trainer}, self.train_steps)
        self.points["data"] = self.source.points
        per_arm: dict[str, dict[str, Any]] = {}
        for arm, (sampler, steps) in self.settings.items():
            x = yield from self._sample(self.trainer, self.x_T, sampler=sampler, steps=steps)
            self.points[arm] = x
            per_arm[arm] = {"sampler": sampler, "steps": steps, **ring_numbers(x, self.source.points)}
            self.numbers = {"per_arm": dict(per_arm)}  # the page shows each arm as soon as it is measured
        ddpm, ddim = per_arm["ddpm_few"], per_arm["ddim_few"]
        self.numbers.update(
            few=self.few, reference_steps=self.settings["reference"][1],
            data_distance=distance_to_modes(self.source.points),
            shown=ddim["kl"] <= CLEAR * ddpm["kl"],
        )


# --- guidance too high ---------------------------------------------------------------------------------------------


class GuidanceStrength(ToyDiffusionLesson):
    """A class-conditional denoiser (label = mode index), each label sampled at growing guidance w."""

    key = "diffusion_guidance"
    QUICK: ClassVar[dict[str, int]] = {"train_steps": 500, "per_class": 128}

    def __init__(
        self, *, train_steps: int = 3000, weights: tuple[float, ...] = (0.0, 1.0, 3.0, 8.0), per_class: int = 256,
        class_std: float = 0.4, steps: int = 20, label_dropout: float = 0.2, width: int = 128, seed: int = 0,
    ) -> None:
        if len(weights) < 2 or list(weights) != sorted(set(weights)):
            raise ConfigError("Give at least two different guidance weights w in increasing order.")
        for w in weights:
            dm.check_guidance(w)
        self.weights, self.train_steps, self.steps = weights, train_steps, steps
        points, labels = toy2d.labelled_ring(POOL, torch.Generator().manual_seed(seed), std=class_std)
        self.source = toy2d.LabelledPointSource(points, labels)
        classes = len(toy2d.mode_centers(DATA))
        config = replace(get_preset("toy_diffusion").model_config, num_classes=classes, width=width)
        self.trainer = toy_trainer(config, self.source, seed=seed, label_dropout=label_dropout)
        dm.check_steps(self.trainer.schedule, steps)
        self.labels = torch.arange(classes).repeat_interleave(per_class)  # (N,) 0 … 0, 1 … 1, …
        self.x_T = torch.randn((len(self.labels), 2), generator=seeds.generator(seed, "lesson_samples"))  # noqa: N815
        units = _chunks(train_steps, TRAIN_CHUNK) + len(weights) * _chunks(steps, SAMPLE_CHUNK)
        super().__init__(units, seed)

    @staticmethod
    def arm(w: float) -> str:
        return f"w={w:g}"

    def _run(self) -> Iterator[None]:
        yield from self._train({"denoiser": self.trainer}, self.train_steps)
        self.points["data"] = self.source.points
        per_w: dict[str, dict[str, float]] = {}
        for w in self.weights:
            x = yield from self._sample(self.trainer, self.x_T, sampler="ddim", steps=self.steps, labels=self.labels,
                                        guidance=w)
            self.points[self.arm(w)] = x
            per_w[f"{w:g}"] = {"w": w, "fidelity": fidelity(x, self.labels), "spread": class_spread(x, self.labels),
                               "offset": offset(x, self.labels)}
            self.numbers = {"per_w": dict(per_w)}
        first, last = per_w[f"{self.weights[0]:g}"], per_w[f"{self.weights[-1]:g}"]
        self.numbers.update(
            data_fidelity=fidelity(self.source.points, self.source.labels),
            data_spread=class_spread(self.source.points, self.source.labels),
            data_offset=offset(self.source.points, self.source.labels),
            shown=last["fidelity"] > first["fidelity"] and last["spread"] < first["spread"],
        )


# --- a schedule that destroys the signal too early ----------------------------------------------------------------


class ScheduleAtSmallT(ToyDiffusionLesson):
    """The same denoiser trained at small T with the linear and with the cosine schedule (same weights and data)."""

    key = "diffusion_schedule"
    ARMS = ("linear", "cosine")
    QUICK: ClassVar[dict[str, int]] = {"train_steps": 500, "samples": 1024}

    def __init__(self, *, timesteps: int = 50, train_steps: int = 3000, samples: int = 2048, seed: int = 0) -> None:
        self.train_steps = train_steps
        self.source = toy2d.PointSource.from_name(DATA, POOL, seed=seed)
        base = get_preset("toy_diffusion").model_config
        self.trainers = {kind: toy_trainer(replace(base, schedule=kind, timesteps=timesteps), self.source, seed=seed)
                         for kind in self.ARMS}
        self.T = timesteps  # noqa: N815
        self.x_T = torch.randn((samples, 2), generator=seeds.generator(seed, "lesson_samples"))  # noqa: N815
        units = _chunks(train_steps, TRAIN_CHUNK) + len(self.ARMS) * _chunks(timesteps, SAMPLE_CHUNK)
        super().__init__(units, seed)
        self.numbers = self.curve_numbers()  # exact from the start: the page draws the curves while both train

    def curve_numbers(self) -> dict[str, Any]:
        """ᾱ_t and log10 SNR(t) for t = 0 … T of each schedule, the first t with ᾱ_t < DESTROYED, ᾱ at T/2."""
        numbers: dict[str, Any] = {"T": self.T, "half": self.T // 2, "level": DESTROYED}
        for kind, trainer in self.trainers.items():
            schedule = trainer.schedule
            a = schedule.alpha_bars
            numbers[f"alpha_bars_{kind}"] = a.tolist()
            numbers[f"log10_snr_{kind}"] = [math.nan] + (a[1:] / (1 - a[1:])).log10().tolist()  # t = 0: infinite
            numbers[f"destroyed_{kind}"] = destroyed_at(schedule)
            numbers[f"alpha_bar_half_{kind}"] = float(a[self.T // 2])
        return numbers

    def _run(self) -> Iterator[None]:
        yield from self._train(self.trainers, self.train_steps)
        self.points["data"] = self.source.points
        for kind, trainer in self.trainers.items():
            x = yield from self._sample(trainer, self.x_T, sampler="ddpm", steps=self.T)
            self.points[kind] = x
            measured = ring_numbers(x, self.source.points)
            self.numbers.update({f"{name}_{kind}": value for name, value in measured.items()})
        self.numbers["shown"] = self.numbers["kl_cosine"] < self.numbers["kl_linear"]
