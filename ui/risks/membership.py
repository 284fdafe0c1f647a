"""The Membership inference tab: pick a shipped model (trained on 60,000 digits) or train the small one on 100 digits
here, then see each family's attack signal for members against non-members, the ROC curve, its AUC, and what the
numbers say. All math in aigc_core.membership and aigc_core.overfit; the small model trains in time slices in an
``st.fragment(run_every=...)``, as the Lessons page's lessons do."""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

import streamlit as st

from aigc_core.errors import AigcError
from aigc_core.membership import MembershipResult, membership_attack
from aigc_core.overfit import OVERFIT_FAMILIES, OverfitConfig, OverfitExperiment, nonmember_digits, shipped_members
from aigc_core.slicing import run_slice
from ui.a11y.charts import chart_area, vega_lite_chart
from ui.i18n import t, translator
from ui.resources import available_pretrained, try_pretrained
from ui.risks import attack_view
from ui.server import limits
from ui.text import plain

STATE = "risks_membership_run"
QUICK = "risks_membership_quick"  # session-state flag the tests set: small sizes
OVERFIT = "__overfit__"  # the choice "the small model trained here"
ATTACKABLE = ("gan_mlp", "dcgan", "gan_seed_mlp", "vae_mlp_z20", "vae_mlp_z2", "ddpm")
SHIPPED_DIGITS = {"gan": 1000, "vae": 1000, "diffusion": 200}  # members and non-members each; a U-Net costs more
QUICK_DIGITS = 100
SLICE_S, RERUN_S = 0.5, 0.1


@dataclass
class OverfitState:
    experiment: OverfitExperiment
    running: bool = True
    result: MembershipResult | None = None
    error: str | None = None
    seconds: float = 0.0
    started: float = field(default_factory=time.perf_counter)


def _quick() -> bool:
    return bool(st.session_state.get(QUICK, False))


@st.cache_data(show_spinner=False, max_entries=16)
def shipped_attack(name: str, count: int, seed: int = 0) -> MembershipResult:
    """The attack on a shipped checkpoint: `count` of its training digits against `count` test digits (cached:
    the numbers are the same for every session)."""
    checkpoint, error = try_pretrained(name)
    if checkpoint is None:
        raise AigcError(error or name)
    return membership_attack(checkpoint.model, shipped_members(count, seed), nonmember_digits(count, seed), seed=seed)


def _label(choice: str) -> str:
    return t("risks.membership.choice_overfit") if choice == OVERFIT else choice


def _draw(result: MembershipResult, trained_on: int, name: str) -> None:
    tr = translator()
    left, right = st.columns(2)
    with chart_area("risks_membership_charts"):  # one "Show as table" for both charts
        with left:
            st.markdown(t("risks.membership.hist_title"))
            vega_lite_chart(None, attack_view.histogram_spec(result, tr), width="stretch",
                            title=t("risks.membership.hist_title"))
        with right:
            st.markdown(t("risks.membership.roc_title"))
            vega_lite_chart(None, attack_view.roc_spec(result, tr), width="stretch", title=t("risks.membership.roc_title"))
    a, b, c = st.columns(3)
    a.metric(t("risks.membership.metric_auc"), f"{result.auc:.3f}", help=t("risks.membership.metric_auc_help"))
    b.metric(t("risks.membership.metric_advantage"), f"{result.advantage:.2f}",
             help=t("risks.membership.metric_advantage_help"))
    c.metric(t("risks.membership.metric_counts"), f"{len(result.members):,} / {len(result.nonmembers):,}",
             help=t("risks.membership.metric_counts_help"))
    with st.container(key="risks_membership_verdict"):
        st.info(attack_view.verdict(result, tr, members_trained_on=trained_on))
    st.caption(t("risks.membership.measured", name=plain(name), signal=t(f"risks.membership.signal_{result.family}")))


def _shipped(name: str) -> None:
    checkpoint, error = try_pretrained(name)
    if checkpoint is None:
        st.error(t("risks.membership.missing", name=plain(name), message=plain(error or "")))
        return
    family = checkpoint.family
    count = QUICK_DIGITS if _quick() else SHIPPED_DIGITS.get(family, 1000)
    try:
        with st.spinner(t("risks.membership.scoring", count=count)):
            result = shipped_attack(name, count)
    except AigcError as exc:
        st.error(t("risks.membership.error", message=plain(str(exc))))
        return
    _draw(result, 60_000, name)


# -- the small model trained here ------------------------------------------------------------------------------------


def _start(family: str, subset: int) -> None:
    refusal = limits.request_training()
    if refusal:
        st.session_state["risks_membership_error"] = refusal
        return
    base = OverfitConfig.QUICK if _quick() else OverfitConfig.for_family(family)
    try:
        config = replace(base, family=family, subset_size=int(subset))  # checked by the experiment
        st.session_state[STATE] = OverfitState(OverfitExperiment(config))
        st.session_state.pop("risks_membership_error", None)
    except AigcError as exc:
        limits.stop_training()
        st.session_state["risks_membership_error"] = str(exc)


def _advance(state: OverfitState) -> None:
    if not state.running:
        return
    experiment = state.experiment
    begin = time.perf_counter()
    try:
        run_slice(experiment, SLICE_S, max_steps=experiment.remaining)
        if experiment.done:
            state.result = experiment.result()
    except AigcError as exc:  # a diverged run keeps its restored weights; the message says what happened
        state.error = str(exc)
    state.seconds += time.perf_counter() - begin
    if experiment.done or state.error:
        state.running = False
        limits.stop_training()


def _live_body() -> None:
    state: OverfitState | None = st.session_state.get(STATE)
    if state is None:
        return
    was_running = state.running
    limits.heartbeat(training=state.running, release_keys=(STATE,))
    _advance(state)
    experiment = state.experiment
    st.progress(experiment.progress, text=t("risks.membership.progress", done=experiment.iteration,
                                            total=experiment.config.steps, seconds=state.seconds))
    if state.error:
        st.error(t("risks.membership.error", message=plain(state.error)))
    if state.result is not None:
        _draw(state.result, experiment.config.subset_size, t("risks.membership.small_name",
                                                               family=experiment.config.family.upper(),
                                                               n=experiment.config.subset_size))
    if was_running and not state.running:
        st.rerun()  # stop the timer: redraw the page with a still fragment


def _overfit_panel() -> None:
    st.markdown(t("risks.membership.overfit_intro"))
    state: OverfitState | None = st.session_state.get(STATE)
    busy = state is not None and state.running
    c1, c2, c3 = st.columns([1, 1, 1])
    family = c1.radio(t("risks.membership.family"), OVERFIT_FAMILIES, format_func=lambda f: f.upper(),
                      horizontal=True, key="risks_membership_family", disabled=busy,
                      help=t("risks.membership.family_help"))
    subset = c2.number_input(t("risks.membership.subset"), min_value=0, max_value=100_000, value=100, step=50,
                             key="risks_membership_subset", disabled=busy, help=t("risks.membership.subset_help"))
    with c3:
        if busy:
            if st.button(t("risks.membership.stop"), key="risks_membership_stop"):
                state.running = False
                limits.stop_training()
                st.rerun()
        elif st.button(t("risks.membership.train"), type="primary", key="risks_membership_train",
                           help=t("risks.membership.train_help")):
            _start(family, int(subset))
            st.rerun()
    error = st.session_state.get("risks_membership_error")
    if error:
        st.error(t("risks.membership.error", message=plain(error)))
    state = st.session_state.get(STATE)
    if state is None:
        st.caption(t("risks.membership.not_trained"))
        return
    st.fragment(_live_body, run_every=RERUN_S if state.running else None)()


def membership_tab() -> None:
    st.markdown(t("risks.membership.intro"))
    present = set(available_pretrained())
    choices = [OVERFIT] + [name for name in ATTACKABLE if name in present]
    choice = st.selectbox(t("risks.membership.model"), choices, format_func=_label, key="risks_membership_model",
                          help=t("risks.membership.model_help"))
    if choice == OVERFIT:
        _overfit_panel()
    else:
        _shipped(choice)
