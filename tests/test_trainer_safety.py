"""Trainers' safety: bad configs are refused with a clear message, and a diverging run (NaN/inf) stops with the
last finite weights restored, for GANs, VAEs and the classifier. Small models, real MNIST digits."""

import copy
import dataclasses
import math
import re

import pytest
import torch

from aigc_core.classifier_trainer import ClassifierTrainConfig, ClassifierTrainer
from aigc_core.errors import ConfigError, TrainingDiverged
from aigc_core.factory import build_trainer
from aigc_core.guard import all_finite
from aigc_core.gan_trainer import GANTrainConfig, GANTrainer
from aigc_core.models.classifier import Classifier
from aigc_core.models.gan import ARTICLE_GAN, GAN
from aigc_core.models.vae import VAE
from aigc_core.optim import OptimizerConfig
from aigc_core.slicing import run_slice
from aigc_core.vae_trainer import VAETrainConfig, VAETrainer
from trainer_support import (
    SGD_HUGE, SMALL_CLASSIFIER, SMALL_MLP_GAN, SMALL_VAE, NaNAfter, finite, gan_trainer, same, state,
)

pytestmark = pytest.mark.usefixtures("one_thread")


# --- config validation ------------------------------------------------------------------------------------

BAD_GAN_CONFIGS = {
    "batch-1": ({"batch_size": 1}, r"Batch size must be between 2 and 4096; got 1"),
    "batch-huge": ({"batch_size": 10_000}, r"Batch size .* got 10000"),
    "k-0": ({"d_steps": 0}, r"k \(D steps per G step\) must be between 1 and 50; got 0"),
    "lr-0": ({"d_optim": OptimizerConfig(lr=0.0)}, r"Discriminator: learning rate must be > 0 and ≤ 1000; got 0\.0"),
    "lr-1e4": ({"g_optim": OptimizerConfig(lr=1e4)}, r"Generator: learning rate must be > 0 and ≤ 1000; got 10000\.0"),
    "lr-nan": ({"g_optim": OptimizerConfig(lr=float("nan"))}, r"Generator: learning rate .* got nan"),
    "beta1-negative": ({"g_optim": OptimizerConfig(beta1=-0.1)}, r"Generator: beta1 must be in \[0, 1\); got -0\.1"),
    "beta2-one": ({"d_optim": OptimizerConfig(beta2=1.0)}, r"Discriminator: beta2 must be in \[0, 1\); got 1\.0"),
    "optimizer-kind": ({"d_optim": OptimizerConfig(kind="lbfgs")}, r"optimizer must be one of adam, sgd, rmsprop"),
    "smoothing-0.9": ({"label_smoothing": 0.9}, r"Label smoothing must be in \[0, 0\.5\]; got 0\.9"),
    "clip-negative": ({"clip_grad_norm": -1.0}, r"Gradient clipping must be ≥ 0"),
    "ema-1": ({"ema": 1.0}, r"EMA decay must be in \[0, 1\)"),
    "r1-negative": ({"r1_gamma": -1.0}, r"R1 weight γ must be between 0 and 1000 \(0 = off\); got -1\.0"),
    "r1-nan": ({"r1_gamma": float("nan")}, r"R1 weight γ .* got nan"),
    "r1-every-0": ({"r1_every": 0}, r"R1 every n D updates: n must be between 1 and 64; got 0"),
    "loss": ({"loss": "vanilla"}, r"Unknown loss 'vanilla'; choose one of minimax, non_saturating"),
}


@pytest.mark.parametrize(("overrides", "message"), BAD_GAN_CONFIGS.values(), ids=BAD_GAN_CONFIGS.keys())
def test_bad_gan_config_raises_config_error(signed, overrides, message):
    bad = GANTrainConfig(**overrides)
    with pytest.raises(ConfigError, match=message):
        bad.validate()
    with pytest.raises(ConfigError, match=message):
        GANTrainer(GAN(ARTICLE_GAN), signed, bad)
    trainer = gan_trainer(signed)
    good = trainer.config
    with pytest.raises(ConfigError, match=message):
        trainer.update_config(bad)
    assert trainer.config is good  # nothing half-applied
    assert trainer.optimizers["d"].param_groups[0]["lr"] == good.d_optim.lr


BAD_OTHER_CONFIGS = {
    "vae-beta-negative": (VAETrainConfig(beta=-1.0), r"β must be between 0 and 1000; got -1\.0"),
    "vae-beta-nan": (VAETrainConfig(beta=float("nan")), r"β must be between"),
    "vae-batch-1": (VAETrainConfig(batch_size=1), r"Batch size must be between 2 and 4096; got 1"),
    "vae-lr-0": (VAETrainConfig(optim=OptimizerConfig(lr=0.0)), r"VAE: learning rate must be > 0"),
    "vae-reconstruction": (VAETrainConfig(reconstruction="l1"), r"Reconstruction must be 'bce' or 'mse'"),
    "classifier-batch-1": (ClassifierTrainConfig(batch_size=1), r"Batch size must be between 2 and 4096; got 1"),
    "classifier-lr-1e4": (ClassifierTrainConfig(optim=OptimizerConfig(lr=1e4)), r"Classifier: learning rate"),
}


@pytest.mark.parametrize(("config", "message"), BAD_OTHER_CONFIGS.values(), ids=BAD_OTHER_CONFIGS.keys())
def test_bad_vae_and_classifier_configs(unit, config, message):
    model = VAE(SMALL_VAE) if isinstance(config, VAETrainConfig) else Classifier(SMALL_CLASSIFIER)
    trainer_class = VAETrainer if isinstance(config, VAETrainConfig) else ClassifierTrainer
    with pytest.raises(ConfigError, match=message):
        trainer_class(model, unit, config)
    with pytest.raises(ConfigError, match=message):
        build_trainer(model.config, config, source=unit)


def test_factory_rejects_mismatched_train_config(unit):
    with pytest.raises(ConfigError, match="A VAE needs a VAETrainConfig"):
        build_trainer(SMALL_VAE, GANTrainConfig(), source=unit)
    with pytest.raises(ConfigError, match="A GAN needs a GANTrainConfig"):
        build_trainer(ARTICLE_GAN, VAETrainConfig(), source=unit)


# --- divergence guard -------------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [math.inf, -math.inf, math.nan])
def test_all_finite_finds_one_bad_weight_anywhere(bad):
    """The guard only snapshots finite weights; one inf or NaN in any tensor must be seen, and huge finite
    weights (a run about to blow up) still count as finite."""
    module = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.LeakyReLU(), torch.nn.Linear(4, 1))
    assert all_finite(module) and all_finite(torch.nn.ReLU())
    for parameter in module.parameters():
        with torch.no_grad():
            saved = parameter.view(-1)[-1].item()
            parameter.view(-1)[-1] = bad
            assert not all_finite(module)
            parameter.view(-1)[-1] = saved
    with torch.no_grad():
        module[0].weight.fill_(3e38)
    assert all_finite(module)


@pytest.mark.parametrize("loss", ["non_saturating", "least_squares", "hinge", "minimax", "wgan_gp"])
def test_gan_divergence_restores_good_weights_and_can_continue(signed, loss):
    """SGD with lr 1e3 blows the weights up to ~1e19 (still finite) within a few steps, then a loss overflows.
    The guard must roll back to a state that trained finitely, including the EMA generator; after lowering the
    learning rate the same trainer trains on."""
    trainer = gan_trainer(signed, SMALL_MLP_GAN, loss=loss, g_optim=SGD_HUGE, d_optim=SGD_HUGE, ema=0.5)
    history = {0: (state(trainer.model), state(trainer.ema_generator))}
    with pytest.raises(TrainingDiverged) as info:
        for _ in range(100):
            trainer.step()
            history[trainer.iteration] = (state(trainer.model), state(trainer.ema_generator))
    message = str(info.value)
    assert re.search(r"Training diverged at step \d+: the (generator|discriminator) (loss|gradient norm) became", message)
    assert "Weights were restored from step 0" in message and "learning rate 10x smaller" in message
    assert trainer.guard.snapshot_step == 0
    assert finite(trainer.model) and finite(trainer.ema_generator)
    model_state, ema_state = history[trainer.guard.snapshot_step]
    assert same(state(trainer.model), model_state) and same(state(trainer.ema_generator), ema_state)
    assert all(p.requires_grad for p in trainer.model.parameters())

    gentle = OptimizerConfig(kind="sgd", lr=1e-3, beta1=0.0)
    trainer.update_config(dataclasses.replace(trainer.config, g_optim=gentle, d_optim=gentle))
    for record in run_slice(trainer, seconds=60, max_steps=10):
        assert all(math.isfinite(v) for v in (record.d_loss, record.g_loss, record.grad_norm_d, record.grad_norm_g))
    assert finite(trainer.model) and finite(trainer.ema_generator)


def test_divergence_rolls_back_to_the_latest_confirmed_snapshot(signed):
    """A NaN batch after 103 good iterations: the snapshot of step 100 (confirmed by the finite losses that followed)
    is restored, the optimizers' state and the step counters with it, and training continues from step 100 once
    the data is healthy again (the step count always belongs to the weights the trainer holds)."""
    source = NaNAfter(signed, good=103)
    trainer = build_trainer(ARTICLE_GAN, GANTrainConfig(batch_size=4), source=source)
    at_100 = None
    with pytest.raises(TrainingDiverged, match=r"at step 103: the discriminator loss became nan\. Weights were restored from step 100") as info:
        for _ in range(200):
            trainer.step()
            if trainer.iteration == 100:
                at_100 = (state(trainer.model), copy.deepcopy({k: v.state_dict() for k, v in trainer.optimizers.items()}))
    assert (info.value.step, info.value.restored_step) == (103, 100)
    assert (trainer.iteration, trainer.d_updates) == (100, 100)
    assert same(state(trainer.model), at_100[0])
    for name, optimizer in trainer.optimizers.items():
        saved = at_100[1][name]["state"]
        for key, values in optimizer.state_dict()["state"].items():
            for n, t in values.items():
                assert torch.equal(t, saved[key][n]), (name, key, n)
    # a second failure restores the same snapshot again (the snapshot is not aliased by the optimizer)
    with pytest.raises(TrainingDiverged, match=r"at step 100: .* restored from step 100"):
        trainer.step()
    assert same(state(trainer.model), at_100[0]) and trainer.iteration == 100
    source.heal()
    trainer.step()
    assert trainer.iteration == 101 and trainer.d_updates == 101 and finite(trainer.model)


def test_divergence_keeps_current_optimizer_settings(signed):
    """After a rollback an optimizer runs with the configured lr, not the one stored in the snapshot; an optimizer
    replaced since the snapshot (a different kind) keeps working with a fresh state."""
    mild = OptimizerConfig(kind="sgd", lr=0.01, beta1=0.5)
    trainer = gan_trainer(signed, SMALL_MLP_GAN, g_optim=mild)  # the snapshot of step 0 stores lr 0.01
    g_optimizer = trainer.optimizers["g"]
    trainer.update_config(dataclasses.replace(trainer.config, g_optim=dataclasses.replace(SGD_HUGE, beta1=0.5), d_optim=SGD_HUGE))
    assert trainer.optimizers["g"] is g_optimizer  # same kind: changed in place
    with pytest.raises(TrainingDiverged, match="restored from step 0"):
        for _ in range(100):
            trainer.step()
    assert trainer.optimizers["g"] is g_optimizer
    assert g_optimizer.param_groups[0]["lr"] == 1e3 and g_optimizer.param_groups[0]["momentum"] == 0.5
    assert isinstance(trainer.optimizers["d"], torch.optim.SGD) and not trainer.optimizers["d"].state
    gentle = OptimizerConfig(kind="adam", lr=1e-4)
    trainer.update_config(dataclasses.replace(trainer.config, g_optim=gentle, d_optim=gentle))
    for _ in range(5):
        trainer.step()
    assert finite(trainer.model)


def test_vae_and_classifier_divergence(unit):
    huge = OptimizerConfig(kind="sgd", lr=1e3, beta1=0.0)
    for trainer in (
        build_trainer(SMALL_VAE, VAETrainConfig(batch_size=8, optim=huge), source=unit),
        build_trainer(SMALL_CLASSIFIER, ClassifierTrainConfig(batch_size=8, optim=huge), source=unit),
    ):
        initial = state(trainer.model)
        with pytest.raises(TrainingDiverged, match="restored from step 0") as info:
            for _ in range(200):
                trainer.step()
        assert finite(trainer.model) and same(state(trainer.model), initial)
        assert info.value.restored_step == 0 and info.value.step > 0 and trainer.iteration == 0
        gentle = dataclasses.replace(trainer.config, optim=OptimizerConfig(kind="adam", lr=1e-4, beta1=0.9))
        if isinstance(trainer, VAETrainer):
            trainer.update_config(gentle)
        else:  # the classifier trainer has no update_config; a fresh optimizer at a sane lr continues from the weights
            trainer = ClassifierTrainer(trainer.model, unit, gentle)
        for _ in range(3):
            trainer.step()


# --- explosions that stay finite (GuardConfig) ------------------------------------------------------------------


def _guard(config):
    from aigc_core.guard import DivergenceGuard

    model = torch.nn.Linear(2, 1)
    guard = DivergenceGuard(model, {}, config=config)
    guard.check(1.0, "the loss", 0)  # confirms the snapshot of step 0
    return guard, model


def test_loss_bound_rolls_back_and_explains():
    from aigc_core.guard import GuardConfig

    guard, model = _guard(GuardConfig(max_abs_loss=1e6))
    saved = state(model)
    guard.check_loss(-9.9e5, "the generator loss", 3)  # within the bound, either sign
    with torch.no_grad():
        model.weight.fill_(1e12)  # an exploding update, still finite
    with pytest.raises(TrainingDiverged, match=r"at step 4: the generator loss became -2e\+07, beyond 1e\+06.*"
                                               r"Weights were restored from step 0.*learning rate 10x smaller") as info:
        guard.check_loss(-2e7, "the generator loss", 4)
    assert info.value.step == 4 and info.value.restored_step == 0 and same(state(model), saved)
    guard.check(5e7, "a gradient norm", 5)  # gradient norms have no such bound: large early norms are normal


def test_saturation_counts_consecutive_updates_and_resets():
    from aigc_core.guard import GuardConfig

    guard, model = _guard(GuardConfig(saturation_steps=3, saturation_margin=1e-3))
    saturated, open_game = (0.9995, 0.0004), (0.9995, 0.2)
    guard.observe_discriminator(*saturated, 1)
    guard.observe_discriminator(*saturated, 2)
    guard.observe_discriminator(*open_game, 3)  # one update where G fooled D a little: the streak restarts
    assert guard.saturated_for == 0
    guard.observe_discriminator(*saturated, 4)
    guard.observe_discriminator(*saturated, 5)
    with pytest.raises(TrainingDiverged, match=r"D has been saturated for 3 updates in a row \(mean D\(x\) 0\.9995 > "
                                               r"0\.999, mean D\(G\(z\)\) 0\.0004 < 0\.001\).*smaller D learning rate"):
        guard.observe_discriminator(*saturated, 6)
    assert guard.saturated_for == 0


def test_no_snapshot_is_confirmed_while_d_is_saturated():
    """A snapshot taken while D is saturated must not become the restore point: it is part of the failure."""
    from aigc_core.guard import GuardConfig

    guard, model = _guard(GuardConfig(saturation_steps=10))
    guard.observe_discriminator(1.0, 0.0, 1)
    with torch.no_grad():
        model.weight.fill_(3.0)
    guard.take(2)
    guard.check_loss(0.01, "the discriminator loss", 2)  # finite and small, but D is saturated
    assert guard.snapshot_step == 0


def test_off_turns_both_checks_off():
    from aigc_core.guard import OFF

    guard, _ = _guard(OFF)
    guard.check_loss(1e30, "the loss", 1)
    for step in range(2000):
        guard.observe_discriminator(1.0, 0.0, step)
    with pytest.raises(TrainingDiverged, match="became nan"):
        guard.check_loss(float("nan"), "the loss", 2001)  # NaN/inf is always refused


@pytest.mark.parametrize("loss", ["least_squares", "wgan", "wgan_gp", "hinge"])
def test_saturation_is_only_read_from_logit_losses(signed, loss):
    """Raw scores (least squares, WGAN, hinge) are not probabilities: a score of 1 / 0 says nothing about winning."""
    trainer = gan_trainer(signed, SMALL_MLP_GAN, loss=loss)
    seen = []
    trainer.guard.observe_discriminator = lambda *args: seen.append(args)
    trainer.step()
    assert seen == []
    trainer = gan_trainer(signed, SMALL_MLP_GAN, loss="minimax")
    trainer.guard.observe_discriminator = lambda *args: seen.append(args)
    trainer.step()
    assert len(seen) == 1
