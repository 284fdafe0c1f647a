"""Teacher mode: a simpler app for a classroom, with a guided tour in the sidebar.

``?teacher=1`` turns it on, ``?tstep=3`` opens the tour at step 3, so a teacher can prepare a link once and
replay it. Both survive page switches the way ``?lang=`` does (`ui.share.sync.sticky_param`). Pages ask
`is_teacher_mode()` to hide advanced controls::

    if not is_teacher_mode():
        with st.expander(t("train.advanced")):
            ...

`teacher_sidebar(page)` (called by ``app.py``) draws the on/off switch and, in teacher mode, the tour: the step's
title and instruction, a link to its page, and previous / next buttons that also switch to the step's page.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from ui.catalog import DEFAULT_LANG
from ui.i18n import current_language, t
from ui.share.codec import Notice, Param
from ui.share.sync import set_sticky, sticky_param


@dataclass(frozen=True)
class TourStep:
    key: str  # strings: teacher.step.<key>.title / .instruction
    page: str  # the page file, as in app.PAGES
    url_path: str  # its URL path, to tell whether the user is already there
    nav_key: str  # i18n key of the page's title


TOUR: tuple[TourStep, ...] = (
    TourStep("fight", "pages/train.py", "train", "nav.train"),
    TourStep("diagram", "pages/train.py", "train", "nav.train"),
    TourStep("latent", "pages/latent.py", "latent", "nav.latent"),
    TourStep("denoise", "pages/denoise.py", "denoise", "nav.denoise"),
    TourStep("collapse", "pages/lessons.py", "lessons", "nav.lessons"),
    TourStep("toy2d", "pages/playground.py", "playground", "nav.playground"),
    TourStep("toy_diffusion", "pages/playground.py", "playground", "nav.playground"),
    TourStep("compare", "pages/compare.py", "compare", "nav.compare"),
)

TEACHER_PARAM = Param("teacher", False, label="teacher.toggle")
STEP_PARAM = Param("tstep", 1, low=1, high=len(TOUR), label="teacher.step_name")

_MODE_KEY = "_aigc_teacher"
_STEP_KEY = "_aigc_teacher_step"
_TOGGLE_KEY = "_aigc_teacher_toggle"
_GO_KEY = "_aigc_teacher_go"  # set by previous / next: switch to the new step's page


def resolve_teacher_params() -> list[Notice]:
    """Read ``?teacher=`` and ``?tstep=`` (or restore them after a page switch); notices for bad values."""
    notices = []
    for param, state_key in ((TEACHER_PARAM, _MODE_KEY), (STEP_PARAM, _STEP_KEY)):
        _value, notice = sticky_param(param, state_key)
        if notice is not None:
            notices.append(notice)
    if not st.session_state.get(_MODE_KEY, False) and "tstep" in st.query_params:
        del st.query_params["tstep"]  # the step means nothing outside teacher mode
    return notices


def is_teacher_mode() -> bool:
    """True in teacher mode (``?teacher=1``): pages hide advanced controls."""
    if _MODE_KEY not in st.session_state:
        sticky_param(TEACHER_PARAM, _MODE_KEY)
    return bool(st.session_state.get(_MODE_KEY, False))


def tour_step() -> int:
    """The tour step shown, 1-based."""
    if _STEP_KEY not in st.session_state:
        sticky_param(STEP_PARAM, _STEP_KEY)
    return int(st.session_state.get(_STEP_KEY, 1))


def tour_query(step: int) -> dict[str, str]:
    """The URL parameters that open the tour at ``step`` in the current language (for links)."""
    params = {"teacher": "1", "tstep": str(step)}
    lang = current_language()
    if lang != DEFAULT_LANG:
        params = {"lang": lang, **params}
    return params


def _set_mode(on: bool) -> None:
    set_sticky(TEACHER_PARAM, _MODE_KEY, on)
    set_sticky(STEP_PARAM, _STEP_KEY, 1)


def _on_toggle() -> None:
    _set_mode(bool(st.session_state.get(_TOGGLE_KEY)))


def _move(delta: int) -> None:
    step = min(max(tour_step() + delta, 1), len(TOUR))
    set_sticky(STEP_PARAM, _STEP_KEY, step)
    st.session_state[_GO_KEY] = True


def teacher_sidebar(current_url_path: str | None = None) -> None:
    """The teacher switch and, in teacher mode, the guided tour. Call inside ``with st.sidebar:``."""
    on = is_teacher_mode()
    st.session_state[_TOGGLE_KEY] = on  # keep the switch in step with the URL
    st.toggle(t("teacher.toggle"), key=_TOGGLE_KEY, on_change=_on_toggle, help=t("teacher.toggle_help"))
    if not on:
        return

    number = tour_step()
    step = TOUR[number - 1]
    if st.session_state.pop(_GO_KEY, False) and current_url_path != step.url_path:
        st.switch_page(step.page, query_params=tour_query(number))

    with st.container(border=True):
        st.markdown(f"**{t('teacher.tour_heading')}**")
        st.progress(number / len(TOUR), text=t("teacher.step_of", number=number, total=len(TOUR)))
        st.markdown(f"**{number}. {t(f'teacher.step.{step.key}.title')}**")
        st.markdown(t(f"teacher.step.{step.key}.instruction"))
        if current_url_path == step.url_path:
            st.caption(t("teacher.you_are_here", page=t(step.nav_key)))
        else:
            st.page_link(step.page, label=t("teacher.go_to", page=t(step.nav_key)), icon=":material/arrow_forward:",
                         query_params=tour_query(number), help=t("teacher.go_to_help"))
        previous, following = st.columns(2)
        previous.button(t("teacher.previous"), key="_aigc_teacher_prev", on_click=_move, args=(-1,),
                        disabled=number <= 1, icon=":material/arrow_back:", width="stretch",
                        help=t("teacher.previous_help"))
        following.button(t("teacher.next"), key="_aigc_teacher_next", on_click=_move, args=(1,),
                         disabled=number >= len(TOUR), icon=":material/arrow_forward:", width="stretch",
                         help=t("teacher.next_help"))


def advanced_hidden_note() -> None:
    """A one-line caption for where a page hid its advanced controls in teacher mode."""
    st.caption(t("teacher.advanced_hidden"))
