"""Diffusion (DDPM / DDIM): the schedules, forward process and samplers against diffusers' schedulers (a test-only
reference, requirements-dev.txt) and against closed forms; the denoisers; the trainer; checkpoints; bad input."""

import copy
import math

import pytest
import torch

from aigc_core import diffusion as dm
from aigc_core.checkpoints import checkpoint_zip, load_checkpoint, load_checkpoint_zip, save_checkpoint
from aigc_core.diffusion_trainer import (
    T_BUCKETS, DiffusionTrainConfig, DiffusionTrainer, _loss_by_t, generate,
)
from aigc_core.errors import ConfigError, TrainingDiverged
from aigc_core.models.registry import architecture_of, build_model
from aigc_core.models.unet import ToyDenoiser, ToyDenoiserConfig, UNet, UNetConfig, sinusoidal_embedding
from aigc_core.optim import OptimizerConfig
from aigc_core.toy2d import PointSource

import diffusers  # test-only reference (requirements-dev.txt)

T = 1000
TOL = dict(rtol=1e-5, atol=1e-5)
DIFFUSERS_BETAS = {"linear": "linear", "cosine": "squaredcos_cap_v2"}


def _reference(kind: str, cls=None, prediction: str = "epsilon", T: int = T, exact: bool = False):  # noqa: N803
    """diffusers' scheduler for the same process. With `exact` it holds our float64 β, α, ᾱ: diffusers keeps them in
    float32, where 1 - ᾱ_t/ᾱ_{t-1} loses three digits at small t, so a step test would measure float32 rounding
    rather than the step's formula (the schedules themselves are compared in float32 on their own)."""
    cls = cls or diffusers.DDPMScheduler
    scale = 1000 / T  # our linear β ends are given for T = 1000 and scaled for other T; diffusers takes them as given
    reference = cls(num_train_timesteps=T, beta_schedule=DIFFUSERS_BETAS[kind], beta_start=1e-4 * scale,
                    beta_end=0.02 * scale,
                    clip_sample=False, prediction_type="v_prediction" if prediction == "v" else "epsilon")
    if exact:
        ours = dm.make_schedule(kind, T)
        reference.betas, reference.alphas, reference.alphas_cumprod = ours.betas[1:], ours.alphas[1:], ours.alpha_bars[1:]
        reference.one = torch.tensor(1.0, dtype=torch.float64)
        if hasattr(reference, "final_alpha_cumprod"):
            reference.final_alpha_cumprod = torch.tensor(1.0, dtype=torch.float64)
    return reference


# -- schedules and the forward process -------------------------------------------------------------------------


@pytest.mark.parametrize("kind", dm.SCHEDULES)
def test_schedule_matches_diffusers(kind):
    schedule = dm.make_schedule(kind, T)
    reference = _reference(kind)
    # diffusers' timestep s is our t = s + 1; our index 0 is the data itself.
    torch.testing.assert_close(schedule.betas[1:].float(), reference.betas, **TOL)
    torch.testing.assert_close(schedule.alpha_bars[1:].float(), reference.alphas_cumprod, **TOL)
    assert schedule.betas[0] == 0 and schedule.alpha_bars[0] == 1 and schedule.T == T


@pytest.mark.parametrize("kind", dm.SCHEDULES)
def test_closed_forms(kind):
    """ᾱ_t is ∏(1 - β_s) and strictly decreasing, the SNR falls with t, and x_t keeps unit variance."""
    schedule = dm.make_schedule(kind, T)
    a = schedule.alpha_bars
    assert torch.all(a[1:] < a[:-1]) and 0 < a[-1] < 1e-3
    torch.testing.assert_close(a, torch.cumprod(1 - schedule.betas, 0))
    snr = schedule.snr(torch.arange(1, T + 1))
    assert torch.all(snr[1:] < snr[:-1])
    torch.testing.assert_close(snr, a[1:] / (1 - a[1:]))
    if kind == "linear":  # Ho et al.: β_1 = 1e-4, β_T = 0.02
        assert math.isclose(schedule.betas[1].item(), 1e-4) and math.isclose(schedule.betas[-1].item(), 0.02)
    else:  # Nichol & Dhariwal, eq. 17, before the cap bites at the very end
        t = torch.arange(0, 901, dtype=torch.float64)
        f = torch.cos((t / T + 0.008) / 1.008 * math.pi / 2) ** 2
        torch.testing.assert_close(a[:901], f / f[0])
    # Variance preserving: Var(x_t) = ᾱ_t Var(x_0) + (1 - ᾱ_t) = 1 for unit-variance data, and the mean shrinks by √ᾱ_t.
    g = torch.Generator().manual_seed(0)
    x0 = torch.randn(200_000, generator=g, dtype=torch.float64) + 0.5  # mean 0.5, variance 1
    for t in (1, 250, 500, 999):
        x_t = dm.q_sample(schedule, x0, t, torch.randn(x0.shape, generator=g, dtype=torch.float64))
        assert abs(x_t.var().item() - (a[t] * 1 + 1 - a[t]).item()) < 0.01
        assert abs(x_t.mean().item() - 0.5 * a[t].sqrt().item()) < 0.01


@pytest.mark.parametrize("kind", dm.SCHEDULES)
def test_add_noise_matches_diffusers(kind):
    schedule, reference = dm.make_schedule(kind, T), _reference(kind)
    g = torch.Generator().manual_seed(1)
    x0, noise = torch.randn(8, 1, 28, 28, generator=g), torch.randn(8, 1, 28, 28, generator=g)
    t = torch.tensor([1, 2, 10, 100, 500, 900, 999, 1000])
    torch.testing.assert_close(dm.q_sample(schedule, x0, t, noise), reference.add_noise(x0, noise, t - 1), **TOL)
    # v target: diffusers' get_velocity
    torch.testing.assert_close(dm.v_target(schedule, x0, t, noise), reference.get_velocity(x0, noise, t - 1), **TOL)
    # an int t means the same timestep for the whole batch
    torch.testing.assert_close(dm.q_sample(schedule, x0, 500, noise), dm.q_sample(schedule, x0, torch.full((8,), 500), noise))
    assert torch.equal(dm.q_sample(schedule, x0, 0, noise), x0)  # t = 0 is the data


@pytest.mark.parametrize("prediction", dm.PREDICTIONS)
def test_predicted_x0_inverts_the_forward_process(prediction):
    schedule = dm.make_schedule("cosine", T)
    g = torch.Generator().manual_seed(2)
    x0, noise = torch.randn(4, 2, generator=g, dtype=torch.float64), torch.randn(4, 2, generator=g, dtype=torch.float64)
    t = torch.tensor([1, 300, 700, 1000])
    x_t = dm.q_sample(schedule, x0, t, noise)
    target = dm.training_target(schedule, prediction, x0, t, noise)
    x0_hat, eps_hat = dm.predict_x0_eps(schedule, prediction, x_t, t, target)
    torch.testing.assert_close(eps_hat, noise)
    torch.testing.assert_close(x0_hat, x0, rtol=1e-6, atol=1e-4)  # /√ᾱ_T amplifies rounding at t = T


def test_simple_loss():
    output, target = torch.tensor([[1.0, 2.0], [0.0, 0.0]]), torch.tensor([[0.0, 0.0], [0.0, 3.0]])
    torch.testing.assert_close(dm.simple_loss_per_sample(output, target), torch.tensor([2.5, 4.5]))
    torch.testing.assert_close(dm.simple_loss(output, target), torch.nn.functional.mse_loss(output, target))


# -- one reverse step -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", dm.SCHEDULES)
@pytest.mark.parametrize("prediction", dm.PREDICTIONS)
@pytest.mark.parametrize("t", [1000, 500, 2])
def test_ddpm_step_matches_diffusers(kind, prediction, t):
    schedule, reference = dm.make_schedule(kind, T), _reference(kind, prediction=prediction, exact=True)
    g = torch.Generator().manual_seed(3)
    x_t, output = (torch.randn(4, 1, 28, 28, generator=g, dtype=torch.float64) for _ in range(2))
    ours = dm.ddpm_step(schedule, output, t, x_t, prediction=prediction, generator=torch.Generator().manual_seed(7))
    theirs = reference.step(output, t - 1, x_t, generator=torch.Generator().manual_seed(7))
    torch.testing.assert_close(ours.x_prev, theirs.prev_sample, **TOL)
    torch.testing.assert_close(ours.x0_hat, theirs.pred_original_sample, **TOL)


@pytest.mark.parametrize("kind", dm.SCHEDULES)
def test_strided_ddpm_step_matches_diffusers(kind):
    """With fewer steps than T, diffusers' DDPM uses β = 1 - ᾱ_t/ᾱ_s between the visited timesteps, as we do."""
    schedule, reference = dm.make_schedule(kind, T), _reference(kind, exact=True)
    reference.set_timesteps(50)  # a step of 20
    g = torch.Generator().manual_seed(4)
    x_t, output = (torch.randn(4, 3, generator=g, dtype=torch.float64) for _ in range(2))
    ours = dm.ddpm_step(schedule, output, 501, x_t, t_prev=481, generator=torch.Generator().manual_seed(8))
    theirs = reference.step(output, 500, x_t, generator=torch.Generator().manual_seed(8))
    torch.testing.assert_close(ours.x_prev, theirs.prev_sample, **TOL)


@pytest.mark.parametrize("kind", dm.SCHEDULES)
@pytest.mark.parametrize("prediction", dm.PREDICTIONS)
@pytest.mark.parametrize("eta", [0.0, 0.5, 1.0])
@pytest.mark.parametrize("t, gap", [(1000, 40), (521, 20), (40, 40)])
def test_ddim_step_matches_diffusers(kind, prediction, eta, t, gap):
    schedule, reference = dm.make_schedule(kind, T), _reference(kind, diffusers.DDIMScheduler, prediction, exact=True)
    reference.set_timesteps(T // gap)  # diffusers' DDIM steps from s to s - T // n
    g = torch.Generator().manual_seed(5)
    x_t, output, noise = (torch.randn(4, 1, 28, 28, generator=g, dtype=torch.float64) for _ in range(3))
    ours = dm.ddim_step(schedule, output, t, x_t, t_prev=t - gap, eta=eta, prediction=prediction, noise=noise)
    theirs = reference.step(output, t - 1, x_t, eta=eta, variance_noise=noise)
    torch.testing.assert_close(ours.x_prev, theirs.prev_sample, **TOL)


def test_ddim_with_eta_one_is_the_ddpm_step():
    """Song et al.: η = 1 gives σ² = β̃, and then the DDIM update is the ancestral DDPM posterior sample."""
    schedule = dm.make_schedule("linear", T)
    g = torch.Generator().manual_seed(6)
    x_t, output, noise = (torch.randn(5, 7, generator=g, dtype=torch.float64) for _ in range(3))
    for t, t_prev in ((1000, 960), (300, 299), (50, 1)):
        ddim = dm.ddim_step(schedule, output, t, x_t, t_prev=t_prev, eta=1.0, noise=noise)
        ddpm = dm.ddpm_step(schedule, output, t, x_t, t_prev=t_prev, noise=noise)
        torch.testing.assert_close(ddim.x_prev, ddpm.x_prev)


def test_last_step_returns_x0_hat():
    schedule = dm.make_schedule("cosine", T)
    x_t, output = torch.randn(3, 4), torch.randn(3, 4)
    ddim = dm.ddim_step(schedule, output, 40, x_t, t_prev=0, eta=1.0, generator=torch.Generator())
    ddpm = dm.ddpm_step(schedule, output, 40, x_t, t_prev=0, generator=torch.Generator())
    torch.testing.assert_close(ddim.x_prev, ddim.x0_hat)
    torch.testing.assert_close(ddpm.x_prev, ddpm.x0_hat)
    clipped = dm.ddim_step(schedule, output * 50, 40, x_t, t_prev=0, clip_denoised=True)
    assert clipped.x_prev.abs().max() <= 1.0


# -- full samplers ---------------------------------------------------------------------------------------------------


class _Toy(torch.nn.Module):
    """A fixed smooth 'denoiser' of (x_t, t, y), so whole sampling loops can be compared with diffusers'."""

    def forward(self, x: torch.Tensor, t: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        shift = 0.0 if y is None else 0.1 * y.float().view(-1, *([1] * (x.dim() - 1)))
        return 0.3 * x + torch.sin(t.float() / 100).view(-1, *([1] * (x.dim() - 1))) + shift


def test_timesteps_are_diffusers_trailing_spacing():
    for steps in (1, 7, 25, 50, 333, 1000):
        reference = diffusers.DDIMScheduler(num_train_timesteps=T, timestep_spacing="trailing")
        reference.set_timesteps(steps)
        sequence = dm.timesteps(dm.make_schedule("linear", T), steps)
        assert sequence[:-1] == (reference.timesteps + 1).tolist() and sequence[-1] == 0
        assert all(a > b for a, b in zip(sequence, sequence[1:]))


@pytest.mark.parametrize("kind", dm.SCHEDULES)
def test_ddim_sampling_loop_matches_diffusers(kind):
    schedule = dm.make_schedule(kind, T)
    reference = _reference(kind, diffusers.DDIMScheduler, exact=True)
    reference.register_to_config(timestep_spacing="trailing")
    reference.set_timesteps(25)
    model = _Toy()
    x_T = torch.randn(6, 2, generator=torch.Generator().manual_seed(9), dtype=torch.float64)  # noqa: N806
    x = x_T
    for s in reference.timesteps:
        x = reference.step(model(x, torch.full((6,), int(s) + 1)), s, x, eta=0.0).prev_sample
    ours = dm.sample(model, schedule, x_T, sampler="ddim", steps=25)
    torch.testing.assert_close(ours, x, **TOL)


def test_ddpm_sampling_loop_matches_diffusers():
    schedule = dm.make_schedule("linear", 50)
    reference = _reference("linear", T=50, exact=True)
    model = _Toy()
    x_T = torch.randn(6, 3, generator=torch.Generator().manual_seed(10), dtype=torch.float64)  # noqa: N806
    g = torch.Generator().manual_seed(11)
    x = x_T
    for s in reference.timesteps:
        x = reference.step(model(x, torch.full((6,), int(s) + 1)), s, x, generator=g).prev_sample
    ours = dm.sample(model, schedule, x_T, sampler="ddpm", steps=50, generator=torch.Generator().manual_seed(11))
    torch.testing.assert_close(ours, x, **TOL)


class _Recorder(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.batches: list[int] = []

    def forward(self, x: torch.Tensor, t: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        self.batches.append(len(x))
        return _Toy()(x, t, y)


def test_guidance_is_one_batched_call_and_follows_ho_and_salimans():
    model, schedule = _Recorder(), dm.make_schedule("linear", T)
    x = torch.randn(4, 5, generator=torch.Generator().manual_seed(12))
    t, y = torch.full((4,), 700), torch.tensor([1, 2, 3, 4])
    null = 10
    w = 2.5
    guided = dm.guided_output(model, x, t, y, w, null)
    assert model.batches == [8]  # conditional and unconditional passes in one call
    expected = (1 + w) * _Toy()(x, t, y) - w * _Toy()(x, t, torch.full((4,), null))
    torch.testing.assert_close(guided, expected)
    torch.testing.assert_close(dm.guided_output(model, x, t, y, 0.0, null), _Toy()(x, t, y))  # w = 0: conditional
    model.batches.clear()
    dm.sample(model, schedule, x, steps=5, y=y, guidance=w, null_label=null)
    assert model.batches == [8] * 5


def test_sample_steps_yields_every_step_outside_inference_mode():
    schedule, model = dm.make_schedule("cosine", T), _Toy()
    x_T = torch.randn(2, 3, generator=torch.Generator().manual_seed(13))  # noqa: N806
    states = []
    for state in dm.sample_steps(model, schedule, x_T, steps=4, sampler="ddim"):
        assert not torch.is_inference_mode_enabled()
        states.append(state)
    assert [(s.index, s.t, s.t_prev) for s in states] == [(1, 1000, 750), (2, 750, 500), (3, 500, 250), (4, 250, 0)]
    torch.testing.assert_close(states[-1].step.x_prev, dm.sample(model, schedule, x_T, steps=4))


def test_same_generator_same_samples():
    schedule, model = dm.make_schedule("linear", T), _Toy()
    x_T = torch.randn(3, 4, generator=torch.Generator().manual_seed(14))  # noqa: N806
    runs = [dm.sample(model, schedule, x_T, sampler=s, steps=10, eta=0.7, generator=torch.Generator().manual_seed(15))
            for s in ("ddim", "ddim", "ddpm", "ddpm")]
    assert torch.equal(runs[0], runs[1]) and torch.equal(runs[2], runs[3]) and not torch.equal(runs[0], runs[2])


# -- bad input ----------------------------------------------------------------------------------------------------------


def test_bad_input_raises_config_error():
    schedule, model = dm.make_schedule("linear", 100), _Toy()
    x = torch.zeros(2, 3)
    bad = [
        lambda: dm.make_schedule("quadratic", 100),
        lambda: dm.make_schedule("linear", 0),
        lambda: dm.make_schedule("linear", 10**6),
        lambda: dm.q_sample(schedule, x, 101, x),
        lambda: dm.q_sample(schedule, x, -1, x),
        lambda: dm.q_sample(schedule, x, torch.tensor([5, 101]), x),
        lambda: dm.q_sample(schedule, x, torch.tensor([0.5, 1.0]), x),
        lambda: dm.ddpm_step(schedule, x, 10, x, t_prev=10),
        lambda: dm.ddim_step(schedule, x, 101, x, t_prev=50),
        lambda: dm.ddim_step(schedule, x, 10, x, t_prev=5, eta=float("nan")),
        lambda: dm.ddim_step(schedule, x, 10, x, t_prev=5, eta=2.0),
        lambda: dm.ddim_step(schedule, x, 10, x, t_prev=5, noise=torch.zeros(3, 3), eta=1.0),
        lambda: dm.sample(model, schedule, x, steps=0),
        lambda: dm.sample(model, schedule, x, steps=101),
        lambda: dm.sample(model, schedule, x, steps=2.5),
        lambda: dm.sample(model, schedule, x, sampler="euler"),
        lambda: dm.sample(model, schedule, x, prediction="x0"),
        lambda: dm.sample(model, schedule, x, y=torch.tensor([1, 2]), guidance=float("nan")),
        lambda: dm.sample(model, schedule, x, y=torch.tensor([1, 2]), guidance=1e6),
        lambda: dm.sample(model, schedule, x, y=torch.tensor([1, 2]), guidance=-1.0),
        lambda: dm.sample(model, schedule, x, guidance=3.0),  # guidance without labels
        lambda: dm.sample(model, schedule, x, y=torch.tensor([1, 2, 3])),
    ]
    for i, call in enumerate(bad):
        with pytest.raises(ConfigError):
            call()
            pytest.fail(f"case {i} did not raise")


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
    assert first.shape == (64, 1, 28, 28) and first.abs().max() <= 1.0  # images in [-1, 1]
    assert torch.equal(first, second)  # the sampler's noise starts from the same state every call
    assert torch.equal(trainer.rng.get_state(), rng_state)
    assert all(torch.equal(p, w) for p, w in zip(trainer.model.parameters(), weights))
    assert trainer.model.training
    ema = generate(trainer.ema_model, trainer.fixed_noise, trainer.fixed_labels, sampler="ddpm", steps=5,
                   guidance=2.0, generator=trainer.sampling_generator())
    assert torch.equal(first, ema)
    assert not torch.equal(first, generate(trainer.model, trainer.fixed_noise, trainer.fixed_labels, sampler="ddpm",
                                           steps=5, guidance=2.0, generator=trainer.sampling_generator()))
    assert trainer.fixed_labels[:12].tolist() == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]


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
    assert main(["evaluate", str(out), "--json", "--samples", "20", "--guidance", "nan"]) == 2
    assert "guidance" in capsys.readouterr().err


def test_predict_is_the_first_step_of_the_sampler():
    schedule, model = dm.make_schedule("linear", T), _Toy()
    x = torch.randn(3, 4, generator=torch.Generator().manual_seed(16))
    y = torch.tensor([0, 1, 2])
    x0_hat, eps_hat = dm.predict(model, schedule, x, 1000, y=y, guidance=1.5, null_label=10, clip_denoised=True)
    first = next(dm.sample_steps(model, schedule, x, steps=4, y=y, guidance=1.5, null_label=10, clip_denoised=True))
    torch.testing.assert_close(x0_hat, first.step.x0_hat)
    torch.testing.assert_close(eps_hat, first.step.eps_hat)
    assert torch.equal(dm.predict(model, schedule, x, 0)[0], x)  # t = 0 is the data
    with pytest.raises(ConfigError):
        dm.predict(model, schedule, x, 1001)
