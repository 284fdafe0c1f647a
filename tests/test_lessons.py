"""Each lesson of the failure gallery shows its effect, checked numerically with small step counts (seeded)."""

import math

import pytest
import torch

from aigc_core import lessons
from aigc_core.errors import ConfigError
from aigc_core.evaluation import PRETRAINED_DIR
from aigc_core.models.gan import ARTICLE_GAN, GAN
from aigc_core.slicing import run_slice


pytestmark = pytest.mark.usefixtures("one_thread")


def test_generator_gradient_norm_leaves_the_state_alone():
    gan = GAN(ARTICLE_GAN, seed=0)
    z = gan.sample_noise(32, torch.Generator().manual_seed(0))
    before = [p.detach().clone() for p in gan.parameters()]
    a = lessons.generator_gradient_norm(gan, "non_saturating", z)
    assert a > 0 and a == lessons.generator_gradient_norm(gan, "non_saturating", z)
    assert all(p.grad is None for p in gan.parameters())
    assert all(torch.equal(p, q) for p, q in zip(before, gan.parameters()))


def test_normalized_entropy():
    assert lessons.normalized_entropy([5] * 10) == pytest.approx(1.0)
    assert lessons.normalized_entropy([0, 0, 7] + [0] * 7) == 0.0
    assert 0 < lessons.normalized_entropy([1, 1] + [0] * 8) < 1


def test_vanishing_gradient_saturating_loss_starves_the_generator():
    lesson = lessons.make_lesson("vanishing_gradient", quick=True).run_to_end()
    out = lesson.outcome()
    assert out["d_fake_start"] < 0.02  # D rejects the fakes confidently: the saturated regime
    # Same networks, same noise: the saturating loss gives a gradient >= 10x smaller (about 300x here).
    assert out["grad_norm_non_saturating"] > 10 * out["grad_norm_minimax"]
    # Trained on with SGD, the minimax generator stays stuck while the non-saturating one escapes.
    assert out["d_fake_minimax"] < 0.01 and out["d_fake_non_saturating"] > 0.2
    assert out["shown"]
    assert {"start", "minimax", "non_saturating"} <= set(lesson.samples)


def test_strong_discriminator_wins_outright():
    out = lessons.make_lesson("strong_discriminator", quick=True).run_to_end().outcome()
    assert out["d_fake_strong"] < 0.1 < 0.25 < out["d_fake_balanced"]
    assert out["d_loss_strong"] < out["d_loss_balanced"]
    assert out["g_loss_strong"] > 2 * out["g_loss_balanced"]
    assert out["shown"]


def test_divergence_is_caught_and_weights_restored():
    lesson = lessons.make_lesson("divergence", quick=True)
    records = run_slice(lesson, seconds=60, max_steps=10_000)  # the page's own path; stops when done
    assert lesson.done and records
    out = lesson.outcome()
    assert out["diverged_at"] is not None and out["diverged_at"] < 300
    assert "diverged" in out["message"] and out["weights_finite_after"]
    assert out["max_abs_loss_before"] > 1e6  # the losses exploded before they overflowed
    # Adam at the same learning rate stays finite but G is dead (saturated tanh, gradient exactly 0, D(G(z)) = 0)
    # while its loss sits in the thousands: a guard that looks for NaN/inf cannot see this.
    assert out["adam_finite"] and out["adam_grad_norm_g"] == 0.0
    assert out["adam_d_fake"] < 1e-3 and out["adam_g_loss"] > 1e3
    assert out["shown"]


def test_vae_beta_blur_then_posterior_collapse():
    out = lessons.make_lesson("vae_beta", quick=True).run_to_end().outcome()
    per = out["per_beta"]
    kls = [per[b]["kl"] for b in ("0.1", "1", "8", "40")]
    assert kls == sorted(kls, reverse=True)
    assert per["40"]["kl"] < 0.1 and per["40"]["active"] == 0  # collapse: the code carries nothing
    assert per["40"]["spread"] < 0.25 * per["1"]["spread"]  # every reconstruction is the same picture
    assert per["1"]["active"] >= 3 and per["8"]["spread"] < per["1"]["spread"]  # larger beta: blurrier
    assert out["shown"]


@pytest.mark.skipif(not (PRETRAINED_DIR / "gan_mlp" / "config.json").is_file()
                    or not (PRETRAINED_DIR / "classifier" / "config.json").is_file(),
                    reason="needs pretrained/gan_mlp and pretrained/classifier")
def test_mode_collapse_when_g_trains_alone():
    from aigc_core.checkpoints import load_checkpoint

    gan = load_checkpoint(PRETRAINED_DIR / "gan_mlp").model
    before = [p.detach().clone() for p in gan.parameters()]
    classifier = load_checkpoint(PRETRAINED_DIR / "classifier").model
    lesson = lessons.make_lesson("mode_collapse", quick=True, gan=gan, classifier=classifier).run_to_end()
    out = lesson.outcome()
    assert out["classes_before"] >= 8 and out["entropy_before"] > 0.8  # a healthy GAN to start from
    assert out["entropy_after"] < 0.6 * out["entropy_before"]
    assert out["top_share_after"] > 2 * out["top_share_before"]
    assert out["shown"]
    assert all(torch.equal(p, q) for p, q in zip(before, gan.parameters()))  # the given model is untouched


def test_article_bug_numbers():
    numbers = lessons.article_bug_numbers()
    assert numbers["fake_negative_share"] > 0.99 and numbers["real_nonnegative_share"] == 1.0
    assert numbers["g_grad_norm_detached"] == 0.0 < numbers["g_grad_norm_in_graph"]
    assert numbers["sigmoid_bce_grad"] == 0.0 and numbers["logit_bce_grad"] == pytest.approx(-1.0, abs=1e-6)
    assert (numbers["dense_unflattened_weights"], numbers["dense_flattened_weights"]) == (256, 100_480)
    assert numbers["loop_updates_as_written"] == 3200 and numbers["loop_updates_intended"] == 50 * 938
    assert numbers["loop_epochs_as_written"] == pytest.approx(3200 * 64 / 60_000)


def test_article_gan_trains_with_its_bugs_fixed():
    lesson = lessons.make_lesson("article_gan", quick=True)
    assert lesson.trainer.model.config == ARTICLE_GAN
    lesson.run_to_end()
    out = lesson.outcome()
    assert 0.05 < out["d_fake"] < 0.95 and out["d_real"] < 0.999  # neither side has won
    assert out["shown"]
    assert [step for step, _ in lesson.snapshots] == [0, 400, 800, 1200]
    assert out["brightness_end"] < out["brightness_start"] - 0.05  # from mid-grey noise towards black background
    first, last = lesson.snapshots[0][1], lesson.snapshots[-1][1]
    assert float((first - last).abs().mean()) > 0.05  # the samples changed
    assert all(math.isfinite(r["g_loss"]) for r in lesson.records if "g_loss" in r)


def test_lessons_report_progress_and_refuse_unknown_keys():
    lesson = lessons.make_lesson("divergence", quick=True)
    assert lesson.progress == 0 and not lesson.done and lesson.remaining > 0
    lesson.step()
    assert 0 < lesson.progress < 1
    with pytest.raises(ConfigError):
        lessons.make_lesson("nope")
    with pytest.raises(ConfigError):
        lessons.make_lesson("mode_collapse")  # needs a GAN and the classifier
    with pytest.raises(ConfigError):
        lessons.VAEBeta(betas=(4.0, 1.0))
