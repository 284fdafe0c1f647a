"""Evaluations that combine a model, the MNIST classifier and the metrics.

GAN: classifier score and FID on the classifier's penultimate features (10,000 samples against the
10,000 real test images), next to the floor FID(10k real training images, test set), and the class
histogram of generated samples. VAE: negative ELBO on the full test set, in nats per image, and the same image
metrics for its samples (decoded pixel means of z ~ N(0, I)). A class-conditional model is asked for the digits 0-9
in turn, 1,000 each in 10,000, and also gets `conditional_accuracy`: how often the classifier reads the digit that
was asked for (overall and per class).
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
from .models.conditional import cycle_labels
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


def generator_images(
    generator: torch.nn.Module, z: torch.Tensor, device: torch.device | str = "cpu", labels: torch.Tensor | None = None
) -> torch.Tensor:
    """G(z) (or G(z, y) with `labels`) in [0, 1], batched."""
    chunks = z.split(EVAL_BATCH)
    label_chunks = labels.split(EVAL_BATCH) if labels is not None else [None] * len(chunks)
    return torch.cat([pixels.signed_to_unit(generate(generator, c, device, y)) for c, y in zip(chunks, label_chunks)])


def score_images(images: torch.Tensor, classifier: Classifier, requested: torch.Tensor | None = None) -> dict:
    """Classifier score, FID against the test set, and class counts for images in [0, 1]; with the `requested`
    labels of a conditional model, also the conditional accuracy (overall and per class)."""
    probs, feats = classify(classifier, images)
    ref = real_reference(classifier)
    mu, sigma = metrics.gaussian_stats(feats)
    result = {
        "classifier_score": metrics.classifier_score(probs),
        "fid": metrics.frechet_distance(mu, sigma, ref["mu"], ref["sigma"]),
        "fid_floor": ref["fid_floor"],
        "class_counts": metrics.class_counts(probs.argmax(1)),
        "samples": len(images),
    }
    if requested is not None:
        overall, per_class = metrics.conditional_accuracy(probs, requested)
        result["conditional_accuracy"] = overall
        result["per_class_accuracy"] = per_class
    return result


def evaluate_gan(
    model: GAN, classifier: Classifier, *, samples: int = 10_000, seed: int = 0, generator: torch.nn.Module | None = None
) -> dict:
    device = next(model.parameters()).device
    z = model.sample_noise(samples, torch.Generator().manual_seed(seed), device)
    labels = cycle_labels(samples, model.num_classes) if model.conditional else None
    result = score_images(generator_images(generator or model.generator, z, device, labels), classifier, labels)
    result["real_test_classifier_score"] = real_reference(classifier)["test_classifier_score"]
    return result


def vae_images(model: VAE, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
    """Decoded pixel means sigmoid(decode(z[, y])) in [0, 1] on the CPU, batched."""
    device = next(model.parameters()).device
    out = []
    model.eval()
    with torch.inference_mode():
        for i in range(0, len(z), EVAL_BATCH):
            y = None if labels is None else labels[i:i + EVAL_BATCH].to(device)
            out.append(torch.sigmoid(model.decode(z[i:i + EVAL_BATCH].to(device), y)).float().cpu())
    return torch.cat(out)


def evaluate_vae_samples(model: VAE, classifier: Classifier, *, samples: int = 10_000, seed: int = 0) -> dict:
    """`score_images` of decoded z ~ N(0, I) (labels 0-9 in turn for a conditional VAE)."""
    z = model.sample_noise(samples, torch.Generator().manual_seed(seed))
    labels = cycle_labels(samples, model.num_classes) if model.conditional else None
    result = score_images(vae_images(model, z, labels), classifier, labels)
    result["real_test_classifier_score"] = real_reference(classifier)["test_classifier_score"]
    return result


def vae_test_loss(model: VAE, *, seed: int = 0, reconstruction: losses.Reconstruction = "bce") -> dict:
    """Negative ELBO (recon + KL, β = 1) over the 10,000 test images, one seeded z sample each (a conditional VAE
    encodes and decodes each with its true label)."""
    device = next(model.parameters()).device
    digits = load_mnist("test")
    test = to_tensor(digits.images, "unit")
    labels = torch.from_numpy(digits.labels.astype("int64")) if model.conditional else None
    rng = torch.Generator().manual_seed(seed)
    total_recon = total_kl = 0.0
    model.eval()
    with torch.inference_mode():
        for i, x in enumerate(test.split(EVAL_BATCH)):
            eps = torch.randn((len(x), model.z_dim), generator=rng).to(device)
            y = None if labels is None else labels[i * EVAL_BATCH:(i + 1) * EVAL_BATCH].to(device)
            x_logits, mu, logvar = model(x.to(device), eps, y)
            total_recon += float(losses.reconstruction_loss(x_logits, x.to(device), reconstruction)) * len(x)
            total_kl += float(losses.kl_divergence(mu, logvar)) * len(x)
    n = len(test)
    return {"test_loss_nats": (total_recon + total_kl) / n, "recon_nats": total_recon / n, "kl_nats": total_kl / n}
