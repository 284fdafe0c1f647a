"""The diffusion lessons (aigc_core/lessons/diffusion.py) in quick mode: each runs to its end, the same seed gives the
same numbers, and every number its outcome reports is recomputed here, independently, from the samples it kept.
What a full run gave is in the lessons' texts (locales/*/lessons.toml) and the commit that added them."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from aigc_core import lessons, metrics, seeds, toy2d
from aigc_core.diffusion_trainer import generate
from aigc_core.errors import ConfigError, DataError
from aigc_core.lessons import diffusion as dl
from aigc_core.playground.views import PLANE_BOUNDS

pytestmark = pytest.mark.usefixtures("one_thread")

KEYS = ("diffusion_steps", "diffusion_guidance", "diffusion_schedule")
CENTERS = np.array([[2 * math.cos(k * math.pi / 4), 2 * math.sin(k * math.pi / 4)] for k in range(8)])


@pytest.fixture(scope="module")
def finished() -> dict[str, lessons.Lesson]:
    """Each quick lesson run once to its end (the lessons pin one thread themselves)."""
    return {key: lessons.make_lesson(key, quick=True).run_to_end() for key in KEYS}


def _distances(points: torch.Tensor) -> np.ndarray:
    """(N, 8) distances to the ring's centres, in NumPy, apart from the lesson's torch.cdist."""
    x = points.double().numpy()
    return np.hypot(x[:, None, 0] - CENTERS[None, :, 0], x[:, None, 1] - CENTERS[None, :, 1])


def _ring_numbers(points: torch.Tensor, real: torch.Tensor) -> dict[str, float]:
    kl, js = metrics.grid_kl_js(real, points, PLANE_BOUNDS)
    d = _distances(points)
    near = d.min(axis=1)
    counts = np.bincount(d.argmin(axis=1)[near <= 0.24], minlength=8)
    modes = int((counts >= max(1, math.ceil(0.01 * len(points)))).sum())
    return {"kl": kl, "js": js, "modes": modes, "distance": float(near.mean())}


@pytest.mark.parametrize("key", KEYS)
def test_each_lesson_runs_to_done_with_its_samples(finished, key):
    lesson = finished[key]
    assert lesson.done and lesson.progress == 1.0 and lesson.remaining == 0
    assert 0 < lesson.units <= lesson.total
    assert lesson.records and all(math.isfinite(r["loss"]) for r in lesson.records)
    assert "data" in lesson.points and len(lesson.points) >= 3
    assert all(torch.isfinite(p).all() and p.shape[1] == 2 for p in lesson.points.values())
    assert isinstance(lesson.outcome()["shown"], bool)


@pytest.mark.parametrize("key", KEYS)
def test_same_seed_same_numbers(finished, key):
    again = lessons.make_lesson(key, quick=True).run_to_end()
    assert again.outcome() == finished[key].outcome()
    assert all(torch.equal(again.points[name], finished[key].points[name]) for name in finished[key].points)


def test_sampling_steps_numbers_are_measured(finished):
    lesson = finished["diffusion_steps"]
    out = lesson.outcome()
    real = lesson.points["data"]
    for arm in lesson.ARMS:
        recomputed = _ring_numbers(lesson.points[arm], real)
        assert {k: out["per_arm"][arm][k] for k in recomputed} == pytest.approx(recomputed)
    assert out["data_distance"] == pytest.approx(_distances(real).min(axis=1).mean())
    assert out["shown"] == (out["per_arm"]["ddim_few"]["kl"] <= dl.CLEAR * out["per_arm"]["ddpm_few"]["kl"])
    # The chunked sampling is the library's sampler itself: the same x_T and noise stream through generate().
    model = lesson.trainer.sampling_model()
    for arm, (sampler, steps) in lesson.settings.items():
        expected = generate(model, lesson.x_T, sampler=sampler, steps=steps,
                            generator=seeds.generator(lesson.seed, "lesson_sampler"))
        assert torch.equal(lesson.points[arm], expected), arm
    assert lesson.settings["reference"] == ("ddpm", 200)


def test_guidance_fidelity_and_spread_are_measured(finished):
    lesson = finished["diffusion_guidance"]
    out = lesson.outcome()
    labels = lesson.labels.numpy()
    assert np.bincount(labels).tolist() == [len(labels) // 8] * 8  # every class asked for equally often

    def spread(x: np.ndarray, y: np.ndarray) -> float:
        return float(np.mean([np.sqrt(((x[y == c] - x[y == c].mean(axis=0)) ** 2).sum(axis=1).mean())
                              for c in np.unique(y)]))

    for w in lesson.weights:
        x = lesson.points[lesson.arm(w)]
        numbers = out["per_w"][f"{w:g}"]
        assert numbers["fidelity"] == pytest.approx(float((_distances(x).argmin(axis=1) == labels).mean()))
        assert numbers["spread"] == pytest.approx(spread(x.double().numpy(), labels))
    data, data_labels = lesson.points["data"], lesson.source.labels.numpy()
    assert out["data_fidelity"] == pytest.approx(float((_distances(data).argmin(axis=1) == data_labels).mean()))
    assert out["data_spread"] == pytest.approx(spread(data.double().numpy(), data_labels))
    first, last = out["per_w"]["0"], out["per_w"][f"{lesson.weights[-1]:g}"]
    assert out["shown"] == (last["fidelity"] > first["fidelity"] and last["spread"] < first["spread"])


def _reference_alpha_bars(kind: str, T: int) -> np.ndarray:  # noqa: N803
    """ᾱ_0 … ᾱ_T from the papers' formulas in NumPy: Ho et al.'s linear β scaled by 1000/T; Nichol & Dhariwal's
    cosine ᾱ with s = 0.008 and β capped at 0.999."""
    if kind == "linear":
        betas = np.linspace(1e-4 * 1000 / T, 0.02 * 1000 / T, T)
    else:
        f = np.cos((np.arange(T + 1) / T + 0.008) / 1.008 * np.pi / 2) ** 2
        betas = np.minimum(1 - f[1:] / f[:-1], 0.999)
    return np.concatenate([[1.0], np.cumprod(1 - betas)])


def test_schedule_curves_and_numbers(finished):
    lesson = finished["diffusion_schedule"]
    out = lesson.outcome()
    T = out["T"]  # noqa: N806
    assert T == 50 and out["half"] == 25
    for kind in lesson.ARMS:
        reference = _reference_alpha_bars(kind, T)
        assert np.allclose(out[f"alpha_bars_{kind}"], reference, rtol=1e-9, atol=1e-12)
        assert out[f"destroyed_{kind}"] == int(np.argmax(reference < 0.05))
        assert np.allclose(out[f"log10_snr_{kind}"][1:], np.log10(reference[1:] / (1 - reference[1:])))
        recomputed = _ring_numbers(lesson.points[kind], lesson.points["data"])
        assert {k: out[f"{k}_{kind}"] for k in recomputed} == pytest.approx(recomputed)
    # At T = 50 the linear schedule has destroyed much more of the signal halfway through, and gets there earlier.
    assert out["alpha_bar_half_linear"] < 0.2 < 0.4 < out["alpha_bar_half_cosine"]
    assert out["destroyed_linear"] < out["destroyed_cosine"]
    assert out["shown"] == (out["kl_cosine"] < out["kl_linear"])
    # Both arms started from the same weights: the schedule is the only difference.
    linear, cosine = (lesson.trainers[k].model for k in lesson.ARMS)
    assert linear.config.schedule == "linear" and cosine.config.schedule == "cosine"


def test_schedule_curves_are_there_before_training():
    lesson = lessons.make_lesson("diffusion_schedule", quick=True)
    assert lesson.units == 0 and lesson.numbers["destroyed_linear"] < lesson.numbers["destroyed_cosine"]
    first = [p.detach().clone() for p in lesson.trainers["linear"].model.parameters()]
    assert all(torch.equal(a, b) for a, b in zip(first, lesson.trainers["cosine"].model.parameters()))


def test_a_different_seed_gives_other_samples(finished):
    other = lessons.make_lesson("diffusion_steps", quick=True, seed=1, train_steps=20).run_to_end()
    assert not torch.equal(other.points["ddim_few"], finished["diffusion_steps"].points["ddim_few"])


def test_labelled_ring_and_its_source():
    points, labels = toy2d.labelled_ring(2000, torch.Generator().manual_seed(0))
    assert points.shape == (2000, 2) and labels.dtype == torch.int64
    assert torch.equal(dl.nearest_mode(points), labels)  # the built-in width (0.08): no point leaves its mode
    source = toy2d.LabelledPointSource(points, labels)
    x, y = source.batch_with_labels(64, torch.Generator().manual_seed(1))
    assert x.shape == (64, 2) and torch.equal(dl.nearest_mode(x), y)
    with pytest.raises(DataError):
        toy2d.LabelledPointSource(points, labels[:-1])
    with pytest.raises(DataError):
        toy2d.LabelledPointSource(points, labels.float())
    with pytest.raises(ConfigError):
        toy2d.labelled_ring(10, torch.Generator(), std=-1.0)


def test_bad_guidance_weights_are_refused():
    with pytest.raises(ConfigError):
        lessons.make_lesson("diffusion_guidance", weights=(3.0, 1.0))
    with pytest.raises(ConfigError):
        lessons.make_lesson("diffusion_guidance", weights=(0.0, 50.0))
    with pytest.raises(ConfigError):
        lessons.make_lesson("diffusion_steps", few=0)


@pytest.mark.usefixtures("whole_app")
@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_page_runs_each_diffusion_lesson_to_its_verdict(key, lang):
    """The drawings after the last slice (planes, tables, number charts) and the verdict, in both languages."""
    from apptest_app import app_test

    from ui.lessons.run import QUICK, STATE

    at = app_test(lang=lang)
    at.session_state[QUICK] = True
    at.run()
    at.switch_page("pages/lessons.py").run()
    at.button_group(key="lessons_pick").set_value(key).run()
    at.button(key="lessons_run_btn").click().run()
    state = at.session_state[STATE]
    for _ in range(200):
        if state.lesson.done:
            break
        at.run()
    assert not at.exception, at.exception
    assert state.lesson.done and not state.running
    boxes = [box.value for box in (at.success if state.lesson.outcome()["shown"] else at.warning)]
    assert boxes and any(ch.isdigit() for ch in boxes[0]) and "⟦" not in boxes[0]
    assert len(at.get("vega_lite_chart")) >= 3  # the loss, a plane per arm, the numbers
    assert all("⟦" not in str(e.value) for kind in ("caption", "markdown", "header") for e in getattr(at, kind))
