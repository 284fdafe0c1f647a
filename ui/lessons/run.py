"""The Lessons page's run: the lesson this session is running (``st.session_state[STATE]``, a `LessonState`), how
it is built from the page's choices (shared pretrained models are only read: lessons copy them), and one time
slice of its work (`advance`, called by the live fragment in ui/lessons/live.py).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import streamlit as st

from aigc_core import lessons
from aigc_core.errors import AigcError
from aigc_core.lessons import Lesson
from aigc_core.presets import get_preset
from aigc_core.slicing import run_slice
from ui.resources import available_pretrained, try_pretrained
from ui.server import limits

STATE = "lessons_run"
QUICK = "lessons_quick"
SLICE_S = 0.5
RERUN_S = 0.1  # shorter than a slice: the next slice starts as soon as the last redraw is sent
COLLAPSE_GANS = ("gan_mlp", "dcgan", "gan_seed_mlp")  # most diverse first: collapse shows best from a wide start


@dataclass
class LessonState:
    key: str
    lesson: Lesson
    running: bool = True
    error: str | None = None
    started: float = field(default_factory=time.perf_counter)
    seconds: float = 0.0  # time spent training (not waiting between slices)


def current() -> LessonState | None:
    return st.session_state.get(STATE)


def collapse_gans() -> list[str]:
    present = set(available_pretrained())
    return [name for name in COLLAPSE_GANS if name in present]


@st.cache_data(show_spinner=False)
def article_numbers() -> dict[str, float]:
    return lessons.article_bug_numbers()


def build(key: str, options: dict[str, Any]) -> Lesson:
    """The lesson for `key` with the page's sizes; shared pretrained models are only read (lessons copy them).

    ``st.session_state["lessons_quick"] = True`` selects the small sizes the tests use.
    """
    quick = bool(st.session_state.get(QUICK, False))
    if key == "mode_collapse":
        gan_name = options.get("gan")
        gan, error = try_pretrained(gan_name) if gan_name else (None, "no GAN")
        classifier, error2 = try_pretrained("classifier")
        if gan is None or classifier is None:
            raise AigcError(error or error2 or "missing pretrained weights")
        limits.enforce(config=gan.model.config)  # the lesson trains a copy: the server's caps apply to it too
        return lessons.make_lesson(key, quick=quick, gan=gan.model, classifier=classifier.model)
    if key == "article_gan":
        preset = options.get("preset", "gan_seed_mlp")
        limits.enforce(config=get_preset(preset).model_config)
        return lessons.make_lesson(key, quick=quick, preset=preset)
    return lessons.make_lesson(key, quick=quick)


def start(key: str, options: dict[str, Any]) -> None:
    try:
        st.session_state[STATE] = LessonState(key, build(key, options))
    except AigcError as exc:
        st.session_state[STATE] = None
        st.session_state["lessons_error"] = str(exc)


def stop() -> None:
    state = current()
    if state is not None:
        state.running = False


def resume() -> None:
    state = current()
    if state is not None and not state.lesson.done:
        state.running = True


def clear() -> None:
    st.session_state[STATE] = None


def advance(state: LessonState) -> None:
    """One slice of work (called from the live fragment)."""
    if not state.running or state.lesson.done:
        return
    begin = time.perf_counter()
    try:
        run_slice(state.lesson, SLICE_S, max_steps=state.lesson.remaining)
    except AigcError as exc:  # lessons catch the divergence they are about; anything else is shown, not raised
        state.error = str(exc)
        state.running = False
    state.seconds += time.perf_counter() - begin
    if state.lesson.done:
        state.running = False
