"""Diffusion: the denoisers (U-Net and the 2-D MLP), their checkpoints, the trainer (the simple loss on the documented
draws, loss by t, label dropout, EMA sampling, seeding, divergence) and the CLI. The process itself: test_diffusion.py."""

import copy
import math

import pytest
import torch

from aigc_core.checkpoints import checkpoint_zip, load_checkpoint, load_checkpoint_zip, save_checkpoint
from aigc_core.diffusion_trainer import (
    T_BUCKETS, DiffusionTrainConfig, DiffusionTrainer, _loss_by_t, generate,
)
from aigc_core.errors import ConfigError, TrainingDiverged
from aigc_core.models.registry import architecture_of, build_model
from aigc_core.models.unet import ToyDenoiser, ToyDenoiserConfig, UNet, UNetConfig, sinusoidal_embedding
from aigc_core.optim import OptimizerConfig
from aigc_core.toy2d import PointSource

T = 1000


# -- denoisers -------------------------------------------------------------------------------------------------------

SMALL_UNET = UNetConfig(channels=(8, 16), time_dim=16, timesteps=100)


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_sinusoidal_embedding_formula():
    t = torch.tensor([0, 1, 500])
    e = sinusoidal_embedding(t, 8)
    omega = torch.tensor([10_000 ** (-i / 4) for i in range(4)])
    torch.testing.assert_close(e, torch.cat([torch.sin(t[:, None] * omega), torch.cos(t[:, None] * omega)], 1))


@pytest.mark.parametrize("config", [UNetConfig(), SMALL_UNET, UNetConfig(channels=(8, 16, 16), patch=1, timesteps=50),
                                    UNetConfig(channels=(16,), patch=4, num_classes=0)])
def test_unet_shapes_and_labels(config):
    model = UNet(config).eval()
    g = torch.Generator().manual_seed(0)
    x, t = model.sample_noise(3, g), torch.tensor([1, 50, config.timesteps])
    assert x.shape == (3, 1, 28, 28)
    with torch.no_grad():
        out = model(x, t)
        assert out.shape == x.shape and torch.isfinite(out).all()
        if config.num_classes:
            null = torch.full((3,), model.null_label)
            assert torch.equal(out, model(x, t, null))  # y = None is the null label
            assert not torch.allclose(out, model(x, t, torch.tensor([0, 1, 2])))  # labels change the output
        assert not torch.allclose(out, model(x, t + 0 * t // 2 + torch.tensor([0, 10, -1])))  # so does t


def test_toy_denoiser_shapes():
    model = ToyDenoiser(ToyDenoiserConfig(num_classes=3)).eval()
    x = model.sample_noise(5, torch.Generator().manual_seed(0))
    with torch.no_grad():
        out = model(x, torch.arange(1, 6))
        assert out.shape == (5, 2)
        assert torch.equal(out, model(x, torch.arange(1, 6), torch.full((5,), 3)))


@pytest.mark.parametrize("config", [SMALL_UNET, ToyDenoiserConfig()])
def test_seeded_weights(config):
    torch.manual_seed(1)
    a = build_model(config, seed=3)
    torch.manual_seed(2)
    b, c = build_model(config, seed=3), build_model(config, seed=4)
    for (name, wa), wb, wc in zip(a.state_dict().items(), b.state_dict().values(), c.state_dict().values()):
        assert torch.equal(wa, wb), name
        if wa.dim() > 1:
            assert not torch.equal(wa, wc), name


def test_bad_model_configs_raise_config_error():
    for config in (UNetConfig(patch=3), UNetConfig(channels=(30, 60)), UNetConfig(channels=(8, 16, 32, 64)),
                   UNetConfig(channels=()), UNetConfig(schedule="quadratic"), UNetConfig(prediction="x0"),
                   UNetConfig(timesteps=0), UNetConfig(num_classes=-1), ToyDenoiserConfig(time_dim=7),
                   ToyDenoiserConfig(timesteps=10**6)):
        with pytest.raises(ConfigError):
            build_model(config)


@pytest.mark.parametrize("config", [SMALL_UNET, ToyDenoiserConfig(num_classes=2)])
def test_checkpoint_round_trip(tmp_path, config):
    model = build_model(config, seed=5)
    assert architecture_of(config).family == "diffusion"
    loaded = load_checkpoint(save_checkpoint(tmp_path / "ckpt", model))
    from_zip = load_checkpoint_zip(checkpoint_zip(model))
    x = model.sample_noise(4, torch.Generator().manual_seed(0))
    t = torch.tensor([1, 2, 3, 4])
    for checkpoint in (loaded, from_zip):
        assert checkpoint.family == "diffusion" and checkpoint.model.config == config
        with torch.no_grad():
            assert torch.equal(checkpoint.model(x, t), model.eval()(x, t))


# -- the trainer -----------------------------------------------------------------------------------------------------


class _Digits:
    """A tiny labelled image source in [-1, 1] (what ImageSource("signed") gives), drawn with the caller's generator."""

    def __init__(self, n: int = 64) -> None:
        g = torch.Generator().manual_seed(42)
        self.images = torch.rand(n, 1, 28, 28, generator=g) * 2 - 1
        self.labels = torch.arange(n) % 10
        self.poison_from: int | None = None  # draw NaN images from this batch on
        self.draws = 0

    def batch_with_labels(self, size, generator):
        index = torch.randint(len(self.images), (size,), generator=generator)
        self.draws += 1
        images = self.images[index]
        if self.poison_from is not None and self.draws > self.poison_from:
            images = images * float("nan")
        return images, self.labels[index]

    def batch(self, size, generator):
        return self.batch_with_labels(size, generator)[0]


def _trainer(config=SMALL_UNET, **train) -> DiffusionTrainer:
    settings = dict(batch_size=8, sample_steps=5)
    settings.update(train)
    return DiffusionTrainer(build_model(config, seed=0), _Digits(), DiffusionTrainConfig(**settings))


def test_step_is_the_simple_loss_on_the_documented_draws():
    """The first step's loss, recomputed by hand from the same generator: batch, label dropout, t, ε."""
    trainer = _trainer(label_dropout=0.5)
    model = copy.deepcopy(trainer.model)
    rng = torch.Generator().manual_seed(0)
    x0, y = trainer.source.batch_with_labels(8, rng)
    trainer.source.draws = 0
    y = torch.where(torch.rand(8, generator=rng) < 0.5, 10, y)
    t = torch.randint(1, 101, (8,), generator=rng)
    noise = torch.randn(x0.shape, generator=rng)
    a = trainer.schedule.alpha_bars[t].float().view(-1, 1, 1, 1)
    expected = ((model(a.sqrt() * x0 + (1 - a).sqrt() * noise, t, y) - noise) ** 2).mean()
    stats = trainer.step()
    assert math.isclose(stats.loss, expected.item(), rel_tol=1e-6)
    assert stats.step == trainer.iteration == 1 and stats.grad_norm > 0 and len(stats.loss_by_t) == T_BUCKETS


def test_loss_by_t_buckets():
    per_sample = torch.tensor([1.0, 2.0, 3.0, 5.0])
    t = torch.tensor([1, 25, 26, 100])  # T = 100: buckets 1-25, 26-50, 51-75, 76-100
    means = _loss_by_t(per_sample, t, 100)
    assert means[0] == 1.5 and means[1] == 3.0 and math.isnan(means[2]) and means[3] == 5.0


def test_label_dropout_sends_the_null_label():
    trainer = _trainer(label_dropout=0.5, batch_size=256)
    seen = []
    forward = trainer.model.forward
    trainer.model.forward = lambda x, t, y=None: seen.append(y) or forward(x, t, y)
    trainer.step()
    share = (seen[0] == trainer.model.null_label).float().mean().item()
    assert 0.35 < share < 0.65


def test_same_seed_same_numbers_and_samples():
    runs = []
    for _ in range(2):
        trainer = _trainer(eta=0.5)
        stats = [trainer.step() for _ in range(3)]
        runs.append(([(s.loss, s.loss_by_t, s.grad_norm) for s in stats], trainer.sample(),
                     torch.cat([p.flatten() for p in trainer.model.parameters()])))
    assert repr(runs[0][0]) == repr(runs[1][0])  # repr: NaN (an empty t bucket) equals itself there
    assert torch.equal(runs[0][1], runs[1][1]) and torch.equal(runs[0][2], runs[1][2])
    other = _trainer(seed=1)
    assert other.step().loss != runs[0][0][0][0]


def test_sample_uses_the_ema_weights_and_touches_no_training_state():
    trainer = _trainer(ema=0.9, sampler="ddpm")
    for _ in range(3):
        trainer.step()
    rng_state = trainer.rng.get_state()
    weights = [p.detach().clone() for p in trainer.model.parameters()]
    first, second = trainer.sample(), trainer.sample()
    assert first.shape == (60, 1, 28, 28) and first.abs().max() <= 1.0  # images in [-1, 1]
    assert torch.equal(first, second)  # the sampler's noise starts from the same state every call
    assert torch.equal(trainer.rng.get_state(), rng_state)
    assert all(torch.equal(p, w) for p, w in zip(trainer.model.parameters(), weights))
    assert trainer.model.training
    ema = generate(trainer.ema_model, trainer.fixed_noise, trainer.fixed_labels, sampler="ddpm", steps=5,
                   guidance=2.0, generator=trainer.sampling_generator())
    assert torch.equal(first, ema)
    assert not torch.equal(first, generate(trainer.model, trainer.fixed_noise, trainer.fixed_labels, sampler="ddpm",
                                           steps=5, guidance=2.0, generator=trainer.sampling_generator()))
    assert trainer.fixed_labels.tolist() == [d for d in range(10) for _ in range(6)]  # the grid: a row per digit


def test_divergence_rolls_back():
    """A NaN batch: TrainingDiverged, and the weights and step count of the last confirmed snapshot (step 2: the
    snapshot of step 4 is still unconfirmed when step 5's loss is NaN)."""
    trainer = _trainer(ema=0.9)
    trainer.guard.every = 2
    for _ in range(2):
        trainer.step()
    good = [p.detach().clone() for p in trainer.model.parameters()]
    good_ema = [p.detach().clone() for p in trainer.ema_model.parameters()]
    for _ in range(2):
        trainer.step()
    trainer.source.poison_from = trainer.source.draws
    with pytest.raises(TrainingDiverged) as error:
        trainer.step()
    assert error.value.restored_step == 2 and trainer.iteration == 2
    assert all(torch.equal(p, w) for p, w in zip(trainer.model.parameters(), good))
    assert all(torch.equal(p, w) for p, w in zip(trainer.ema_model.parameters(), good_ema))


def test_toy_denoiser_learns_2d_points():
    source = PointSource(torch.randn(512, 2) * 0.3 + torch.tensor([1.5, -1.0]))
    trainer = DiffusionTrainer(build_model(ToyDenoiserConfig(width=64), seed=0), source,
                               DiffusionTrainConfig(batch_size=128, optim=OptimizerConfig(lr=3e-3, beta1=0.9),
                                                    ema=0.9, sample_steps=20))
    losses = [trainer.step().loss for _ in range(300)]
    assert sum(losses[-50:]) < 0.7 * sum(losses[:50])
    points = trainer.sample()
    assert points.shape == (64, 2)
    assert (points.mean(0) - torch.tensor([1.5, -1.0])).abs().max() < 0.3


def test_bad_trainer_settings_raise_config_error():
    for settings in (dict(batch_size=1), dict(label_dropout=1.0), dict(ema=1.0), dict(clip_grad_norm=float("nan")),
                     dict(sampler="euler"), dict(sample_steps=0), dict(sample_steps=101), dict(eta=-0.1),
                     dict(guidance=float("inf")), dict(schedule_steps=-1), dict(optim=OptimizerConfig(lr=0.0))):
        with pytest.raises(ConfigError):
            _trainer(**settings)
    trainer = _trainer()
    for options in (dict(steps=0), dict(steps=10**5), dict(guidance=float("nan")), dict(guidance=1e9),
                    dict(sampler="plms"), dict(eta=3.0), dict(labels=torch.full((64,), 11))):
        with pytest.raises(ConfigError):
            trainer.sample(**options)
    with pytest.raises(ConfigError):  # a conditional model needs labelled data
        DiffusionTrainer(build_model(SMALL_UNET), PointSource(torch.randn(8, 2)))
    with pytest.raises(ConfigError):
        trainer.update_config(DiffusionTrainConfig(sample_steps=500))


def test_cli_train_sample_evaluate(tmp_path, capsys):
    """The dry run saves the EMA denoiser; sample writes a PNG; evaluate --json reports the metrics with the sampler,
    its step count and the seconds per 64 samples; a NaN guidance is a one-line error. In-process (main(argv)):
    a subprocess per command would spend most of the test importing torch."""
    import json

    from aigc_core.cli import main

    out = tmp_path / "ddpm"
    assert main(["train", "--model", "diffusion_live", "--seed", "3", "--out", str(out), "--dry-run",
                 "--threads", "1"]) == 0
    checkpoint = load_checkpoint(out)
    assert checkpoint.family == "diffusion" and checkpoint.provenance["steps"] == 3
    assert main(["sample", str(out), "--out", str(tmp_path / "grid.png"), "--n", "4", "--sample-steps", "3"]) == 0
    assert (tmp_path / "grid.png").read_bytes().startswith(b"\x89PNG")
    capsys.readouterr()
    assert main(["evaluate", str(out), "--json", "--samples", "20", "--sample-steps", "3", "--sampler", "ddpm"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["sampler"] == "ddpm" and result["steps"] == 3 and result["samples"] == 20
    assert sum(result["class_counts"]) == 20 and result["seconds_per_64"] > 0
    assert {"classifier_score", "fid", "guidance"} <= set(result)
    assert "conditional_accuracy" in result and result["unconditional"] is False
    # --unconditional: the null label ∅ for every sample, so nothing to be accurate about and no guidance.
    assert main(["evaluate", str(out), "--json", "--samples", "20", "--sample-steps", "3", "--unconditional"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["unconditional"] is True and result["guidance"] == 0.0 and "conditional_accuracy" not in result
    assert sum(result["class_counts"]) == 20
    assert main(["evaluate", str(out), "--json", "--samples", "20", "--guidance", "nan"]) == 2
    assert "guidance" in capsys.readouterr().err
