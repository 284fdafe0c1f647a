"""Does a model copy its training data? Samples against the 60,000 training digits, in two spaces, with a yardstick.

Pixel space (784 values in [0, 1]) catches a near-exact copy; the classifier's feature space (its 128-value
penultimate layer, `evaluation.classify`) catches a copy that moved a little, which pixel distance punishes. The
yardstick in each space is how far *fresh* digits (a seeded subset of the test set, which no model saw) lie from the
training set: a sample much closer than fresh digits ever come is a copy (`neighbours.copy_report`; Meehan,
Chaudhuri & Dasgupta, "A Non-Parametric Test to Detect Data-Copying in Generative Models", 2020).

The indexes are immutable and large (the pixel one holds 60,000 × 784 float32 ≈ 190 MB), so each is built once per
process: `training_pixel_index` here (shared by the Risks page and the memorization lesson), the feature index by
whoever holds the classifier (the page caches it for the server).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch

from .errors import ConfigError
from .evaluation import classify
from .mnist import load_mnist, to_tensor
from .models.classifier import Classifier
from .neighbours import CopyReport, NeighbourIndex, Neighbours, copy_report, flatten_images

K = 3  # nearest training digits shown per sample
REFERENCE_DIGITS = 1000  # fresh test digits whose distances to the training set are the yardstick
REFERENCE_SEED = 0
MAX_SAMPLES = 64


@lru_cache(maxsize=1)
def training_pixel_index() -> NeighbourIndex:
    """All 60,000 training digits as rows of 784 pixels in [0, 1] (one per process; never modified)."""
    return NeighbourIndex(flatten_images(load_mnist("train").images))


def feature_index(classifier: Classifier) -> NeighbourIndex:
    """All 60,000 training digits in the classifier's feature space (N, 128). A few seconds: cache the result."""
    return NeighbourIndex(features(classifier, to_tensor(load_mnist("train").images, "unit")))


def features(classifier: Classifier, images: torch.Tensor) -> torch.Tensor:
    """Images (N, 1, 28, 28) in [0, 1] -> the classifier's penultimate features (N, F), batched, on the CPU."""
    return classify(classifier, images)[1]


def reference_positions(count: int = REFERENCE_DIGITS, seed: int = REFERENCE_SEED) -> np.ndarray:
    """Seeded positions of the fresh test digits that make the yardstick (sorted)."""
    total = len(load_mnist("test"))
    if not 1 <= count <= total:
        raise ConfigError(f"The yardstick needs between 1 and {total:,} test digits; got {count}.")
    return np.sort(np.random.default_rng(seed).choice(total, count, replace=False))


def reference_images(count: int = REFERENCE_DIGITS, seed: int = REFERENCE_SEED) -> torch.Tensor:
    """The yardstick's test digits as (count, 1, 28, 28) in [0, 1]."""
    return to_tensor(load_mnist("test").images[reference_positions(count, seed)], "unit")


SEARCH_CHUNK = 64  # queries per search: the bounded search gathers (M, 256, D) candidates, 50 MB at M = 64


def nearest_distances(index: NeighbourIndex, rows: torch.Tensor) -> np.ndarray:
    """Each row's distance to its nearest indexed row (M,), in chunks (2,000 queries at once would take ~5 GB)."""
    return np.concatenate([index.search(chunk, 1).distances[:, 0].numpy() for chunk in rows.split(SEARCH_CHUNK)])


@dataclass(frozen=True)
class Space:
    """One space's answer for a set of samples: the k nearest training digits and the copy report."""

    neighbours: Neighbours  # distances (N, k) ascending and training positions (N, k)
    report: CopyReport


@dataclass(frozen=True)
class CopyCheck:
    """Samples compared with the training set in pixel space and (with a classifier) in feature space."""

    images: torch.Tensor  # (N, 1, 28, 28) in [0, 1]
    pixel: Space
    feature: Space | None
    search_seconds: float  # both searches, without building indexes or the yardstick

    def order(self) -> np.ndarray:
        """Sample positions, closest to a training digit (in pixel space) first: the likeliest copies."""
        return np.argsort(self.pixel.neighbours.distances[:, 0].numpy(), kind="stable")


def check_copies(
    images: torch.Tensor,
    pixel_index: NeighbourIndex,
    pixel_reference: np.ndarray,
    *,
    k: int = K,
    classifier: Classifier | None = None,
    feature_index_: NeighbourIndex | None = None,
    feature_reference: np.ndarray | None = None,
    quantile: float = 0.01,
) -> CopyCheck:
    """The k nearest training digits of each sample (N ≤ 64, in [0, 1]) and the copy reports against the yardstick."""
    if images.ndim != 4 or images.shape[1:] != (1, 28, 28) or not 1 <= len(images) <= MAX_SAMPLES:
        raise ConfigError(f"Give 1 to {MAX_SAMPLES} images of shape (1, 28, 28); got {tuple(images.shape)}.")
    images = images.detach().float().cpu()
    begin = time.perf_counter()
    pixel = pixel_index.search(flatten_images(images), k)
    feature = None
    if classifier is not None and feature_index_ is not None and feature_reference is not None:
        found = feature_index_.search(features(classifier, images), k)
        feature = Space(found, copy_report(found.distances[:, 0].numpy(), feature_reference, quantile))
    seconds = time.perf_counter() - begin
    return CopyCheck(images, Space(pixel, copy_report(pixel.distances[:, 0].numpy(), pixel_reference, quantile)),
                     feature, seconds)


# What a report says, decided by its numbers: below COPY_RATIO of fresh digits' median distance, or more than
# COPY_SHARE of samples closer than almost every fresh digit, is copying; above FARTHER_RATIO the samples are farther
# from every training digit than fresh digits are (not copies, and often not convincing digits either).
COPY_RATIO, FARTHER_RATIO, COPY_SHARE = 0.8, 1.2, 0.1


def reading(report: CopyReport) -> str:
    """"copies", "farther" or "like_fresh": the sentence a page writes under a copy report."""
    if report.median_ratio < COPY_RATIO or report.copy_share > COPY_SHARE:
        return "copies"
    if report.median_ratio > FARTHER_RATIO:
        return "farther"
    return "like_fresh"
