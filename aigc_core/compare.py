"""Which generator? GAN, VAE and diffusion side by side: what the comparison measures, and what it concludes.

For each shipped model (`CONTENDERS`) the page shows a grid of samples and a row of figures (`Row`):
- image quality and balance from its `config.json` provenance, i.e. the CLI's evaluation at training time
  (`python -m aigc_core evaluate <folder> --json`: classifier score, FID, class counts and, for a conditional model,
  conditional accuracy, on 10,000 samples with seed 0); `evaluate_here` runs that same evaluation live;
- sampling time per image, measured here: one batch of `TIMING_BATCH` (64) samples, the batch the grid comes from;
- parameter counts, from the model itself: the network that draws a sample (G, the VAE's decoder, the whole
  U-Net) and everything that was trained (with D, the encoder);
- training steps and wall time, from the provenance.

`conclusions(rows)` turns a table into findings (best FID, fastest sampler and by how much, …) with the numbers in
them: what the page says is computed from what it measured, never written in advance.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Literal

import torch
from torch import nn

from . import evaluation, pixels
from .diffusion_trainer import DiffusionTrainConfig, evaluate_diffusion
from .diffusion_trainer import generate as diffusion_generate
from .gan_trainer import generate as gan_generate
from .models.conditional import cycle_labels, row_labels
from .models.registry import image_family
from .models.gan import GAN
from .models.unet import UNet
from .models.vae import VAE
from .presets import train_command

Family = Literal["gan", "vae", "diffusion"]
MetricsSource = Literal["training", "here"]


@dataclass(frozen=True)
class Contender:
    name: str  # the folder in pretrained/
    family: Family
    preset: str  # the recipe that makes it (aigc_core/presets.py)

    @property
    def train_command(self) -> str:
        """How to make the folder (scripts/train_pretrained.sh has each one's exact arguments)."""
        return train_command(self.preset, self.name)

    @property
    def evaluate_command(self) -> str:
        return f"python -m aigc_core evaluate pretrained/{self.name} --json"


# The shipped models compared, GANs first: the best unconditional one of each family and its conditional sibling.
CONTENDERS: tuple[Contender, ...] = (
    Contender("dcgan", "gan", "dcgan"),
    Contender("cgan", "gan", "cgan"),
    Contender("vae_mlp_z20", "vae", "vae_mlp_z20"),
    Contender("cvae", "vae", "cvae"),
    Contender("ddpm", "diffusion", "diffusion"),
)
NUM_CLASSES = 10
GRID_COLUMNS = 6  # samples per row; a conditional model gets one row per digit: 10 rows of 6
GRID_SAMPLES = NUM_CLASSES * GRID_COLUMNS  # 60, the first 60 of the timed batch
TIMING_BATCH = 64  # the batch whose wall time gives "seconds per image"
# The diffusion model is sampled the way its evaluation samples it: DDIM, 25 steps, guidance w = 2.
DIFFUSION_STEPS = DiffusionTrainConfig().sample_steps
DIFFUSION_GUIDANCE = DiffusionTrainConfig().guidance
EVAL_SAMPLES = 10_000  # the CLI's evaluation (config.json metrics)
EVAL_SEED = 0


family_of = image_family  # "gan", "vae" or "diffusion"; ConfigError for anything else


def is_conditional(model: nn.Module) -> bool:
    """True for a model that draws the digit it is asked for (cGAN, CVAE, class-conditional U-Net)."""
    if isinstance(model, UNet):
        return model.config.num_classes > 0
    return bool(getattr(model, "conditional", False))


def batch_labels(model: nn.Module, n: int = TIMING_BATCH, per_row: int = GRID_COLUMNS) -> torch.Tensor | None:
    """Labels for a conditional model's batch: one row per digit (0 × per_row, 1 × per_row, …), then 0, 1, … in turn
    for the rest of the batch; None for an unconditional model."""
    if not is_conditional(model):
        return None
    rows = row_labels(NUM_CLASSES, per_row)[:n]
    return torch.cat([rows, cycle_labels(n - len(rows), NUM_CLASSES)])


def sample01(model: nn.Module, n: int, seed: int, labels: torch.Tensor | None = None, *,
             steps: int = DIFFUSION_STEPS, guidance: float = DIFFUSION_GUIDANCE) -> torch.Tensor:
    """n seeded samples (N, 1, 28, 28) in [0, 1] on the CPU from any family; `labels` (N,) for a conditional model.
    `steps` and `guidance` only matter to diffusion. Safe on shared, cached models (inference mode, no updates)."""
    device = next(model.parameters()).device
    generator = torch.Generator().manual_seed(seed)
    if isinstance(model, GAN):
        z = model.sample_noise(n, generator, device)  # (N, z_dim)
        return pixels.signed_to_unit(gan_generate(model.generator, z, device, labels))
    if isinstance(model, VAE):
        return evaluation.vae_images(model, model.sample_noise(n, generator), labels)
    if isinstance(model, UNet):
        x_T = model.sample_noise(n, generator)  # noqa: N806  (N, 1, 28, 28)
        return pixels.signed_to_unit(diffusion_generate(model, x_T, labels, sampler="ddim", steps=steps,
                                                        guidance=guidance, generator=generator))
    raise TypeError(f"not an image generator: {type(model).__name__}")


@dataclass(frozen=True)
class Draw:
    """A timed batch: its images (the grid is the first GRID_SAMPLES) and the wall time it took."""
    images: torch.Tensor  # (TIMING_BATCH, 1, 28, 28) in [0, 1]
    labels: torch.Tensor | None  # what a conditional model was asked for
    seconds: float  # the batch's wall time (the fastest of `repeats` runs)
    repeats: int = 1

    @property
    def seconds_per_image(self) -> float:
        return self.seconds / len(self.images)


def draw_timed(model: nn.Module, seed: int, *, batch: int = TIMING_BATCH, min_seconds: float = 0.5,
               max_repeats: int = 5) -> Draw:
    """Sample one batch and time it: the fastest of up to `max_repeats` runs of the same seeded batch, repeated
    only while the runs so far took under `min_seconds` (a GAN's batch takes milliseconds, and one busy moment on a
    shared server would swamp a single run; a diffusion batch takes seconds and runs once). A 2-sample warm-up
    (one diffusion step) first, so the timing leaves out one-off costs of a model's first call."""
    labels = batch_labels(model, batch)
    sample01(model, 2, seed, None if labels is None else labels[:2], steps=1)
    best, spent, repeats = math.inf, 0.0, 0
    while repeats < max_repeats and (repeats == 0 or spent < min_seconds):
        start = time.perf_counter()
        images = sample01(model, batch, seed, labels)
        seconds = time.perf_counter() - start
        best, spent, repeats = min(best, seconds), spent + seconds, repeats + 1
    return Draw(images=images, labels=labels, seconds=best, repeats=repeats)


def parameter_counts(model: nn.Module) -> tuple[int, int]:
    """(parameters of the network that draws a sample, all trained parameters): G vs G + D for a GAN, the decoder
    vs encoder + decoder for a VAE, the whole U-Net for diffusion (it is both)."""
    total = sum(p.numel() for p in model.parameters())
    if isinstance(model, GAN):
        return sum(p.numel() for p in model.generator.parameters()), total
    if isinstance(model, VAE):
        return sum(p.numel() for p in model.decoder.parameters()), total
    return total, total


def has_image_metrics(metrics: dict | None) -> bool:
    """True when `metrics` (a config.json's, or `evaluate_here`'s) hold the image metrics the table shows."""
    return bool(metrics) and all(key in metrics for key in ("classifier_score", "fid", "class_counts"))


def evaluate_here(model: nn.Module, classifier: nn.Module, *, samples: int = EVAL_SAMPLES, seed: int = EVAL_SEED) -> dict:
    """The CLI's `evaluate --json` image metrics, computed now: the same functions, samples and seed."""
    if isinstance(model, GAN):
        return evaluation.evaluate_gan(model, classifier, samples=samples, seed=seed)
    if isinstance(model, VAE):
        return evaluation.evaluate_vae_samples(model, classifier, samples=samples, seed=seed)
    if isinstance(model, UNet):
        return evaluate_diffusion(model, classifier, samples=samples, seed=seed, steps=DIFFUSION_STEPS,
                                  guidance=DIFFUSION_GUIDANCE)
    raise TypeError(f"not an image generator: {type(model).__name__}")


@dataclass(frozen=True)
class Row:
    """One model's line of the table. None: not measured (the page shows "—" and how to measure it)."""
    name: str
    family: Family
    conditional: bool
    classifier_score: float | None = None
    fid: float | None = None
    class_min: int | None = None  # fewest samples of one digit, per 10,000
    class_max: int | None = None  # most samples of one digit, per 10,000
    conditional_accuracy: float | None = None  # conditional models only
    metric_samples: int | None = None  # how many samples the four figures above come from
    metrics_source: MetricsSource | None = None  # from config.json (training time) or measured here
    seconds_per_image: float | None = None  # measured here
    timing_batch: int = TIMING_BATCH
    sampling_params: int | None = None
    total_params: int | None = None
    train_steps: int | None = None
    train_seconds: float | None = None
    train_device: str | None = None

    @property
    def class_spread(self) -> int | None:
        return None if self.class_min is None or self.class_max is None else self.class_max - self.class_min


def _number(value: Any) -> float | None:
    """A finite number from JSON, else None (a config.json is read as it is; a missing or odd field is "—")."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


def _whole(value: Any) -> int | None:
    number = _number(value)
    return None if number is None else int(number)


def measured_row(contender: Contender, model: nn.Module, meta: dict, *, seconds_per_image: float | None = None,
                 metrics_here: dict | None = None) -> Row:
    """A model's row from its config.json (`meta`), the model itself and what was measured here: the timed batch's
    `seconds_per_image` (`Draw.seconds_per_image`) and `metrics_here` (`evaluate_here`, preferred over config.json's
    metrics when given)."""
    provenance = meta.get("provenance") or {}
    saved = provenance.get("metrics")
    if has_image_metrics(metrics_here):
        metrics, source = metrics_here, "here"
    elif has_image_metrics(saved):
        metrics, source = saved, "training"
    else:
        metrics, source = {}, None
    counts = metrics.get("class_counts") or []
    samples = _whole(metrics.get("samples")) or (sum(counts) if counts else None)
    class_min = class_max = None
    if counts and samples:  # per 10,000, whatever the sample size
        class_min = round(min(counts) * EVAL_SAMPLES / samples)
        class_max = round(max(counts) * EVAL_SAMPLES / samples)
    sampling_params, total_params = parameter_counts(model)
    conditional = is_conditional(model)
    return Row(
        name=contender.name,
        family=contender.family,
        conditional=conditional,
        classifier_score=_number(metrics.get("classifier_score")),
        fid=_number(metrics.get("fid")),
        class_min=class_min,
        class_max=class_max,
        conditional_accuracy=_number(metrics.get("conditional_accuracy")) if conditional else None,
        metric_samples=samples if source else None,
        metrics_source=source,
        seconds_per_image=seconds_per_image,
        sampling_params=sampling_params,
        total_params=total_params,
        train_steps=_whole(provenance.get("steps")),
        train_seconds=_number(provenance.get("wall_seconds")),
        train_device=provenance.get("device") if isinstance(provenance.get("device"), str) else None,
    )


@dataclass(frozen=True)
class Finding:
    """One sentence of the conclusion: `key` names its template (compare.conclude.<key>), `values` fill it in.
    Values that name a model hold its folder name (the page turns them into a title)."""
    key: str
    values: dict[str, Any] = field(default_factory=dict)


def _ranked(rows: list[Row], figure: str, *, best: Literal["low", "high"]) -> list[Row]:
    """Rows that have `figure`, best first."""
    having = [row for row in rows if getattr(row, figure) is not None]
    return sorted(having, key=lambda row: getattr(row, figure), reverse=(best == "high"))


def conclusions(rows: list[Row]) -> list[Finding]:
    """What the table says, from its numbers: each finding compares the best model on a figure with the worst
    (or states the only one). A figure no two models have is left out."""
    findings: list[Finding] = []
    by_fid = _ranked(rows, "fid", best="low")
    if len(by_fid) >= 2:
        best_of_family: dict[str, Row] = {}
        for row in by_fid:  # best first, so each family's first row is its best
            best_of_family.setdefault(row.family, row)
        findings.append(Finding("best_fid", {
            "model": by_fid[0].name, "family": by_fid[0].family, "fid": by_fid[0].fid, "worst": by_fid[-1].name,
            "worst_fid": by_fid[-1].fid,
            "by_family": [(family, row.name, row.fid) for family, row in best_of_family.items()],
        }))
    by_score = _ranked(rows, "classifier_score", best="high")
    if len(by_score) >= 2:
        findings.append(Finding("best_score", {"model": by_score[0].name, "family": by_score[0].family,
                                               "score": by_score[0].classifier_score}))
    by_balance = _ranked(rows, "class_spread", best="low")
    if len(by_balance) >= 2:
        top, bottom = by_balance[0], by_balance[-1]
        findings.append(Finding("most_balanced", {"model": top.name, "low": top.class_min, "high": top.class_max,
                                                  "worst": bottom.name, "worst_low": bottom.class_min,
                                                  "worst_high": bottom.class_max}))
    by_accuracy = _ranked(rows, "conditional_accuracy", best="high")
    if by_accuracy:
        findings.append(Finding("best_conditional", {"model": by_accuracy[0].name, "family": by_accuracy[0].family,
                                                     "accuracy": 100 * by_accuracy[0].conditional_accuracy}))
    by_speed = _ranked(rows, "seconds_per_image", best="low")
    if len(by_speed) >= 2:
        fast, slow = by_speed[0], by_speed[-1]
        findings.append(Finding("fastest", {"model": fast.name, "family": fast.family,
                                            "ms": 1000 * fast.seconds_per_image, "slowest": slow.name,
                                            "slow_ms": 1000 * slow.seconds_per_image,
                                            "times": slow.seconds_per_image / max(fast.seconds_per_image, 1e-12)}))
    by_size = _ranked(rows, "sampling_params", best="low")
    if len(by_size) >= 2:
        small, large = by_size[0], by_size[-1]
        findings.append(Finding("smallest", {"model": small.name, "family": small.family,
                                             "params": small.sampling_params, "largest": large.name,
                                             "large_params": large.sampling_params,
                                             "times": large.sampling_params / max(small.sampling_params, 1)}))
    return findings
