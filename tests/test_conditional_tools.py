"""Draw me a 7's core (aigc_core/conditional_tools.py): which models and digits it accepts, truncation, the CVAE's
style vs content, and the fidelity vs diversity measures, each checked against an independent computation (math, not
luck: nothing here depends on how well a model is trained)."""

import itertools
import math

import numpy as np
import pytest
import torch

from aigc_core import conditional_tools as ct
from aigc_core import evaluation, metrics
from aigc_core.errors import ConfigError
from aigc_core.evaluation import PRETRAINED_DIR
from aigc_core.mnist import load_mnist
from aigc_core.models.gan import GAN, MLPGANConfig
from aigc_core.models.unet import UNet, UNetConfig
from aigc_core.models.vae import VAE, VAEMLPConfig

pytestmark = pytest.mark.usefixtures("one_thread")

SMALL_CGAN = MLPGANConfig(z_dim=8, g_hidden=(32,), d_hidden=(32,), slope=0.2, num_classes=10, label_dim=4)
SMALL_CVAE = VAEMLPConfig(z_dim=4, hidden=(32,), num_classes=10)
SMALL_UNET = UNetConfig(channels=(8, 16), time_dim=16, groups=4, timesteps=50)
needs_classifier = pytest.mark.skipif(not (PRETRAINED_DIR / "classifier" / "config.json").is_file(),
                                      reason="needs the shipped classifier")


@pytest.fixture(scope="module")
def cgan() -> GAN:
    return GAN(SMALL_CGAN, seed=1).eval()


@pytest.fixture(scope="module")
def cvae() -> VAE:
    return VAE(SMALL_CVAE, seed=1).eval()


@pytest.fixture(scope="module")
def classifier():
    return evaluation.load_classifier()


# --- which model, which digit -----------------------------------------------------------------------------------


@pytest.mark.parametrize("model", [GAN(MLPGANConfig(z_dim=8, g_hidden=(16,), d_hidden=(16,))),
                                   VAE(VAEMLPConfig(z_dim=2, hidden=(16,))),
                                   UNet(UNetConfig(channels=(8,), time_dim=16, groups=4, num_classes=0))],
                         ids=["gan", "vae", "diffusion"])
def test_an_unconditional_model_is_refused_with_a_clear_message(model):
    with pytest.raises(ConfigError, match="unconditional"):
        ct.require_conditional(model)
    noise = ct.noise(model, 2, 0)
    with pytest.raises(ConfigError, match="unconditional"):
        ct.draw(model, noise, torch.tensor([7, 7]))


def test_a_model_with_other_classes_or_another_kind_is_refused():
    with pytest.raises(ConfigError, match="3 classes"):
        ct.require_conditional(GAN(MLPGANConfig(z_dim=8, g_hidden=(16,), d_hidden=(16,), num_classes=3)))
    with pytest.raises(ConfigError, match="not an MNIST image generator"):
        ct.require_conditional(torch.nn.Linear(2, 2))


@pytest.mark.parametrize("bad", [10, -1, 3.5, "7", True, None, float("nan"), 1e30])
def test_a_digit_outside_0_to_9_is_refused(bad):
    with pytest.raises(ConfigError, match="0 to 9"):
        ct.check_digit(bad)


def test_whole_digits_are_accepted_in_any_integer_type():
    assert [ct.check_digit(d) for d in (0, 9, np.int64(7), 7.0)] == [0, 9, 7, 7]


@pytest.mark.parametrize("knob,value", [("psi", -0.1), ("psi", 1.6), ("guidance", 8.5), ("guidance", float("inf")),
                                        ("temperature", 1.0)])
def test_settings_outside_their_range_are_refused(knob, value):
    with pytest.raises(ConfigError):
        ct.check_knob(knob, value)


def test_labels_outside_0_to_9_are_refused_when_drawing(cgan):
    with pytest.raises(ConfigError, match="0 … 9"):
        ct.draw(cgan, ct.noise(cgan, 2, 0), torch.tensor([3, 10]))


# --- sampling and truncation -----------------------------------------------------------------------------------


def test_draw_gan_is_g_of_psi_z_and_y_in_unit_range(cgan):
    z = ct.noise(cgan, 6, seed=5)
    labels = torch.tensor([7, 7, 1, 1, 0, 9])
    images = ct.draw(cgan, z, labels, psi=0.5)
    with torch.no_grad():
        reference = (cgan.generator(0.5 * z, labels) + 1) / 2  # an independent path: the network called directly
    assert images.shape == (6, 1, 28, 28)
    assert torch.allclose(images, reference, atol=1e-6)
    assert float(images.min()) >= 0 and float(images.max()) <= 1


def test_draw_vae_decodes_psi_z_with_the_label(cvae):
    z = ct.noise(cvae, 4, seed=2)
    labels = torch.tensor([3, 3, 8, 8])
    with torch.no_grad():
        reference = torch.sigmoid(cvae.decode(0.25 * z, labels))
    assert torch.allclose(ct.draw(cvae, z, labels, psi=0.25), reference, atol=1e-6)


def test_same_seed_same_samples_and_another_seed_others(cgan):
    first = ct.draw_digit(cgan, 7, 4, seed=11)
    assert torch.equal(first, ct.draw_digit(cgan, 7, 4, seed=11))
    assert not torch.equal(first, ct.draw_digit(cgan, 7, 4, seed=12))


@pytest.mark.parametrize("family", ["gan", "vae"])
def test_truncation_to_zero_gives_one_picture_per_label(family, cgan, cvae):
    model = cgan if family == "gan" else cvae
    labels = ct.sweep_labels(40)
    z = ct.noise(model, 40, seed=0)
    flat = ct.draw(model, z, labels, psi=0.0)
    for k in range(10):
        group = flat[labels == k]
        assert torch.equal(group, group[:1].expand_as(group))  # identical within a label
    assert not torch.equal(flat[labels == 0][0], flat[labels == 1][0])  # but the labels still differ
    assert ct.within_class_diversity(flat, labels) == pytest.approx(0.0, abs=1e-9)
    assert ct.within_class_diversity(ct.draw(model, z, labels, psi=1.0), labels) > 0


def test_truncation_scales_z():
    z = torch.tensor([[1.0, -2.0], [0.5, 4.0]])
    assert torch.equal(ct.truncate(z, 0.5), z / 2)
    assert torch.equal(ct.truncate(z, 1.0), z)


def test_diffusion_draws_the_labels_with_guidance_deterministically():
    model = UNet(SMALL_UNET, seed=0).eval()
    x_T = ct.noise(model, 3, seed=4)  # noqa: N806
    labels = torch.tensor([7, 7, 2])
    a = ct.draw(model, x_T, labels, guidance=3.0, steps=3)
    assert a.shape == (3, 1, 28, 28) and float(a.min()) >= 0 and float(a.max()) <= 1
    assert torch.equal(a, ct.draw(model, x_T, labels, guidance=3.0, steps=3))  # DDIM, η = 0: no sampler noise
    assert not torch.equal(a, ct.draw(model, x_T, labels, guidance=0.0, steps=3))  # guidance changes the pictures
    with pytest.raises(ConfigError, match="Guidance"):
        ct.draw(model, x_T, labels, guidance=9.0, steps=3)


def test_a_setting_drawn_in_parts_equals_one_drawn_at_once(cgan):
    parts = ct.batches(23, 10)
    assert [(p.start, p.stop) for p in parts] == [(0, 10), (10, 20), (20, 23)]
    whole = ct.draw(cgan, ct.noise(cgan, 23, 3), ct.sweep_labels(23), psi=0.7)
    pieces = torch.cat([ct.draw_sweep_batch(cgan, "psi", 0.7, n=23, seed=3, part=p) for p in parts])
    assert torch.allclose(whole, pieces, atol=1e-6)  # the same noise and labels (BLAS may round a batch apart)


def test_every_setting_of_a_sweep_gets_the_same_noise(cgan):
    """ψ only scales z: the ψ = 0.5 batch is the ψ = 1 generator at z / 2, for the same z."""
    part = slice(0, 10)
    half = ct.draw_sweep_batch(cgan, "psi", 0.5, n=10, seed=8, part=part)
    z = ct.noise(cgan, 10, 8)
    assert torch.allclose(half, ct.draw(cgan, z / 2, ct.sweep_labels(10), psi=1.0), atol=1e-6)


# --- style vs content --------------------------------------------------------------------------------------------


def test_the_same_style_as_every_digit(cvae):
    x = torch.rand(28, 28, generator=torch.Generator().manual_seed(0))
    mu = ct.encode_style(cvae, x, 4)
    with torch.no_grad():
        reference_mu, _ = cvae.encode(x.reshape(1, 1, 28, 28), torch.tensor([4]))
        reference = torch.sigmoid(cvae.decode(reference_mu.expand(10, -1), torch.arange(10)))
    assert torch.allclose(mu, reference_mu, atol=1e-6)
    digits = ct.as_every_digit(cvae, mu)
    assert digits.shape == (10, 1, 28, 28)
    assert torch.allclose(digits, reference, atol=1e-6)
    # The label read with the digit matters: the code of "this is a 4" differs from "this is a 9".
    assert not torch.allclose(mu, ct.encode_style(cvae, x, 9))


def test_styles_of_one_digit_are_prior_codes_with_that_label(cvae):
    styles = ct.styles_of_digit(cvae, 6, 5, seed=9)
    with torch.no_grad():
        reference = torch.sigmoid(cvae.decode(ct.noise(cvae, 5, 9), torch.full((5,), 6)))
    assert torch.allclose(styles, reference, atol=1e-6)


def test_style_needs_a_conditional_vae(cgan):
    with pytest.raises(ConfigError, match="encoder"):
        ct.encode_style(cgan, torch.zeros(28, 28), 3)
    with pytest.raises(ConfigError, match="unconditional"):
        ct.as_every_digit(VAE(VAEMLPConfig(z_dim=2, hidden=(16,))), torch.zeros(2))
    with pytest.raises(ConfigError, match="0 to 9"):
        ct.encode_style(VAE(SMALL_CVAE), torch.zeros(28, 28), 12)


# --- fidelity vs diversity ----------------------------------------------------------------------------------------


def test_diversity_of_identical_samples_is_zero():
    x = torch.rand(5, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    same = x[:1].expand(5, -1, -1, -1)
    assert ct.mean_pairwise_distance(same) == 0.0


def test_pairwise_distance_is_the_rms_pixel_difference_over_all_pairs():
    black, white = torch.zeros(1, 1, 28, 28), torch.ones(1, 1, 28, 28)
    assert ct.mean_pairwise_distance(torch.cat([black, white])) == pytest.approx(1.0)
    x = torch.rand(6, 1, 28, 28, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    loop = np.mean([math.sqrt(float(((x[i] - x[j]) ** 2).mean())) for i, j in itertools.combinations(range(6), 2)])
    assert ct.mean_pairwise_distance(x) == pytest.approx(loop, rel=1e-9)
    with pytest.raises(ConfigError):
        ct.mean_pairwise_distance(x[:1])


def test_diversity_is_within_a_class_never_across():
    black, white = torch.zeros(1, 1, 28, 28), torch.ones(1, 1, 28, 28)
    images = torch.cat([black, black, white, white])
    assert ct.within_class_diversity(images, torch.tensor([0, 0, 1, 1])) == 0.0  # each class is all alike
    assert ct.within_class_diversity(images, torch.tensor([0, 1, 0, 1])) == pytest.approx(1.0)
    # A class with one sample has no pairs and is left out of the mean.
    assert ct.within_class_diversity(torch.cat([images, white]), torch.tensor([0, 1, 0, 1, 2])) == pytest.approx(1.0)
    with pytest.raises(ConfigError):
        ct.within_class_diversity(images, torch.tensor([0, 1, 2, 3]))


@needs_classifier
def test_measure_agrees_with_the_metrics_on_real_digits(classifier):
    test = load_mnist("test")
    m = ct.real_measure(test.images, test.labels, classifier, per_class=10)
    assert m.samples == 100 and math.isnan(m.setting)
    picks = np.concatenate([np.flatnonzero(test.labels == k)[:10] for k in range(10)])
    x = torch.from_numpy(test.images[picks]).float().div(255).reshape(-1, 1, 28, 28)
    probs, _ = evaluation.classify(classifier, x)
    truth = torch.from_numpy(test.labels[picks].astype(np.int64))
    assert m.conditional_accuracy == pytest.approx(float((probs.argmax(1) == truth).double().mean()))
    assert m.classifier_score == pytest.approx(metrics.classifier_score(probs))
    assert m.diversity == pytest.approx(ct.within_class_diversity(x, truth))
    # Asking for the wrong digits: the same pictures, the accuracy falls to what chance and mistakes leave.
    wrong = ct.measure(x, (truth + 1) % 10, classifier, 0.0)
    assert wrong.conditional_accuracy < 0.1 < m.conditional_accuracy
    assert wrong.diversity != m.diversity  # grouped by what was asked for


@needs_classifier
def test_sweep_yields_one_measure_per_setting_in_order(cgan, classifier):
    points = list(ct.sweep(cgan, classifier, "psi", [0.0, 1.0], n=40, seed=0, batch=15))
    assert [p.setting for p in points] == [0.0, 1.0]
    assert all(p.samples == 40 for p in points)
    assert points[0].diversity == pytest.approx(0.0, abs=1e-9)
    assert points[1].diversity > 0.01
    images = ct.draw(cgan, ct.noise(cgan, 40, 0), ct.sweep_labels(40), psi=1.0)
    whole = ct.measure(images, ct.sweep_labels(40), classifier, 1.0)
    assert points[1].conditional_accuracy == whole.conditional_accuracy
    assert points[1].diversity == pytest.approx(whole.diversity, rel=1e-5)
    assert points[1].classifier_score == pytest.approx(whole.classifier_score, rel=1e-4)


@needs_classifier
def test_verdict_and_guess_read_real_digits(classifier):
    test = load_mnist("test")
    sevens = np.flatnonzero(test.labels == 7)[:8]
    x = torch.from_numpy(test.images[sevens]).float().div(255).reshape(-1, 1, 28, 28)
    probs, _ = evaluation.classify(classifier, x)
    assert ct.classifier_verdict(classifier, x, 7) == int((probs.argmax(1) == 7).sum())
    assert ct.classifier_verdict(classifier, x, 7) + ct.classifier_verdict(classifier, x, 1) <= 8
    digit, p = ct.classifier_guess(classifier, x[0])
    assert digit == int(probs[0].argmax()) and p == pytest.approx(float(probs[0].max()))
