"""Resuming from a checkpoint (config back from JSON, step count continued, the checkpoint's model never trained in
place) and the sampling helpers of the live views."""

from dataclasses import asdict, replace

import pytest
import torch

from aigc_core.checkpoints import checkpoint_zip, load_checkpoint_zip
from aigc_core.errors import CheckpointError, ConfigError
from aigc_core.evaluation import PRETRAINED_DIR
from aigc_core.factory import trainer_from_preset
from aigc_core.gan_trainer import GANTrainConfig
from aigc_core.live_eval import model_samples01, quick_score, sample_images01
from aigc_core.presets import get_preset
from aigc_core.resume import recorded_steps, train_config_from_dict, trainer_from_checkpoint
from aigc_core.vae_trainer import VAETrainConfig


@pytest.mark.parametrize("preset", ["gan_mlp", "vae_mlp_z20"])
def test_train_config_round_trips_through_json(preset):
    config = replace(get_preset(preset).train_config, seed=3, batch_size=32)
    family = get_preset(preset).family
    assert train_config_from_dict(family, asdict(config)) == config


def test_bad_train_configs_are_refused():
    with pytest.raises(CheckpointError, match="unknown fields"):
        train_config_from_dict("gan", {"batch_size": 8, "warp_speed": 9})
    with pytest.raises(ConfigError, match="learning rate"):
        train_config_from_dict("gan", {"g_optim": {"kind": "adam", "lr": -1.0, "beta1": 0.5, "beta2": 0.9}})
    with pytest.raises(ConfigError):
        train_config_from_dict("classifier", {})


def _checkpoint(steps: int, d_updates: int | None = None):
    trainer = trainer_from_preset(get_preset("gan_seed_mlp"))
    provenance = {"steps": steps} if d_updates is None else {"steps": steps, "d_updates": d_updates}
    return load_checkpoint_zip(checkpoint_zip(trainer.model, train_config=asdict(trainer.config), provenance=provenance))


def test_trainer_continues_the_count_on_a_copy():
    checkpoint = _checkpoint(120, 240)
    before = {k: v.clone() for k, v in checkpoint.model.state_dict().items()}
    trainer = trainer_from_checkpoint(checkpoint, GANTrainConfig(), device="cpu")
    assert (trainer.iteration, trainer.d_updates, trainer.last.step) == (120, 240, 120)
    assert trainer.model is not checkpoint.model and trainer.model.training
    assert all(p.requires_grad for p in trainer.model.parameters())
    trainer.step()
    assert trainer.iteration == 121
    assert all(torch.equal(v, checkpoint.model.state_dict()[k]) for k, v in before.items())  # untouched


def test_recorded_steps_tolerates_missing_or_odd_values():
    assert recorded_steps(_checkpoint(7)) == (7, 7)
    checkpoint = _checkpoint(5)
    checkpoint.meta["provenance"] = {"steps": "many", "d_updates": -3}
    assert recorded_steps(checkpoint) == (0, 0)


def test_a_gan_checkpoint_needs_a_gan_config():
    with pytest.raises(ConfigError):
        trainer_from_checkpoint(_checkpoint(1), VAETrainConfig())


def test_samples_are_images_in_unit_range_and_models_stay_as_they_were():
    gan = trainer_from_preset(get_preset("gan_seed_mlp"))
    vae = trainer_from_preset(get_preset("vae_mlp_z20"))
    gan.model.eval()
    for samples in (model_samples01(gan.model, 5, seed=1), sample_images01(vae, 5, seed=1), sample_images01(gan, 5)):
        assert samples.shape == (5, 1, 28, 28)
        assert 0.0 <= float(samples.min()) and float(samples.max()) <= 1.0
    assert not gan.model.training and vae.model.training
    assert torch.equal(model_samples01(vae.model, 3, seed=2), model_samples01(vae.model, 3, seed=2))


@pytest.mark.skipif(not (PRETRAINED_DIR / "classifier" / "config.json").is_file(), reason="needs pretrained/classifier")
def test_quick_score_reports_a_classifier_score_and_fid():
    from aigc_core.evaluation import load_classifier

    trainer = trainer_from_preset(get_preset("gan_seed_mlp"))
    result = quick_score(trainer, load_classifier(), samples=100)
    assert result["step"] == 0 and result["samples"] == 100
    assert 1.0 <= result["classifier_score"] <= 10.0 and result["fid"] > 0
