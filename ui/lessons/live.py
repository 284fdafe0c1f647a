"""The Lessons page's live view: an ``st.fragment(run_every=...)`` that advances the running lesson by one slice
(`ui.lessons.run.advance`, ~0.5 s) and redraws its charts, progress and verdict; Stop (a full rerun) answers
within one slice."""

from __future__ import annotations

import streamlit as st

from ui.a11y.charts import chart_area
from ui.i18n import t
from ui.lessons import view
from ui.lessons.run import RERUN_S, advance, current
from ui.text import plain


def _live_body() -> None:
    state = current()
    if state is None:
        return
    was_running = state.running
    advance(state)
    lesson = state.lesson
    st.progress(lesson.progress, text=t("lessons.progress", percent=100 * lesson.progress, seconds=state.seconds))
    if state.error:
        st.error(t("lessons.run_error", message=plain(state.error)))
    with st.container(key="lessons_live"), chart_area("lessons_live"):  # one "Show as table" for the lesson
        view.DRAW[state.key](lesson)
    if lesson.done:
        outcome = lesson.outcome()
        box = st.success if outcome["shown"] else st.warning
        with st.container(key="lessons_verdict"):
            box(view.verdict_text(state.key, outcome) + ("" if outcome["shown"] else " " + t("lessons.not_shown")))
    if was_running and not state.running:
        st.rerun()  # stop the timer: redraw the page with a still fragment


def live_view(running: bool) -> None:
    """The time-sliced view: re-runs on its own while the lesson runs."""
    st.fragment(_live_body, run_every=RERUN_S if running else None)()
