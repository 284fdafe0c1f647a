"""The denoising explorer's core (aigc_core/denoise_explorer.py) on a tiny seeded U-Net: shapes, same seed same
pictures, the trajectory against generate() and against the sampler's own steps, SNR against the schedule's ᾱ, the
forward process against its closed form, slerp's endpoints and norm, the classifier's numbers, and bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from aigc_core import denoise_explorer as de
from aigc_core import diffusion as dm
from aigc_core.diffusion_trainer import generate
from aigc_core.errors import ConfigError
from aigc_core.models.classifier import Classifier
from aigc_core.models.unet import UNet, UNetConfig

pytestmark = pytest.mark.usefixtures("one_thread")

T = 40  # a short process keeps a 40-step trajectory fast; the code paths are those of T = 1000


@pytest.fixture(scope="module")
def model() -> UNet:
    net = UNet(UNetConfig(channels=(8, 16), time_dim=16, groups=4, num_classes=10, timesteps=T), seed=3)
    return net.eval()


@pytest.fixture(scope="module")
def unconditional() -> UNet:
    return UNet(UNetConfig(channels=(8,), time_dim=16, groups=4, num_classes=0, timesteps=T), seed=4).eval()


@pytest.mark.parametrize("sampler", dm.SAMPLERS)
def test_trajectory_shapes_and_its_last_x_is_generates_output(model, sampler):
    x_T = de.seeded_noise(model, 5)
    path = de.trajectory(model, x_T, label=7, sampler=sampler, steps=10, guidance=1.5,
                         generator=torch.Generator().manual_seed(9))
    assert path.t == tuple(dm.timesteps(dm.schedule_for(model.config), 10)) and path.t[0] == T and path.t[-1] == 0
    for tensor in (path.x, path.x0_hat, path.eps_hat):
        assert tensor.shape == (11, 1, 28, 28) and tensor.dtype == torch.float32
    assert torch.equal(path.x[0], x_T[0])
    expected = generate(model, x_T, torch.tensor([7]), sampler=sampler, steps=10, guidance=1.5,
                        generator=torch.Generator().manual_seed(9))
    assert torch.equal(path.x[-1:], expected)  # the same noise, options and generator: bit for bit
    assert torch.equal(path.x0_hat[-1], path.x[-1]) and not path.eps_hat[-1].any()  # t = 0: nothing left to remove
    assert path.guidance == 1.5 and path.label == 7 and path.seconds > 0


def test_trajectory_keeps_each_steps_prediction(model):
    """x̂_0 and ε̂ at index i are the sampler's own at t[i], and ε̂ at T is what predict() says about x_T."""
    x_T = de.seeded_noise(model, 1)
    path = de.trajectory(model, x_T, label=3, steps=5, guidance=0.0)
    states = list(dm.sample_steps(model, dm.schedule_for(model.config), x_T, steps=5, y=torch.tensor([3]),
                                  null_label=model.null_label, clip_denoised=True))
    for i, state in enumerate(states):
        assert state.t == path.t[i]
        assert torch.equal(path.x0_hat[i], state.step.x0_hat[0]) and torch.equal(path.eps_hat[i], state.step.eps_hat[0])
        assert torch.equal(path.x[i + 1], state.step.x_prev[0])
    x0_hat, eps_hat = de.denoise_once(model, x_T, T, label=3)
    torch.testing.assert_close(x0_hat[0], path.x0_hat[0])
    torch.testing.assert_close(eps_hat[0], path.eps_hat[0])


def test_same_seed_same_trajectory_and_a_new_seed_differs(model):
    def run(seed: int, sampler: str = "ddpm"):
        return de.trajectory(model, de.seeded_noise(model, seed), label=1, sampler=sampler, steps=8,
                             generator=torch.Generator().manual_seed(seed))

    a, b, c = run(2), run(2), run(3)
    assert torch.equal(a.x, b.x) and torch.equal(a.eps_hat, b.eps_hat)
    assert not torch.equal(a.x[-1], c.x[-1])
    assert torch.equal(de.seeded_noise(model, 2), de.seeded_noise(model, 2))


def test_an_unconditional_run_ignores_guidance(unconditional):
    x_T = de.seeded_noise(unconditional, 0)
    path = de.trajectory(unconditional, x_T, steps=4, guidance=3.0)
    assert path.guidance == 0.0
    assert torch.equal(path.x[-1:], generate(unconditional, x_T, steps=4))
    with pytest.raises(ConfigError, match="unconditional"):
        de.trajectory(unconditional, x_T, label=2, steps=4)


def test_snr_is_alpha_bar_over_one_minus_alpha_bar():
    schedule = dm.make_schedule("cosine", 1000)
    t, snr = de.snr_curve(schedule)
    a = schedule.alpha_bars.numpy()
    assert t[0] == 1 and t[-1] == 1000 and len(snr) == 1000
    np.testing.assert_allclose(snr, a[1:] / (1 - a[1:]), rtol=1e-12)
    assert np.all(np.diff(snr) < 0)  # every step adds noise
    x0 = torch.zeros(1, 1, 28, 28)
    for step in (1, 250, 500, 999):
        noised = de.forward_noise(schedule, x0, step, torch.zeros_like(x0))
        assert noised.snr == pytest.approx(float(a[step] / (1 - a[step])), rel=1e-12)
        assert noised.snr == pytest.approx(noised.signal**2 / noised.noise**2, rel=1e-9)
        assert noised.signal**2 + noised.noise**2 == pytest.approx(1.0)
    assert math.isinf(de.forward_noise(schedule, x0, 0, torch.zeros_like(x0)).snr)


def test_forward_noise_is_the_closed_form():
    schedule = dm.make_schedule("linear", 100)
    generator = torch.Generator().manual_seed(0)
    x0 = torch.rand(2, 1, 28, 28, generator=generator) * 2 - 1
    eps = torch.randn(x0.shape, generator=generator)
    noised = de.forward_noise(schedule, x0, 60, eps)
    a = float(schedule.alpha_bars[60])
    torch.testing.assert_close(noised.x_t, math.sqrt(a) * x0 + math.sqrt(1 - a) * eps)
    assert torch.equal(de.forward_noise(schedule, x0, 0, eps).x_t, x0)  # t = 0 is the data
    for bad in (-1, 101, 2.5):
        with pytest.raises(ConfigError):
            de.forward_noise(schedule, x0, bad, eps)


def test_slerp_path_ends_on_both_noises_and_keeps_their_norm(model):
    x_a, x_b = de.seeded_noise(model, 1), de.seeded_noise(model, 2)
    path = de.noise_path(x_a, x_b, 9)
    assert path.shape == (9, 1, 28, 28)
    assert torch.equal(path[0], x_a[0]) and torch.equal(path[-1], x_b[0])
    norms = path.flatten(1).norm(dim=1)
    lerp_norms = de.noise_path(x_a, x_b, 9, "lerp").flatten(1).norm(dim=1)
    # Two independent 784-d Gaussians are nearly orthogonal: slerp stays near √784 = 28, lerp sags to ≈ 28/√2.
    assert float(norms.min()) > 0.95 * min(float(x_a.norm()), float(x_b.norm()))
    assert float(lerp_norms[4]) < 0.8 * float(norms[4])
    decoded = de.decode_noises(model, path[[0, -1]], label=4, steps=5, guidance=1.0)
    assert decoded.shape == (2, 1, 28, 28) and 0 <= float(decoded.min()) and float(decoded.max()) <= 1
    alone = de.decode_noises(model, x_a, label=4, steps=5, guidance=1.0)
    # Deterministic: the endpoint decodes to x_a's own picture (up to batch-size-dependent float rounding).
    torch.testing.assert_close(decoded[:1], alone, rtol=0, atol=1e-3)
    for bad in (1, de.MAX_FRAMES + 1):
        with pytest.raises(ConfigError):
            de.noise_path(x_a, x_b, bad)
    with pytest.raises(ConfigError):
        de.noise_path(x_a, x_b, 5, "cubic")  # type: ignore[arg-type]


def test_sampler_run_times_and_scores_against_the_classifier(model):
    classifier = Classifier(seed=0).eval()
    run = de.sampler_run(model, classifier, sampler="ddim", steps=4, label=6, guidance=1.0, samples=5, seed=11)
    assert run.images.shape == (5, 1, 28, 28) and run.seconds > 0 and run.network_calls == 4
    from aigc_core.evaluation import (
        classify,  # the reference: the same classifier, called directly
    )

    probs, _ = classify(classifier, run.images)
    assert run.confidence == pytest.approx(float(probs[:, 6].mean()))
    assert run.hits == pytest.approx(float((probs.argmax(1) == 6).float().mean()))
    again = de.sampler_run(model, classifier, sampler="ddim", steps=4, label=6, guidance=1.0, samples=5, seed=11)
    assert torch.equal(run.images, again.images)
    free = de.sampler_run(model, classifier, sampler="ddpm", steps=3, samples=3, seed=0)
    assert free.label is None and math.isnan(free.hits) and free.guidance == 0.0
    assert free.confidence == pytest.approx(float(classify(classifier, free.images)[0].max(1).values.mean()))
    bare = de.sampler_run(model, None, steps=2, samples=2)
    assert math.isnan(bare.confidence)


@pytest.mark.parametrize("kwargs", [
    dict(steps=0), dict(steps=T + 1), dict(steps=2.5), dict(guidance=float("nan")), dict(guidance=1e9),
    dict(guidance=-1.0), dict(label=10), dict(label=-1), dict(sampler="euler"), dict(eta=2.0),
])
def test_bad_settings_raise_config_error(model, kwargs):
    with pytest.raises(ConfigError):
        de.trajectory(model, de.seeded_noise(model, 0), **{"label": 1, **kwargs})


def test_bad_run_sizes_and_seeds(model):
    with pytest.raises(ConfigError):
        de.sampler_run(model, None, samples=0)
    with pytest.raises(ConfigError):
        de.sampler_run(model, None, samples=de.MAX_SAMPLES + 1)
    with pytest.raises(ConfigError):
        de.seeded_noise(model, -1)
    with pytest.raises(ConfigError):
        de.trajectory(model, de.seeded_noise(model, 0, n=2))  # one sample at a time


def test_step_choices_are_bounded_by_T():
    assert de.step_choices(1000) == [1, 2, 5, 10, 20, 25, 50, 100, 200, 500, 1000]
    assert de.step_choices(40) == [1, 2, 5, 10, 20, 25, 40]
    assert de.step_choices(1) == [1]
    assert de.noise_to_unit(torch.tensor([-3.0, 0.0, 3.0, 9.0])).tolist() == [0.0, 0.5, 1.0, 1.0]
