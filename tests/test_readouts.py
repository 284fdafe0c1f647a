"""aigc_core.readouts against independent computations: losses, torch.distributions KL, autograd slopes, numeric JS/W."""

import math

import numpy as np
import pytest
import torch
from torch.distributions import Normal, kl_divergence

from aigc_core import losses, readouts
from aigc_core.models.gan import ARTICLE_GAN, GAN
from aigc_core.models.vae import VAE, VAEMLPConfig


def test_real_batch_is_seeded_and_in_range():
    a, labels = readouts.real_batch(16, 3, "signed")
    b, _ = readouts.real_batch(16, 3, "signed")
    assert a.shape == (16, 1, 28, 28) and torch.equal(a, b) and len(labels) == 16
    assert float(a.min()) >= -1 and float(a.max()) <= 1
    unit, _ = readouts.real_batch(16, 3, "unit")
    assert float(unit.min()) >= 0


def test_gan_readout_matches_the_loss_functions():
    gan = GAN(ARTICLE_GAN, seed=0).eval()
    real, _ = readouts.real_batch(64, 0, "signed")
    r = readouts.gan_readout(gan, real, seed=4)
    z = gan.sample_noise(64, torch.Generator().manual_seed(4))
    with torch.no_grad():
        s_real, s_fake = gan.discriminator(real).reshape(-1), gan.discriminator(gan.generator(z)).reshape(-1)
    d_loss = float(losses.discriminator_loss("minimax", s_real, s_fake))
    assert r.d_loss == pytest.approx(d_loss, rel=1e-5)
    assert r.value == pytest.approx(-d_loss, rel=1e-5)
    assert r.d_loss_real == pytest.approx(float(-torch.log(torch.sigmoid(s_real)).mean()), rel=1e-4)
    assert r.d_loss_fake == pytest.approx(float(-torch.log(1 - torch.sigmoid(s_fake)).mean()), rel=1e-4)
    assert r.g_loss_minimax == pytest.approx(float(losses.generator_loss("minimax", s_fake)), rel=1e-5)
    assert r.g_loss_non_saturating == pytest.approx(float(losses.generator_loss("non_saturating", s_fake)), rel=1e-5)
    assert r.d_fake == pytest.approx(float(torch.sigmoid(s_fake).mean()), rel=1e-5)
    assert r.push_minimax == pytest.approx(r.d_fake) and r.push_non_saturating == pytest.approx(1 - r.d_fake)
    assert r.js_estimate == pytest.approx(max(0.0, (r.value + math.log(4)) / 2))
    assert r.critic_gap == pytest.approx(float(s_real.mean() - s_fake.mean()), rel=1e-4, abs=1e-6)
    assert 0 <= r.real_accuracy <= 1 and 0 <= r.fake_accuracy <= 1


def test_gan_slopes_are_the_autograd_derivatives():
    s = torch.tensor([-6.0, -1.0, 0.5, 3.0], requires_grad=True)
    (mm,) = torch.autograd.grad(losses.generator_loss("minimax", s) * len(s), s)
    (ns,) = torch.autograd.grad(losses.generator_loss("non_saturating", s) * len(s), s)
    d = torch.sigmoid(s.detach())
    torch.testing.assert_close(mm.abs(), d)  # |d/ds log(1 - sigmoid(s))| = D
    torch.testing.assert_close(ns.abs(), 1 - d)  # |d/ds -log sigmoid(s)| = 1 - D
    curves = readouts.generator_loss_curves(points=11)
    assert curves["minimax_slope"] == pytest.approx(curves["d"])
    assert curves["non_saturating"][0] > curves["non_saturating"][-1]


def test_vae_readout_against_torch_distributions():
    vae = VAE(VAEMLPConfig(z_dim=4, hidden=(32,)), seed=0).eval()
    x, _ = readouts.real_batch(32, 1, "unit")
    r = readouts.vae_readout(vae, x, seed=2)
    with torch.no_grad():
        mu, logvar = vae.encode(x)
    sigma = torch.exp(0.5 * logvar)
    reference = kl_divergence(Normal(mu, sigma), Normal(torch.zeros_like(mu), torch.ones_like(mu)))  # (B, D)
    assert r.kl == pytest.approx(float(reference.sum(1).mean()), rel=1e-4)
    assert sum(r.kl_per_dim) == pytest.approx(r.kl, rel=1e-5)
    eps = torch.randn((32, 4), generator=torch.Generator().manual_seed(2))
    z = mu + sigma * eps
    with torch.no_grad():
        recon = float(losses.reconstruction_loss(vae.decode(z), x))
    assert r.recon == pytest.approx(recon, rel=1e-5)
    assert r.elbo == pytest.approx(-(r.recon + r.kl))
    np.testing.assert_allclose(r.example_z, (mu[0] + sigma[0] * eps[0]).tolist(), rtol=1e-5)
    assert r.loss_at_beta(3.0) == pytest.approx(r.recon + 3 * r.kl)


def test_uniform_shift_divergences_against_a_numeric_computation():
    grid = np.linspace(-1, 5, 600_001)
    step = grid[1] - grid[0]
    for shift in (0.0, 0.3, 0.75, 1.0, 2.5):
        js, w = readouts.uniform_shift_divergences(shift)
        p = ((grid >= 0) & (grid < 1)).astype(float)
        q = ((grid >= shift) & (grid < shift + 1)).astype(float)
        m = (p + q) / 2
        with np.errstate(divide="ignore", invalid="ignore"):
            kl_pm = np.nansum(np.where(p > 0, p * np.log(p / m), 0.0)) * step
            kl_qm = np.nansum(np.where(q > 0, q * np.log(q / m), 0.0)) * step
        assert js == pytest.approx(0.5 * kl_pm + 0.5 * kl_qm, abs=1e-3)
        # W1 in 1-D: the integral of |F_p - F_q|.
        assert w == pytest.approx(np.abs(np.cumsum(p) - np.cumsum(q)).sum() * step * step, abs=1e-3)
    assert readouts.uniform_shift_divergences(5.0)[0] == pytest.approx(math.log(2))


def test_diffusion_readout_matches_the_forward_process_and_its_identity():
    """x_t's spread matches √(ᾱ Var x0 + 1 - ᾱ); for ε-prediction x̂_0 - x_0 = -√((1-ᾱ)/ᾱ)(ε̂ - ε), so the two
    errors are tied exactly: x0_error = (1 - ᾱ)/ᾱ · eps_loss (a reference computed from the formulas alone)."""
    from aigc_core.models.unet import UNet, UNetConfig
    from aigc_core.readouts import diffusion_readout, real_batch

    model = UNet(UNetConfig(channels=(8, 16), time_dim=16, groups=4), seed=1).eval()
    x0, labels = real_batch(64, 0, "signed")
    readout = diffusion_readout(model, x0, torch.as_tensor(labels, dtype=torch.long), seed=3)
    assert [level.t for level in readout.levels] == [10, 100, 250, 500, 750, 1000] and readout.timesteps == 1000
    for level in readout.levels:
        assert abs(level.std_measured - level.std_closed_form) < 0.03 * level.std_closed_form
        assert level.snr == pytest.approx(level.alpha_bar / (1 - level.alpha_bar), rel=1e-5)
        if level.alpha_bar > 1e-4:
            assert level.x0_error == pytest.approx((1 - level.alpha_bar) / level.alpha_bar * level.eps_loss, rel=1e-3)
    alpha_bars = [level.alpha_bar for level in readout.levels]
    assert alpha_bars == sorted(alpha_bars, reverse=True)

