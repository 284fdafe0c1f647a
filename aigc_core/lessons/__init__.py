"""The failure gallery: small, seeded experiments that reproduce what goes wrong when training GANs and VAEs.

Each lesson is a `Lesson` with `step()` (one small unit of work, so `slicing.run_slice` can run it in time
slices), `progress`, `done`, a list of `records` (plain dicts, one per measured step, for the charts),
`samples` (image grids worth looking at) and `outcome()`: the numbers that show the effect and a verdict
`shown` saying whether this run showed it. The tests check each effect with small step counts.

- mode_collapse: G trained alone against a frozen D chases whatever D currently rates as most real, and
  the classes of its samples narrow to a few digits (Goodfellow, "NIPS 2016 Tutorial: Generative Adversarial
  Networks", sec. 5.1.1: the "Helvetica scenario"; Metz et al., "Unrolled GANs", 2017). Class histogram from
  the MNIST classifier.
- vanishing_gradient: once D rejects fakes confidently, the saturating minimax loss log(1 - D(G(z))) gives G
  almost no gradient while the non-saturating -log D(G(z)) gives a strong one (Goodfellow et al., 2014,
  sec. 3). Measured on the very same state, then both trained on with plain SGD for G (Adam would divide
  the tiny gradient by its own running size and hide much of the difference; the lesson says so).
- strong_discriminator: k = 5 D steps per G step with 10x D's learning rate: D wins outright
  (D(x) -> 1, D(G(z)) -> 0, D loss -> 0) and G's samples lag behind a balanced run.
- divergence: a learning rate of 1.0 with SGD overflows to inf within a few dozen steps; the trainer's
  divergence guard stops it, says so and restores the last finite weights. With Adam at 1.0 the numbers
  stay finite but training is wrecked all the same (G's tanh saturates and its gradient becomes exactly 0):
  a guard only catches NaN/inf.
- vae_beta: the beta-VAE objective recon + beta * KL (Higgins et al., 2017) for growing beta: sharp but
  prior-unlike codes at small beta, blurry reconstructions at larger beta, and posterior collapse (KL -> 0,
  no active dimensions, every reconstruction the same average digit) when beta is large (Bowman et al.,
  "Generating Sentences from a Continuous Space", 2016).
- article_gan: the source article's MLP GAN (ARTICLE_GAN) trained with its bugs fixed (preset
  gan_seed_mlp), plus a measurement for each bug of its sample code (see `article_bug_numbers`).
- diffusion_steps, diffusion_guidance, diffusion_schedule (`diffusion.py`): toy denoisers on the ring of 8,
  trained live: DDPM against DDIM at 10 sampling steps, classifier-free guidance trading diversity for fidelity,
  and a linear against a cosine noise schedule at T = 50.
- memorization (`memorization.py`): one small VAE trained on 100 digits and on all 60,000, interleaved: the samples of
  the 100-digit run come much closer to their training digits than fresh digits do (nearest-neighbour distances
  against each training set's own yardstick), those of the 60,000-digit run do not.
"""

from __future__ import annotations

from typing import Any

from ..errors import ConfigError
from ..models.classifier import Classifier
from ..models.gan import GAN
from .article import ARTICLE_BUGS, ArticleGAN, ArticleLoop, article_bug_numbers, mean_brightness
from .base import Lesson, class_histogram, generator_gradient_norm, normalized_entropy
from .diffusion import GuidanceStrength, SamplingSteps, ScheduleAtSmallT
from .gan_failures import Divergence, ModeCollapse, StrongDiscriminator, VanishingGradient
from .memorization import Memorization
from .vae_beta import VAEBeta

__all__ = [
    "ARTICLE_BUGS", "LESSONS", "ArticleGAN", "ArticleLoop", "Divergence", "GuidanceStrength", "Lesson",
    "Memorization", "ModeCollapse", "SamplingSteps", "ScheduleAtSmallT", "StrongDiscriminator", "VAEBeta", "VanishingGradient",
    "article_bug_numbers", "class_histogram",
    "generator_gradient_norm", "make_lesson", "mean_brightness", "normalized_entropy",
]

LESSONS: tuple[str, ...] = (
    "mode_collapse", "vanishing_gradient", "strong_discriminator", "divergence", "vae_beta", "article_gan",
    "diffusion_steps", "diffusion_guidance", "diffusion_schedule", "memorization",
)
DIFFUSION_LESSONS = {lesson.key: lesson for lesson in (SamplingSteps, GuidanceStrength, ScheduleAtSmallT)}


def make_lesson(key: str, *, quick: bool = False, gan: GAN | None = None, classifier: Classifier | None = None,
                **overrides: Any) -> Lesson:
    """Build a lesson by key with the page's default sizes (`quick=True`: the small sizes the tests use)."""
    if key == "mode_collapse":
        if gan is None or classifier is None:
            raise ConfigError("The mode collapse lesson needs a trained GAN and the MNIST classifier.")
        sizes = {"g_steps": 150, "samples": 300} if quick else {}
        return ModeCollapse(gan, classifier, **{**sizes, **overrides})
    if key == "vanishing_gradient":
        sizes = {"warmup": 100, "steps": 120} if quick else {}
        return VanishingGradient(**{**sizes, **overrides})
    if key == "strong_discriminator":
        sizes = {"steps": 150} if quick else {}
        return StrongDiscriminator(**{**sizes, **overrides})
    if key == "divergence":
        return Divergence(**overrides)  # already quick: it stops at the divergence
    if key == "vae_beta":
        sizes = {"steps": 200} if quick else {}
        return VAEBeta(**{**sizes, **overrides})
    if key == "article_gan":
        sizes = {"steps": 1200, "snapshot_every": 400} if quick else {}
        return ArticleGAN(**{**sizes, **overrides})
    if key == "memorization":
        return Memorization(**{**(Memorization.QUICK if quick else {}), **overrides})
    if key in DIFFUSION_LESSONS:
        cls = DIFFUSION_LESSONS[key]
        return cls(**{**(cls.QUICK if quick else {}), **overrides})
    raise ConfigError(f"Unknown lesson {key!r}; choose one of {', '.join(LESSONS)}.")
