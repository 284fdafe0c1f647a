"""Teacher mode and link notices in the running app (AppTest through app.py), and the share glue on a tiny page."""

from __future__ import annotations

from apptest_app import app_test, run_like_server
from streamlit.testing.v1 import AppTest

from ui.teacher import TOUR


def _sidebar_text(at) -> str:
    return "\n".join(m.value for m in at.sidebar.markdown) + "\n".join(c.value for c in at.sidebar.caption)


def test_teacher_mode_is_off_by_default_and_the_tour_hidden():
    with run_like_server():
        at = app_test().run()
    assert not at.exception
    assert at.sidebar.toggle(key="_aigc_teacher_toggle").value is False
    assert "Guided tour" not in _sidebar_text(at)
    assert "teacher" not in at.query_params


def test_a_prepared_link_opens_the_tour_at_its_step_in_chinese():
    with run_like_server():
        at = app_test(lang="zh", teacher="1", tstep="3").run()
    assert not at.exception
    text = _sidebar_text(at)
    assert "课堂引导" in text and "在潜在空间中滑动" in text
    assert at.sidebar.toggle(key="_aigc_teacher_toggle").value is True


def test_next_and_previous_move_through_the_tour_and_switch_pages():
    with run_like_server():
        at = app_test(teacher="1", tstep="3").run()
        at.sidebar.button(key="_aigc_teacher_prev").click().run()  # step 2 is on the Train page
        assert not at.exception
        assert at.query_params["tstep"] == "2"
        assert "You are on the Train page." in _sidebar_text(at)  # it switched to the step's page
        at.sidebar.button(key="_aigc_teacher_prev").click().run()  # step 1 is on the Train page too: no switch
        assert "tstep" not in at.query_params  # step 1 is the default: short links
        assert "1. Watch D and G fight" in _sidebar_text(at)
        assert at.sidebar.button(key="_aigc_teacher_prev").disabled
        assert not at.exception


def test_the_last_step_has_no_next():
    with run_like_server():
        at = app_test(teacher="1", tstep=str(len(TOUR))).run()
    assert at.sidebar.button(key="_aigc_teacher_next").disabled
    assert not at.sidebar.button(key="_aigc_teacher_prev").disabled


def test_teacher_mode_survives_a_page_switch_and_can_be_turned_off():
    with run_like_server():
        at = app_test(teacher="1", lang="zh").run()
        at.switch_page("pages/concepts.py").run()
        assert at.query_params["teacher"] == "1" and at.query_params["lang"] == "zh"
        assert "课堂引导" in _sidebar_text(at)
        at.sidebar.toggle(key="_aigc_teacher_toggle").set_value(False).run()
        assert "teacher" not in at.query_params and "tstep" not in at.query_params
        assert "课堂引导" not in _sidebar_text(at)
        at.sidebar.toggle(key="_aigc_teacher_toggle").set_value(True).run()
        assert at.query_params["teacher"] == "1"
        assert not at.exception


def test_tampered_shell_parameters_fall_back_with_a_notice():
    with run_like_server():
        at = app_test(lang="klingon", teacher="yes please", tstep="99").run()
    assert not at.exception
    notice = at.info[0].value
    assert "`klingon`" in notice and "`yes please`" in notice and "`99`" in notice
    assert dict(at.query_params) == {}  # bad values removed from the URL
    assert at.sidebar.toggle(key="_aigc_teacher_toggle").value is False


def test_a_bad_step_in_teacher_mode_starts_the_tour_at_step_one():
    with run_like_server():
        at = app_test(teacher="1", tstep="-1").run()
    assert f"1 to {len(TOUR)}" in at.info[0].value
    assert "1. Watch D and G fight" in _sidebar_text(at)


# A tiny page that adopts sharing the way a real page does: sync before its widgets, write after them.
_PAGE = '''
import streamlit as st
from ui.share.codec import Param
from ui.share.sync import share_link_box, sync_setup, write_setup
SETUP = (
    Param("loss", "non_saturating", choices=("minimax", "non_saturating", "wgan_gp"), widget="loss"),
    Param("lr", 2e-4, choices=(1e-4, 2e-4, 5e-4, 1e-3), widget="lr"),
    Param("k", 1, low=1, high=5, widget="k"),
    Param("seed", 0, low=0, high=2**31 - 1, widget="seed"),
)
sync_setup(SETUP)
st.selectbox("loss", ["minimax", "non_saturating", "wgan_gp"], index=1, key="loss")  # i18n: ok
st.select_slider("lr", [1e-4, 2e-4, 5e-4, 1e-3], value=2e-4, key="lr")  # i18n: ok
st.slider("k", 1, 5, 1, key="k")
st.number_input("seed", 0, 2**31 - 1, 0, key="seed")  # i18n: ok
write_setup(SETUP)
share_link_box(SETUP)
'''


def test_a_link_sets_the_widgets_and_the_widgets_write_the_link():
    at = AppTest.from_string(_PAGE, default_timeout=30)
    at.query_params.update({"loss": "wgan_gp", "lr": "0.001", "k": "3", "seed": "42", "lang": "zh"})
    at.run()
    assert not at.exception and not at.info
    assert (at.selectbox(key="loss").value, at.select_slider(key="lr").value) == ("wgan_gp", 1e-3)
    assert (at.slider(key="k").value, at.number_input(key="seed").value) == (3, 42)
    # The user changes the set-up: the URL follows, defaults drop out of it, other parameters stay.
    at.slider(key="k").set_value(1).run()
    at.number_input(key="seed").set_value(7).run()
    assert dict(at.query_params) == {"loss": "wgan_gp", "lr": "0.001", "seed": "7", "lang": "zh"}
    assert at.slider(key="k").value == 1  # not reset to the link's k=3 on the next run
    assert "seed=7" in at.code[0].value and "lang=zh" in at.code[0].value


def test_a_tampered_link_keeps_the_good_values_and_explains_the_bad_ones():
    at = AppTest.from_string(_PAGE, default_timeout=30)
    at.query_params.update({"loss": "rm -rf", "lr": "nan", "k": "3", "seed": "-5"})
    at.run()
    assert not at.exception
    notice = at.info[0].value
    assert "`rm -rf`" in notice and "`nan`" in notice and "`-5`" in notice
    assert at.selectbox(key="loss").value == "non_saturating" and at.slider(key="k").value == 3
    assert at.number_input(key="seed").value == 0
    assert dict(at.query_params) == {"k": "3"}  # the URL is cleaned to what is actually shown
    at.slider(key="k").set_value(2).run()
    assert not at.info  # the notice was about the link; it does not come back on every rerun
