"""The 2-D race tab: the 2-D Playground's GAN (`toy_gan`) against its denoiser (`toy_diffusion`) on one toy
distribution, with the same fair scheduler as the MNIST race (aigc_core/race_toy.py `ToyRace`); KL and mode coverage
against the race clock (the playground's own metric functions) and each model's samples over the data, side by side.
The core has no VAE for 2-D points, and the tab says so. The run's life (buttons, timed fragment) is race.py's."""

from __future__ import annotations

import streamlit as st

from aigc_core.race import Race
from aigc_core.race_toy import TOY_FAMILIES, ToyRace, ToyRaceConfig
from aigc_core.seeds import SEED_MAX
from aigc_core.toy2d import MODE_RADIUS, TOY_DISTRIBUTIONS
from ui.a11y.charts import chart_area, vega_lite_chart
from ui.compare import race, race_view
from ui.i18n import t, translator
from ui.resources import device

STATE = "compare_race_toy"
BUDGET_SECONDS = (10, 300, 60, 10)  # the slider: min, max, default, step
MEASUREMENTS = 20  # measurements per race after the first (2,048 samples of a tiny network: cheap)


def _config() -> ToyRaceConfig:
    budget_s = float(st.session_state.get("compare_race_toy_budget", BUDGET_SECONDS[2]))
    return ToyRaceConfig(budget_s=budget_s, data=str(st.session_state.get("compare_race_toy_data", "ring")),
                         seed=int(st.session_state.get("compare_race_toy_seed", 0)),
                         measure_every_s=max(1.0, budget_s / MEASUREMENTS))


def build_toy() -> ToyRace:
    return ToyRace(_config(), device=device())


def _draw(current: Race) -> None:
    assert isinstance(current, ToyRace)
    tr = translator()
    race.progress(current)
    race.shares_row(current)
    race.left_race(current)
    modal = current.config.data in MODE_RADIUS
    kl_title, modes_title = t("race.toy.kl_title"), t("race.toy.modes_title")
    with chart_area("compare_race_toy_charts"):
        columns = st.columns(2) if modal else [st.container()]
        with columns[0]:
            st.markdown(f"**{kl_title}**")
            vega_lite_chart(None, race_view.curve_spec(current, tr, field="kl", title=t("race.toy.axis_kl"), log=True,
                                                       goal=current.goal, height=240), width="stretch", title=kl_title)
        if modal:
            with columns[1]:
                st.markdown(f"**{modes_title}**")
                vega_lite_chart(None, race_view.curve_spec(current, tr, field="modes", title=t("race.toy.axis_modes"),
                                                           height=240), width="stretch", title=modes_title)
        scatters = st.container(key="compare_race_toy_scatters")
        for column, family in zip(scatters.columns(len(TOY_FAMILIES)), TOY_FAMILIES):
            with column:
                last = current.history(family)
                name = race_view.family_name(family, tr)
                if not last:
                    st.markdown(f"**{name}**")
                    st.caption(t("race.toy.waiting"))
                    continue
                m = last[-1]
                modes = current.modes.get(family)
                title = t("race.toy.scatter_title", family=name, steps=m.steps, kl=m.values["kl"])
                if modes is not None:
                    title += " · " + t("race.toy.scatter_modes", covered=modes[0], total=modes[1])
                st.markdown(f"**{title}**")
                vega_lite_chart(None, race_view.scatter_spec(current, family, tr), width="stretch", title=title)
    race.conclusion(current, "race.toy")


def toy_race_tab() -> None:
    st.markdown(t("race.toy.intro"))
    st.info(t("race.toy.no_vae"), icon=":material/info:")
    run: race.RaceRun | None = st.session_state.get(STATE)
    locked = run is not None and not run.race.done and run.error is None
    names = {name: t(f"playground.data.{name}") for name in TOY_DISTRIBUTIONS}  # the playground's names for them
    c1, c2, c3 = st.columns([2, 2, 1])
    low, high, default, step = BUDGET_SECONDS
    budget = c1.slider(t("race.toy.budget"), low, high, default, step, key="compare_race_toy_budget", disabled=locked,
                       help=t("race.toy.budget_help"), format=t("race.seconds_format"))
    c2.selectbox(t("race.toy.data"), TOY_DISTRIBUTIONS, format_func=names.__getitem__, key="compare_race_toy_data",
                 disabled=locked, help=t("race.toy.data_help"))
    c3.number_input(t("race.seed"), min_value=0, max_value=SEED_MAX, value=0, step=1, key="compare_race_toy_seed",
                    disabled=locked, help=t("race.seed_help"))
    st.caption(t("race.toy.lineup", each=budget / len(TOY_FAMILIES)))
    race.buttons(STATE, build_toy)
    race.live(STATE, _draw)
