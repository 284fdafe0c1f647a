"""The Membership inference and Differential privacy tabs under AppTest (quick sizes): a shipped model's attack with
its AUC and sentence, the small model trained here until its members give themselves away, the measured DP sweep,
a live DP run whose ε rises, and bad settings (empty subset, σ = 0, absurd C) answered with a message, in en and zh."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from ui.risks import membership, privacy, privacy_view

PAGE = str(Path(__file__).resolve().parents[1] / "pages" / "risks.py")


def _page(lang: str = "en", **state: object) -> AppTest:
    """The page after its first run. `state`: widget values set before it (AppTest re-reads every widget on later
    runs, and another tab's translated selectbox cannot be re-read in zh: its format_func runs in English there)."""
    at = AppTest.from_file(PAGE, default_timeout=180)
    at.query_params["lang"] = lang
    at.session_state[membership.QUICK] = True
    at.session_state[privacy.QUICK] = True
    for key, value in state.items():
        at.session_state[key] = value
    return at.run()


def _texts(at: AppTest) -> str:
    kinds = ("markdown", "info", "error", "caption", "success", "warning")
    return " ".join(str(e.value) for kind in kinds for e in getattr(at, kind))


def _metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_shipped_vae_is_attacked_with_a_measured_auc(lang):
    at = _page(lang, risks_membership_model="vae_mlp_z20")
    assert not at.exception
    auc = float(_metric(at, "AUC"))
    assert 0.0 <= auc <= 1.0
    assert f"AUC {auc:.3f}" in _texts(at)  # the sentence quotes the number shown
    assert ("Trained on 60,000 digits" if lang == "en" else "60,000 个数字") in _texts(at)


def test_the_small_model_trains_here_and_its_members_give_themselves_away():
    at = _page()
    assert "Not trained yet" in _texts(at)
    at.button(key="risks_membership_train").click().run()
    for _ in range(60):  # one slice per run; QUICK is 200 steps
        if at.session_state[membership.STATE].result is not None:
            break
        at.run()
    assert not at.exception
    state = at.session_state[membership.STATE]
    assert state.result is not None and not state.running
    assert float(_metric(at, "AUC")) > 0.75  # what the tab teaches (0.91 measured at these sizes)
    assert "Members are easy to spot" in _texts(at)


@pytest.mark.parametrize("size, message", [(0, "at least one digit"), (100_000, "1 to 60,000")])
def test_an_empty_or_oversized_subset_gets_a_message(size, message):
    at = _page()
    at.number_input(key="risks_membership_subset").set_value(size).run()
    at.button(key="risks_membership_train").click().run()
    assert not at.exception
    assert message in " ".join(e.value for e in at.error)
    assert at.session_state[membership.STATE] is None if membership.STATE in at.session_state else True


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_sweep_is_shown_with_its_measured_sentence(lang):
    sweep = privacy_view.read_sweep()
    assert sweep is not None, "pretrained/privacy_sweep.json is shipped; make it with " + privacy_view.SWEEP_COMMAND
    at = _page(lang)
    assert not at.exception
    base = next(r for r in sweep["membership"]["runs"] if r["epsilon"] is None)
    assert f"{base['auc']:.3f}" in _texts(at)  # the baseline's AUC, read from the JSON
    assert "privacy-sweep" in _texts(at)  # the command that made it


def test_a_live_dp_run_shows_epsilon_rising():
    at = _page()
    at.button(key="risks_privacy_start").click().run()
    for _ in range(20):
        if not at.session_state[privacy.STATE].running:
            break
        at.run()
    assert not at.exception
    state = at.session_state[privacy.STATE]
    assert state.trainer.iteration == 3 and state.score is not None
    epsilons = [s.epsilon for s in state.history]
    assert epsilons == sorted(epsilons) and epsilons[-1] > epsilons[0]
    assert _metric(at, "ε at δ = 1e-05") == f"{epsilons[-1]:.3f}"


@pytest.mark.parametrize("widget, value, message", [
    ("risks_privacy_sigma", 0.0, "infinite"), ("risks_privacy_clip", 1e6, "clipping norm")])
def test_bad_dp_settings_get_a_message_and_start_nothing(widget, value, message):
    at = _page()
    at.number_input(key=widget).set_value(value).run()
    at.button(key="risks_privacy_start").click().run()
    assert not at.exception
    assert message in " ".join(e.value for e in at.error)
    assert at.session_state[privacy.STATE] is None if privacy.STATE in at.session_state else True
