"""Playground: a share link sets the sidebar and the run, the sidebar writes the link, bad values fall back."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from apptest_app import app_test


pytestmark = pytest.mark.usefixtures("whole_app")


def _playground(**query: str) -> AppTest:
    at = app_test(**query).run()
    at.switch_page("pages/playground.py").run()
    assert not at.exception, at.exception
    return at


def test_a_link_sets_the_playground():
    at = _playground(loss="wgan_gp", k="4", lr_g="0.01", lr_d="0.0003", seed="5", batch="64")
    ss = at.session_state
    assert (ss["pg_loss"], ss["pg_k"], ss["pg_g_lr"], ss["pg_d_lr"], ss["pg_seed"], ss["pg_batch"]) == (
        "wgan_gp", 4, 0.01, 3e-4, 5, 64)
    assert at.sidebar.slider(key="pg_k").value == 4
    assert dict(at.query_params) == {"loss": "wgan_gp", "k": "4", "lr_g": "0.01", "lr_d": "0.0003", "seed": "5",
                                     "batch": "64"}
    assert "k=4" in at.sidebar.code[0].value


def test_changing_the_sidebar_updates_the_link_and_tampering_is_reported():
    at = _playground(k="99", lr_g="0.02", data="../../etc/passwd", seed="3")
    notice = "\n".join(i.value for i in at.info)
    assert "`99`" in notice and "`0.02`" in notice and "`../../etc/passwd`" in notice
    assert at.session_state["pg_k"] == 1 and at.session_state["pg_seed"] == 3
    at.sidebar.slider(key="pg_k").set_value(3).run()
    assert dict(at.query_params) == {"seed": "3", "k": "3"}


def test_teacher_mode_hides_advanced_settings_but_keeps_their_values():
    at = _playground(teacher="1", width="16")
    labels = [e.label for e in at.sidebar.expander]
    assert not any(label in labels for label in ("Model", "Side by side", "Display"))
    assert any("hidden in teacher mode" in c.value for c in at.sidebar.caption)
    at.sidebar.slider(key="pg_k").set_value(2).run()  # a rerun with the architecture widgets still hidden
    assert at.session_state["pg_width"] == 16 and at.session_state["pg_k"] == 2
    assert at.query_params["width"] == "16"
    at.sidebar.toggle(key="_aigc_teacher_toggle").set_value(False).run()
    assert at.sidebar.select_slider(key="pg_width").value == 16
