"""GAN and VAE losses, gradient penalties and R1 against independent references (torch.nn.functional,
torch.distributions, per-sample autograd). The models: test_models.py."""

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.distributions import Normal, kl_divergence

from aigc_core import losses

pytestmark = pytest.mark.usefixtures("one_thread")


# --- GAN losses against references ------------------------------------------------------------------------

_gen = torch.Generator().manual_seed(0)
REAL = torch.randn(64, 1, generator=_gen) * 3
FAKE = torch.randn(64, 1, generator=_gen) * 3


def _bce(probs: torch.Tensor, target: float) -> torch.Tensor:
    return F.binary_cross_entropy(probs.double(), torch.full_like(probs.double(), target))


@pytest.mark.parametrize("loss", ["minimax", "non_saturating"])
@pytest.mark.parametrize("smoothing", [0.0, 0.1, 0.3])
def test_logit_d_loss_matches_bce_on_probabilities(loss, smoothing):
    got = losses.discriminator_loss(loss, REAL, FAKE, label_smoothing=smoothing)
    # one-sided smoothing: real targets become 1 - s, fake targets stay 0
    expected = _bce(torch.sigmoid(REAL), 1.0 - smoothing) + _bce(torch.sigmoid(FAKE), 0.0)
    assert float(got) == pytest.approx(float(expected), rel=1e-5)


def test_logit_d_loss_stays_finite_for_huge_logits():
    huge = torch.tensor([[200.0], [-200.0]])
    assert math.isfinite(float(losses.discriminator_loss("minimax", -huge, huge)))  # BCE on probabilities gives inf
    assert float(losses.discriminator_loss("minimax", huge[:1], -huge[:1])) == pytest.approx(0.0, abs=1e-30)


def test_generator_losses_match_references():
    p = torch.sigmoid(FAKE.double())
    ref = {
        "minimax": torch.log(1 - p).mean(),  # G minimises log(1 - D(G(z)))
        "non_saturating": -torch.log(p).mean(),  # G maximises log D(G(z))
        "least_squares": 0.5 * ((FAKE.double() - 1) ** 2).mean(),
        "wgan": -FAKE.double().mean(),
        "wgan_gp": -FAKE.double().mean(),
        "hinge": -FAKE.double().mean(),
    }
    for name, expected in ref.items():
        assert float(losses.generator_loss(name, FAKE)) == pytest.approx(float(expected), rel=1e-5), name


def test_other_d_losses_match_references():
    r, f = REAL.double(), FAKE.double()
    expected = {
        "least_squares": 0.5 * ((r - 1) ** 2).mean() + 0.5 * (f**2).mean(),
        "wgan": f.mean() - r.mean(),
        "wgan_gp": f.mean() - r.mean(),  # the penalty is added by the trainer
        "hinge": torch.clamp(1 - r, min=0).mean() + torch.clamp(1 + f, min=0).mean(),
    }
    for name, value in expected.items():
        assert float(losses.discriminator_loss(name, REAL, FAKE)) == pytest.approx(float(value), rel=1e-5), name


def test_unknown_loss_names_raise():
    with pytest.raises(ValueError):
        losses.discriminator_loss("gaussian", REAL, FAKE)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        losses.generator_loss("gaussian", FAKE)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        losses.reconstruction_loss(REAL, REAL, "l1")  # type: ignore[arg-type]


def test_discriminator_probability():
    assert torch.equal(losses.discriminator_probability("minimax", FAKE), torch.sigmoid(FAKE))
    assert torch.equal(losses.discriminator_probability("wgan", FAKE), FAKE)


def test_minimax_generator_gradient_saturates():
    """When D confidently rejects fakes, log(1 - D(G(z))) has almost no gradient; -log D(G(z)) has a large one."""
    grads = {}
    for name in ("minimax", "non_saturating"):
        scores = torch.full((16, 1), -10.0, requires_grad=True)  # D(G(z)) = sigmoid(-10) ≈ 4.5e-5
        losses.generator_loss(name, scores).backward()
        grads[name] = scores.grad.norm().item()
    assert grads["minimax"] < 1e-3 * grads["non_saturating"]
    # analytic per element: d/ds -softplus(s)/N = -sigmoid(s)/N vs d/ds softplus(-s)/N = -sigmoid(-s)/N; norm = sqrt(N) x that
    assert grads["minimax"] == pytest.approx(4 * torch.sigmoid(torch.tensor(-10.0)).item() / 16, rel=1e-4)
    assert grads["non_saturating"] == pytest.approx(4 * torch.sigmoid(torch.tensor(10.0)).item() / 16, rel=1e-4)


# --- gradient penalty -------------------------------------------------------------------------------------


def _linear_critic(norm: float) -> nn.Module:
    critic = nn.Sequential(nn.Flatten(), nn.Linear(784, 1))
    with torch.no_grad():
        w = torch.randn(1, 784, generator=torch.Generator().manual_seed(3))
        critic[1].weight.copy_(w / w.norm() * norm)
        critic[1].bias.fill_(0.7)
    return critic


def test_gradient_penalty_zero_for_unit_gradient_critic():
    real, fake = torch.rand(8, 1, 28, 28), torch.rand(8, 1, 28, 28) * 2 - 1
    gp = losses.gradient_penalty(_linear_critic(1.0), real, fake, torch.Generator().manual_seed(0))
    assert float(gp.detach()) == pytest.approx(0.0, abs=1e-10)


def test_gradient_penalty_value_and_gradient_for_other_norms():
    real, fake = torch.rand(8, 1, 28, 28), torch.rand(8, 1, 28, 28)
    critic = _linear_critic(3.0)
    gp = losses.gradient_penalty(critic, real, fake, torch.Generator().manual_seed(0))
    assert float(gp.detach()) == pytest.approx((3.0 - 1.0) ** 2, rel=1e-5)
    gp.backward()  # create_graph=True: the penalty is differentiable w.r.t. the critic's weights
    w = critic[1].weight
    # d/dw (|w| - 1)^2 = 2 (|w| - 1) w / |w|
    torch.testing.assert_close(w.grad, 2 * (3.0 - 1.0) * w.detach() / 3.0, rtol=1e-4, atol=1e-6)


def test_r1_penalty_of_a_linear_critic_is_its_squared_weight_norm():
    real = torch.rand(6, 1, 28, 28).requires_grad_(True)
    critic = _linear_critic(2.5)
    penalty = losses.r1_penalty(critic(real), real)
    assert float(penalty.detach()) == pytest.approx(2.5**2, rel=1e-5)  # ∇ₓ(w·x + b) = w for every sample
    penalty.backward()
    w = critic[1].weight
    torch.testing.assert_close(w.grad, 2 * w.detach(), rtol=1e-4, atol=1e-6)  # d/dw ‖w‖² = 2w


def test_r1_penalty_matches_per_sample_gradients():
    critic = nn.Sequential(nn.Flatten(), nn.Linear(784, 16), nn.Tanh(), nn.Linear(16, 1))
    real = torch.rand(5, 1, 28, 28).requires_grad_(True)
    expected = 0.0
    for i in range(5):
        x = real[i : i + 1].detach().clone().requires_grad_(True)
        (g,) = torch.autograd.grad(critic(x).sum(), x)
        expected += float(g.pow(2).sum()) / 5
    assert float(losses.r1_penalty(critic(real), real).detach()) == pytest.approx(expected, rel=1e-5)


def test_gradient_penalty_matches_manual_interpolates():
    """A non-linear critic: compare with x̂ built by hand from the same α draws."""
    critic = nn.Sequential(nn.Flatten(), nn.Linear(784, 16), nn.Tanh(), nn.Linear(16, 1))
    real, fake = torch.rand(5, 1, 28, 28), torch.rand(5, 1, 28, 28)
    gp = losses.gradient_penalty(critic, real, fake, torch.Generator().manual_seed(9))
    alpha = torch.rand((5, 1, 1, 1), generator=torch.Generator().manual_seed(9))
    expected = 0.0
    for i in range(5):
        x_hat = (alpha[i] * real[i : i + 1] + (1 - alpha[i]) * fake[i : i + 1]).requires_grad_(True)
        (g,) = torch.autograd.grad(critic(x_hat).sum(), x_hat)
        expected += (g.norm() - 1) ** 2 / 5
    assert float(gp.detach()) == pytest.approx(float(expected), rel=1e-5)


# --- VAE terms ----------------------------------------------------------------------------------------------


def test_kl_matches_torch_distributions():
    g = torch.Generator().manual_seed(1)
    mu, logvar = torch.randn(32, 20, generator=g) * 2, torch.randn(32, 20, generator=g)
    sigma = torch.exp(0.5 * logvar)
    expected = kl_divergence(Normal(mu, sigma), Normal(torch.zeros_like(mu), torch.ones_like(mu))).sum(-1).mean()
    assert float(losses.kl_divergence(mu, logvar)) == pytest.approx(float(expected), rel=1e-5)
    assert float(losses.kl_divergence(torch.zeros(4, 3), torch.zeros(4, 3))) == 0.0


def test_bce_reconstruction_matches_summed_bce():
    g = torch.Generator().manual_seed(2)
    logits = torch.randn(16, 1, 28, 28, generator=g) * 4
    x = torch.rand(16, 1, 28, 28, generator=g)
    expected = F.binary_cross_entropy(torch.sigmoid(logits.double()), x.double(), reduction="sum") / 16
    assert float(losses.reconstruction_loss(logits, x, "bce")) == pytest.approx(float(expected), rel=1e-5)


def test_mse_reconstruction_matches_half_squared_error():
    g = torch.Generator().manual_seed(3)
    logits, x = torch.randn(8, 1, 28, 28, generator=g), torch.rand(8, 1, 28, 28, generator=g)
    expected = 0.5 * F.mse_loss(torch.sigmoid(logits), x, reduction="sum") / 8
    assert float(losses.reconstruction_loss(logits, x, "mse")) == pytest.approx(float(expected), rel=1e-5)


def test_reparameterize():
    from aigc_core.models.vae import VAE

    mu, logvar, eps = torch.tensor([[1.0, -2.0]]), torch.tensor([[0.0, math.log(4.0)]]), torch.tensor([[0.5, 0.5]])
    torch.testing.assert_close(VAE.reparameterize(mu, logvar, eps), torch.tensor([[1.5, -1.0]]))
