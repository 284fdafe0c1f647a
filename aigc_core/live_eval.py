"""Samples for display, and quick quality estimates during live training: the classifier score and FID of `evaluation.score_images` on a
few hundred seeded samples instead of 10,000, so a live chart can show them every few seconds.

With few samples the FID estimate is biased upwards (the covariance of a small sample is noisy), so it is
comparable between points of one run (same sample size), not with the 10,000-sample figures of the shipped
weights.
"""

from __future__ import annotations

import torch

from . import pixels
from .evaluation import score_images
from .gan_trainer import GANTrainer, generate
from .models.classifier import Classifier
from .models.gan import GAN
from .models.vae import VAE
from .vae_trainer import VAETrainer

QUICK_SAMPLES = 500


def model_samples01(model: GAN | VAE, n: int, seed: int = 0) -> torch.Tensor:
    """n seeded samples (N, 1, 28, 28) in [0, 1] from a GAN's generator or a VAE's decoder (prior z ~ N(0, I)).

    Runs under inference mode and leaves the model as it was, so it is safe on a shared, cached model."""
    device = next(model.parameters()).device
    z = model.sample_noise(n, torch.Generator().manual_seed(seed), device)
    if isinstance(model, GAN):
        return pixels.signed_to_unit(generate(model.generator, z, device))
    with torch.inference_mode():
        return torch.sigmoid(model.decode(z)).float().cpu()


def sample_images01(trainer: GANTrainer | VAETrainer, n: int = QUICK_SAMPLES, seed: int = 0) -> torch.Tensor:
    """n seeded samples (N, 1, 28, 28) in [0, 1] from the trainer's sampling network (EMA generator if any)."""
    z = trainer.model.sample_noise(n, torch.Generator().manual_seed(seed), trainer.device)
    if isinstance(trainer, GANTrainer):
        return pixels.signed_to_unit(generate(trainer.sampling_generator(), z, trainer.device))
    return trainer.sample(z)


def quick_score(
    trainer: GANTrainer | VAETrainer, classifier: Classifier, *, samples: int = QUICK_SAMPLES, seed: int = 0
) -> dict:
    """{"step", "classifier_score", "fid", "samples"} for the trainer's current model."""
    result = score_images(sample_images01(trainer, samples, seed), classifier)
    return {"step": trainer.iteration, "classifier_score": result["classifier_score"], "fid": result["fid"],
            "samples": samples}
