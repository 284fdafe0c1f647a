"""The Lessons page under AppTest: every lesson starts, runs in slices with a progress bar, stops, resumes, clears;
one runs to its verdict. In AppTest the live fragment runs once per `at.run()`, so each run is one slice.
The lessons' effects themselves are checked in tests/test_lessons.py."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from aigc_core.evaluation import PRETRAINED_DIR
from aigc_core.lessons import LESSONS
from apptest_app import app_test
from ui.lessons.run import QUICK, STATE


# one thread: small networks; on a shared 2-core machine a second thread only waits
pytestmark = pytest.mark.usefixtures("one_thread", "whole_app")


def _page(lang: str | None = None) -> AppTest:
    at = app_test(**({"lang": lang} if lang else {}))
    at.session_state[QUICK] = True  # the tests' small sizes
    at.run()
    at.switch_page("pages/lessons.py").run()
    assert not at.exception, at.exception
    return at


def _texts(at: AppTest) -> str:
    kinds = ("title", "header", "markdown", "caption", "info", "error", "warning", "success")
    return "\n".join(str(e.value) for kind in kinds for e in getattr(at, kind))


def _click(at: AppTest, key: str) -> None:
    at.button(key=key).click().run()
    assert not at.exception, at.exception


@pytest.mark.parametrize("key", LESSONS)
def test_every_lesson_starts_runs_a_slice_stops_and_clears(key):
    if key == "mode_collapse" and not (PRETRAINED_DIR / "gan_mlp" / "config.json").is_file():
        pytest.skip("needs pretrained GANs")
    at = _page()
    at.button_group(key="lessons_pick").set_value(key).run()
    assert not at.exception, at.exception
    assert "⟦" not in _texts(at)
    assert any("Press **Run this lesson**" in i.value for i in at.info)
    _click(at, "lessons_run_btn")  # builds the lesson, then the live fragment runs its first slice
    state = at.session_state[STATE]
    assert state.key == key and state.lesson.units > 0
    assert at.get("progress")
    _click(at, "lessons_stop_btn")
    units = state.lesson.units
    at.run()
    assert state.lesson.units == units  # nothing runs while stopped
    if not state.lesson.done:
        _click(at, "lessons_resume_btn")
        assert state.lesson.units > units
    _click(at, "lessons_clear_btn")
    assert at.session_state[STATE] is None


def test_a_lesson_runs_to_its_verdict():
    at = _page()
    at.button_group(key="lessons_pick").set_value("divergence").run()
    _click(at, "lessons_run_btn")
    state = at.session_state[STATE]
    for _ in range(300):  # a handful of slices on an idle machine; generous for a busy one
        if state.lesson.done:
            break
        at.run()
    assert state.lesson.done and not state.running
    assert state.lesson.outcome()["shown"]
    text = _texts(at)
    assert "Caught: training diverged at step" in text
    assert any("SGD diverged at step" in s.value for s in at.success)
    assert len(at.get("vega_lite_chart")) >= 2


def test_the_article_lesson_lists_its_bugs_with_measured_numbers():
    at = _page()
    at.button_group(key="lessons_pick").set_value("article_gan").run()
    text = _texts(at)
    for phrase in ("predict() outside the gradient tape", "for _ in range(batch_size)", "unused decoder",
                   "Dense layers on unflattened images", "train_gan ignores its generator", "[0, 1]"):
        assert phrase in text
    assert "100% of fresh fakes have a negative pixel" in text
    assert "3200 updates, 3.4 passes" in text
    at.button_group(key="lessons_ag_variant").set_value("gan_seed_mlp_as_given").run()
    _click(at, "lessons_run_btn")
    assert at.session_state[STATE].lesson.preset == "gan_seed_mlp_as_given"


def test_chinese_lessons_page():
    at = _page("zh")
    text = _texts(at)
    assert "模式崩溃" in text and "⟦" not in text


def test_a_lesson_model_above_the_servers_cap_is_refused_with_a_message(monkeypatch):
    """The mode-collapse lesson trains a copy of a shipped GAN: the session's parameter cap applies to it too."""
    if not (PRETRAINED_DIR / "gan_mlp" / "config.json").is_file():
        pytest.skip("needs pretrained GANs")
    monkeypatch.setenv("AIGC_MAX_PARAMS", "100000")
    at = _page()
    at.button_group(key="lessons_pick").set_value("mode_collapse").run()
    _click(at, "lessons_run_btn")
    assert at.session_state[STATE] is None
    assert any("above this server" in str(e.value) for e in at.error), [e.value for e in at.error]
    monkeypatch.delenv("AIGC_MAX_PARAMS")
    _click(at, "lessons_run_btn")  # the page keeps working: within the cap the lesson starts
    assert at.session_state[STATE] is not None
