"""Live numbers for the Concepts page: every term of the GAN and VAE objectives, measured on a real batch.

GAN (Goodfellow et al., "Generative Adversarial Nets", 2014), with D(x) = sigmoid(s(x)) for the raw score s:
- V(D, G) = E log D(x) + E log(1 - D(G(z)))  (eq. 1); D ascends it, which is the BCE loss D minimises.
- For the best possible D, V = -log 4 + 2 JS(p_data || p_g) (Theorem 1), so (V + log 4) / 2 estimates
  the Jensen-Shannon divergence from below when D is not optimal; we report it clipped at 0.
- G's saturating loss log(1 - D(G(z))) and the non-saturating -log D(G(z)) (sec. 3). Their derivatives with
  respect to D's score are -sigmoid(s) and -(1 - sigmoid(s)): when D confidently rejects a fake (s << 0)
  the first vanishes and the second is about -1. We report the mean magnitude of each ("push").
- E s(x) - E s(G(z)): the quantity a WGAN critic maximises (Arjovsky et al., 2017); it estimates the
  Wasserstein-1 distance only for a 1-Lipschitz critic, which a D trained with BCE is not.
VAE (Kingma & Welling, "Auto-Encoding Variational Bayes", 2014): reconstruction nats, the analytic KL per
dimension, the ELBO, "active" dimensions (Burda, Grosse & Salakhutdinov, "Importance Weighted
Autoencoders", 2016: Cov_x E_q[z_i] > 0.01), and one worked example of z = mu + sigma * eps.
Diffusion (Ho et al., "Denoising Diffusion Probabilistic Models", 2020): at a few noise levels t, the forward
process's ᾱ_t and SNR_t = ᾱ_t / (1 - ᾱ_t), the spread of x_t measured against its closed form
√(ᾱ_t Var x_0 + 1 - ᾱ_t), the model's simple loss E‖ε - ε̂‖² and its one-shot estimate x̂_0's error.

All numbers are plain floats computed under torch.inference_mode(); models are not modified.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import torch
import torch.nn.functional as F

from . import diffusion as dm
from . import losses
from .mnist import load_mnist, to_tensor
from .models.gan import GAN
from .models.vae import VAE

ACTIVE_THRESHOLD = 0.01  # Burda et al. (2016)
LOG4 = math.log(4.0)


def real_batch(size: int, seed: int, pixel_range: str, split: str = "test") -> tuple[torch.Tensor, np.ndarray]:
    """A seeded batch of genuine MNIST images (size, 1, 28, 28) in the model's range, and their labels."""
    digits = load_mnist(split)  # type: ignore[arg-type]
    index = np.sort(np.random.default_rng(seed).choice(len(digits), size=min(size, len(digits)), replace=False))
    return to_tensor(digits.images[index], pixel_range), digits.labels[index]  # type: ignore[arg-type]


@dataclass(frozen=True)
class GANReadout:
    batch: int
    d_real: float  # mean D(x)
    d_fake: float  # mean D(G(z))
    score_real: float  # mean raw score s(x)
    score_fake: float  # mean s(G(z))
    d_loss_real: float  # -E log D(x)
    d_loss_fake: float  # -E log(1 - D(G(z)))
    d_loss: float  # their sum = -V
    value: float  # V(D, G)
    js_estimate: float  # max(0, (V + log 4) / 2), nats
    g_loss_minimax: float  # E log(1 - D(G(z)))
    g_loss_non_saturating: float  # -E log D(G(z))
    push_minimax: float  # E |d/ds log(1 - sigmoid(s))| = E D(G(z))
    push_non_saturating: float  # E |d/ds -log sigmoid(s)| = 1 - E D(G(z))
    critic_gap: float  # E s(x) - E s(G(z))
    real_accuracy: float  # share of real images with D(x) > 0.5
    fake_accuracy: float  # share of fakes with D(G(z)) < 0.5

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def gan_readout(
    model: GAN, real: torch.Tensor, *, seed: int = 0, generator: torch.nn.Module | None = None
) -> GANReadout:
    """Every term of the GAN objective for real images (B, 1, 28, 28) in [-1, 1] and B seeded fakes."""
    device = next(model.parameters()).device
    network = generator if generator is not None else model.generator
    with torch.inference_mode():
        x = real.to(device)
        z = model.sample_noise(len(x), torch.Generator().manual_seed(seed), device)
        s_real = model.discriminator(x).reshape(-1).double()
        s_fake = model.discriminator(network(z)).reshape(-1).double()
        d_real, d_fake = torch.sigmoid(s_real), torch.sigmoid(s_fake)
        # log D = -softplus(-s) and log(1 - D) = -softplus(s): exact even where sigmoid rounds to 0 or 1.
        loss_real = float(F.softplus(-s_real).mean())
        loss_fake = float(F.softplus(s_fake).mean())
        value = -(loss_real + loss_fake)
        return GANReadout(
            batch=len(x),
            d_real=float(d_real.mean()),
            d_fake=float(d_fake.mean()),
            score_real=float(s_real.mean()),
            score_fake=float(s_fake.mean()),
            d_loss_real=loss_real,
            d_loss_fake=loss_fake,
            d_loss=loss_real + loss_fake,
            value=value,
            js_estimate=max(0.0, (value + LOG4) / 2),
            g_loss_minimax=float(losses.generator_loss("minimax", s_fake)),
            g_loss_non_saturating=float(losses.generator_loss("non_saturating", s_fake)),
            push_minimax=float(d_fake.mean()),
            push_non_saturating=float((1 - d_fake).mean()),
            critic_gap=float(s_real.mean() - s_fake.mean()),
            real_accuracy=float((s_real > 0).double().mean()),
            fake_accuracy=float((s_fake < 0).double().mean()),
        )


@dataclass(frozen=True)
class VAEReadout:
    batch: int
    recon: float  # E_q[-log p(x|z)], one z per image, nats per image
    kl: float  # KL(q(z|x) || N(0, I)), nats per image
    elbo: float  # -(recon + kl)
    kl_per_dim: tuple[float, ...]
    active_dims: int
    mean_sigma: float  # mean posterior standard deviation
    example_mu: tuple[float, ...]  # the reparameterisation worked through for the first image
    example_sigma: tuple[float, ...]
    example_eps: tuple[float, ...]
    example_z: tuple[float, ...]

    def loss_at_beta(self, beta: float) -> float:
        """The beta-VAE objective recon + beta * KL (Higgins et al., 2017) for these same numbers."""
        return self.recon + beta * self.kl

    def as_dict(self) -> dict:
        return asdict(self)


def vae_readout(model: VAE, x: torch.Tensor, *, seed: int = 0) -> VAEReadout:
    """ELBO terms for images x (B, 1, 28, 28) in [0, 1], with eps drawn from `seed`."""
    device = next(model.parameters()).device
    with torch.inference_mode():
        x = x.to(device)
        eps = torch.randn((len(x), model.z_dim), generator=torch.Generator().manual_seed(seed)).to(device)
        mu, logvar = model.encode(x)
        z = model.reparameterize(mu, logvar, eps)
        x_logits = model.decode(z)
        recon = float(losses.reconstruction_loss(x_logits, x))
        kl_dims = (-0.5 * (1 + logvar - mu.pow(2) - logvar.exp())).mean(dim=0)  # (D,) mean over the batch
        sigma = torch.exp(0.5 * logvar)
        active = int((mu.var(dim=0) > ACTIVE_THRESHOLD).sum()) if len(x) > 1 else 0
        kl = float(kl_dims.sum())
        return VAEReadout(
            batch=len(x),
            recon=recon,
            kl=kl,
            elbo=-(recon + kl),
            kl_per_dim=tuple(float(v) for v in kl_dims),
            active_dims=active,
            mean_sigma=float(sigma.mean()),
            example_mu=tuple(float(v) for v in mu[0]),
            example_sigma=tuple(float(v) for v in sigma[0]),
            example_eps=tuple(float(v) for v in eps[0]),
            example_z=tuple(float(v) for v in z[0]),
        )


@dataclass(frozen=True)
class DiffusionLevel:
    t: int
    alpha_bar: float  # ᾱ_t: the share of the signal's variance left at t
    snr: float  # ᾱ_t / (1 - ᾱ_t)
    std_measured: float  # standard deviation of x_t over the batch (all pixels)
    std_closed_form: float  # √(ᾱ_t Var x_0 + 1 - ᾱ_t)
    eps_loss: float  # E‖ε - ε̂‖² per pixel: the simple loss at this t
    x0_error: float  # E‖x_0 - x̂_0‖² per pixel: how well one step guesses the clean image


@dataclass(frozen=True)
class DiffusionReadout:
    batch: int
    timesteps: int  # T
    levels: tuple[DiffusionLevel, ...]

    def as_dict(self) -> dict:
        return asdict(self)


def diffusion_readout(model: torch.nn.Module, x0: torch.Tensor, labels: torch.Tensor | None = None, *, seed: int = 0,
                      fractions: tuple[float, ...] = (0.01, 0.1, 0.25, 0.5, 0.75, 1.0)) -> DiffusionReadout:
    """The forward process and the denoiser's guesses on images x0 (B, 1, 28, 28) in [-1, 1] at t = fraction·T,
    with ε drawn from `seed`; labels (B,) for a class-conditional model (no guidance: the network's own guess)."""
    schedule = dm.schedule_for(model.config)
    device = next(model.parameters()).device
    generator = torch.Generator().manual_seed(seed)
    x0 = x0.to(device)
    variance = float(x0.var())
    levels = []
    for fraction in fractions:
        t = max(1, min(schedule.T, round(fraction * schedule.T)))
        eps = torch.randn(x0.shape, generator=generator).to(device)
        x_t = dm.q_sample(schedule, x0, t, eps)
        y = None if labels is None or model.config.num_classes == 0 else labels.to(device)
        x0_hat, eps_hat = dm.predict(model, schedule, x_t, t, prediction=model.config.prediction, y=y,
                                     null_label=model.null_label)  # unclipped: the network's own guess
        alpha_bar = float(schedule.alpha_bars[t])
        levels.append(DiffusionLevel(
            t=t, alpha_bar=alpha_bar, snr=float(schedule.snr(t)), std_measured=float(x_t.std()),
            std_closed_form=math.sqrt(alpha_bar * variance + 1 - alpha_bar),
            eps_loss=float((eps - eps_hat).pow(2).mean()), x0_error=float((x0 - x0_hat).pow(2).mean()),
        ))
    return DiffusionReadout(batch=len(x0), timesteps=schedule.T, levels=tuple(levels))


def generator_loss_curves(points: int = 101, low: float = 1e-3, high: float = 1 - 1e-3) -> dict[str, list[float]]:
    """Both G losses as functions of D(G(z)) on (low, high): the picture behind "saturating".

    Returns {"d": D values, "minimax": log(1 - D), "non_saturating": -log D,
    "minimax_slope": |d/ds log(1 - sigmoid(s))| = D, "non_saturating_slope": |d/ds -log sigmoid(s)| = 1 - D},
    slopes taken with respect to D's raw score s, which is what backpropagation carries into G.
    """
    d = torch.linspace(low, high, points, dtype=torch.float64)
    return {
        "d": d.tolist(),
        "minimax": torch.log1p(-d).tolist(),
        "non_saturating": (-torch.log(d)).tolist(),
        "minimax_slope": d.tolist(),
        "non_saturating_slope": (1 - d).tolist(),
    }


def uniform_shift_divergences(shift: float, width: float = 1.0) -> tuple[float, float]:
    """(JS, W1) between U[0, width] and U[shift, shift + width], in nats and in units of x.

    The two densities overlap on a stretch of length L = max(0, width - |shift|); on it they are equal, so
    the mixture is the same there and contributes nothing, while everywhere else one density is 0 and
    contributes log 2 per unit of mass: JS = log 2 * (1 - L / width). The Wasserstein-1 distance between a
    distribution and its shifted copy is the shift itself: every bit of mass moves |shift|. This is the
    example of Arjovsky, Chintala & Bottou, "Wasserstein GAN" (2017), sec. 2: JS stops changing once the
    supports stop overlapping, W keeps measuring how far apart they are.
    """
    if not width > 0:
        raise ValueError("width must be positive")
    overlap = max(0.0, width - abs(shift))
    return math.log(2.0) * (1.0 - overlap / width), abs(shift)
