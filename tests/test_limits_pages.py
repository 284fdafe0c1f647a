"""The Train page under the server's per-session caps (ui/server/limits.py), with AppTest: each cap gives a clear message
and the page keeps working; an idle session's model is released and the student is told why."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import ui.train.live  # noqa: F401  (imported up front so the first AppTest run does not pay for imports)
from ui.server import limits

TRAIN = str(Path(__file__).resolve().parents[1] / "pages" / "train.py")


@pytest.fixture(autouse=True)
def fresh_registry(monkeypatch):
    """Each test gets its own registry: AppTest sessions of other tests must not count as training here."""
    monkeypatch.setattr(limits, "REGISTRY", limits.SessionRegistry())
    for name in ("AIGC_MAX_BATCH", "AIGC_MAX_PARAMS", "AIGC_MAX_TRAININGS", "AIGC_IDLE_MINUTES"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module", autouse=True)
def _warm_up() -> None:
    AppTest.from_file(TRAIN, default_timeout=600).run()


def _open() -> AppTest:
    at = AppTest.from_file(TRAIN, default_timeout=120)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _texts(at: AppTest) -> str:
    return "\n".join(str(e.value) for kind in ("error", "warning", "info") for e in getattr(at, kind))


def test_batch_cap_refuses_with_a_message_then_a_smaller_batch_builds(monkeypatch):
    monkeypatch.setenv("AIGC_MAX_BATCH", "32")
    at = _open()  # the preset's batch is 64
    assert "Batch size 64 is above this server's limit of 32" in _texts(at)
    assert "train_run" not in at.session_state
    at.select_slider(key="train_gan_batch").set_value(32).run()
    assert not at.exception
    assert at.session_state["train_run"].trainer.config.batch_size == 32


def test_batch_cap_also_applies_to_a_change_in_place(monkeypatch):
    at = _open()
    run = at.session_state["train_run"]
    at.button(key="train_btn_step_g").click().run()
    monkeypatch.setenv("AIGC_MAX_BATCH", "64")
    at.select_slider(key="train_gan_batch").set_value(128).run()
    assert not at.exception
    assert "Batch size 128 is above this server's limit of 64" in _texts(at)
    assert at.session_state["train_run"] is run and run.trainer.config.batch_size == 64  # unchanged, still there


def test_model_size_cap(monkeypatch):
    monkeypatch.setenv("AIGC_MAX_PARAMS", "100000")
    at = _open()
    assert "parameters, above this server's limit of 100,000" in _texts(at)
    assert not at.exception


def test_concurrent_trainings_cap_and_its_release(monkeypatch):
    monkeypatch.setenv("AIGC_MAX_TRAININGS", "1")
    first, second = _open(), _open()
    first.button(key="train_btn_start").click().run()
    assert first.session_state["train_run"].running
    second.button(key="train_btn_start").click().run()
    assert not second.exception
    assert "at its limit of 1 trainings running at once" in _texts(second)
    assert not second.session_state["train_run"].running
    first.button(key="train_btn_start").click().run()  # Pause frees the place
    assert not first.session_state["train_run"].running
    second.button(key="train_btn_start").click().run()
    assert second.session_state["train_run"].running and "at its limit" not in _texts(second)


def test_an_idle_session_releases_its_model_and_is_told(monkeypatch, clock):
    monkeypatch.setattr(limits, "REGISTRY", limits.SessionRegistry(clock))
    monkeypatch.setenv("AIGC_IDLE_MINUTES", "10")
    idle, active = _open(), _open()
    idle.button(key="train_btn_step_g").click().run()
    assert idle.session_state["train_run"].trainer.iteration == 1
    clock.now += 5 * 60
    active.run()
    assert idle.session_state["train_run"].trainer.iteration == 1  # 5 minutes idle: kept
    clock.now += 6 * 60
    active.run()  # any session's run releases the models of sessions idle for longer than the limit
    assert "train_run" not in idle.session_state
    idle.run()
    assert not idle.exception
    assert "released after 10 minutes without activity" in _texts(idle)
    assert idle.session_state["train_run"].trainer.iteration == 0  # a fresh model, and the page works
    assert "train_run" in active.session_state


# --- caps on uploaded checkpoints (issue: caps on every path) --------------------------------------------------


def _checkpoint(name: str, batch_size: int) -> bytes:
    """A shipped model as the Train page's download would give it, saved with `batch_size`."""
    from dataclasses import asdict

    from aigc_core.checkpoints import checkpoint_zip, load_checkpoint
    from aigc_core.evaluation import PRETRAINED_DIR
    from aigc_core.presets import get_preset

    model = load_checkpoint(PRETRAINED_DIR / name).model
    return checkpoint_zip(model, train_config=asdict(get_preset(name).train_config) | {"batch_size": batch_size})


def _upload(at: AppTest, data: bytes) -> AppTest:
    at.file_uploader(key="train_upload").upload("model.zip", data, "application/zip").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_an_uploaded_model_above_the_parameter_cap_is_refused_and_the_run_kept(monkeypatch):
    monkeypatch.setenv("AIGC_MAX_PARAMS", "1100000")  # gan_mlp has 2,014,225 weights
    at = _open()
    at.button(key="train_btn_step_g").click().run()
    run = at.session_state["train_run"]
    _upload(at, _checkpoint("gan_mlp", 64))
    assert "2,014,225 parameters" in _texts(at) and "1,100,000" in _texts(at)
    assert at.session_state["train_run"] is run and run.trainer.iteration == 1


def test_an_uploaded_batch_above_the_cap_is_refused(monkeypatch):
    monkeypatch.setenv("AIGC_MAX_BATCH", "64")
    at = _open()
    run = at.session_state["train_run"]
    _upload(at, _checkpoint("gan_mlp", 512))
    assert "Batch size 512 is above this server's limit of 64" in _texts(at)
    assert at.session_state["train_run"] is run


def test_an_uploaded_batch_the_slider_cannot_show_is_said_not_silently_changed():
    at = _open()
    _upload(at, _checkpoint("gan_mlp", 100))
    texts = "\n".join(str(e.value) for e in at.success)
    assert "batch size 100" in texts and "continues with 128" in texts, texts
    assert at.session_state["train_run"].trainer.config.batch_size == 128
    assert at.select_slider(key="train_gan_batch").value == 128
