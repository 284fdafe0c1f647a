"""The Train page's slow motion in diffusion mode under AppTest: walk one training step phase by phase (the diagram,
the caption and the pictures at each phase), and the completed step is recorded like any other."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from apptest_app import app_test
from aigc_core.slowmo_diffusion import PHASE_KEYS
from ui.train.run import STATE

pytestmark = pytest.mark.usefixtures("whole_app", "one_thread")


def _diffusion_page() -> AppTest:
    at = app_test().run()
    at.switch_page("pages/train.py").run()
    at.segmented_control(key="train_family").set_value("diffusion").run()
    at.select_slider(key="train_diffusion_steps").set_value(5).run()  # a cheap grid
    assert not at.exception, at.exception
    return at


def _click(at: AppTest, key: str) -> AppTest:
    at.button(key=key).click().run()
    assert not at.exception, at.exception
    return at


def _text(at: AppTest) -> str:
    return " ".join(str(m.value) for m in [*at.markdown, *at.caption, *at.info, *at.success])


def test_a_slow_motion_walk_through_one_diffusion_step():
    at = _diffusion_page()
    run = at.session_state[STATE]
    assert run.family == "diffusion" and run.trainer.iteration == 0
    assert "Slow motion walks through the phases of a GAN" not in _text(at)  # no longer "for GANs only"
    assert "One step has five phases" in _text(at)
    for number, key in enumerate(PHASE_KEYS, start=1):
        _click(at, "train_dslowmo_next")
        assert f"Phase {number} of 5" in _text(at)
        if key == "data":
            assert "Take real images" in _text(at) and at.session_state["train_slowmo_stepper"].in_progress
            assert run.trainer.iteration == 0 and len(run.history) == 0
        if key == "predict":
            captions = " ".join(caption for image in at.image for caption in image.captions)
            assert "x₀" in captions and "x_t, at t =" in captions and "x̂₀" in captions
    assert run.trainer.iteration == 1 and len(run.history) == 1  # recorded in the run's history like any step
    assert "Step complete: the model is now at step 1" in _text(at)
    assert run.history.last()["loss"] == run.trainer.last.loss
    _click(at, "train_dslowmo_finish")  # a whole step at once
    assert run.trainer.iteration == 2 and len(run.history) == 2


def test_a_running_diffusion_model_asks_to_pause_first():
    at = _diffusion_page()
    _click(at, "train_btn_start")
    assert any("Pause training" in str(i.value) for i in at.info)
    assert "train_dslowmo_next" not in [button.key for button in at.button]  # no walk while training
    _click(at, "train_btn_start")  # pause
    _click(at, "train_dslowmo_next")
    _click(at, "train_dslowmo_next")
    _click(at, "train_btn_step")  # a step by other means in the middle of a walk: the walk starts over
    _click(at, "train_dslowmo_next")
    assert "Phase 1 of 5" in _text(at)
    _click(at, "train_btn_start")  # and Start abandons it
    assert "train_slowmo_stepper" not in at.session_state
