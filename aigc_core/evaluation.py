"""Evaluations that combine a model, the MNIST classifier and the metrics.

GAN: classifier score and FID on the classifier's penultimate features (10,000 samples against the
10,000 real test images), next to the floor FID(10k real training images, test set), and the class
histogram of generated samples. VAE: negative ELBO on the full test set, in nats per image.
"""

from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from . import losses, metrics, pixels
from .checkpoints import load_checkpoint
from .gan_trainer import generate
from .mnist import load_mnist, to_tensor
from .models.classifier import Classifier
from .models.gan import GAN
from .models.vae import VAE

PRETRAINED_DIR = Path(__file__).resolve().parent.parent / "pretrained"
EVAL_BATCH = 1000


def load_classifier(folder: str | Path = PRETRAINED_DIR / "classifier") -> Classifier:
    model = load_checkpoint(folder).model
    assert isinstance(model, Classifier)
    return model.eval()


def classify(classifier: Classifier, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """images (N, 1, 28, 28) in [0, 1] -> (probs (N, 10), features (N, F)), on the CPU, batched."""
    device = next(classifier.parameters()).device
    probs, feats = [], []
    was_training = classifier.training
    classifier.eval()
    with torch.inference_mode():
        for chunk in images.split(EVAL_BATCH):
            f = classifier.features(chunk.to(device))
            probs.append(torch.softmax(classifier.head(f), dim=1).cpu())
            feats.append(f.cpu())
    classifier.train(was_training)
    return torch.cat(probs), torch.cat(feats)


def classifier_accuracy(classifier: Classifier, split: str = "test") -> float:
    digits = load_mnist(split)
    probs, _ = classify(classifier, to_tensor(digits.images, "unit"))
    return float((probs.argmax(1).numpy() == digits.labels).mean())


@lru_cache(maxsize=4)
def real_reference(classifier: Classifier) -> dict:
    """Feature statistics of the real test set, and the FID floor: 10k real train images vs the test set."""
    test = load_mnist("test")
    test_probs, test_feats = classify(classifier, to_tensor(test.images, "unit"))
    train = load_mnist("train")
    index = np.random.default_rng(0).choice(len(train), 10_000, replace=False)
    _, train_feats = classify(classifier, to_tensor(train.images[np.sort(index)], "unit"))
    mu, sigma = metrics.gaussian_stats(test_feats)
    mu_train, sigma_train = metrics.gaussian_stats(train_feats)
    return {
        "mu": mu,
        "sigma": sigma,
        "fid_floor": metrics.frechet_distance(mu_train, sigma_train, mu, sigma),
        "test_classifier_score": metrics.classifier_score(test_probs),
    }


def generator_images(generator: torch.nn.Module, z: torch.Tensor, device: torch.device | str = "cpu") -> torch.Tensor:
    """G(z) in [0, 1], batched."""
    return torch.cat([pixels.signed_to_unit(generate(generator, chunk, device)) for chunk in z.split(EVAL_BATCH)])


def score_images(images: torch.Tensor, classifier: Classifier) -> dict:
    """Classifier score, FID against the test set, and class counts for images in [0, 1]."""
    probs, feats = classify(classifier, images)
    ref = real_reference(classifier)
    mu, sigma = metrics.gaussian_stats(feats)
    return {
        "classifier_score": metrics.classifier_score(probs),
        "fid": metrics.frechet_distance(mu, sigma, ref["mu"], ref["sigma"]),
        "fid_floor": ref["fid_floor"],
        "class_counts": metrics.class_counts(probs.argmax(1)),
        "samples": len(images),
    }


def evaluate_gan(
    model: GAN, classifier: Classifier, *, samples: int = 10_000, seed: int = 0, generator: torch.nn.Module | None = None
) -> dict:
    device = next(model.parameters()).device
    z = model.sample_noise(samples, torch.Generator().manual_seed(seed), device)
    result = score_images(generator_images(generator or model.generator, z, device), classifier)
    result["real_test_classifier_score"] = real_reference(classifier)["test_classifier_score"]
    return result


def vae_test_loss(model: VAE, *, seed: int = 0, reconstruction: losses.Reconstruction = "bce") -> dict:
    """Negative ELBO (recon + KL, β = 1) over the 10,000 test images, one seeded z sample each."""
    device = next(model.parameters()).device
    test = to_tensor(load_mnist("test").images, "unit")
    rng = torch.Generator().manual_seed(seed)
    total_recon = total_kl = 0.0
    model.eval()
    with torch.inference_mode():
        for x in test.split(EVAL_BATCH):
            eps = torch.randn((len(x), model.z_dim), generator=rng).to(device)
            x_logits, mu, logvar = model(x.to(device), eps)
            total_recon += float(losses.reconstruction_loss(x_logits, x.to(device), reconstruction)) * len(x)
            total_kl += float(losses.kl_divergence(mu, logvar)) * len(x)
    n = len(test)
    return {"test_loss_nats": (total_recon + total_kl) / n, "recon_nats": total_recon / n, "kl_nats": total_kl / n}
