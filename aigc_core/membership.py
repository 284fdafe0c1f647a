"""Membership inference: was this digit in the model's training set? The loss-threshold attack (Yeom et al., 2018;
for generative models Hayes et al., "LOGAN", 2019 and Hilprecht et al., 2019; for diffusion Carlini et al., 2023).

A model fits its training members a little better than digits it never saw, and each family leaks that fit through a
number it computes anyway, the attack signal (higher = "more likely a member"):
- GAN: the discriminator's logit D(x) (D was trained to call the training digits real);
- VAE: the per-example ELBO, -(reconstruction + KL) in nats, averaged over a few seeded draws of z;
- diffusion: minus the simple denoising loss ‖ε - ε_θ(x_t, t, y)‖², averaged over a fixed set of timesteps with
  seeded noises.
The attacker thresholds the signal; sweeping the threshold gives the ROC curve, and the area under it (AUC) is the
probability that a random member scores above a random non-member, ties counted half: the Mann–Whitney U statistic
divided by n₁·n₀ (Hanley & McNeil, 1982). 0.5 = the attack learns nothing; 1.0 = membership is plain to see.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch

from . import diffusion as dm
from .errors import ConfigError
from .mnist import Digits, to_tensor
from .models.gan import GAN
from .models.registry import image_family
from .models.unet import UNet
from .models.vae import VAE

MAX_SUBSET = 60_000  # the MNIST training set
SCORE_BATCH = 500
VAE_DRAWS = 4  # z draws averaged per image: one draw's noise would blur a small gap
DIFFUSION_TIMESTEPS = 8  # fixed t values per image (evenly spread over 1 … T)
Family = Literal["gan", "vae", "diffusion"]


# -- the attack's statistics ---------------------------------------------------------------------------------------


def _as_scores(values: np.ndarray | torch.Tensor | list[float], what: str) -> np.ndarray:
    array = np.asarray(values.detach().cpu() if isinstance(values, torch.Tensor) else values, dtype=np.float64).ravel()
    if len(array) == 0:
        raise ConfigError(f"The {what} have no scores: an AUC needs at least one member and one non-member.")
    if not np.isfinite(array).all():
        raise ConfigError(f"The {what}' scores contain NaN or infinity; the model is broken for this attack.")
    return array


def auc(members: np.ndarray | torch.Tensor, nonmembers: np.ndarray | torch.Tensor) -> float:
    """P(member score > non-member score) + ½ P(equal), from mid-ranks of the pooled scores (Mann–Whitney U)."""
    m, n = _as_scores(members, "members"), _as_scores(nonmembers, "non-members")
    pooled = np.concatenate([m, n])
    _, inverse, counts = np.unique(pooled, return_inverse=True, return_counts=True)
    upper = np.cumsum(counts)  # ranks are 1-based: a block of tied values spans (upper - count, upper]
    mid_rank = (upper - (counts - 1) / 2.0)[inverse]  # a tie shares the mean of its ranks
    u = mid_rank[: len(m)].sum() - len(m) * (len(m) + 1) / 2.0
    return float(u / (len(m) * len(n)))


@dataclass(frozen=True)
class Roc:
    """The attack's ROC: false- and true-positive rates (ascending, from (0, 0) to (1, 1)) as the threshold falls
    through every distinct score ("member" when score ≥ threshold)."""

    fpr: np.ndarray
    tpr: np.ndarray

    def area(self) -> float:
        """Trapezoid area; equals `auc` (a tie block is a diagonal segment: half credit)."""
        return float(np.sum(np.diff(self.fpr) * (self.tpr[1:] + self.tpr[:-1]) / 2.0))


def roc_curve(members: np.ndarray | torch.Tensor, nonmembers: np.ndarray | torch.Tensor) -> Roc:
    m, n = _as_scores(members, "members"), _as_scores(nonmembers, "non-members")
    thresholds = np.unique(np.concatenate([m, n]))[::-1]  # descending
    m_sorted, n_sorted = np.sort(m), np.sort(n)
    # How many scores are ≥ each threshold: len - (number strictly below).
    tp = len(m) - np.searchsorted(m_sorted, thresholds, side="left")
    fp = len(n) - np.searchsorted(n_sorted, thresholds, side="left")
    return Roc(np.concatenate([[0.0], fp / len(n)]), np.concatenate([[0.0], tp / len(m)]))


def tpr_at_fpr(roc: Roc, fpr: float) -> float:
    """The best true-positive rate at a false-positive rate ≤ `fpr` (Carlini et al. 2022's low-FPR view)."""
    return float(roc.tpr[roc.fpr <= fpr + 1e-12].max())


# -- data ------------------------------------------------------------------------------------------------------------


def training_subset(digits: Digits, size: int, seed: int = 0) -> tuple[Digits, np.ndarray]:
    """`size` distinct digits drawn (seeded) from `digits`, and their row numbers (ascending)."""
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)):
        raise ConfigError(f"A training subset's size must be a whole number; got {size!r}.")
    if size < 1:
        raise ConfigError(f"A training subset needs at least one digit; got {size}.")
    if size > len(digits):
        raise ConfigError(f"A training subset can hold at most {len(digits):,} digits (all of them); got {size:,}.")
    index = np.sort(np.random.default_rng(seed).choice(len(digits), int(size), replace=False))
    return Digits(images=digits.images[index], labels=digits.labels[index]), index


family_of = image_family  # "gan", "vae" or "diffusion"; ConfigError for anything else


# -- each family's signal --------------------------------------------------------------------------------------------


def _device(model: torch.nn.Module) -> torch.device:
    return next(model.parameters()).device


@torch.inference_mode()
def gan_scores(model: GAN, images01: torch.Tensor) -> torch.Tensor:
    """D(x) as a logit for images (N, 1, 28, 28) in [0, 1]; (N,)."""
    discriminator, device = model.discriminator, _device(model)
    was_training = discriminator.training
    discriminator.eval()
    try:
        return torch.cat([discriminator(chunk.to(device) * 2 - 1).reshape(len(chunk), -1)[:, 0].float().cpu()
                          for chunk in images01.split(SCORE_BATCH)])
    finally:
        discriminator.train(was_training)


@torch.inference_mode()
def vae_scores(model: VAE, images01: torch.Tensor, *, seed: int = 0, draws: int = VAE_DRAWS) -> torch.Tensor:
    """Per-image ELBO (nats; higher = better fit), the mean over `draws` seeded z ~ q(z|x); (N,)."""
    rng, device = torch.Generator().manual_seed(seed), _device(model)
    out = []
    for chunk in images01.split(SCORE_BATCH):
        x = chunk.to(device)
        mu, logvar = model.encode(x)
        kl = -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(dim=1)  # (B,) as losses.kl_divergence, per image
        recon = torch.zeros(len(x), device=device)
        for _ in range(draws):
            eps = torch.randn(mu.shape, generator=rng).to(device)
            x_logits = model.decode(model.reparameterize(mu, logvar, eps))
            recon += torch.nn.functional.binary_cross_entropy_with_logits(
                x_logits, x, reduction="none").flatten(1).sum(dim=1)
        out.append(-(recon / draws + kl).float().cpu())
    return torch.cat(out)


def fixed_timesteps(T: int, k: int = DIFFUSION_TIMESTEPS) -> torch.Tensor:  # noqa: N803
    """k timesteps evenly spread over 1 … T (the middle of k equal ranges)."""
    return ((torch.arange(k, dtype=torch.float64) + 0.5) * T / k).ceil().long().clamp(1, T)


@torch.inference_mode()
def diffusion_scores(model: UNet, images01: torch.Tensor, labels: torch.Tensor | None = None, *, seed: int = 0,
                     timesteps: int = DIFFUSION_TIMESTEPS) -> torch.Tensor:
    """Minus the simple loss per image, averaged over `fixed_timesteps` with seeded noises ε; (N,). A conditional
    model is scored with each digit's own label (what it was trained on)."""
    schedule, device = dm.schedule_for(model.config), _device(model)
    ts = fixed_timesteps(schedule.T, timesteps)
    rng = torch.Generator().manual_seed(seed)
    conditional = model.config.num_classes > 0
    if conditional and labels is None:
        raise ConfigError("A class-conditional denoiser is scored with each digit's label; none were given.")
    out = []
    for start in range(0, len(images01), SCORE_BATCH):
        x0 = images01[start:start + SCORE_BATCH].to(device) * 2 - 1  # the denoiser works in [-1, 1]
        y = labels[start:start + SCORE_BATCH].to(device) if conditional else None
        total = torch.zeros(len(x0), device=device)
        for t_value in ts.tolist():
            t = torch.full((len(x0),), t_value, dtype=torch.long)
            noise = torch.randn(x0.shape, generator=rng).to(device)
            output = model(dm.q_sample(schedule, x0, t, noise), t.to(device), y)
            target = dm.training_target(schedule, model.config.prediction, x0, t, noise)
            total += dm.simple_loss_per_sample(output, target)
        out.append(-(total / len(ts)).float().cpu())
    return torch.cat(out)


def attack_scores(model: torch.nn.Module, digits: Digits, *, seed: int = 0) -> np.ndarray:
    """The family's signal for each digit (uint8 images), as float64 (N,)."""
    images = to_tensor(digits.images, "unit")
    family = family_of(model)
    if family == "gan":
        scores = gan_scores(model, images)  # type: ignore[arg-type]
    elif family == "vae":
        scores = vae_scores(model, images, seed=seed)  # type: ignore[arg-type]
    else:
        scores = diffusion_scores(model, images, torch.from_numpy(np.array(digits.labels)).long(), seed=seed)  # type: ignore[arg-type]
    return scores.double().numpy()


@dataclass(frozen=True)
class MembershipResult:
    family: Family
    members: np.ndarray  # signal of each training member (float64)
    nonmembers: np.ndarray  # signal of each held-out digit
    auc: float
    roc: Roc

    @property
    def advantage(self) -> float:
        """max(TPR - FPR): the attacker's best edge over guessing at one threshold (Yeom et al.'s advantage)."""
        return float(np.max(self.roc.tpr - self.roc.fpr))


def membership_attack(model: torch.nn.Module, members: Digits, nonmembers: Digits, *, seed: int = 0) -> MembershipResult:
    """Score members and non-members together in one seeded shuffle, so a batch-dependent layer (the DCGAN's
    minibatch-std channel in D) sees the same mix for both, then the AUC and ROC of the signal."""
    if len(members) == 0 or len(nonmembers) == 0:
        raise ConfigError("Membership inference needs at least one member and one non-member digit.")
    pooled = Digits(images=np.concatenate([members.images, nonmembers.images]),
                    labels=np.concatenate([members.labels, nonmembers.labels]))
    order = np.random.default_rng(seed).permutation(len(pooled))
    shuffled = attack_scores(model, Digits(images=pooled.images[order], labels=pooled.labels[order]), seed=seed)
    scores = np.empty_like(shuffled)
    scores[order] = shuffled
    m, n = scores[: len(members)], scores[len(members):]
    return MembershipResult(family_of(model), m, n, auc(m, n), roc_curve(m, n))
