"""Draw me a 7: samples of a requested digit from the three conditional families, a CVAE's style vs content, and the
fidelity vs diversity trade-off of two sampling knobs, measured.

- Sampling: a cGAN draws G(ψ·z, y), a CVAE decodes sigmoid(decode(ψ·z, y)) (the pixel means), a class-conditional
  denoiser runs DDIM from x_T with classifier-free guidance w (Ho & Salimans, 2022). Every function takes its noise
  or a seed, never the process RNG.
- Truncation (the "truncation trick" of Brock, Donahue & Simonyan, 2019, BigGAN, in its simplest form): z is scaled
  by ψ ∈ [0, 1]. ψ = 1 is the prior the model was trained on; smaller ψ pulls every code towards the centre, where
  the generator draws its most typical digit; ψ = 0 gives one picture per label.
- Style vs content (Sohn, Lee & Yan, 2015; Kingma et al., 2014, "semi-supervised learning", fig. 1): a CVAE encodes
  a digit with its label into z; decoding the same z with another label keeps the handwriting (style) and changes
  the digit (content).
- Fidelity vs diversity: for each setting of a knob, `measure` reports the conditional accuracy (how often the
  MNIST classifier reads the digit that was asked for), the classifier score (Inception Score with our classifier)
  and the within-class diversity: the mean pairwise distance between samples of the same requested digit, in
  pixel space, as a root-mean-square pixel difference (‖a − b‖₂ / √784, so 0 = identical and 1 = black vs white).
  Every setting of a sweep gets the same noise, so the settings differ only by the knob.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch

from . import metrics, pixels
from .diffusion_trainer import generate as diffusion_generate
from .errors import ConfigError
from .evaluation import classify, vae_images
from .gan_trainer import generate as gan_generate
from .models.classifier import Classifier
from .models.conditional import check_labels
from .models.registry import image_family
from .models.gan import GAN
from .models.unet import UNet
from .models.vae import VAE

NUM_DIGITS = 10
Knob = Literal["psi", "guidance"]  # truncation ψ of a GAN's (or VAE's) z, guidance w of a diffusion model
KNOBS: tuple[Knob, ...] = ("psi", "guidance")
PSI_RANGE = (0.0, 1.5)  # ψ above 1 widens the prior: less typical, more varied digits
GUIDANCE_RANGE = (0.0, 8.0)
DIFFUSION_STEPS = 25  # DDIM steps, the shipped model's own setting

ConditionalModel = GAN | VAE | UNet


# --- which model, which digit -----------------------------------------------------------------------------------


family_of = image_family  # "gan", "vae" or "diffusion"; ConfigError for anything else


def num_classes(model: torch.nn.Module) -> int:
    """How many classes a model is conditioned on (0: unconditional)."""
    if isinstance(model, UNet):
        return int(model.config.num_classes)
    return int(getattr(model, "num_classes", 0))


def require_conditional(model: torch.nn.Module) -> None:
    """ConfigError unless `model` is a class-conditional GAN, VAE or denoiser (10 digit classes)."""
    family = family_of(model)
    classes = num_classes(model)
    if classes == 0:
        raise ConfigError(f"This {family} model is unconditional: it cannot be asked for a digit. Draw me a 7 needs "
                          "a class-conditional model (the cgan, cvae or diffusion preset).")
    if classes != NUM_DIGITS:
        raise ConfigError(f"This {family} model knows {classes} classes; Draw me a 7 needs the 10 digits.")


def check_digit(digit: object) -> int:
    """The digit as an int, or ConfigError unless it is a whole number in 0 … 9."""
    if isinstance(digit, bool) or not isinstance(digit, (int, np.integer)):
        if isinstance(digit, (float, np.floating)) and math.isfinite(digit) and float(digit).is_integer():
            digit = int(digit)
        else:
            raise ConfigError(f"A digit must be a whole number from 0 to 9; got {digit!r}.")
    if not 0 <= int(digit) < NUM_DIGITS:
        raise ConfigError(f"A digit must be a whole number from 0 to 9; got {digit}.")
    return int(digit)


def check_knob(knob: str, value: float) -> float:
    """`value` as a float, or ConfigError if it is not a finite setting of `knob` within its range."""
    if knob not in KNOBS:
        raise ConfigError(f"Unknown sampling knob {knob!r}; expected one of {', '.join(KNOBS)}.")
    low, high = PSI_RANGE if knob == "psi" else GUIDANCE_RANGE
    value = float(value)
    if not math.isfinite(value) or not low <= value <= high:
        raise ConfigError(f"{'Truncation ψ' if knob == 'psi' else 'Guidance w'} must lie in {low:g} … {high:g}; "
                          f"got {value:g}.")
    return value


def digit_labels(digit: int, n: int) -> torch.Tensor:
    """n copies of one requested digit (checked)."""
    return torch.full((n,), check_digit(digit), dtype=torch.long)


def sweep_labels(n: int) -> torch.Tensor:
    """0, 1, …, 9, 0, 1, …: n requested digits, balanced (what a sweep asks for)."""
    return torch.arange(n) % NUM_DIGITS


# --- sampling --------------------------------------------------------------------------------------------------


def truncate(z: torch.Tensor, psi: float) -> torch.Tensor:
    """ψ·z: ψ = 1 leaves the prior's codes alone, ψ → 0 pulls them all to the centre (one picture per label)."""
    return z * check_knob("psi", psi)


def noise(model: ConditionalModel, n: int, seed: int) -> torch.Tensor:
    """The model's prior noise (z for a GAN or VAE, x_T for a denoiser), n of them, on the CPU, from `seed`."""
    return model.sample_noise(n, torch.Generator().manual_seed(int(seed)))


def draw(
    model: ConditionalModel,
    noise_: torch.Tensor,
    labels: torch.Tensor,
    *,
    psi: float = 1.0,
    guidance: float = 2.0,
    steps: int = DIFFUSION_STEPS,
) -> torch.Tensor:
    """Images (N, 1, 28, 28) in [0, 1] on the CPU of the requested `labels` from the given noise.

    `psi` truncates a GAN's or VAE's z; `guidance` and `steps` are the denoiser's (deterministic DDIM, η = 0, so
    the same x_T gives the same picture). Runs under inference mode; the model is left as it was."""
    require_conditional(model)
    check_labels(labels, NUM_DIGITS, len(noise_))
    if isinstance(model, UNet):
        out = diffusion_generate(model, noise_, labels, sampler="ddim", steps=steps,
                                 guidance=check_knob("guidance", guidance))
        return pixels.signed_to_unit(out)
    z = truncate(noise_, psi)
    if isinstance(model, GAN):
        device = next(model.parameters()).device
        return pixels.signed_to_unit(gan_generate(model.generator, z, device, labels))
    return vae_images(model, z, labels)


def draw_digit(model: ConditionalModel, digit: int, n: int, seed: int, **settings: float) -> torch.Tensor:
    """n fresh samples of one digit: `draw` from `noise(model, n, seed)`."""
    return draw(model, noise(model, n, seed), digit_labels(digit, n), **settings)


def knob_settings(knob: Knob, value: float) -> dict[str, float]:
    """The keyword of `draw` a knob sets: {"psi": ψ} or {"guidance": w}."""
    return {knob: check_knob(knob, value)}


def batches(n: int, size: int) -> list[slice]:
    """[0, size), [size, 2·size), … covering n."""
    if n < 1 or size < 1:
        raise ConfigError(f"Need at least one sample and a batch of at least one; got {n} and {size}.")
    return [slice(i, min(i + size, n)) for i in range(0, n, size)]


def draw_sweep_batch(model: ConditionalModel, knob: Knob, value: float, *, n: int, seed: int,
                     part: slice) -> torch.Tensor:
    """Part `part` of a sweep setting's n samples: the same noise and labels for every value of the knob, so a
    setting computed in parts equals one computed at once."""
    labels = sweep_labels(n)[part]
    return draw(model, noise(model, n, seed)[part], labels, **knob_settings(knob, value))


# --- style vs content (a CVAE) ---------------------------------------------------------------------------------


def _require_cvae(model: VAE) -> None:
    if not isinstance(model, VAE):
        raise ConfigError("Style vs content needs a VAE: a GAN has no encoder to read a digit's style.")
    require_conditional(model)


def encode_style(model: VAE, x: torch.Tensor, digit: int) -> torch.Tensor:
    """The posterior mean μ(x, y) (1, D) of one digit image x ((28, 28) or (1, 1, 28, 28), in [0, 1]) read as
    `digit`: what the CVAE keeps of the picture once it is told which digit it is (the style)."""
    _require_cvae(model)
    x = x.reshape(1, 1, 28, 28).float()
    device = next(model.parameters()).device
    with torch.inference_mode():
        mu, _ = model.encode(x.to(device), digit_labels(digit, 1).to(device))
    return mu.float().cpu()


def as_every_digit(model: VAE, z: torch.Tensor) -> torch.Tensor:
    """One code z ((D,) or (1, D)) decoded with each label 0 … 9: the same style as ten digits, (10, 1, 28, 28)."""
    _require_cvae(model)
    z = z.reshape(1, -1).expand(NUM_DIGITS, -1)
    return vae_images(model, z, torch.arange(NUM_DIGITS))


def styles_of_digit(model: VAE, digit: int, n: int, seed: int) -> torch.Tensor:
    """One label with n codes z ~ N(0, I) from `seed`: n handwriting styles of the same digit."""
    _require_cvae(model)
    return vae_images(model, noise(model, n, seed), digit_labels(digit, n))


# --- fidelity vs diversity --------------------------------------------------------------------------------------


def mean_pairwise_distance(images: torch.Tensor) -> float:
    """Mean over pairs i < j of ‖x_i − x_j‖₂ / √(pixels): the root-mean-square pixel difference of two samples,
    averaged over all pairs (0 when all are identical). Needs at least two images."""
    flat = images.reshape(len(images), -1).double()
    if len(flat) < 2:
        raise ConfigError("A pairwise distance needs at least two samples.")
    return float(torch.pdist(flat).mean() / math.sqrt(flat.shape[1]))


def within_class_diversity(images: torch.Tensor, labels: torch.Tensor) -> float:
    """The mean over requested classes (those with at least two samples) of `mean_pairwise_distance` within the
    class: how different the samples of one requested digit are from each other, never across digits."""
    labels = torch.as_tensor(labels).reshape(-1).cpu()
    if len(labels) != len(images):
        raise ConfigError(f"One label per image: got {len(labels)} labels for {len(images)} images.")
    per_class = [mean_pairwise_distance(images[labels == k]) for k in labels.unique().tolist()
                 if int((labels == k).sum()) >= 2]
    if not per_class:
        raise ConfigError("Diversity needs at least two samples of one requested digit.")
    return float(np.mean(per_class))


@dataclass(frozen=True)
class Measure:
    """One point of a fidelity vs diversity chart."""

    setting: float  # ψ or w (NaN for the real digits)
    conditional_accuracy: float  # share of samples the classifier reads as the requested digit
    classifier_score: float  # Inception Score with the MNIST classifier (1 … 10)
    diversity: float  # within-class mean pairwise RMS pixel distance
    samples: int


def measure(images: torch.Tensor, requested: torch.Tensor, classifier: Classifier, setting: float) -> Measure:
    """Conditional accuracy, classifier score and within-class diversity of images in [0, 1] that were asked to be
    the digits `requested`."""
    probs, _ = classify(classifier, images)
    accuracy, _ = metrics.conditional_accuracy(probs, requested)
    return Measure(float(setting), accuracy, metrics.classifier_score(probs),
                   within_class_diversity(images, requested), len(images))


def sweep(
    model: ConditionalModel, classifier: Classifier, knob: Knob, values: Sequence[float], *, n: int, seed: int,
    batch: int = 50,
) -> Iterator[Measure]:
    """A `Measure` per value of the knob, in order, each of n samples (the digits 0-9 in turn, the same noise for
    every value), drawn `batch` at a time. A generator: a caller can show progress between values."""
    for value in values:
        images = torch.cat([draw_sweep_batch(model, knob, value, n=n, seed=seed, part=part)
                            for part in batches(n, batch)])
        yield measure(images, sweep_labels(n), classifier, value)


def real_measure(images: np.ndarray, labels: np.ndarray, classifier: Classifier, per_class: int) -> Measure:
    """The same measures for real digits (uint8 (N, 28, 28) with their labels): the first `per_class` of each
    digit. A reference: real handwriting's accuracy and diversity at the sample size of a sweep."""
    picks = np.concatenate([np.flatnonzero(labels == k)[:per_class] for k in range(NUM_DIGITS)])
    x = pixels.uint8_to_unit(torch.from_numpy(images[picks]).reshape(-1, 1, 28, 28))
    return measure(x, torch.from_numpy(labels[picks].astype(np.int64)), classifier, float("nan"))


def classifier_verdict(classifier: Classifier, images: torch.Tensor, digit: int) -> int:
    """How many of `images` (in [0, 1]) the classifier reads as `digit`."""
    probs, _ = classify(classifier, images)
    return int((probs.argmax(dim=1) == check_digit(digit)).sum())


def classifier_guess(classifier: Classifier, x: torch.Tensor) -> tuple[int, float]:
    """(the digit the classifier reads in one image x in [0, 1], its probability)."""
    probs, _ = classify(classifier, x.reshape(1, 1, 28, 28).float())
    p, k = probs[0].max(dim=0)
    return int(k), float(p)
