"""Trainers: determinism, which weights each update touches, k D-steps, in-place config updates, EMA, R1, time
slices and sampling. Small models, batches and step counts. Bad configs and divergence: test_trainer_safety.py."""

import dataclasses
import math

import pytest
import torch

from aigc_core import losses
from aigc_core.classifier_trainer import ClassifierTrainConfig
from aigc_core.errors import TrainingDiverged
from aigc_core.factory import build_trainer
from aigc_core.gan_trainer import FIXED_NOISE_SIZE, GANTrainConfig
from aigc_core.models.gan import ARTICLE_GAN
from aigc_core.models.vae import VAEConvConfig
from aigc_core.optim import OptimizerConfig, clip_and_measure
from aigc_core.slicing import run_slice
from aigc_core.vae_trainer import VAETrainConfig
from trainer_support import (
    SMALL_CLASSIFIER, SMALL_DCGAN, SMALL_DEEP_DCGAN, SMALL_MBSTD_DCGAN, SMALL_MLP_GAN, SMALL_VAE, NaNAfter,
    finite, gan_trainer, no_seconds, params, same, state,
)

pytestmark = pytest.mark.usefixtures("one_thread")


# --- determinism ------------------------------------------------------------------------------------------

GAN_CASES = {
    "article-ns": (ARTICLE_GAN, {}),
    "mlp-bn-smoothing-ema-k2": (SMALL_MLP_GAN, {"label_smoothing": 0.1, "ema": 0.9, "d_steps": 2}),
    "dcgan-wgan-gp": (SMALL_DCGAN, {"loss": "wgan_gp"}),  # the penalty draws α from the trainer's generator
    "dcgan-mbstd-lazy-r1": (SMALL_MBSTD_DCGAN, {"r1_gamma": 1.0, "r1_every": 2}),
    "article-wgan-clip": (ARTICLE_GAN, {"loss": "wgan", "d_optim": OptimizerConfig(kind="rmsprop", lr=5e-5, beta1=0.0)}),
}


@pytest.mark.parametrize(("model_config", "overrides"), GAN_CASES.values(), ids=GAN_CASES.keys())
def test_gan_same_seed_same_stats(signed, model_config, overrides):
    runs = []
    for _ in range(2):
        trainer = gan_trainer(signed, model_config, seed=3, **overrides)
        runs.append(([no_seconds(trainer.step()) for _ in range(4)], state(trainer.model), trainer.sample()))
    assert runs[0][0] == runs[1][0]
    assert same(runs[0][1], runs[1][1])
    assert torch.equal(runs[0][2], runs[1][2])
    other = gan_trainer(signed, model_config, seed=4, **overrides)
    assert [no_seconds(other.step()) for _ in range(4)] != runs[0][0]
    assert all(math.isfinite(v) for v in runs[0][0][-1].values() if isinstance(v, float))


def test_vae_same_seed_same_stats(unit):
    def run(seed: int) -> list[dict]:
        trainer = build_trainer(SMALL_VAE, VAETrainConfig(batch_size=16, seed=seed, schedule_steps=10), source=unit)
        return [no_seconds(trainer.step()) for _ in range(5)]

    first = run(1)
    assert first == run(1) and first != run(2)
    assert [r["step"] for r in first] == [1, 2, 3, 4, 5]
    for r in first:
        assert r["loss"] == pytest.approx(r["recon"] + r["kl"], rel=1e-5)  # β = 1


def test_classifier_same_seed_same_stats(unit):
    def run(seed: int) -> list[dict]:
        trainer = build_trainer(SMALL_CLASSIFIER, ClassifierTrainConfig(batch_size=16, seed=seed), source=unit)
        return [no_seconds(trainer.step()) for _ in range(4)]

    first = run(1)
    assert first == run(1) and first != run(2)
    assert all(0 <= r["accuracy"] <= 1 for r in first)


def test_training_does_not_touch_the_global_rng(signed):
    # (building a model does draw from it: nn.Linear's default init runs before init_weights redraws every weight)
    trainer = gan_trainer(signed, SMALL_MLP_GAN, ema=0.9, loss="wgan_gp")
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    trainer.step()
    trainer.sample()
    assert torch.equal(torch.rand(3), expected)


# --- which weights each update touches --------------------------------------------------------------------


@pytest.mark.parametrize("model_config", [ARTICLE_GAN, SMALL_MLP_GAN, SMALL_DCGAN, SMALL_MBSTD_DCGAN],
                         ids=["article", "mlp-bn", "dcgan", "dcgan-deep-mbstd"])
@pytest.mark.parametrize("loss", ["non_saturating", "wgan_gp"])
def test_step_d_and_step_g_update_only_their_network(signed, model_config, loss):
    trainer = gan_trainer(signed, model_config, loss=loss)
    g0, d0 = params(trainer.model.generator), params(trainer.model.discriminator)
    stats = trainer.step_d()
    g1, d1 = params(trainer.model.generator), params(trainer.model.discriminator)
    assert same(g0, g1), "step_d changed G's weights"
    changed = [k for k in d0 if not torch.equal(d0[k], d1[k])]
    # every D weight moves, except the last bias under WGAN-GP: E D(G(z)) - E D(x) does not depend on it
    assert changed == [k for k in d0 if not (loss == "wgan_gp" and k == list(d0)[-1])], "step_d left D unchanged"
    assert stats.phase == "d" and stats.d_updates == 1 and stats.step == 0 and trainer.iteration == 0
    stats = trainer.step_g()
    g2, d2 = params(trainer.model.generator), params(trainer.model.discriminator)
    assert same(d1, d2), "step_g changed D's weights"
    assert all(not torch.equal(g1[k], g2[k]) for k in g1), "step_g left some of G's weights unchanged"
    assert stats.phase == "g" and stats.step == 1 and trainer.iteration == 1
    assert all(p.requires_grad for p in trainer.model.parameters())  # D is unfrozen again after G's update


def test_k_d_steps_per_g_step(signed):
    trainer = gan_trainer(signed, d_steps=3)
    d_before = params(trainer.model.discriminator)
    for i in range(1, 3):
        stats = trainer.step()
        assert stats.phase == "both" and stats.step == i and stats.d_updates == 3 * i
    assert trainer.iteration == 2 and trainer.d_updates == 6
    assert not same(d_before, params(trainer.model.discriminator))
    # the Adam step counter of D's optimizer saw 6 updates, G's 2
    d_state = next(iter(trainer.optimizers["d"].state.values()))
    g_state = next(iter(trainer.optimizers["g"].state.values()))
    assert int(d_state["step"]) == 6 and int(g_state["step"]) == 2


def test_step_stats_fields(signed):
    trainer = gan_trainer(signed)
    stats = trainer.step()
    assert 0 < stats.d_real < 1 and 0 < stats.d_fake < 1  # probabilities for the logit losses
    assert stats.grad_norm_d > 0 and stats.grad_norm_g > 0 and stats.seconds > 0
    assert trainer.last is stats


# --- WGAN with weight clipping (Arjovsky et al., 2017) ------------------------------------------------------

WGAN_PAPER_CRITIC = OptimizerConfig(kind="rmsprop", lr=5e-5, beta1=0.0)  # the paper's critic optimizer


def _largest(module: torch.nn.Module) -> float:
    return max(float(p.detach().abs().max()) for p in module.parameters())


def test_wgan_clips_every_critic_weight_to_c_and_only_the_critics(signed):
    c = 0.01
    trainer = gan_trainer(signed, loss="wgan", weight_clip=c, d_optim=WGAN_PAPER_CRITIC)
    critic, generator = trainer.model.discriminator, trainer.model.generator
    assert _largest(critic) > 2 * c  # the init is wider than c: the clip has work to do
    for _ in range(3):
        trainer.step()
        assert _largest(critic) <= c
    weights = torch.cat([p.detach().flatten() for p in critic.parameters()])
    assert float((weights.abs() == c).float().mean()) > 0.1  # many weights sit on the bound: clipped, not merely small
    assert _largest(generator) > 2 * c  # G is never clipped
    penalised = gan_trainer(signed, loss="wgan_gp", weight_clip=c)  # WGAN-GP replaces clipping with its penalty
    penalised.step()
    assert _largest(penalised.model.discriminator) > 2 * c


def test_wgan_critic_steps_widen_the_gap_between_real_and_generated(signed):
    """The critic maximises E D(x) - E D(G(z)): on a fixed real batch and fixed samples of a generator that critic
    steps never move, the gap grows with every pair of critic steps."""
    trainer = gan_trainer(signed, loss="wgan", seed=0, d_optim=WGAN_PAPER_CRITIC)
    critic, generator = trainer.model.discriminator, trainer.model.generator
    real = signed.batch(256, torch.Generator().manual_seed(0))
    g_before = params(generator)
    with torch.no_grad():
        fake = generator(trainer.model.sample_noise(256, torch.Generator().manual_seed(1)))

    def gap() -> float:
        with torch.no_grad():
            return float(critic(real).mean() - critic(fake).mean())

    trainer.step_d()  # the first update also clips the initial weights, which rescales every score
    gaps = [gap()]
    for _ in range(5):
        trainer.step_d()
        trainer.step_d()
        gaps.append(gap())
    assert same(g_before, params(generator))
    assert all(later > earlier for earlier, later in zip(gaps, gaps[1:])), gaps
    assert gaps[-1] > 2 * gaps[0] > 0, gaps


def test_clip_and_measure_matches_torch_and_clips_to_the_limit():
    def with_grads() -> list[torch.nn.Parameter]:
        params = [torch.nn.Parameter(torch.zeros(shape)) for shape in ((30, 20), (20,), (1,))]
        for p, g in zip(params, (torch.full((30, 20), 0.5), torch.arange(20.0), torch.tensor([-3.0]))):
            p.grad = g.clone()
        return params

    expected = math.sqrt(600 * 0.25 + sum(i * i for i in range(20)) + 9)  # 50.08...
    free = with_grads()
    assert clip_and_measure(free, math.inf) == pytest.approx(expected, rel=1e-6)
    assert torch.equal(free[1].grad, torch.arange(20.0))  # without a limit the gradients are left alone
    reference = with_grads()
    assert float(torch.nn.utils.clip_grad_norm_(reference, 1.0)) == pytest.approx(expected, rel=1e-6)
    clipped = with_grads()
    assert clip_and_measure(clipped, 1.0) == pytest.approx(expected, rel=1e-6)  # the norm before clipping
    total = math.sqrt(sum(float(p.grad.pow(2).sum()) for p in clipped))
    assert total == pytest.approx(1.0, rel=1e-4)
    for mine, theirs in zip(clipped, reference):
        torch.testing.assert_close(mine.grad, theirs.grad)
    assert clip_and_measure([torch.nn.Parameter(torch.zeros(3))], 1.0) == 0.0  # no gradients yet


def test_clip_grad_norm_reports_the_norm_before_clipping(signed):
    free, clipped = gan_trainer(signed, seed=1), gan_trainer(signed, seed=1, clip_grad_norm=1e-3)
    a, b = free.step_d(), clipped.step_d()
    assert a.grad_norm_d == b.grad_norm_d > 1e-3
    assert not same(params(free.model.discriminator), params(clipped.model.discriminator))


# --- update_config ----------------------------------------------------------------------------------------


def test_update_config_changes_lr_and_betas_in_place(signed):
    trainer = gan_trainer(signed)
    trainer.step()
    optimizers = dict(trainer.optimizers)
    d_state = {k: {n: t.clone() for n, t in v.items()} for k, v in trainer.optimizers["d"].state.items()}
    new = dataclasses.replace(
        trainer.config,
        g_optim=OptimizerConfig(kind="adam", lr=1e-3, beta1=0.3, beta2=0.9),
        d_optim=OptimizerConfig(kind="adam", lr=5e-5, beta1=0.1, beta2=0.99),
        label_smoothing=0.2,
    )
    trainer.update_config(new)
    assert trainer.config == new
    for name, lr, betas in (("g", 1e-3, (0.3, 0.9)), ("d", 5e-5, (0.1, 0.99))):
        assert trainer.optimizers[name] is optimizers[name]  # same object: Adam's moments survive
        for group in trainer.optimizers[name].param_groups:
            assert group["lr"] == lr and group["betas"] == betas
    for key, values in d_state.items():
        for n, t in values.items():
            assert torch.equal(trainer.optimizers["d"].state[key][n], t)
    trainer.step()  # and it trains on


def test_update_config_changes_optimizer_kind(signed):
    trainer = gan_trainer(signed)
    trainer.step()
    new = dataclasses.replace(trainer.config, d_optim=OptimizerConfig(kind="sgd", lr=0.01, beta1=0.9))
    trainer.update_config(new)
    assert isinstance(trainer.optimizers["d"], torch.optim.SGD)
    assert trainer.optimizers["d"].param_groups[0]["momentum"] == 0.9
    assert isinstance(trainer.optimizers["g"], torch.optim.Adam)
    trainer.step()


def test_update_config_vae_sgd_momentum(unit):
    trainer = build_trainer(SMALL_VAE, VAETrainConfig(batch_size=8, optim=OptimizerConfig(kind="sgd", lr=0.01)), source=unit)
    trainer.step()
    optimizer = trainer.optimizers["vae"]
    trainer.update_config(dataclasses.replace(trainer.config, optim=OptimizerConfig(kind="sgd", lr=0.001, beta1=0.8)))
    assert trainer.optimizers["vae"] is optimizer
    assert optimizer.param_groups[0]["lr"] == 0.001 and optimizer.param_groups[0]["momentum"] == 0.8


# --- EMA, time slices, sampling ---------------------------------------------------------------------------


def test_ema_generator(signed):
    trainer = gan_trainer(signed, SMALL_MLP_GAN, ema=0.9)
    initial = params(trainer.ema_generator)
    assert same(initial, params(trainer.model.generator))
    for _ in range(3):
        trainer.step()
    ema, live = params(trainer.ema_generator), params(trainer.model.generator)
    assert not same(ema, live) and not same(ema, initial)
    assert trainer.sampling_generator() is trainer.ema_generator
    live_samples = trainer.model.generator.eval()(trainer.fixed_z).detach()
    trainer.model.generator.train()
    assert not torch.allclose(trainer.sample(), live_samples)  # samples come from the EMA generator
    plain = gan_trainer(signed, SMALL_MLP_GAN)
    assert plain.ema_generator is None and plain.sampling_generator() is plain.model.generator
    plain.update_config(dataclasses.replace(plain.config, ema=0.5))  # switching EMA on later
    assert plain.sampling_generator() is plain.ema_generator
    plain.step()
    assert not same(params(plain.ema_generator), params(plain.model.generator))


def test_ema_update_rule(signed):
    trainer = gan_trainer(signed, ema=0.75)
    before = params(trainer.ema_generator)
    trainer.step()
    live = params(trainer.model.generator)
    for name, value in params(trainer.ema_generator).items():
        torch.testing.assert_close(value, 0.75 * before[name] + 0.25 * live[name])
    assert all(p.grad_fn is None for p in trainer.ema_generator.parameters())  # no graph kept through the EMA


def test_lazy_r1_adds_its_penalty_to_every_nth_d_update(signed, monkeypatch):
    seen: list[float] = []
    real_r1 = losses.r1_penalty

    def spy(real_scores, real):
        value = real_r1(real_scores, real)
        seen.append(float(value.detach()))
        return value

    monkeypatch.setattr(losses, "r1_penalty", spy)
    plain = gan_trainer(signed, SMALL_MBSTD_DCGAN)
    with_r1 = gan_trainer(signed, SMALL_MBSTD_DCGAN, r1_gamma=2.0, r1_every=3)
    first_plain, first_r1 = plain.step_d(), with_r1.step_d()  # same seed: the same batch and the same weights so far
    assert seen and first_r1.d_loss == pytest.approx(first_plain.d_loss + 0.5 * 2.0 * 3 * seen[0], rel=1e-5)
    for _ in range(5):
        with_r1.step_d()
    assert len(seen) == 2  # D updates 0 and 3 of 0..5
    assert with_r1.d_updates == 6 and finite(with_r1.model)


def test_run_slice_respects_max_steps(signed):
    trainer = gan_trainer(signed)
    records = run_slice(trainer, seconds=60.0, max_steps=3)
    assert len(records) == 3 and [r.step for r in records] == [1, 2, 3] and trainer.iteration == 3
    records = run_slice(trainer, seconds=0.0)  # at least one step even with no time
    assert len(records) == 1 and trainer.iteration == 4
    records = run_slice(trainer, seconds=0.05, max_steps=10_000)
    assert 1 <= len(records) < 10_000


def test_run_slice_stops_within_a_step_once_paused_elsewhere(signed):
    """Another thread pausing the run (keep_going turns false) ends the slice after the step under way."""
    trainer = gan_trainer(signed)
    records = run_slice(trainer, seconds=60.0, keep_going=lambda: trainer.iteration < 3)
    assert [r.step for r in records] == [1, 2, 3]
    records = run_slice(trainer, seconds=60.0, keep_going=lambda: False)  # the step under way still lands
    assert len(records) == 1 and trainer.iteration == 4


def test_run_slice_attaches_records_to_exceptions(signed):
    trainer = build_trainer(ARTICLE_GAN, GANTrainConfig(batch_size=4), source=NaNAfter(signed, good=2))
    with pytest.raises(TrainingDiverged) as info:
        run_slice(trainer, seconds=60.0, max_steps=10)
    assert [r.step for r in info.value.records] == [1, 2]

    class Boom:
        calls = 0

        def step(self):
            Boom.calls += 1
            if Boom.calls == 3:
                raise RuntimeError("boom")
            return Boom.calls

    with pytest.raises(RuntimeError, match="boom") as info:
        run_slice(Boom(), seconds=60.0)
    assert info.value.records == [1, 2]


@pytest.mark.parametrize("model_config", [ARTICLE_GAN, SMALL_MLP_GAN, SMALL_DCGAN, SMALL_DEEP_DCGAN],
                         ids=["article", "mlp-bn", "dcgan", "dcgan-deep"])
def test_gan_sample_shape_range_and_mode(signed, model_config):
    trainer = gan_trainer(signed, model_config)
    trainer.step()
    assert trainer.fixed_z.shape == (FIXED_NOISE_SIZE, model_config.z_dim)
    out = trainer.sample()
    assert out.shape == (FIXED_NOISE_SIZE, 1, 28, 28) and out.device.type == "cpu" and out.dtype == torch.float32
    assert out.min() >= -1 and out.max() <= 1
    assert not out.requires_grad
    assert trainer.model.training and trainer.model.generator.training  # left in train mode
    assert torch.equal(trainer.sample(), out)  # no state changed (batch norm uses running stats in eval)
    z = torch.randn(5, model_config.z_dim)
    assert trainer.sample(z).shape == (5, 1, 28, 28)
    trainer.model.eval()
    trainer.sample(z)
    assert not trainer.model.generator.training  # eval stays eval
    trainer.model.train()
    before = state(trainer.model)
    trainer.sample()
    assert same(before, state(trainer.model))  # batch-norm running stats untouched


def test_vae_sample_and_reconstruct(unit):
    trainer = build_trainer(SMALL_VAE, VAETrainConfig(batch_size=8), source=unit)
    trainer.step()
    out = trainer.sample()
    assert out.shape == (FIXED_NOISE_SIZE, 1, 28, 28) and 0 <= out.min() and out.max() <= 1
    x = unit.batch(6, torch.Generator().manual_seed(0))
    x_hat = trainer.reconstruct(x)
    assert x_hat.shape == (6, 1, 28, 28) and 0 <= x_hat.min() and x_hat.max() <= 1
    assert trainer.model.training
    conv = build_trainer(VAEConvConfig(z_dim=3, width=4), VAETrainConfig(batch_size=8), source=unit)
    conv.step()
    assert conv.sample().shape == (FIXED_NOISE_SIZE, 1, 28, 28)


@pytest.mark.parametrize("batch_size", [5, 6, 8, 32])
def test_minibatch_std_never_mixes_real_and_fake(signed, batch_size):
    # Minibatch std looks across samples: D's score of a fake must not depend on the real images it was scored with.
    trainer = gan_trainer(signed, SMALL_MBSTD_DCGAN, batch_size=batch_size)
    p = trainer.begin_d()
    trainer.generate_fake(p)
    trainer.discriminate(p)
    with torch.no_grad():
        alone_fake, alone_real = trainer.model.discriminator(p.fake), trainer.model.discriminator(p.real)
    torch.testing.assert_close(p.fake_scores.detach(), alone_fake)
    torch.testing.assert_close(p.real_scores.detach(), alone_real)
    assert finite(trainer.model) and math.isfinite(trainer.step().d_loss)
