"""Diffusion (DDPM / DDIM): the schedules, forward process and samplers against diffusers' schedulers (a test-only
reference, requirements-dev.txt) and against closed forms; bad input. Denoisers and the trainer: test_diffusion_models.py."""

import math

import pytest
import torch

from aigc_core import diffusion as dm
from aigc_core.errors import ConfigError

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
