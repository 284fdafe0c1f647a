"""A trained model survives a page reload, and a second tab on the same link gets a model of its own
(ui/server/parking.py): the store's rules, then the Train page under AppTest (a reload is a new session that arrives
with the old URL)."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import ui.train.live  # noqa: F401  (imported up front so the first AppTest run does not pay for imports)
from ui.server import parking
from ui.train.run import STATE

TRAIN = str(Path(__file__).resolve().parents[1] / "pages" / "train.py")


# --- the store -----------------------------------------------------------------------------------------------


def test_a_reload_adopts_the_run_of_a_disconnected_tab():
    park = parking.RunPark()
    model = object()
    park.park("token-abcdef", "old-session", model)
    assert park.claim("token-abcdef", "new-session", is_connected=lambda s: False) is model
    # The adopter now owns it: the old session, were it to come back, would be "another tab".
    assert park.claim("token-abcdef", "old-session", is_connected=lambda s: s == "new-session") is None


def test_a_second_tab_never_takes_the_run_of_a_connected_one():
    park = parking.RunPark()
    park.park("token-abcdef", "first", "model")
    assert park.claim("token-abcdef", "second", is_connected=lambda s: s == "first") is None
    assert park.claim("token-abcdef", "first", is_connected=lambda s: True) == "model"  # its own tab: always
    assert park.claim("no-such-token", "second", is_connected=lambda s: False) is None


def test_idle_runs_are_released_and_one_run_per_token(clock):
    park = parking.RunPark(clock)
    park.park("token-aaaaaa", "a", "first model")
    park.park("token-aaaaaa", "a", "after Reset")  # replaces: one run per tab
    clock.now += 50
    park.park("token-bbbbbb", "b", "other")
    assert len(park) == 2
    clock.now += 20
    assert park.release_idle(60) == 1
    assert not park.holds("token-aaaaaa") and park.holds("token-bbbbbb")


@pytest.mark.parametrize("raw, ok", [("Ab3_-xyzAB12", True), ("short", False), ("../../etc", False),
                                     ("x" * 65, False), (None, False)])
def test_only_plausible_tokens_are_looked_up(raw, ok):
    assert parking.is_token(raw) is ok


# --- the Train page ------------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def fresh_park(monkeypatch):
    monkeypatch.setattr(parking, "PARK", parking.RunPark())
    monkeypatch.setattr(parking, "RELOAD_GRACE_S", 0.0)


@pytest.fixture(scope="module", autouse=True)
def _warm_up() -> None:
    AppTest.from_file(TRAIN, default_timeout=600).run()


def _open(**query: str) -> AppTest:
    at = AppTest.from_file(TRAIN, default_timeout=120)
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _texts(at: AppTest) -> str:
    return "\n".join(str(e.value) for kind in ("success", "info", "warning", "error") for e in getattr(at, kind))


def _trained_tab() -> tuple[AppTest, str]:
    at = _open()
    assert parking.PARAM not in at.query_params  # an untrained model is not worth a token: a bare URL
    at.number_input(key="train_gan_seed").set_value(5).run()
    at.button(key="train_btn_step_d").click().run()
    at.button(key="train_btn_step_g").click().run()
    assert at.session_state[STATE].trainer.iteration == 1
    token = at.query_params[parking.PARAM]
    assert parking.is_token(token)
    return at, token


def test_reloading_the_page_brings_the_trained_model_back(monkeypatch):
    first, token = _trained_tab()
    run = first.session_state[STATE]
    monkeypatch.setattr(parking, "is_connected", lambda session: False)  # the old page has gone
    reloaded = _open(**{parking.PARAM: token, "seed": "5"})
    assert reloaded.session_state[STATE] is run  # the same model, steps and history
    assert run.trainer.iteration == 1 and not run.running
    assert "the page was reloaded, and your model is here again at step 1" in _texts(reloaded)
    assert reloaded.number_input(key="train_gan_seed").value == 5  # the sidebar it was trained with
    assert reloaded.query_params[parking.PARAM] == token
    reloaded.button(key="train_btn_step_g").click().run()  # and it trains on
    assert not reloaded.exception and run.trainer.iteration == 2


def test_a_second_tab_on_the_same_link_gets_its_own_model(monkeypatch):
    first, token = _trained_tab()
    monkeypatch.setattr(parking, "is_connected", lambda session: True)  # the first tab is still open
    second = _open(**{parking.PARAM: token})
    assert "being trained in another tab that is still open" in _texts(second)
    assert second.session_state[STATE] is not first.session_state[STATE]
    assert second.session_state[STATE].trainer.iteration == 0
    assert parking.PARAM not in second.query_params  # the first tab's token is not this tab's
    assert first.session_state[STATE].trainer.iteration == 1


def test_a_stale_or_tampered_token_starts_afresh_with_a_notice():
    for raw in ("Zz9-not-parked-here", "<script>"):
        at = _open(**{parking.PARAM: raw})
        assert "no longer on the server" in _texts(at)
        assert at.session_state[STATE].trainer.iteration == 0
        assert parking.PARAM not in at.query_params


def test_reset_forgets_the_parked_model():
    at, token = _trained_tab()
    at.button(key="train_btn_reset").click().run()
    assert not parking.PARK.holds(token)
    assert parking.PARAM not in at.query_params


def test_the_share_link_never_carries_the_tabs_token():
    at, token = _trained_tab()
    assert all(token not in code.value for code in at.code)
