"""The playground's toolbar: Play / Pause, one D step, one G step, one iteration, Reset and slow motion. Buttons only
set flags in session state (ui/playground/run.py); the live fragment (ui/playground/live.py) acts on them."""

from __future__ import annotations

import streamlit as st

from ui.i18n import t
from ui.playground import run as state


def _set_playing(playing: bool) -> None:
    # Set, not toggled: a click that Streamlit replays after an interrupted run must not flip it back.
    st.session_state[state.PLAYING_KEY] = playing


def _request(action: str) -> None:
    st.session_state[state.PLAYING_KEY] = False
    st.session_state[state.ACTION_KEY] = action


def _request_reset() -> None:
    st.session_state[state.PLAYING_KEY] = False
    st.session_state[state.RESET_KEY] = True


def _slowmo_changed() -> None:
    st.session_state[state.PLAYING_KEY] = False


def toolbar(*, ready: bool, compare: bool, diffusion: bool = False) -> None:
    """Play / Pause, one D step, one G step, one iteration, Reset and the slow-motion switch. In diffusion mode
    (one network, one objective) D step, G step and slow motion are off, and say why."""
    ss = st.session_state
    if compare and ss.get("pg_slowmo"):
        ss["pg_slowmo"] = False  # slow motion walks one trainer; side by side there are two
    slow = bool(ss.get("pg_slowmo")) and not diffusion
    gan_only = t("playground.gan_only_help") if diffusion else None
    playing = bool(ss.get(state.PLAYING_KEY)) and not slow
    columns = st.columns([1.3, 1, 1, 1, 1, 1.6], vertical_alignment="center")
    columns[0].button(t("playground.pause") if playing else t("playground.play"), key="pg_play_button",
                      type="primary", on_click=_set_playing, args=(not playing,), disabled=not ready or slow,
                      width="stretch", icon=":material/pause:" if playing else ":material/play_arrow:",
                      help=t("playground.play_help"))
    columns[1].button(t("playground.step_d"), key="pg_step_d", on_click=_request, args=("d",), width="stretch",
                      disabled=not ready or slow or diffusion, help=gan_only or t("playground.step_d_help"))
    columns[2].button(t("playground.step_g"), key="pg_step_g", on_click=_request, args=("g",), width="stretch",
                      disabled=not ready or slow or diffusion, help=gan_only or t("playground.step_g_help"))
    columns[3].button(t("playground.step_both"), key="pg_step_both", on_click=_request, args=("both",),
                      width="stretch", disabled=not ready or slow,
                      help=t("playground.step_one_help") if diffusion else t("playground.step_both_help"))
    columns[4].button(t("playground.reset"), key="pg_reset", on_click=_request_reset, width="stretch",
                      icon=":material/restart_alt:", help=t("playground.reset_help"))
    if diffusion:  # the GAN's switch keeps its value, unseen
        columns[5].toggle(t("playground.slowmo_label"), value=False, key="pg_slowmo_diffusion", disabled=True,
                          help=gan_only)
        if "pg_slowmo" in ss:
            ss["pg_slowmo"] = ss["pg_slowmo"]
        return
    columns[5].toggle(t("playground.slowmo_label"), key="pg_slowmo", on_change=_slowmo_changed, disabled=compare,
                      help=t("playground.slowmo_compare_off") if compare else t("playground.slowmo_help"))
