"""The Differential privacy tab: what DP-SGD cost and bought in the measured sweep (pretrained/privacy_sweep.json:
ε against test ELBO, the membership AUC with and without DP), and a live DP run whose ε rises as it trains, in time
slices of an ``st.fragment(run_every=...)``. All math in aigc_core.privacy (Opacus)."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import streamlit as st

from aigc_core.errors import AigcError
from aigc_core.membership import training_subset
from aigc_core.mnist import load_mnist
from aigc_core.privacy import DP_TARGETS, DPConfig, DPStats, DPTrainer, accuracy_on, elbo_on
from aigc_core.slicing import run_slice
from ui.a11y.charts import chart_area, vega_lite_chart
from ui.i18n import t, translator
from ui.risks import privacy_view
from ui.server import limits
from ui.text import plain

STATE = "risks_privacy_run"
QUICK = "risks_privacy_quick"  # session-state flag the tests set: small sizes
ERROR = "risks_privacy_error"
SLICE_S, RERUN_S = 0.5, 0.1
TRAIN_SIZES = (60_000, 1_000, 100)
EVAL_DIGITS = 2000  # test digits the finished live run is scored on


@dataclass
class DPRunState:
    trainer: DPTrainer
    steps: int
    history: list[DPStats] = field(default_factory=list)
    running: bool = True
    error: str | None = None
    score: float | None = None  # test ELBO (VAE) or accuracy (classifier) when done
    seconds: float = 0.0
    started: float = field(default_factory=time.perf_counter)


def _sweep_section() -> None:
    tr = translator()
    st.subheader(t("risks.privacy.sweep_title"))
    sweep = privacy_view.read_sweep()
    if sweep is None:
        st.info(t("risks.privacy.no_sweep", command=privacy_view.SWEEP_COMMAND))
        return
    left, right = st.columns(2)
    quality_title = t("risks.privacy.quality_title", n=sweep["quality"]["train_digits"], steps=sweep["quality"]["steps"])
    auc_title = t("risks.privacy.auc_title", n=sweep["membership"]["subset"], steps=sweep["membership"]["steps"])
    with chart_area("risks_privacy_sweep_charts"):  # one "Show as table" for both charts
        with left:
            st.markdown(quality_title)
            vega_lite_chart(None, privacy_view.quality_spec(sweep, tr), width="stretch", title=quality_title)
        with right:
            st.markdown(auc_title)
            vega_lite_chart(None, privacy_view.auc_spec(sweep, tr), width="stretch", title=auc_title)
    sentence = privacy_view.sweep_sentence(sweep, tr)
    if sentence:
        with st.container(key="risks_privacy_sentence"):
            st.info(sentence)
    st.dataframe(privacy_view.rows(sweep, tr), hide_index=True, width="stretch")
    command = str(sweep.get("command", privacy_view.SWEEP_COMMAND)).replace("`", "'")  # shown as code: no escapes
    st.caption(t("risks.privacy.sweep_caption", command=command,
                 seed=sweep.get("seed", 0), seconds=sweep.get("wall_seconds", 0), clip=sweep.get("clip", 1.0),
                 delta=sweep.get("delta", 1e-5)))


# -- the live run ------------------------------------------------------------------------------------------------------


def _start(target: str, sigma: float, clip: float, train_size: int, steps: int) -> None:
    refusal = limits.request_training()
    if refusal:
        st.session_state[ERROR] = refusal
        return
    quick = bool(st.session_state.get(QUICK, False))
    try:
        config = DPConfig(target=target, noise_multiplier=float(sigma), max_grad_norm=float(clip))  # type: ignore[arg-type]
        config.validate()
        digits = load_mnist("train")
        if train_size < len(digits):
            digits = training_subset(digits, train_size, 0)[0]
        st.session_state[STATE] = DPRunState(DPTrainer(config, digits), steps=3 if quick else int(steps))
        st.session_state.pop(ERROR, None)
    except AigcError as exc:
        limits.stop_training()
        st.session_state[ERROR] = str(exc)


def _finish(state: DPRunState) -> None:
    test = training_subset(load_mnist("test"), EVAL_DIGITS, 0)[0]
    trainer = state.trainer
    if trainer.config.target == "vae":
        state.score = elbo_on(trainer.network, test)
    else:
        state.score = accuracy_on(trainer.network, test)


def _advance(state: DPRunState) -> None:
    if not state.running:
        return
    begin = time.perf_counter()
    try:
        state.history += run_slice(state.trainer, SLICE_S, max_steps=state.steps - state.trainer.iteration)
        if state.trainer.iteration >= state.steps:
            _finish(state)
    except AigcError as exc:  # divergence: the trainer put the last good weights back
        state.history += getattr(exc, "records", [])
        state.error = str(exc)
    state.seconds += time.perf_counter() - begin
    if state.trainer.iteration >= state.steps or state.error:
        state.running = False
        limits.stop_training()


def _live_body() -> None:
    state: DPRunState | None = st.session_state.get(STATE)
    if state is None:
        return
    was_running = state.running
    limits.heartbeat(training=state.running, release_keys=(STATE,))
    _advance(state)
    trainer, config = state.trainer, state.trainer.config
    st.progress(min(1.0, trainer.iteration / state.steps),
                text=t("risks.privacy.progress", done=trainer.iteration, total=state.steps, seconds=state.seconds))
    if state.error:
        st.error(t("risks.privacy.error", message=plain(state.error)))
    a, b, c = st.columns(3)
    epsilon = trainer.epsilon()
    a.metric(t("risks.privacy.metric_epsilon", delta=config.delta), "∞" if math.isinf(epsilon) else f"{epsilon:.3f}",
             help=t("risks.privacy.metric_epsilon_help"))
    last = state.history[-1] if state.history else None
    b.metric(t(f"risks.privacy.metric_loss_{config.target}"), "—" if last is None else f"{last.loss:.3f}")
    if state.score is not None:
        shown = f"{state.score:.1f}" if config.target == "vae" else f"{100 * state.score:.1f}%"
        c.metric(t(f"risks.privacy.metric_score_{config.target}", n=EVAL_DIGITS), shown)
    if state.history:
        left, right = st.columns(2)
        epsilon_spec, loss_spec = privacy_view.live_specs(state.history, translator(), delta=config.delta)
        with chart_area("risks_privacy_live_charts"):
            vega_lite_chart(None, epsilon_spec, where=left, width="stretch")
            vega_lite_chart(None, loss_spec, where=right, width="stretch")
    if was_running and not state.running:
        st.rerun()  # stop the timer: redraw the page with a still fragment


def _live_section() -> None:
    st.subheader(t("risks.privacy.live_title"))
    st.markdown(t("risks.privacy.live_intro"))
    state: DPRunState | None = st.session_state.get(STATE)
    busy = state is not None and state.running
    c1, c2, c3, c4, c5 = st.columns(5)
    target = c1.radio(t("risks.privacy.target"), DP_TARGETS, format_func=lambda k: t(f"risks.privacy.target_{k}"),
                      key="risks_privacy_target", disabled=busy, help=t("risks.privacy.target_help"))
    sigma = c2.number_input(t("risks.privacy.sigma"), min_value=0.0, max_value=100.0, value=1.0, step=0.25,
                            key="risks_privacy_sigma", disabled=busy, help=t("risks.privacy.sigma_help"))
    clip = c3.number_input(t("risks.privacy.clip"), min_value=0.0, max_value=1e6, value=1.0, step=0.5,
                           key="risks_privacy_clip", disabled=busy, help=t("risks.privacy.clip_help"))
    size = c4.selectbox(t("risks.privacy.train_size"), TRAIN_SIZES, format_func=lambda n: f"{n:,}",
                        key="risks_privacy_size", disabled=busy, help=t("risks.privacy.train_size_help"))
    steps = c5.number_input(t("risks.privacy.steps"), min_value=1, max_value=5000, value=300, step=100,
                            key="risks_privacy_steps", disabled=busy, help=t("risks.privacy.steps_help"))
    if busy:
        if st.button(t("risks.privacy.stop"), key="risks_privacy_stop"):
            state.running = False
            limits.stop_training()
            st.rerun()
    elif st.button(t("risks.privacy.start"), type="primary", key="risks_privacy_start",
                       help=t("risks.privacy.start_help")):
        _start(target, sigma, clip, int(size), int(steps))
        st.rerun()
    error = st.session_state.get(ERROR)
    if error:
        st.error(t("risks.privacy.error", message=plain(error)))
    state = st.session_state.get(STATE)
    if state is not None:
        st.fragment(_live_body, run_every=RERUN_S if state.running else None)()


def privacy_tab() -> None:
    st.markdown(t("risks.privacy.intro"))
    _sweep_section()
    _live_section()
