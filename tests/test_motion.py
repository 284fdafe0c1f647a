"""Reduced motion (ui/motion.py, ui/style.py) in the running app: the sidebar switch stops the page's CSS motion
and the playground's particle animation, survives page switches and travels in the link (?still=1)."""

from __future__ import annotations

import json

import pyarrow as pa
import pytest
from apptest_app import app_test, run_like_server
from streamlit.testing.v1 import AppTest

import ui.playground.live as live
from ui.style import STILL_MARKER, page_css

TOGGLE = "_aigc_still_toggle"


def _css(at: AppTest) -> str:
    return "\n".join(element.proto.body for element in at.get("html") if "prefers-reduced-motion" in element.proto.body)


def _trails(at: AppTest) -> int:
    proto = at.get("vega_lite_chart")[0].proto
    assert "d_trails" in json.dumps(json.loads(proto.spec))
    tables = {d.name: pa.ipc.open_stream(d.data.data).read_all() for d in proto.datasets}
    return tables["d_trails"].num_rows


def test_page_css_follows_the_browser_always_and_the_setting_when_on():
    assert "@media (prefers-reduced-motion: reduce)" in page_css(False) and STILL_MARKER not in page_css(False)
    still = page_css(True)
    rules = still.split(STILL_MARKER, 1)[1]  # the unconditional rules, outside the media query
    assert "transition-duration: 0.01ms !important" in rules and "animation-duration: 0.01ms !important" in rules


def test_the_switch_is_off_by_default_and_survives_page_switches():
    with run_like_server():
        at = app_test().run()
        assert not at.exception
        assert at.sidebar.toggle(key=TOGGLE).value is False and "still" not in at.query_params
        assert STILL_MARKER not in _css(at) and "prefers-reduced-motion" in _css(at)
        at.sidebar.toggle(key=TOGGLE).set_value(True).run()
        assert at.query_params["still"] == "1" and STILL_MARKER in _css(at)
        for page in ("pages/train.py", "pages/lessons.py", "pages/home.py"):
            at.switch_page(page).run()
            assert not at.exception
            assert at.query_params["still"] == "1", page  # the link keeps it
            assert at.sidebar.toggle(key=TOGGLE).value is True, page
            assert STILL_MARKER in _css(at), page
        at.sidebar.toggle(key=TOGGLE).set_value(False).run()
        assert "still" not in at.query_params and STILL_MARKER not in _css(at)


def test_a_link_with_still_turns_it_on_in_chinese():
    with run_like_server():
        at = app_test(still="1", lang="zh").run()
    assert not at.exception
    toggle = at.sidebar.toggle(key=TOGGLE)
    assert toggle.value is True and toggle.label == "减少动画" and "?still=1" in toggle.help


def test_a_bad_value_falls_back_with_a_notice():
    with run_like_server():
        at = app_test(still="sometimes").run()
    assert not at.exception and "still" not in at.query_params
    assert at.sidebar.toggle(key=TOGGLE).value is False


@pytest.mark.parametrize("page", ["pages/playground.py"])
def test_reduced_motion_keeps_the_particles_still_while_playing(monkeypatch, page):
    """Playing trains and redraws either way; with the setting on, the particles rest on their samples with
    their whole trails (as when paused) instead of moving one sampler step per redraw."""
    monkeypatch.setattr(live, "FRAGMENT_SECONDS", 0.0)  # one frame per run: the animation frame is predictable
    with run_like_server():
        at = app_test(still="1")
        at.session_state["pg_batch"] = 16
        at.session_state["pg_family"] = "diffusion"
        at.session_state["pg_redraw"] = 3
        at.run()
        at.switch_page(page).run()
        at.button(key="pg_play_button").click().run()
        assert not at.exception
        run = at.session_state["pg_run_diffusion"]
        whole = 64 * (run.trainers[0].config.sample_steps + 1)
        trained = run.trainers[0].iteration
        assert trained >= 1 and run.frame >= 1  # playing: trained and redrawn
        assert _trails(at) == whole  # ... and the particles stand still
        at.sidebar.toggle(key=TOGGLE).set_value(False).run()  # still playing, motion allowed again
        assert run.trainers[0].iteration > trained
        assert _trails(at) < whole  # the particles are on their way from noise to the data
        assert not at.exception
