"""Loss functions, named after the papers' terms. D returns raw scores (logits / critic values).

GAN (per batch means):
- minimax         (Goodfellow et al., 2014): D maximises log D(x) + log(1 - D(G(z)));
                  G minimises log(1 - D(G(z))) -- saturates when D confidently rejects fakes.
- non_saturating  same D loss; G maximises log D(G(z)) instead (the paper's practical fix).
- least_squares   (Mao et al., 2017): D: ½(D(x)-1)² + ½D(G(z))²; G: ½(D(G(z))-1)².
- wgan            (Arjovsky et al., 2017): critic maximises E D(x) - E D(G(z)); weights clipped by the trainer.
- wgan_gp         (Gulrajani et al., 2017): WGAN plus λ·E(‖∇D(x̂)‖ - 1)² on random interpolates.
- hinge           (Lim & Ye, 2017; Miyato et al., 2018): D: relu(1-D(x)) + relu(1+D(G(z))); G: -D(G(z)).
VAE (per image, summed over pixels, averaged over the batch; in nats):
- reconstruction: Bernoulli (BCE with logits) or Gaussian (½ squared error, unit variance, constant dropped);
- kl_divergence: KL(N(mu, σ²) ‖ N(0, I)) = -½ Σ (1 + log σ² - mu² - σ²).
"""

from typing import Literal, get_args

import torch
import torch.nn.functional as F

GANLoss = Literal["minimax", "non_saturating", "least_squares", "wgan", "wgan_gp", "hinge"]
GAN_LOSSES: tuple[str, ...] = get_args(GANLoss)  # the names, in the order pages list them
LOGIT_LOSSES = ("minimax", "non_saturating")
Reconstruction = Literal["bce", "mse"]
RECONSTRUCTIONS: tuple[str, ...] = get_args(Reconstruction)


def discriminator_loss(
    loss: GANLoss, real_scores: torch.Tensor, fake_scores: torch.Tensor, *, label_smoothing: float = 0.0
) -> torch.Tensor:
    """D's loss to minimise. `label_smoothing` (one-sided, Salimans et al., 2016) sets real targets to 1 - s."""
    if loss in LOGIT_LOSSES:
        target = 1.0 - label_smoothing
        # BCE(r, t) = t * softplus(-r) + (1 - t) * softplus(r); softplus keeps it finite for huge logits.
        real_term = target * F.softplus(-real_scores) + (1.0 - target) * F.softplus(real_scores)
        return real_term.mean() + F.softplus(fake_scores).mean()
    if loss == "least_squares":
        return 0.5 * ((real_scores - 1.0) ** 2).mean() + 0.5 * (fake_scores**2).mean()
    if loss in ("wgan", "wgan_gp"):
        return fake_scores.mean() - real_scores.mean()
    if loss == "hinge":
        return F.relu(1.0 - real_scores).mean() + F.relu(1.0 + fake_scores).mean()
    raise ValueError(f"unknown GAN loss {loss!r}")


def generator_loss(loss: GANLoss, fake_scores: torch.Tensor) -> torch.Tensor:
    """G's loss to minimise, given D's scores on G(z)."""
    if loss == "minimax":
        return -F.softplus(fake_scores).mean()  # = mean log(1 - D(G(z)))
    if loss == "non_saturating":
        return F.softplus(-fake_scores).mean()  # = -mean log D(G(z))
    if loss == "least_squares":
        return 0.5 * ((fake_scores - 1.0) ** 2).mean()
    if loss in ("wgan", "wgan_gp", "hinge"):
        return -fake_scores.mean()
    raise ValueError(f"unknown GAN loss {loss!r}")


def gradient_penalty(
    discriminator: torch.nn.Module, real: torch.Tensor, fake: torch.Tensor, generator: torch.Generator
) -> torch.Tensor:
    """E[(‖∇_x̂ D(x̂)‖₂ - 1)²] on x̂ = αx + (1-α)G(z), α ~ U(0, 1) per sample."""
    shape = (real.shape[0],) + (1,) * (real.dim() - 1)
    alpha = torch.rand(shape, generator=generator).to(real.device)
    mixed = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
    scores = discriminator(mixed)
    (grad,) = torch.autograd.grad(scores.sum(), mixed, create_graph=True)
    return ((grad.flatten(1).norm(dim=1) - 1.0) ** 2).mean()


def r1_penalty(real_scores: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """E‖∇ₓD(x)‖₂² on the real batch (R1), kept in the graph so that D's update can descend it."""
    (grad,) = torch.autograd.grad(real_scores.sum(), real, create_graph=True)
    return grad.flatten(1).pow(2).sum(dim=1).mean()


def discriminator_probability(loss: GANLoss, scores: torch.Tensor) -> torch.Tensor:
    """What the UI shows as D(x): a probability for the logit losses, the raw score otherwise."""
    return torch.sigmoid(scores) if loss in LOGIT_LOSSES else scores


def reconstruction_loss(x_logits: torch.Tensor, x: torch.Tensor, kind: Reconstruction = "bce") -> torch.Tensor:
    """Per-image reconstruction term (nats), summed over pixels, mean over the batch."""
    if kind == "bce":
        per_pixel = F.binary_cross_entropy_with_logits(x_logits, x, reduction="none")
    elif kind == "mse":
        per_pixel = 0.5 * (torch.sigmoid(x_logits) - x) ** 2
    else:
        raise ValueError(f"unknown reconstruction {kind!r}")
    return per_pixel.flatten(1).sum(dim=1).mean()


def kl_divergence(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """Analytic KL(q(z|x) ‖ N(0, I)) per image (nats), mean over the batch."""
    return (-0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(dim=1)).mean()
