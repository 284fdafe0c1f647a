"""The real-or-generated detector (aigc_core.detector, `train-detector`): balanced batches, held-out figures that
mean what they say, and the CLI's checkpoint with its accuracies in config.json."""

import json
from pathlib import Path

import pytest
import torch

from aigc_core.checkpoints import load_checkpoint
from aigc_core.cli import main
from aigc_core.detector import DetectorTrainConfig, DetectorTrainer, evaluate_detector, fake_probability, train_detector
from aigc_core.errors import ConfigError
from aigc_core.models.detector import Detector
from aigc_core.models.gan import GAN, MLPGANConfig

pytestmark = pytest.mark.usefixtures("one_thread")


def _blank_vs_bright(n: int) -> tuple[torch.Tensor, torch.Tensor]:
    real = torch.zeros(n, 28, 28, dtype=torch.uint8)
    real[:, 10:18, 10:18] = 255  # a square "digit"
    fake = torch.full((n, 28, 28), 128, dtype=torch.uint8)  # grey noise-free "samples": trivially told apart
    return real, fake


def test_detector_learns_an_easy_difference_and_the_figures_say_so():
    real, fake = _blank_vs_bright(64)
    trainer = DetectorTrainer(real, {"grey": fake}, DetectorTrainConfig(steps=60, batch_size=32))
    assert trainer.fake.shape == (64, 28, 28)
    for _ in range(60):
        stats = trainer.step()
    assert stats.accuracy == 1.0
    figures = evaluate_detector(trainer.model, real[:16], {"grey": fake[:16], "also_real": real[16:32]})
    assert figures["real_correct"] == 1.0 and figures["per_model"]["grey"] == {"caught": 1.0, "accuracy": 1.0}
    # a "model" that draws real digits is caught never: balanced accuracy 50%, chance
    assert figures["per_model"]["also_real"] == {"caught": 0.0, "accuracy": 0.5}
    assert figures["accuracy"] == 0.75 and figures["held_out"] == 16


def test_fake_probability_leaves_the_model_as_it_was():
    detector = Detector()
    detector.train()
    p = fake_probability(detector, torch.zeros(3, 28, 28, dtype=torch.uint8))
    assert p.shape == (3,) and bool(((p >= 0) & (p <= 1)).all()) and detector.training


def test_train_detector_is_seeded_and_holds_out_its_test_data(digits):
    models = {"g": GAN(MLPGANConfig(g_hidden=(16,), d_hidden=(16,)), seed=0)}
    real = torch.from_numpy(digits.images.copy())
    config = DetectorTrainConfig(per_model=32, held_out=16, steps=5, batch_size=16)
    a, figures = train_detector(real[:256], models, config, real[256:])
    b, again = train_detector(real[:256], models, config, real[256:])
    assert figures == again and all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))
    assert set(figures["per_model"]) == {"g"} and figures["held_out"] == 16


@pytest.mark.parametrize("bad", [{"per_model": 0}, {"held_out": 20_001}, {"batch_size": 3}, {"steps": 0}])
def test_bad_settings_are_refused(bad):
    with pytest.raises(ConfigError):
        DetectorTrainConfig(**bad).validate()


def test_cli_dry_run_writes_a_detector_with_its_accuracies(tmp_path, capsys):
    out = tmp_path / "detector"
    assert main(["train-detector", "--dry-run", "--models", "gan_mlp,vae_mlp_z2", "--out", str(out)]) == 0
    checkpoint = load_checkpoint(out)
    assert checkpoint.family == "detector" and isinstance(checkpoint.model, Detector)
    meta = json.loads((out / "config.json").read_text())
    metrics = meta["provenance"]["metrics"]
    assert set(metrics["per_model"]) == {"gan_mlp", "vae_mlp_z2"} and 0 <= metrics["accuracy"] <= 1
    assert meta["provenance"]["steps"] == 3 and meta["train_config"]["per_model"] == 8
    assert set(meta["provenance"]["models"]) == {"gan_mlp", "vae_mlp_z2"}


@pytest.mark.parametrize("models", ["classifier", "gan_mlp,gan_mlp", ",", "no_such_model"])
def test_cli_refuses_bad_model_lists(models, tmp_path, capsys):
    assert main(["train-detector", "--dry-run", "--models", models, "--out", str(tmp_path / "d")]) == 2
    assert "error: " in capsys.readouterr().err


def test_shipped_detector_records_its_held_out_accuracy_per_model():
    meta = json.loads((Path(__file__).resolve().parents[1] / "pretrained" / "detector" / "config.json").read_text())
    metrics = meta["provenance"]["metrics"]
    assert set(metrics["per_model"]) == {"gan_mlp", "gan_seed_mlp", "dcgan", "vae_mlp_z20", "vae_mlp_z2"}
    assert metrics["held_out"] == 1000 and metrics["accuracy"] > 0.5  # better than guessing, as measured
