"""Membership inference core: the AUC against a brute-force pairwise count and known cases, the ROC's shape, each
family's signal against an independent computation, subsets that refuse bad sizes, and the small-training-set
experiment whose members must be clearly detectable (what the Membership inference tab teaches)."""

import numpy as np
import pytest
import torch
from scipy.stats import mannwhitneyu

from aigc_core import losses
from aigc_core.errors import ConfigError
from aigc_core.membership import (auc, diffusion_scores, gan_scores, membership_attack, roc_curve, training_subset,
                                  vae_scores)
from aigc_core.mnist import load_mnist, to_tensor
from aigc_core.models.gan import GAN, MLPGANConfig
from aigc_core.models.unet import UNet, UNetConfig
from aigc_core.models.vae import VAE, VAEMLPConfig
from aigc_core.overfit import OverfitConfig, OverfitExperiment

pytestmark = pytest.mark.usefixtures("one_thread")


def brute_force_auc(members, nonmembers) -> float:
    """Every (member, non-member) pair: 1 if the member scores higher, ½ if tied."""
    wins = sum(1.0 if m > n else 0.5 if m == n else 0.0 for m in members for n in nonmembers)
    return wins / (len(members) * len(nonmembers))


@pytest.mark.parametrize("seed", range(5))
def test_auc_equals_the_pairwise_count_with_ties(seed):
    rng = np.random.default_rng(seed)
    members = rng.integers(0, 6, size=37).astype(float)  # few distinct values: many ties
    nonmembers = rng.integers(0, 5, size=23).astype(float)
    assert auc(members, nonmembers) == pytest.approx(brute_force_auc(members, nonmembers), abs=1e-12)
    u = mannwhitneyu(members, nonmembers, alternative="greater").statistic  # scipy's U, ties counted half
    assert auc(members, nonmembers) == pytest.approx(u / (37 * 23), abs=1e-12)


def test_auc_known_cases():
    assert auc([3.0, 4.0, 5.0], [0.0, 1.0, 2.0]) == 1.0  # perfect separation
    assert auc([1.0, 2.0, 3.0], [1.0, 2.0, 3.0]) == 0.5  # identical
    assert auc([2.0, 2.0], [2.0, 2.0, 2.0]) == 0.5  # all tied
    assert auc([0.0, 1.0], [5.0, 6.0, 7.0]) == 0.0  # reversed


def test_auc_refuses_empty_or_nan_scores():
    with pytest.raises(ConfigError, match="at least one member"):
        auc([], [1.0])
    with pytest.raises(ConfigError, match="NaN"):
        auc([1.0, float("nan")], [0.0])


@pytest.mark.parametrize("seed", range(3))
def test_roc_runs_monotone_from_corner_to_corner_and_its_area_is_the_auc(seed):
    rng = np.random.default_rng(seed)
    members, nonmembers = rng.normal(0.5, 1, 200).round(1), rng.normal(0, 1, 150).round(1)  # with ties
    roc = roc_curve(members, nonmembers)
    assert (roc.fpr[0], roc.tpr[0]) == (0.0, 0.0) and (roc.fpr[-1], roc.tpr[-1]) == (1.0, 1.0)
    assert (np.diff(roc.fpr) >= 0).all() and (np.diff(roc.tpr) >= 0).all()
    assert roc.area() == pytest.approx(auc(members, nonmembers), abs=1e-12)


def test_training_subset_refuses_empty_and_oversized_and_is_seeded():
    train = load_mnist("train")
    with pytest.raises(ConfigError, match="at least one digit"):
        training_subset(train, 0)
    with pytest.raises(ConfigError, match="at most 60,000"):
        training_subset(train, 60_001)
    a, rows = training_subset(train, 100, seed=3)
    b, rows_again = training_subset(train, 100, seed=3)
    assert len(set(rows.tolist())) == 100 and np.array_equal(rows, rows_again)
    assert np.array_equal(a.images, train.images[rows]) and np.array_equal(b.labels, train.labels[rows])


def test_vae_signal_is_the_per_image_elbo(digits):
    model = VAE(VAEMLPConfig(z_dim=4, hidden=(32,)), seed=0).eval()
    x = to_tensor(digits.images[:6], "unit")
    scores = vae_scores(model, x, seed=5, draws=1)
    eps = torch.randn((6, 4), generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        for i in range(6):  # one image at a time, through the training losses
            x_logits, mu, logvar = model(x[i:i + 1], eps[i:i + 1])
            elbo = -(losses.reconstruction_loss(x_logits, x[i:i + 1]) + losses.kl_divergence(mu, logvar))
            assert scores[i].item() == pytest.approx(elbo.item(), rel=1e-5)


def test_gan_signal_is_the_discriminator_logit(digits):
    model = GAN(MLPGANConfig(z_dim=8, g_hidden=(32,), d_hidden=(32,)), seed=0).eval()
    x = to_tensor(digits.images[:5], "unit")
    with torch.no_grad():
        expected = model.discriminator(x * 2 - 1).flatten()
    assert torch.allclose(gan_scores(model, x), expected)


def test_diffusion_signal_is_seeded_and_needs_labels_for_a_conditional_model(digits):
    model = UNet(UNetConfig(channels=(8, 16), time_dim=16, groups=4, num_classes=10, timesteps=50), seed=0).eval()
    x, y = to_tensor(digits.images[:4], "unit"), torch.from_numpy(digits.labels[:4].astype("int64"))
    first, again = diffusion_scores(model, x, y, seed=1, timesteps=3), diffusion_scores(model, x, y, seed=1, timesteps=3)
    assert torch.equal(first, again) and (first < 0).all()  # minus a squared error
    assert not torch.equal(first, diffusion_scores(model, x, y, seed=2, timesteps=3))
    with pytest.raises(ConfigError, match="label"):
        diffusion_scores(model, x, None)


def test_attack_scores_members_and_nonmembers_in_one_shuffle_without_mixing_them_up(digits):
    model = GAN(MLPGANConfig(z_dim=8, g_hidden=(32,), d_hidden=(32,)), seed=0).eval()
    members = type(digits)(digits.images[:30], digits.labels[:30])
    others = type(digits)(digits.images[30:50], digits.labels[30:50])
    result = membership_attack(model, members, others, seed=4)
    assert np.allclose(result.members, gan_scores(model, to_tensor(members.images, "unit")).double().numpy(), atol=1e-6)
    assert np.allclose(result.nonmembers, gan_scores(model, to_tensor(others.images, "unit")).double().numpy(), atol=1e-6)


def test_experiment_refuses_an_empty_or_oversized_subset():
    with pytest.raises(ConfigError, match="1 to 60,000"):
        OverfitExperiment(OverfitConfig(subset_size=0))
    with pytest.raises(ConfigError, match="1 to 60,000"):
        OverfitExperiment(OverfitConfig(subset_size=60_001))


def test_a_vae_trained_on_100_digits_gives_its_members_away():
    """The lesson of the tab: trained long on 100 digits, the VAE's ELBO tells its members from test digits (AUC
    0.91 measured at these quick sizes; 0.5 would be guessing). Before training the same attack is near chance."""
    experiment = OverfitExperiment(OverfitConfig.QUICK)
    before = experiment.result().auc
    while not experiment.done:
        experiment.step()
    after = experiment.result()
    assert abs(before - 0.5) < 0.15
    assert after.auc > 0.75 and after.auc > before + 0.2
