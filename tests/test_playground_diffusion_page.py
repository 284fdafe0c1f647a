"""The 2-D playground in diffusion mode under AppTest: the family switch, training, the chart's layers, the t slider,
the GAN-only buttons, both languages, and a share link that carries the family."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from streamlit.testing.v1 import AppTest

import ui.playground.live  # noqa: F401  (imported here so the first AppTest run does not pay for imports)
from apptest_app import app_test

PAGE = str(Path(__file__).resolve().parents[1] / "pages" / "playground.py")


def _page(lang: str | None = None, **state: object) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=120)
    if lang:
        at.query_params["lang"] = lang
    at.session_state["pg_batch"] = 16  # small batches: the tests check behaviour, not learning
    for key, value in state.items():
        at.session_state[key] = value
    return at.run()


def _ok(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    text = " ".join(str(e.value) for e in [*at.markdown, *at.caption, *at.error, *at.warning, *at.info, *at.title])
    labels = " ".join(str(getattr(w, "label", "")) for w in [*at.button, *at.toggle, *at.selectbox, *at.slider,
                                                             *at.metric])
    assert "⟦" not in text + labels, "a translation key is missing"


def _chart(at: AppTest) -> tuple[dict, dict[str, pa.Table]]:
    proto = at.get("vega_lite_chart")[0].proto
    return json.loads(proto.spec), {d.name: pa.ipc.open_stream(d.data.data).read_all() for d in proto.datasets}


def _diffusion(lang: str | None = None, **state: object) -> AppTest:
    at = _page(lang, **state)
    at.segmented_control(key="pg_family").set_value("diffusion").run()
    _ok(at)
    return at


def test_switching_to_diffusion_draws_its_plane_and_keeps_the_gan_run():
    at = _page()
    at.button(key="pg_step_both").click().run()
    gan = at.session_state["pg_run"]
    at.segmented_control(key="pg_family").set_value("diffusion").run()
    _ok(at)
    assert at.title[0].value == "2-D Diffusion Playground" and at.metric[1].label == "Loss" and len(at.metric) == 5
    run = at.session_state["pg_run_diffusion"]
    assert run.diffusion and type(run.trainers[0]).__name__ == "DiffusionTrainer"
    _, data = _chart(at)
    rows = {name: table.num_rows for name, table in data.items()}
    assert rows["d_real"] == rows["d_fake"] == rows["d_forward"] == 512
    assert rows["d_field"] == 400 and rows["d_particles"] == 64
    assert rows["d_trails"] == 64 * (run.trainers[0].config.sample_steps + 1)  # paused: whole trails
    assert "heat0" not in rows  # none of the GAN's layers
    at.segmented_control(key="pg_family").set_value("gan").run()
    assert at.session_state["pg_run"] is gan and gan.trainers[0].iteration == 1  # the GAN run was kept
    assert at.title[0].value == "2-D GAN Playground"
    _ok(at)


def test_diffusion_mode_in_chinese():
    # AppTest cannot interact with a page in Chinese (its selectbox state looks for English option labels), so the
    # family comes in through session state, as a share link would set it.
    at = _page("zh", pg_family="diffusion")
    _ok(at)
    assert at.title[0].value == "二维扩散模型演练场" and at.metric[1].label == "损失"
    assert "去噪损失" in json.dumps(_chart(at)[0], ensure_ascii=False)
    assert at.button(key="pg_step_d").disabled and "仅用于 GAN" in at.button(key="pg_step_d").help


def test_one_iteration_trains_the_denoiser_and_gan_only_buttons_say_why():
    at = _diffusion()
    for key in ("pg_step_d", "pg_step_g"):
        assert at.button(key=key).disabled and "Only for GANs" in at.button(key=key).help
    assert at.toggle(key="pg_slowmo_diffusion").disabled
    trainer = at.session_state["pg_run_diffusion"].trainers[0]
    at.button(key="pg_step_both").click().run()
    at.button(key="pg_step_both").click().run()
    assert trainer.iteration == 2 and at.metric[0].value == "2"
    history = at.session_state["pg_run_diffusion"].histories[0]
    assert history.step[-1] == 2 and np.isfinite(history.loss[-1]) and np.isnan(history.d_loss[-1])
    spec, data = _chart(at)
    curves = data["curves"]
    assert 4 in curves.column("curve").to_pylist()  # the loss curve (CURVE_KEYS index 4)
    assert "Denoising loss" in json.dumps(spec)
    _ok(at)


def test_the_t_slider_changes_the_field_and_the_forward_process_but_not_the_spec():
    at = _diffusion()
    spec_before, before = _chart(at)
    assert at.slider(key="pg_t").value == 50
    at.slider(key="pg_t").set_value(180).run()
    spec_after, after = _chart(at)
    assert spec_after == spec_before  # same spec, new data: the browser updates the chart in place
    assert not before["d_field"].equals(after["d_field"])
    blur = lambda table: np.std(np.column_stack([table.column("x"), table.column("y")]))  # noqa: E731
    assert blur(after["d_forward"]) < blur(before["d_forward"])  # at t = 180 the ring is shrunk towards N(0, I)...
    assert before["d_fake"].equals(after["d_fake"])  # ... while the samples do not depend on t
    _ok(at)


def test_play_animates_the_particles_and_pause_shows_whole_trails():
    at = _diffusion(pg_redraw=3)
    at.button(key="pg_play_button").click().run()
    run = at.session_state["pg_run_diffusion"]
    assert run.trainers[0].iteration >= 1 and run.frame >= 1
    steps = run.trainers[0].config.sample_steps
    trails = _chart(at)[1]["d_trails"].num_rows
    assert trails % 64 == 0 and trails <= 64 * (steps + 1)
    at.button(key="pg_play_button").click().run()
    assert _chart(at)[1]["d_trails"].num_rows == 64 * (steps + 1)
    _ok(at)


def test_view_toggles_switch_diffusion_layers_off():
    at = _diffusion()
    at.button_group(key="pg_dviews").set_value(["real", "fake"]).run()
    rows = {name: table.num_rows for name, table in _chart(at)[1].items()}
    assert rows["d_real"] == rows["d_fake"] == 512
    assert rows["d_field"] == rows["d_forward"] == rows["d_particles"] == rows["d_trails"] == 0
    _ok(at)


def test_diffusion_chart_is_valid_vega_lite():
    import altair as alt

    from aigc_core import playground as pg
    from aigc_core.factory import toy_source
    from ui.catalog import load_translator
    from ui.playground.diffusion_view import DIFFUSION_LAYERS, build_diffusion_chart

    trainer = pg.build_trainer(pg.PlaygroundSettings(family="diffusion", batch_size=16), toy_source("ring"))
    trainer.step()
    view = pg.compute_diffusion_view(trainer, data="ring", real_shown=pg.shown_real(trainer.source, 0),
                                     noise=pg.diffusion_noise(0), t=20)
    history = pg.History()
    history.record(1, float("nan"), float("nan"), 3.0, 0.4, loss=1.0)
    for frame in (None, 3):
        spec = build_diffusion_chart(load_translator("zh"), view, history, set(DIFFUSION_LAYERS), frame=frame)
        spec["datasets"] = {name: table.to_pylist() for name, table in spec["datasets"].items()}
        alt.Chart.from_dict(spec, validate=True)


def test_particle_animation_runs_from_noise_to_data_then_holds():
    from ui.playground.diffusion_view import HOLD_FRAMES, particle_step

    steps = [particle_step(frame, 4) for frame in range(5 + HOLD_FRAMES + 2)]
    assert steps[:5] == [0, 1, 2, 3, 4] and steps[5 : 5 + HOLD_FRAMES] == [4] * HOLD_FRAMES
    assert steps[5 + HOLD_FRAMES :] == [0, 1]  # and again from x_T


@pytest.mark.usefixtures("whole_app")
def test_a_share_link_with_family_diffusion_round_trips():
    at = app_test(family="diffusion", lr="0.001", seed="3").run()
    at.switch_page("pages/playground.py").run()
    assert not at.exception, at.exception
    ss = at.session_state
    assert (ss["pg_family"], ss["pg_dn_lr"], ss["pg_seed"]) == ("diffusion", 0.001, 3)
    assert dict(at.query_params) == {"family": "diffusion", "lr": "0.001", "seed": "3"}
    assert "family=diffusion" in at.sidebar.code[0].value
    run = ss["pg_run_diffusion"]
    assert run.trainers[0].config.optim.lr == 0.001 and run.trainers[0].config.seed == 3
    at.sidebar.segmented_control(key="pg_family").set_value("gan").run()
    assert "family" not in dict(at.query_params)  # the default is left out: old links read the same


def test_your_own_points_train_a_denoiser():
    at = _diffusion(pg_data="custom")
    assert at.info and at.button(key="pg_play_button").disabled  # no points yet
    at.number_input(key="pg_point_x").set_value(1.0)
    at.number_input(key="pg_point_y").set_value(-0.5)
    at.button(key="pg_point_add").click()
    at.run()
    run = at.session_state["pg_run_diffusion"]
    assert run is not None and len(run.source) == 24
    at.button(key="pg_step_both").click().run()
    assert run.trainers[0].iteration == 1 and at.metric[4].value == "—"  # your own points have no modes
    _ok(at)


def test_teacher_mode_in_diffusion_keeps_hidden_values():
    at = _page(pg_width=16, pg_redraw=7)
    at.query_params["teacher"] = "1"
    at.segmented_control(key="pg_family").set_value("diffusion").run()
    _ok(at)
    at.button(key="pg_step_both").click().run()
    at.segmented_control(key="pg_family").set_value("gan").run()
    assert at.session_state["pg_width"] == 16 and at.session_state["pg_redraw"] == 7
    _ok(at)
