"""The "Does it copy?" tab and the memorization lesson under AppTest: a shipped model's samples beside their nearest
training digits with the reading computed from the numbers, the session's own model offered, a clear message when
there is no model, and the lesson run to its verdict at quick sizes."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from streamlit.testing.v1 import AppTest

from aigc_core import copying
from aigc_core.factory import build_trainer
from aigc_core.mnist import load_mnist, to_tensor
from aigc_core.models.vae import VAEMLPConfig
from aigc_core.neighbours import NeighbourIndex
from aigc_core.vae_trainer import VAETrainConfig
from ui.risks import copying as tab

PAGE = str(Path(__file__).resolve().parents[1] / "pages" / "risks.py")
pytestmark = pytest.mark.usefixtures("one_thread")


def _page(state: dict | None = None) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=300)
    for key, value in (state or {}).items():
        at.session_state[key] = value
    at.run()
    assert not at.exception, at.exception
    return at


def _check(at: AppTest, source: str, features: bool = False) -> AppTest:
    at.selectbox(key="copy_source").set_value(source)
    at.button_group(key="copy_samples").set_value(16)
    at.toggle(key="copy_features").set_value(features)
    at.button(key="copy_run").click().run()
    assert not at.exception, at.exception
    return at


def _copy_texts(at: AppTest) -> str:
    return "\n".join(str(e.value) for kind in ("subheader", "markdown", "caption", "info", "error")
                     for e in getattr(at, kind))


@pytest.fixture
def small_feature_index(monkeypatch):
    """The feature index over the first 3,000 training digits (positions stay training positions): the real one
    classifies all 60,000, minutes on a busy 2-core machine."""
    def small(classifier):
        return NeighbourIndex(copying.features(classifier, to_tensor(load_mnist("train").images[:3000], "unit")))
    monkeypatch.setattr(copying, "feature_index", small)
    tab.feature_space.clear()
    yield
    tab.feature_space.clear()


@pytest.mark.skipif("gan_mlp" not in tab.latent_sources.image_model_names(), reason="needs the shipped GAN")
def test_a_shipped_model_is_checked_in_pixel_and_feature_space(small_feature_index):
    at = _page()
    assert any("Press **Find the nearest training digits**" in i.value for i in at.info)
    _check(at, "latent|pretrained:gan_mlp", features=True)
    text = _copy_texts(at)
    assert "Pretrained: gan_mlp: 16 samples, seed 0" in text
    result = at.session_state[tab.RESULT]
    for space in (result.check.pixel, result.check.feature):  # the sentence carries the measured ratio
        assert f"{space.report.median_ratio:.2f}×" in text
    assert "Signs of copying" in text or "No sign of copying" in text or "Not copies" in text
    rows = [img.caption for image in at.image for img in image.proto.imgs if img.caption.startswith("pixel:")]
    assert len(rows) == tab.SHOWN and all("feature:" in row for row in rows)  # the closest, beside neighbours
    assert len(at.get("arrow_vega_lite_chart")) + len(at.get("vega_lite_chart")) >= 2  # a histogram per space


def test_the_session_model_from_the_train_page_is_offered():
    trainer = build_trainer(VAEMLPConfig(z_dim=3, hidden=(16,)), VAETrainConfig(batch_size=8))
    trainer.step()
    at = _page({"train_run": SimpleNamespace(trainer=trainer, settings=SimpleNamespace(preset="vae_mlp_z2"))})
    assert "Your model from the Train page" in at.selectbox(key="copy_source").options
    _check(at, "latent|session")
    text = _copy_texts(at)
    assert "Your model from the Train page: 16 samples" in text
    assert "Pixel space only" in text
    # An untrained VAE draws grey blurs: farther from every training digit than fresh digits, and said so.
    assert "Not copies" in text


def test_without_any_model_the_tab_says_so(monkeypatch):
    monkeypatch.setattr(tab.latent_sources, "available_pretrained", lambda: [])
    monkeypatch.setattr(tab.denoise_sources, "available_pretrained", lambda: [])
    monkeypatch.delenv(tab.denoise_sources.FOLDER_ENV, raising=False)
    at = _page()
    assert any("No model to check" in i.value for i in at.info)
    assert all(b.key != "copy_run" for b in at.button)  # nothing to press


@pytest.mark.usefixtures("whole_app")
def test_the_memorization_lesson_runs_to_its_verdict_on_the_lessons_page():
    from apptest_app import app_test
    from ui.lessons.run import QUICK, STATE

    at = app_test()
    at.session_state[QUICK] = True  # the tests' small sizes
    at.run()
    at.switch_page("pages/lessons.py").run()
    at.button_group(key="lessons_pick").set_value("memorization").run()
    at.button(key="lessons_run_btn").click().run()
    state = at.session_state[STATE]
    for _ in range(400):  # slices of 0.5 s; the first builds the 60,000-digit index
        if state.lesson.done:
            break
        at.run()
    assert not at.exception, at.exception
    numbers = state.lesson.outcome()
    verdict = [box.value for box in (*at.success, *at.warning) if "the 100-digit run's samples sit at" in box.value]
    assert len(verdict) == 1 and f"{numbers['ratio_small']:.2f}×" in verdict[0]
    assert f"{numbers['ratio_control']:.2f}×" in verdict[0]
    captions = [img.caption for image in at.image for img in image.proto.imgs]
    assert any(c.startswith("Trained on 100 digits") for c in captions)
    assert any(c.startswith("Trained on 60,000 digits") for c in captions)
    assert len(at.get("arrow_vega_lite_chart")) + len(at.get("vega_lite_chart")) >= 2
