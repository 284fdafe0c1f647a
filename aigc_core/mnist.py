"""MNIST (LeCun, Cortes, Burges; CC BY-SA 3.0) and look-alike IDX data sets, kept in memory as uint8.

The four genuine files ship in `data/mnist/`. A user may point `folder` at any folder holding the
same four IDX files (Fashion-MNIST, KMNIST, ...).
"""

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

import numpy as np
import torch

from . import pixels
from .errors import ConfigError, DataError
from .idx import read_idx

DATA_DIR = Path(__file__).resolve().parent.parent / "data" / "mnist"
Split = Literal["train", "test"]
PixelRange = Literal["signed", "unit"]

_STEMS = {
    "train": ("train-images", "train-labels"),
    "test": ("t10k-images", "t10k-labels"),
}


@dataclass(frozen=True)
class Digits:
    """A split held as uint8: images (N, 28, 28), labels (N,)."""

    images: np.ndarray
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)


def _find(folder: Path, stem: str, kind: str) -> Path:
    # Accept the usual spellings: train-images-idx3-ubyte(.gz) and train-images.idx3-ubyte(.gz).
    for sep in ("-", "."):
        for suffix in (".gz", ""):
            candidate = folder / f"{stem}{sep}{kind}-ubyte{suffix}"
            if candidate.is_file():
                return candidate
    raise DataError(f"No file '{stem}-{kind}-ubyte[.gz]' in {folder}.")


@lru_cache(maxsize=8)
def _load(split: str, folder: str) -> Digits:
    root = Path(folder)
    image_stem, label_stem = _STEMS[split]
    images = read_idx(_find(root, image_stem, "idx3"))
    labels = read_idx(_find(root, label_stem, "idx1"))
    if images.ndim != 3 or images.shape[1:] != (28, 28):
        raise DataError(f"Expected 28x28 images in {root}, found shape {images.shape}.")
    if labels.ndim != 1 or len(labels) != len(images):
        raise DataError(f"{len(images)} images but {labels.shape} labels in {root}.")
    if labels.max(initial=0) > 9:
        raise DataError(f"Labels must be 0-9; found {int(labels.max())} in {root}.")
    return Digits(images=images, labels=labels)


def load_mnist(split: Split = "train", folder: str | Path | None = None) -> Digits:
    """Load a split (cached; arrays are read-only and shared)."""
    if split not in _STEMS:
        raise ConfigError(f"split must be 'train' or 'test', not {split!r}.")
    return _load(split, str(Path(folder).resolve() if folder else DATA_DIR))


def subset(digits: Digits, size: int, *, seed: int = 0) -> tuple[Digits, np.ndarray]:
    """`size` digits drawn without replacement (seeded), kept in their original order, and their positions in
    `digits`: a small training set for a memorization experiment. A size outside 1..len(digits) is a ConfigError."""
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or not 1 <= size <= len(digits):
        raise ConfigError(f"A training subset needs between 1 and {len(digits):,} digits; got {size!r}.")
    positions = np.sort(np.random.default_rng(seed).choice(len(digits), int(size), replace=False))
    return Digits(images=digits.images[positions], labels=digits.labels[positions]), positions


def to_tensor(images: np.ndarray, pixel_range: PixelRange, device: torch.device | str = "cpu") -> torch.Tensor:
    """uint8 (N, 28, 28) -> float (N, 1, 28, 28) in the model's range."""
    raw = torch.from_numpy(np.array(images)).to(device).unsqueeze(1)  # copy: the cached arrays are read-only
    return pixels.uint8_to_signed(raw) if pixel_range == "signed" else pixels.uint8_to_unit(raw)


class ImageSource:
    """Draws seeded random batches from a split; images stay uint8 until drawn."""

    def __init__(
        self,
        digits: Digits,
        pixel_range: PixelRange = "signed",
        device: torch.device | str = "cpu",
    ) -> None:
        self.digits = digits
        self.pixel_range = pixel_range
        self.device = torch.device(device)
        # (N, 1, 28, 28) uint8 on the device: 47 MB for MNIST train, converted per batch.
        self._images = torch.from_numpy(np.array(digits.images)).unsqueeze(1).to(self.device)
        self._labels = torch.from_numpy(np.array(digits.labels)).long().to(self.device)

    def __len__(self) -> int:
        return len(self.digits)

    def _draw(self, size: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        index = torch.randint(len(self), (size,), generator=generator).to(self.device)
        raw = self._images.index_select(0, index)
        return (pixels.uint8_to_signed(raw) if self.pixel_range == "signed" else pixels.uint8_to_unit(raw)), index

    def batch_with_labels(self, size: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        images, index = self._draw(size, generator)
        return images, self._labels.index_select(0, index)

    def batch(self, size: int, generator: torch.Generator) -> torch.Tensor:
        """Images only (the same draw as batch_with_labels, without gathering labels nobody reads)."""
        return self._draw(size, generator)[0]
