"""Class-conditional GAN and VAE ("draw me a 7"): the label's path through each network, the projection
discriminator's formula, trainers on labelled batches, the conditional accuracy metric, checkpoints, and that a
short real training run learns to draw the digit it is asked for."""

import math

import pytest
import torch

from aigc_core import evaluation, metrics
from aigc_core.checkpoints import load_checkpoint, save_checkpoint
from aigc_core.errors import ConfigError
from aigc_core.factory import build_trainer, trainer_from_preset
from aigc_core.gan_trainer import GANTrainConfig
from aigc_core.models.conditional import ProjectionDiscriminator, cycle_labels, row_labels
from aigc_core.models.gan import GAN, DCGANConfig, MLPGANConfig
from aigc_core.models.vae import VAE, VAEMLPConfig
from aigc_core.presets import get_preset
from aigc_core.vae_trainer import VAETrainConfig

pytestmark = pytest.mark.usefixtures("one_thread")

SMALL_CGAN = MLPGANConfig(z_dim=8, g_hidden=(32,), d_hidden=(32,), slope=0.2, num_classes=10, label_dim=4)
SMALL_CDCGAN = DCGANConfig(z_dim=8, width=4, num_classes=10, label_dim=4)
SMALL_CVAE = VAEMLPConfig(z_dim=4, hidden=(32,), num_classes=10)


@pytest.mark.parametrize("config", [SMALL_CGAN, SMALL_CDCGAN], ids=["mlp", "dcgan"])
def test_generator_draws_what_the_label_asks_and_is_seeded(config):
    gan = GAN(config, seed=3).eval()
    z = torch.randn(4, config.z_dim, generator=torch.Generator().manual_seed(0))
    sevens = gan.generator(z, torch.full((4,), 7))
    ones = gan.generator(z, torch.full((4,), 1))
    assert sevens.shape == (4, 1, 28, 28)
    assert not torch.allclose(sevens, ones)  # same z, another label: another picture
    again = GAN(config, seed=3).eval()  # every weight, label embeddings included, comes from the seed
    assert torch.equal(again.generator(z, torch.full((4,), 7)), sevens)
    assert not torch.equal(GAN(config, seed=4).eval().generator(z, torch.full((4,), 7)), sevens)


def test_generator_without_labels_draws_the_digits_in_turn():
    gan = GAN(SMALL_CGAN).eval()
    z = torch.randn(12, 8)
    assert torch.equal(gan.generator(z), gan.generator(z, cycle_labels(12, 10)))


def test_projection_discriminator_is_psi_plus_label_inner_product():
    gan = GAN(SMALL_CGAN, seed=1)
    d = gan.discriminator
    assert isinstance(d, ProjectionDiscriminator)
    x = torch.rand(5, 1, 28, 28) * 2 - 1
    y = torch.tensor([0, 3, 3, 9, 5])
    phi = d.features(x)
    by_hand = d.head(phi).squeeze(1) + (d.label_embedding.weight[y] * phi).sum(1)
    assert torch.allclose(d(x, y).squeeze(1), by_hand, atol=1e-6)
    assert torch.allclose(d(x).squeeze(1), d.head(phi).squeeze(1))  # no label: the label-free part ψ(φ(x))


def test_unconditional_configs_and_checkpoints_are_unchanged():
    """Configs written before conditioning existed (no num_classes) still load, as unconditional models."""
    gan = load_checkpoint(evaluation.PRETRAINED_DIR / "gan_mlp").model
    assert not gan.conditional and gan.num_classes == 0
    z = torch.randn(3, gan.z_dim)
    assert gan.generator.eval()(z).shape == (3, 1, 28, 28)


def test_conditional_gan_trainer_steps_and_draws_a_row_per_digit(signed):
    trainer = build_trainer(SMALL_CGAN, GANTrainConfig(batch_size=16, seed=2), source=signed)
    first = trainer.step()
    assert math.isfinite(first.d_loss) and math.isfinite(first.g_loss)
    assert trainer.grid_columns == 6 and torch.equal(trainer.fixed_labels, row_labels(10, 6))
    grid = trainer.sample()
    assert grid.shape == (60, 1, 28, 28)
    assert torch.equal(trainer.sample(trainer.fixed_z, trainer.fixed_labels), grid)
    twin = build_trainer(SMALL_CGAN, GANTrainConfig(batch_size=16, seed=2), source=signed)
    assert twin.step().as_dict() | {"seconds": 0} == first.as_dict() | {"seconds": 0}  # seeded, labels included


@pytest.mark.parametrize("bad", [torch.full((60,), 10), torch.full((60,), -1), torch.zeros(59, dtype=torch.long),
                                 torch.zeros(60)])
def test_labels_outside_the_classes_get_a_clear_message(signed, bad):
    trainer = build_trainer(SMALL_CGAN, GANTrainConfig(batch_size=8), source=signed)
    with pytest.raises(ConfigError, match="label"):
        trainer.sample(trainer.fixed_z, bad)


def test_unconditional_trainer_refuses_labels(signed):
    trainer = build_trainer(MLPGANConfig(z_dim=8, g_hidden=(16,), d_hidden=(16,)), GANTrainConfig(batch_size=8),
                            source=signed)
    with pytest.raises(ConfigError, match="unconditional"):
        trainer.sample(trainer.fixed_z, torch.zeros(64, dtype=torch.long))


def test_conditional_wgan_gp_penalises_under_the_real_labels(signed):
    trainer = build_trainer(SMALL_CGAN, GANTrainConfig(loss="wgan_gp", batch_size=8), source=signed)
    assert math.isfinite(trainer.step().d_loss)


def test_cvae_encoder_needs_the_label_and_the_decoder_uses_it():
    vae = VAE(SMALL_CVAE, seed=0).eval()
    x = torch.rand(3, 1, 28, 28)
    with pytest.raises(ConfigError, match="label"):
        vae.encode(x)
    mu, _ = vae.encode(x, torch.tensor([1, 2, 3]))
    assert mu.shape == (3, 4)
    assert not torch.allclose(vae.decode(mu, torch.tensor([0, 0, 0])), vae.decode(mu, torch.tensor([8, 8, 8])))
    assert torch.equal(vae.decode(mu), vae.decode(mu, cycle_labels(3, 10)))


def test_metric_conditional_accuracy_by_hand():
    probs = torch.eye(10)[[7, 7, 1, 3]]  # read as 7, 7, 1, 3
    overall, per_class = metrics.conditional_accuracy(probs, torch.tensor([7, 1, 1, 3]))
    assert overall == pytest.approx(0.75)
    assert per_class[7] == 1.0 and per_class[1] == 0.5 and per_class[3] == 1.0 and math.isnan(per_class[0])
    with pytest.raises(ValueError):
        metrics.conditional_accuracy(probs, torch.tensor([1, 2]))


def test_conditional_checkpoint_round_trip(tmp_path, signed):
    trainer = build_trainer(SMALL_CGAN, GANTrainConfig(batch_size=8, ema=0.9), source=signed)
    trainer.step()
    save_checkpoint(tmp_path / "cgan", trainer.model, sampling_generator=trainer.sampling_generator())
    loaded = load_checkpoint(tmp_path / "cgan").model
    assert loaded.conditional
    z, y = trainer.fixed_z, trainer.fixed_labels
    with torch.no_grad():
        assert torch.allclose(loaded.generator.eval()(z, y), trainer.sample(z, y), atol=1e-6)


def test_a_short_cvae_run_learns_to_draw_the_requested_digit(unit):
    """A few seconds of training: the classifier reads the digit that was asked for far above chance (10 %)."""
    preset = get_preset("cvae_live")
    trainer = build_trainer(preset.model_config, VAETrainConfig(**{**preset.train_config.__dict__,
                                                                  "schedule_steps": 400}), source=unit)
    for _ in range(400):
        trainer.step()
    labels = cycle_labels(500, 10)
    z = trainer.model.sample_noise(500, torch.Generator().manual_seed(0))
    result = evaluation.score_images(trainer.sample(z, labels), evaluation.load_classifier(), labels)
    assert result["conditional_accuracy"] > 0.4, result  # 0.59 here; a model that ignored y would score ~0.1


def test_conditional_presets_build():
    for name in ("cgan", "cvae", "cgan_live", "cvae_live"):
        trainer = trainer_from_preset(get_preset(name))
        assert trainer.conditional


def test_conditional_wgan_gp_draws_the_fakes_for_the_real_labels(signed):
    """Each WGAN-GP mix αx + (1-α)G(z, y) is of two images of the same digit y, scored under y."""
    trainer = build_trainer(SMALL_CGAN, GANTrainConfig(loss="wgan_gp", batch_size=8), source=signed)
    p = trainer.begin_d()
    assert torch.equal(p.y_fake, p.y_real)
    plain = build_trainer(SMALL_CGAN, GANTrainConfig(batch_size=64), source=signed).begin_d()
    assert not torch.equal(plain.y_fake, plain.y_real)  # other losses ask G for any digit
