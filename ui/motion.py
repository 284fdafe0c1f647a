"""Reduced motion: a setting that stops the app's decorative animation, kept in the link (``?still=1``).

Some people get dizzy or distracted by movement they did not ask for (WCAG 2.3.3, "Animation from
Interactions"). With the setting on, nothing moves by itself: the playground's diffusion particles rest on their
samples instead of looping from noise to data, and the page's CSS transitions and animations are switched off
(`ui.style`). What the user started keeps updating: a training run's numbers, charts and samples are the content,
not decoration. The browser's own "reduce motion" preference is honoured by CSS alone, without the setting.

Like teacher mode it survives page switches and travels in a teacher's link (`ui.share.sync.sticky_param`).
Features ask `reduced_motion()`.
"""

from __future__ import annotations

import streamlit as st

from ui.i18n import t
from ui.share.codec import Notice, Param
from ui.share.sync import set_sticky, sticky_param

MOTION_PARAM = Param("still", False, label="common.reduce_motion")
_STATE_KEY = "_aigc_still"
_TOGGLE_KEY = "_aigc_still_toggle"


def resolve_motion_param() -> list[Notice]:
    """Read ``?still=`` (or put it back after a page switch); a notice for a bad value."""
    _value, notice = sticky_param(MOTION_PARAM, _STATE_KEY)
    return [] if notice is None else [notice]


def reduced_motion() -> bool:
    """True when decorative animation must stop."""
    if _STATE_KEY not in st.session_state:
        sticky_param(MOTION_PARAM, _STATE_KEY)
    return bool(st.session_state.get(_STATE_KEY, False))


def _on_toggle() -> None:
    set_sticky(MOTION_PARAM, _STATE_KEY, bool(st.session_state.get(_TOGGLE_KEY)))


def motion_toggle() -> bool:
    """The sidebar switch (call inside ``with st.sidebar:``). Returns whether motion is reduced."""
    still = reduced_motion()
    st.session_state[_TOGGLE_KEY] = still  # keep the switch in step with the URL
    st.toggle(t("common.reduce_motion"), key=_TOGGLE_KEY, on_change=_on_toggle, help=t("common.reduce_motion_help"))
    return still
