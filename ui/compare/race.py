"""The race tabs of "Which generator?": one model of each family trained from scratch for the same budget, interleaved
fairly on the server (aigc_core/race.py), their quality against the race clock on one chart, their samples side
by side, the compute shares as numbers, and a conclusion computed from the measurements.

Both tabs share the run's life: Start asks the server for a training place (its session cap, ui/server/limits.py),
an ``st.fragment(run_every=...)`` advances the race by one slice (~0.5 s of training, or one chunk of a
measurement) per run and redraws, Pause answers at the next run, Reset forgets the race. The MNIST tab is below;
the 2-D tab's drawing is in race_toy.py.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import streamlit as st

from aigc_core import images
from aigc_core.errors import AigcError
from aigc_core.race import MNIST_FAMILIES, MnistRace, MnistRaceConfig, Race, mnist_model_configs
from aigc_core.seeds import SEED_MAX
from ui.a11y.charts import chart_area, image, vega_lite_chart
from ui.compare import race_view
from ui.i18n import t, translator
from ui.resources import device, try_pretrained
from ui.server import limits
from ui.text import plain
from ui.train.run import training_threads

STATE = "compare_race_mnist"
QUICK = "compare_race_quick"  # session-state flag the tests set: few samples per measurement
SLICE_S, RERUN_S = 0.5, 0.1
BUDGET_MINUTES = (1, 10, 3)  # the slider: min, max, default
MEASUREMENTS = 12  # measurements per race after the first (every budget / 12 of race clock, at least 5 s)
QUICK_SAMPLES = 16


@dataclass
class RaceRun:
    race: Race
    running: bool = True
    error: str | None = None


def _error_key(key: str) -> str:
    return f"{key}_error"


# -- the run's life (shared by both tabs) ----------------------------------------------------------------------


def start(key: str, build: Callable[[], Race]) -> None:
    """Start (or resume) the tab's race; a finished one is replaced by a fresh one built from the settings."""
    st.session_state.pop(_error_key(key), None)
    refusal = limits.request_training()  # None, or why not: the server's cap on trainings at once
    if refusal:
        st.session_state[_error_key(key)] = refusal
        return
    run: RaceRun | None = st.session_state.get(key)
    if run is not None and not run.race.done and run.error is None:
        run.running = True
        return
    try:
        st.session_state[key] = RaceRun(build())
    except AigcError as exc:  # a cap on model size, a missing classifier, a bad setting
        limits.stop_training()
        st.session_state[_error_key(key)] = str(exc)


def pause(key: str) -> None:
    run: RaceRun | None = st.session_state.get(key)
    if run is not None:
        run.running = False
    limits.stop_training()


def reset(key: str) -> None:
    pause(key)
    st.session_state.pop(key, None)
    st.session_state.pop(_error_key(key), None)


def buttons(key: str, build: Callable[[], Race]) -> None:
    """Start / Pause (Resume) and Reset, then the message of a refused start."""
    run: RaceRun | None = st.session_state.get(key)
    running = run is not None and run.running
    resumable = run is not None and not running and not run.race.done and run.error is None
    left, right, _ = st.columns([1, 1, 3])
    label = "race.pause" if running else ("race.resume" if resumable else "race.start")
    if left.button(t(label), key=f"{key}_start", type="primary", help=t(f"{label}_help"), width="stretch"):
        if running:
            pause(key)
        else:
            start(key, build)
        st.rerun()
    if right.button(t("race.reset"), key=f"{key}_reset", help=t("race.reset_help"), disabled=run is None,
                    width="stretch"):
        reset(key)
        st.rerun()
    error = st.session_state.get(_error_key(key))
    if error:
        st.error(t("race.refused", message=plain(error)))


def live(key: str, draw: Callable[[Race], None]) -> None:
    """The timed fragment: one slice of the race while it runs, then the drawing."""
    run: RaceRun | None = st.session_state.get(key)
    if run is None:
        return

    def body() -> None:
        current: RaceRun | None = st.session_state.get(key)
        if current is None:
            return
        was_running = current.running
        limits.heartbeat(training=current.running, release_keys=(key,))
        if current.running:
            try:
                with training_threads():
                    current.race.advance(SLICE_S)
            except AigcError as exc:
                current.error = str(exc)
            if current.race.done or current.error is not None:
                current.running = False
                limits.stop_training()
        if current.error is not None:
            st.error(t("race.error", message=plain(current.error)))
        draw(current.race)
        if was_running and not current.running:
            st.rerun()  # stop the timer: redraw the page with a still fragment

    st.fragment(body, run_every=RERUN_S if run.running else None)()


def shares_row(race: Race) -> None:
    """Each family's share of the compute as a number, with its steps and seconds under it."""
    shares = race.shares()
    for column, (family, lane) in zip(st.columns(len(race.lanes)), race.lanes.items()):
        name = race_view.family_name(family, translator())
        column.metric(t("race.share_label", family=name), race_view.share_text(shares[family]),
                      help=t("race.share_help"))
        column.caption(t("race.steps_caption", steps=lane.steps, seconds=lane.seconds))


def progress(race: Race) -> None:
    st.progress(race.progress, text=race_view.progress_text(race, translator()))


def left_race(race: Race) -> None:
    for family, lane in race.lanes.items():
        if lane.error is not None:
            st.warning(t("race.left", family=race_view.family_name(family, translator()), message=plain(lane.error)))


def conclusion(race: Race, prefix: str) -> None:
    if not race.done:
        return
    with st.container(key=f"{prefix.replace('.', '_')}_conclusion"):
        st.subheader(t("race.conclusion_title"))
        st.success("\n\n".join(race_view.conclusion(race.verdict(), translator(), prefix=prefix)))


# -- the MNIST tab ------------------------------------------------------------------------------------------------


def _mnist_config() -> MnistRaceConfig:
    budget_s = 60.0 * float(st.session_state.get("compare_race_budget", BUDGET_MINUTES[2]))
    quick = bool(st.session_state.get(QUICK, False))
    return MnistRaceConfig(budget_s=budget_s, conditional=bool(st.session_state.get("compare_race_conditional", False)),
                           seed=int(st.session_state.get("compare_race_seed", 0)),
                           samples=QUICK_SAMPLES if quick else MnistRaceConfig.samples,
                           measure_every_s=max(5.0, budget_s / MEASUREMENTS) if not quick else 2.0)


def build_mnist(config: MnistRaceConfig | None = None) -> MnistRace:
    config = config or _mnist_config()
    for model_config, _ in mnist_model_configs(config).values():
        limits.enforce(config=model_config)  # the server's per-session cap on model size
    checkpoint, error = try_pretrained("classifier")
    if checkpoint is None:
        raise AigcError(t("race.no_classifier", message=error or ""))
    return MnistRace(config, checkpoint.model, device=device())


def _draw_mnist(race: Race) -> None:
    assert isinstance(race, MnistRace)
    tr = translator()
    progress(race)
    shares_row(race)
    left_race(race)
    title = t("race.mnist.chart_title")
    with chart_area("compare_race_mnist_chart"):
        st.markdown(f"**{title}**")
        vega_lite_chart(None, race_view.curve_spec(race, tr, field="classifier_score", title=t("race.mnist.axis_score"),
                                                   goal=race.goal), width="stretch", title=title)
    st.caption(t("race.mnist.chart_caption", samples=race.config.samples, goal=race.goal))
    grids = st.container(key="compare_race_mnist_grids")
    for column, family in zip(grids.columns(len(MNIST_FAMILIES)), MNIST_FAMILIES):
        with column:
            name = race_view.family_name(family, tr)
            st.markdown(f"**{name}** · `{race.config.presets()[family]}`")
            last = race.history(family)
            grid = race.grids.get(family)
            if grid is None or not last:
                st.caption(t("race.mnist.grid_waiting"))
                continue
            m = last[-1]
            fid = m.values["fid"]
            caption = t("race.mnist.grid_caption", family=name, score=m.values["classifier_score"],
                        fid=fid if math.isfinite(fid) else float("nan"), steps=m.steps, at=m.race_s)
            if "conditional_accuracy" in m.values:
                caption += t("race.mnist.grid_accuracy", accuracy=m.values["conditional_accuracy"])
            # An inline PNG: the grid changes at every measurement, and a replaced media file would answer a late
            # browser with a 404 (see ui/lessons/view.py).
            image(images.to_png_data_uri(images.upscale(grid, 2)), caption=caption, alt=t("race.mnist.grid_alt", family=name, steps=m.steps,
                                               score=m.values["classifier_score"]), width="stretch")
    conclusion(race, "race.mnist")


def mnist_race_tab() -> None:
    st.markdown(t("race.mnist.intro"))
    run: RaceRun | None = st.session_state.get(STATE)
    locked = run is not None and not run.race.done and run.error is None  # settings are fixed until Reset
    c1, c2, c3 = st.columns([2, 1.5, 1])
    low, high, default = BUDGET_MINUTES
    budget = c1.slider(t("race.budget"), low, high, default, key="compare_race_budget", disabled=locked,
                       help=t("race.budget_help"), format=t("race.minutes_format"))
    c2.toggle(t("race.conditional"), key="compare_race_conditional", disabled=locked, help=t("race.conditional_help"))
    c3.number_input(t("race.seed"), min_value=0, max_value=SEED_MAX, value=0, step=1, key="compare_race_seed",
                    disabled=locked, help=t("race.seed_help"))
    presets = _mnist_config().presets()
    st.caption(t("race.mnist.lineup", gan=presets["gan"], vae=presets["vae"], diffusion=presets["diffusion"],
                 each=60.0 * budget / len(MNIST_FAMILIES)))
    buttons(STATE, build_mnist)
    live(STATE, _draw_mnist)
