"""Teacher mode's class scoreboard for the Real-or-fake game: a nickname field, each scored round added under it, the
top of the board for everyone, and a reset for the teacher. The shared store is ui/server/scoreboard.py."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from aigc_core.realfake import RoundScore
from ui.i18n import t
from ui.server.scoreboard import MAX_NAMES, NICK_MAX, TOP, check_nickname, class_board
from ui.text import plain

NICK_KEY = "risks_game_nickname"
NOTICE_KEY = "risks_game_board_notice"  # what happened to the last round sent to the board: (level, text)
CONFIRM_KEY = "risks_game_board_confirm"


def nickname_input() -> None:
    st.text_input(t("risks.game.nickname"), key=NICK_KEY, max_chars=NICK_MAX, placeholder=t("risks.game.nickname_hint"),
                  help=t("risks.game.nickname_help", n=NICK_MAX))
    raw = st.session_state.get(NICK_KEY, "")
    _name, problem = check_nickname(raw)
    if raw and problem is not None:
        st.warning(t(f"risks.game.nick_{problem}", n=NICK_MAX))


def record(score: RoundScore) -> None:
    """Add a scored round to the class board under this session's nickname (a callback: before the page draws)."""
    name, problem = check_nickname(st.session_state.get(NICK_KEY, ""))
    if name is None:
        st.session_state[NOTICE_KEY] = ("info", t("risks.game.board_no_name") if problem == "empty"
                                        else t(f"risks.game.nick_{problem}", n=NICK_MAX))
        return
    outcome = class_board().add(name, score.correct, score.total)
    if outcome == "full":
        st.session_state[NOTICE_KEY] = ("warning", t("risks.game.board_full", n=MAX_NAMES))
    else:
        st.session_state[NOTICE_KEY] = ("success", t("risks.game.board_added", name=plain(name)))


def _reset() -> None:
    count = class_board().reset()
    st.session_state[CONFIRM_KEY] = False
    st.session_state[NOTICE_KEY] = ("success", t("risks.game.board_was_reset", n=count))


def board_panel() -> None:
    st.subheader(t("risks.game.board_heading"))
    notice = st.session_state.pop(NOTICE_KEY, None)
    if notice is not None:
        getattr(st, notice[0])(notice[1])
    board = class_board()
    rows = board.top(TOP)
    if not rows:
        st.caption(t("risks.game.board_empty"))
    else:
        st.dataframe(pd.DataFrame([{
            t("risks.game.col_rank"): rank,
            t("risks.game.col_name"): plain(row.nickname, limit=NICK_MAX),
            t("risks.game.col_rounds"): row.rounds,
            t("risks.game.col_score"): f"{100 * row.accuracy:.0f}%",
        } for rank, row in enumerate(rows, start=1)]), hide_index=True, width="stretch")
    st.caption(t("risks.game.board_note", top=TOP, shown=len(rows), held=len(board), cap=MAX_NAMES))
    confirm = st.checkbox(t("risks.game.board_confirm"), key=CONFIRM_KEY, help=t("risks.game.board_confirm_help"))
    st.button(t("risks.game.board_reset"), on_click=_reset, disabled=not confirm, key="risks_game_board_reset",
              help=t("risks.game.board_reset_help"))
