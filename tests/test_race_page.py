"""The race tabs of "Which generator?" under AppTest: a short MNIST race (5 s, few samples) run to its end through the
timed fragment, with its chart, three grids, compute shares and a conclusion whose numbers are the race's own, in en
and zh; Pause answering at the next run; the 2-D race (GAN against diffusion, no VAE, said so); a race refused at the
server's session cap with a clear message; and both tabs on the page."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from streamlit.testing.v1 import AppTest

from aigc_core.race import MnistRace, MnistRaceConfig
from ui.compare import race, race_toy
from ui.server import limits

PAGE = str(Path(__file__).resolve().parents[1] / "pages" / "compare.py")


@pytest.fixture(autouse=True)
def fresh_registry(monkeypatch):
    """Each test gets its own registry of training sessions (other tests' AppTest sessions must not count)."""
    monkeypatch.setattr(limits, "REGISTRY", limits.SessionRegistry())
    monkeypatch.delenv("AIGC_MAX_TRAININGS", raising=False)


def _tabs() -> None:
    import streamlit as st

    from ui.compare.race import mnist_race_tab
    from ui.compare.race_toy import toy_race_tab

    mnist, toy = st.tabs(["mnist", "toy"])
    with mnist:
        mnist_race_tab()
    with toy:
        toy_race_tab()


def _app(lang: str = "en", **state: object) -> AppTest:
    at = AppTest.from_function(_tabs, default_timeout=120)
    at.query_params["lang"] = lang
    at.session_state[race.QUICK] = True
    for key, value in state.items():
        at.session_state[key] = value
    return at.run()


def _texts(at: AppTest) -> str:
    kinds = ("markdown", "info", "error", "caption", "success", "warning")
    return " ".join(str(e.value) for kind in kinds for e in getattr(at, kind))


def _finish(at: AppTest, key: str, runs: int = 200) -> None:
    for _ in range(runs):  # one fragment run (one slice) per script run
        run = at.session_state[key]
        if run.race.done:
            break
        at.run()
    assert at.session_state[key].race.done, "the race did not finish"
    at.run()


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_short_mnist_race_runs_to_a_conclusion_from_its_numbers(lang):
    at = _app(lang)
    assert not at.exception
    at.button(key=f"{race.STATE}_start").click().run()
    run = at.session_state[race.STATE]
    run.race.budget_s = 5.0  # a 5 s race: the slider's least is a minute
    run.race.measure_every_s = 2.0
    _finish(at, race.STATE)
    assert not at.exception, [e.value for e in at.exception]
    current = at.session_state[race.STATE].race
    assert {m.family for m in current.measurements} == {"gan", "vae", "diffusion"}
    assert current.race_s >= 5.0
    # The page shows what was measured: the chart, a grid per family, each family's share, the conclusion.
    charts = [e for e in at.get("vega_lite_chart")]
    assert len(charts) == 1
    alts = [img.alt for element in at.get("image") for img in element.proto.imgs]
    assert len(alts) == 3 and all("after" in alt for alt in alts) if lang == "en" else len(alts) == 3
    shares = current.shares()
    metrics = {m.label: m.value for m in at.metric}
    assert len(metrics) == 3 and all(value.endswith("%") for value in metrics.values())
    assert f"{100 * shares['gan']:.1f}%" in metrics.values()
    verdict = current.verdict()
    winner = verdict.result(verdict.winner)
    text = _texts(at)
    assert f"{winner.best:.2f}" in text  # the conclusion quotes the measured best score
    assert ("Compute shares" if lang == "en" else "算力份额") in text
    assert not current.lanes["gan"].error and at.session_state[race.STATE].running is False


def test_pause_answers_at_the_next_run_and_resume_goes_on():
    at = _app()
    at.button(key=f"{race.STATE}_start").click().run()
    at.run()
    run = at.session_state[race.STATE]
    assert run.running
    at.button(key=f"{race.STATE}_start").click().run()  # the same button now says Pause
    assert not at.session_state[race.STATE].running
    frozen = run.race.race_s, len(run.race.measurements)
    at.run()
    at.run()
    assert (run.race.race_s, len(run.race.measurements)) == frozen  # paused: no training, no measuring
    assert at.button(key=f"{race.STATE}_start").label == "Resume"
    assert at.slider(key="compare_race_budget").disabled  # settings are fixed until Reset
    at.button(key=f"{race.STATE}_start").click().run()
    assert at.session_state[race.STATE] is run and run.running
    at.button(key=f"{race.STATE}_reset").click().run()
    assert race.STATE not in at.session_state
    assert not at.slider(key="compare_race_budget").disabled


def test_a_race_at_the_session_cap_gets_a_clear_message(monkeypatch):
    monkeypatch.setenv("AIGC_MAX_TRAININGS", "1")
    first, second = _app(), _app()
    limits.REGISTRY.try_start("someone else", 1)  # another session trains: the cap of 1 is reached
    first.button(key=f"{race.STATE}_start").click().run()
    assert not first.exception
    assert "at its limit of 1 trainings running at once" in _texts(first)
    assert race.STATE not in first.session_state
    limits.REGISTRY.stop("someone else")
    second.button(key=f"{race.STATE}_start").click().run()
    assert second.session_state[race.STATE].running and "at its limit" not in _texts(second)


def test_a_diverging_family_is_reported_and_the_race_goes_on():
    at = _app()
    at.button(key=f"{race.STATE}_start").click().run()
    run = at.session_state[race.STATE]
    run.race.budget_s, run.race.measure_every_s = 3.0, 1.0
    with torch.no_grad():  # the VAE's weights blow up: its loss and samples turn NaN
        for p in run.race.lanes["vae"].trainer.model.parameters():
            p.fill_(float("nan"))
    _finish(at, race.STATE)
    assert not at.exception
    lanes = run.race.lanes
    assert not lanes["vae"].active and lanes["gan"].active and lanes["diffusion"].active
    assert lanes["gan"].steps > 0 and lanes["diffusion"].steps > 0
    warnings = " ".join(w.value for w in at.warning)
    assert "VAE left the race" in warnings and "The others go on" in warnings
    assert "VAE left the race" in " ".join(s.value for s in at.success)  # and in the conclusion
    assert {m.family for m in run.race.measurements if m.race_s > 0} == {"gan", "diffusion"}


def test_the_seed_widget_reaches_every_model():
    at = _app(compare_race_seed=5)
    at.button(key=f"{race.STATE}_start").click().run()
    current = at.session_state[race.STATE].race
    assert current.config.seed == 5
    same = MnistRace(MnistRaceConfig(seed=5, samples=16), current.classifier)
    other = MnistRace(MnistRaceConfig(seed=6, samples=16), current.classifier)
    for family in ("gan", "vae", "diffusion"):
        # The fixed noise comes from the seed and stays put while the race trains (the weights move at once).
        name = "fixed_noise" if family == "diffusion" else "fixed_z"
        ours = getattr(current.lanes[family].trainer, name)
        assert torch.equal(ours, getattr(same.lanes[family].trainer, name))
        assert not torch.equal(ours, getattr(other.lanes[family].trainer, name))


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_2d_race_is_gan_against_diffusion_with_kl_and_modes(lang, monkeypatch):
    at = _app(lang)
    assert ("No VAE in this race" if lang == "en" else "没有 VAE") in _texts(at)
    at.button(key=f"{race_toy.STATE}_start").click().run()
    run = at.session_state[race_toy.STATE]
    run.race.budget_s = 3.0
    run.race.measure_every_s = 1.0
    _finish(at, race_toy.STATE)
    assert not at.exception, [e.value for e in at.exception]
    current = at.session_state[race_toy.STATE].race
    assert set(current.lanes) == {"gan", "diffusion"}
    assert {m.family for m in current.measurements} == {"gan", "diffusion"}
    assert all("modes" in m.values for m in current.measurements)  # the ring has modes
    charts = at.get("vega_lite_chart")
    assert len(charts) == 4  # KL, modes, and a scatter per family
    verdict = current.verdict()
    assert f"{verdict.result(verdict.winner).best:.2f}" in _texts(at)


def test_both_race_tabs_are_on_the_page():
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    assert not at.exception
    labels = [tab.label for tab in at.tabs]
    assert "Race on MNIST" in labels and "Race in 2-D" in labels
