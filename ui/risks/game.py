"""The "Real or fake?" tab: a 4 × 4 grid of real test digits and digits drawn by the shipped generators; the player
ticks the ones they think are generated, submits, and sees the score, which were fake, and — over the rounds of this
session — which model fooled them most. Beside the player, the detector (pretrained/detector, aigc_core.detector):
its held-out accuracy per model from its config.json, and its verdicts on the round just played.

The round's logic is aigc_core.realfake (pure, tested); this module draws it. Per-session state only (the round, its
digits, the tally); the class scoreboard of teacher mode is game_board.py.
"""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import streamlit as st
import torch

from aigc_core.detector import fake_probability
from aigc_core.images import upscale
from aigc_core.realfake import REAL, Round, RoundScore, Tally, compose_round, round_images, score_round
from aigc_core.seeds import SEED_MAX
from ui.a11y.charts import image
from ui.i18n import t
from ui.resources import NOT_GAN_OR_VAE, available_pretrained, device, mnist, try_pretrained
from ui.risks import game_board
from ui.teacher import is_teacher_mode

STATE_KEY = "risks_game_round"
TALLY_KEY = "risks_game_tally"
DETECTOR = "detector"  # pretrained/detector: `python -m aigc_core train-detector --out pretrained/detector`
COLUMNS = 4
SCALE = 4  # 28 px -> 112 px on screen


DIFFUSION = "ddpm"  # its digits cost seconds each on a CPU (25 DDIM steps, twice under guidance): opt-in there
DIFFUSION_KEY = "risks_game_diffusion"


@dataclass(frozen=True)
class GameState:
    names: tuple[str, ...]  # the models the round was drawn from
    round: Round
    images: np.ndarray  # (16, 28, 28) uint8, in tile order
    score: RoundScore | None = None  # set once the player has submitted
    marked: frozenset[int] = frozenset()


def game_models(with_diffusion: bool) -> list[str]:
    """The shipped generators that load: GANs and VAEs, and the diffusion model if asked for and there is one."""
    names = [n for n in available_pretrained() if n not in NOT_GAN_OR_VAE or (with_diffusion and n == DIFFUSION)]
    return [n for n in names if try_pretrained(n)[0] is not None]


def _diffusion_choice() -> bool:
    """Whether rounds include the diffusion model: a toggle where one is shipped, on by default only on a GPU."""
    if DIFFUSION not in available_pretrained():
        return False
    return st.toggle(t("risks.game.with_diffusion"), value=device().type != "cpu", key=DIFFUSION_KEY,
                     help=t("risks.game.with_diffusion_help"))


@st.cache_data(show_spinner=False, max_entries=32)
def _round_digits(names: tuple[str, ...], seed: int) -> np.ndarray:
    """A round's digits (cached: the same seed draws the same digits, and a rerun must not redraw them)."""
    game = compose_round(list(names), seed)
    models = {name: try_pretrained(name)[0].model for name in game.fakes_per_model()}
    return round_images(game, models, mnist("test").images)


def new_round(names: list[str], seed: int | None = None) -> GameState:
    seed = secrets.randbelow(SEED_MAX) if seed is None else seed  # never the global RNG: it is the server's
    with st.spinner(t("risks.game.drawing")):
        return GameState(tuple(names), compose_round(names, seed), _round_digits(tuple(names), seed))


def _mark_key(game: Round, position: int) -> str:
    return f"risks_game_mark_{game.seed}_{position}"  # per round: a new round starts unticked


def _submit() -> None:
    """The form's callback: score the ticked tiles, add the round to the session's tally (and the class board)."""
    state: GameState = st.session_state[STATE_KEY]
    marked = frozenset(i for i in range(len(state.round.tiles)) if st.session_state.get(_mark_key(state.round, i)))
    score = score_round(state.round, marked)
    st.session_state[STATE_KEY] = replace(state, score=score, marked=marked)
    st.session_state[TALLY_KEY] = st.session_state.get(TALLY_KEY, Tally()).add(score)
    if is_teacher_mode():
        game_board.record(score)


def _next_round(names: list[str]) -> None:
    st.session_state[STATE_KEY] = new_round(names)


def _detector_metrics() -> dict:
    """The held-out figures `train-detector` wrote into config.json; {} without a detector."""
    checkpoint, _error = try_pretrained(DETECTOR)
    return dict(checkpoint.provenance.get("metrics", {})) if checkpoint is not None else {}


def _detector_p(images: np.ndarray) -> np.ndarray | None:
    """The detector's p(generated) per tile, or None without a detector."""
    checkpoint, _error = try_pretrained(DETECTOR)
    if checkpoint is None:
        return None
    return fake_probability(checkpoint.model, torch.from_numpy(images)).numpy()


def game_tab() -> None:
    st.markdown(t("risks.game.intro"))
    names = game_models(_diffusion_choice())
    if not names:
        st.warning(t("risks.game.no_models"))
        return
    state: GameState | None = st.session_state.get(STATE_KEY)
    if state is None or state.names != tuple(names):  # first visit, or the diffusion toggle changed the models
        state = st.session_state[STATE_KEY] = new_round(names)
    if is_teacher_mode():
        game_board.nickname_input()
    grid, side = st.columns([3, 2], gap="large")
    with grid:
        if state.score is None:
            _play(state)
        else:
            _reveal(state, names)
    with side:
        _scores(state, names)
    if is_teacher_mode():
        game_board.board_panel()


def _play(state: GameState) -> None:
    st.caption(t("risks.game.how", fakes=len(state.round.fake_positions), total=len(state.round.tiles),
                 seed=state.round.seed))
    with st.form("risks_game_form", border=False):
        for row in range(0, len(state.round.tiles), COLUMNS):
            for position, cell in zip(range(row, row + COLUMNS), st.columns(COLUMNS)):
                with cell:
                    image(upscale(state.images[position], SCALE), alt=t("a11y.game_tile", n=position + 1))
                    st.checkbox(t("risks.game.mark", n=position + 1), key=_mark_key(state.round, position),
                                help=t("risks.game.mark_help"))
        st.form_submit_button(t("risks.game.submit"), type="primary", on_click=_submit, help=t("risks.game.submit_help"))


def _verdict(state: GameState, position: int, detector_p: np.ndarray | None) -> str:
    tile = state.round.tiles[position]
    marked = position in state.marked
    if tile.source == REAL:
        text = t("risks.game.was_real_flagged" if marked else "risks.game.was_real", n=position + 1)
    else:
        text = t("risks.game.was_caught" if marked else "risks.game.was_missed", n=position + 1, model=tile.source)
    if detector_p is not None:
        text += " · " + t("risks.game.detector_p", p=100 * detector_p[position])
    return text


def _reveal(state: GameState, names: list[str]) -> None:
    score = state.score
    detector_p = _detector_p(state.images)
    st.success(t("risks.game.result", correct=score.correct, total=score.total, caught=score.caught,
                 fakes=score.fakes, alarms=score.false_alarms))
    for row in range(0, len(state.round.tiles), COLUMNS):
        for position, cell in zip(range(row, row + COLUMNS), st.columns(COLUMNS)):
            with cell:
                image(upscale(state.images[position], SCALE), _verdict(state, position, detector_p))
    if detector_p is not None:
        truth = np.array([tile.source != REAL for tile in state.round.tiles])
        right = int(((detector_p >= 0.5) == truth).sum())
        st.info(t("risks.game.detector_round", right=right, total=len(truth), you=score.correct))
    st.button(t("risks.game.next"), type="primary", on_click=_next_round, args=(names,), key="risks_game_next",
              help=t("risks.game.next_help"))


def _scores(state: GameState, names: list[str]) -> None:
    """The session's tally next to the detector's held-out figures, one row per model."""
    tally: Tally = st.session_state.get(TALLY_KEY, Tally())
    st.subheader(t("risks.game.you_vs_detector"))
    metrics = _detector_metrics()
    per_model = metrics.get("per_model", {})
    c1, c2 = st.columns(2)
    c1.metric(t("risks.game.m_you"), f"{100 * tally.accuracy:.0f}%" if tally.rounds else "—",
              help=t("risks.game.m_you_help", rounds=tally.rounds))
    c2.metric(t("risks.game.m_detector"), f"{100 * metrics['accuracy']:.0f}%" if "accuracy" in metrics else "—",
              help=t("risks.game.m_detector_help", n=metrics.get("held_out", 0)))
    fooled = tally.most_fooling()
    if fooled is not None:
        st.markdown(t("risks.game.fooled_most", model=fooled, missed=tally.missed[fooled], shown=tally.shown[fooled]))
    elif tally.rounds:
        st.markdown(t("risks.game.fooled_none"))
    st.dataframe(pd.DataFrame(_rows(names, tally, per_model)), hide_index=True, width="stretch")
    if metrics:
        st.caption(t("risks.game.detector_note", n=metrics.get("held_out", 0), real=100 * metrics.get("real_correct", 0)))
    else:
        st.info(t("risks.game.no_detector"))
        st.code("python -m aigc_core train-detector --seed 0 --threads 1 --out pretrained/detector", language="bash")


def _percent(value: float | None) -> str:
    return "—" if value is None or math.isnan(value) else f"{100 * value:.0f}%"  # NaN: nothing seen yet


def _rows(names: list[str], tally: Tally, per_model: dict) -> list[dict]:
    rows = []
    for name in names:
        held = per_model.get(name, {})
        rows.append({
            t("risks.game.col_model"): name,
            t("risks.game.col_seen"): tally.shown.get(name, 0),
            t("risks.game.col_you"): _percent(tally.caught_rate(name)),
            t("risks.game.col_detector"): _percent(held.get("caught")),
            t("risks.game.col_detector_acc"): _percent(held.get("accuracy")),
        })
    return rows
