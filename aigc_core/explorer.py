"""What the Latent Explorer computes: decode codes of any image model, encode a data set, repair a digit.

- decode: z (N, D) -> images (N, 1, 28, 28) in [0, 1] for a GAN generator (tanh output, mapped through
  pixels.signed_to_unit) or a VAE decoder (sigmoid of the logits). One call = one small batch, so a slider
  move costs one forward pass.
- encode_dataset: posterior means mu(x) of a whole split plus a 2-D PCA of them (Kingma & Welling, 2014,
  fig. 4 draws the 2-D codes of the test set coloured by class; for D > 2 we project on the top two
  principal components).
- repair: fill in an erased part of a digit with a VAE by alternating "encode, decode, put the known pixels
  back" -- the iterative inpainting of Rezende, Mohamed & Wierstra, "Stochastic Backpropagation and
  Approximate Inference in Deep Generative Models" (2014), sec. 6, run here with the posterior mean instead
  of a sample so the result is deterministic.

Everything here only displays, so it runs under torch.inference_mode() and returns CPU tensors. The
module never changes a model's train/eval mode: shared pretrained models are already in eval mode, and a
session's training model is passed in through its trainer's own sampling functions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from . import pixels
from .errors import ConfigError
from .latent import PCAResult, pca
from .mnist import to_tensor
from .models.gan import GAN
from .models.vae import VAE

ENCODE_BATCH = 1000
MAX_REPAIR_ITERATIONS = 200

ImageModel = GAN | VAE


def _device_of(model: torch.nn.Module) -> torch.device:
    return next(model.parameters()).device


def decode(model: ImageModel, z: torch.Tensor, *, generator: torch.nn.Module | None = None) -> torch.Tensor:
    """Images (N, 1, 28, 28) in [0, 1] on the CPU for codes z (N, D) (or (D,)).

    `generator` overrides a GAN's own generator (a trainer's EMA copy draws the nicer samples).
    """
    z = z.reshape(-1, model.z_dim) if z.ndim == 1 else z
    if z.shape[1] != model.z_dim:
        raise ConfigError(f"This model's codes have {model.z_dim} numbers; got {z.shape[1]}.")
    device = _device_of(model)
    with torch.inference_mode():
        z = z.to(device=device, dtype=torch.float32)
        if isinstance(model, VAE):
            return torch.sigmoid(model.decode(z)).float().cpu()
        network = generator if generator is not None else model.generator
        return pixels.signed_to_unit(network(z).float()).cpu()


def encode(model: VAE, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(mu, logvar), each (N, D) on the CPU, for images x (N, 1, 28, 28) (or (28, 28)) in [0, 1]."""
    if not isinstance(model, VAE):
        raise ConfigError("Only a VAE has an encoder; a GAN cannot map an image back to its code.")
    x = x.reshape(-1, 1, 28, 28)
    with torch.inference_mode():
        mu, logvar = model.encode(x.to(device=_device_of(model), dtype=torch.float32))
    return mu.float().cpu(), logvar.float().cpu()


def reconstruct(model: VAE, x: torch.Tensor) -> torch.Tensor:
    """decode(mu(x)) in [0, 1]: the reconstruction without sampling noise."""
    mu, _ = encode(model, x)
    return decode(model, mu)


MAX_PCA_DIRECTIONS = 8


@dataclass(frozen=True, eq=False)
class EncodedSet:
    """Posterior means of a split: mu (N, D), labels (N,) int64, a PCA with up to 8 directions, the spread
    (standard deviation) of the data along each direction, and the 2-D map points.

    For D == 2 the map is the latent plane itself (coords = mu), so it shows true coordinates; otherwise
    the map is the plane of the top two principal directions.
    """

    mu: torch.Tensor
    labels: torch.Tensor
    pca: PCAResult
    spread: torch.Tensor  # (k,)
    coords: torch.Tensor  # (N, 2)

    @property
    def z_dim(self) -> int:
        return self.mu.shape[1]

    @property
    def directions(self) -> int:
        return self.pca.components.shape[0]

    def to_plane(self, z: torch.Tensor) -> torch.Tensor:
        """(N, D) codes -> (N, 2) map coordinates (identity for a 2-D latent space)."""
        z = z.reshape(-1, self.z_dim).float()
        return z.clone() if self.z_dim == 2 else self.pca.project(z)[:, :2]

    def nearest(self, point: tuple[float, float]) -> int:
        """Index of the encoded image whose map point is closest to `point`."""
        target = torch.tensor(point, dtype=self.coords.dtype)
        return int(((self.coords - target) ** 2).sum(dim=1).argmin())

    def code_from_directions(self, coefficients: torch.Tensor) -> torch.Tensor:
        """One code (D,): the mean code + sum_i c_i * spread_i * v_i along the first len(c) directions.

        Coefficients count standard deviations of the encoded data, so a slider from -3 to 3 covers the
        data whatever the scale of the codes.
        """
        c = torch.as_tensor(coefficients, dtype=torch.float32).reshape(-1)
        if not 1 <= c.numel() <= self.directions:
            raise ConfigError(f"Between 1 and {self.directions} directions; got {c.numel()}.")
        k = c.numel()
        return self.pca.mean + (c * self.spread[:k]) @ self.pca.components[:k]

    def directions_from_code(self, z: torch.Tensor, k: int) -> torch.Tensor:
        """The inverse view: coefficients (k,) of a code along the first k directions, in spreads."""
        projected = self.pca.project(z.reshape(1, -1).float())[0, :k]
        return projected / self.spread[:k]


def encode_dataset(model: VAE, images: np.ndarray, labels: np.ndarray) -> EncodedSet:
    """Encode uint8 images (N, 28, 28) in chunks; the result is immutable and may be cached per model."""
    x = to_tensor(np.asarray(images), "unit")
    mu = torch.cat([encode(model, chunk)[0] for chunk in x.split(ENCODE_BATCH)])  # (N, D)
    fitted = pca(mu, k=min(MAX_PCA_DIRECTIONS, mu.shape[1], mu.shape[0]))
    projected = fitted.project(mu)  # (N, k)
    coords = mu.clone() if mu.shape[1] == 2 else projected[:, :2].clone()
    return EncodedSet(
        mu=mu, labels=torch.from_numpy(np.array(labels, dtype=np.int64)), pca=fitted,
        spread=projected.std(dim=0).clamp_min(1e-6), coords=coords,
    )


def repair(model: VAE, x: torch.Tensor, mask: torch.Tensor, iterations: int = 20) -> list[torch.Tensor]:
    """Fill in the erased pixels (mask == 0) of one image x (28, 28) in [0, 1]; returns every iterate.

    x_0 is the masked image; x_{t+1} = mask * x + (1 - mask) * decode(mu(x_t)). Known pixels never change,
    so the result agrees with what was kept and the VAE only invents the missing part. Each returned
    image is (28, 28).
    """
    if not 1 <= iterations <= MAX_REPAIR_ITERATIONS:
        raise ConfigError(f"Repair needs between 1 and {MAX_REPAIR_ITERATIONS} iterations; got {iterations}.")
    x = torch.as_tensor(x, dtype=torch.float32).reshape(28, 28)
    mask = torch.as_tensor(mask, dtype=torch.float32).reshape(28, 28)
    current = x * mask
    steps = [current]
    for _ in range(iterations):
        guess = reconstruct(model, current)[0, 0]  # (28, 28)
        current = mask * x + (1 - mask) * guess
        steps.append(current)
    return steps


def seeded_code(model: ImageModel, seed: int) -> torch.Tensor:
    """One code (D,) from the model's own noise distribution, drawn with its own generator: same seed, same code."""
    return model.sample_noise(1, torch.Generator().manual_seed(int(seed)), "cpu")[0]


def masked_error(x: torch.Tensor, estimate: torch.Tensor, mask: torch.Tensor) -> float:
    """Mean absolute pixel error over the erased pixels (mask == 0): how well the gap was filled."""
    erased = (torch.as_tensor(mask).reshape(28, 28) == 0)
    if not bool(erased.any()):
        return 0.0
    diff = (torch.as_tensor(x).reshape(28, 28) - torch.as_tensor(estimate).reshape(28, 28)).abs()
    return float(diff[erased].mean())
