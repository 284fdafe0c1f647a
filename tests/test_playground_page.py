"""The 2-D playground page under AppTest: every control does what a user would notice.

Each test starts from a fresh session; training is kept to a few small steps (batch 16) so the file stays quick.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest
import torch
from streamlit.testing.v1 import AppTest

import ui.playground.settings  # noqa: F401  (imported here so the first AppTest run does not pay for imports)
import ui.playground.data  # noqa: F401
import ui.playground.live  # noqa: F401
from aigc_core.errors import TrainingDiverged
from aigc_core.evaluation import PRETRAINED_DIR
from aigc_core.playground import pretrained_name

PAGE = str(Path(__file__).resolve().parents[1] / "pages" / "playground.py")


@pytest.fixture(scope="module", autouse=True)
def _warm_up() -> None:
    """One untimed run first: the process's first run loads translations and Plotly's figure machinery, which on
    a busy machine can take longer than a test's 60 s budget; the tests then time the page itself."""
    AppTest.from_file(PAGE, default_timeout=600).run()


def _page(lang: str | None = None, **state: object) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    if lang:
        at.query_params["lang"] = lang
    at.session_state["pg_batch"] = 16  # small batches: the tests check behaviour, not learning
    for key, value in state.items():
        at.session_state[key] = value
    return at.run()


def _ok(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    text = " ".join(str(e.value) for e in [*at.markdown, *at.caption, *at.error, *at.warning, *at.info])
    labels = " ".join(str(getattr(w, "label", "")) for w in [*at.button, *at.toggle, *at.selectbox, *at.slider])
    assert "⟦" not in text + labels, "a translation key is missing"


def _run(at: AppTest):
    return at.session_state["pg_run"]


def _chart(at: AppTest, index: int = 0) -> tuple[dict, dict[str, pa.Table]]:
    """The live Vega-Lite chart: its spec and its datasets (Arrow tables, by name)."""
    proto = at.get("vega_lite_chart")[index].proto
    datasets = {d.name: pa.ipc.open_stream(d.data.data).read_all() for d in proto.datasets}
    return json.loads(proto.spec), datasets


def _rows(at: AppTest) -> dict[str, int]:
    return {name: table.num_rows for name, table in _chart(at)[1].items()}


@pytest.mark.parametrize("lang, title", [("en", "2-D GAN Playground"), ("zh", "二维 GAN 演练场")])
def test_page_draws_the_plane_and_charts_in_both_languages(lang, title):
    at = _page(lang)
    _ok(at)
    assert at.title[0].value == title
    rows = _rows(at)
    assert rows["heat0"] == 1 and rows["real0"] == rows["fake0"] == 512  # the heatmap travels as one PNG
    assert rows["manifold0"] == 22 * 41 and rows["arrows0"] == 48 and rows["batch0"] == 0
    assert rows["curves"] >= 2  # the first frame's KL and JS (no losses before the first update)
    spec, _ = _chart(at)
    assert "hconcat" in spec  # the plane beside the charts
    assert len(at.metric) == 6


def test_d_step_g_step_and_one_iteration():
    at = _page(pg_k=2)
    at.button(key="pg_step_d").click().run()
    trainer = _run(at).trainers[0]
    assert (trainer.d_updates, trainer.iteration) == (1, 0)
    at.button(key="pg_step_g").click().run()
    assert (trainer.d_updates, trainer.iteration) == (1, 1)
    at.button(key="pg_step_both").click().run()  # k = 2 D updates, then one G update
    assert (trainer.d_updates, trainer.iteration) == (3, 2)
    assert _run(at).histories[0].step[-1] == 2
    assert at.metric[0].value == "2"
    _ok(at)


def test_play_trains_between_redraws_and_pause_stops(monkeypatch):
    at = _page(pg_redraw=3)
    at.button(key="pg_play_button").click().run()
    assert at.session_state["pg_playing"] is True
    assert at.button(key="pg_play_button").label == "Pause"
    trainer = _run(at).trainers[0]
    first = trainer.iteration
    # One timed run of the fragment draws frame after frame, each after at most "redraw every" iterations.
    steps = _run(at).histories[0].step
    assert first >= 1 and steps[-1] == first and len(steps) >= 3
    assert all(0 < b - a <= 3 for a, b in zip(steps[1:], steps[2:])), steps
    assert at.metric[0].value == f"{first:,}"  # the readouts show the last frame
    at.run()  # the fragment's next timed run does the same
    assert trainer.iteration > first
    at.button(key="pg_play_button").click().run()
    assert at.session_state["pg_playing"] is False
    stopped = trainer.iteration
    at.run()
    assert trainer.iteration == stopped
    _ok(at)


def test_live_setting_applies_from_the_next_step_without_reset():
    at = _page()
    at.button(key="pg_step_both").click().run()
    trainer = _run(at).trainers[0]
    at.selectbox(key="pg_loss").select("least_squares").run()
    at.select_slider(key="pg_d_lr").set_value(0.01).run()
    assert _run(at).trainers[0] is trainer  # the same, trained model
    assert trainer.config.loss == "least_squares" and trainer.config.d_optim.lr == 0.01
    assert not at.warning
    at.button(key="pg_step_both").click().run()
    assert trainer.iteration == 2
    _ok(at)


def test_architecture_change_waits_for_reset_and_says_so():
    at = _page()
    at.button(key="pg_step_both").click().run()
    trainer = _run(at).trainers[0]
    at.select_slider(key="pg_width").set_value(8).run()
    assert _run(at).trainers[0] is trainer and trainer.iteration == 1  # nothing discarded silently
    assert "neurons per layer" in at.warning[0].value and "Reset" in at.warning[0].value
    at.button(key="pg_reset").click().run()
    fresh = _run(at).trainers[0]
    assert fresh is not trainer and fresh.iteration == 0 and fresh.model.config.width == 8
    assert not at.warning
    _ok(at)


def test_architecture_change_before_any_training_applies_at_once():
    at = _page()
    at.segmented_control(key="pg_zdim").set_value(1).run()
    assert _run(at).trainers[0].model.config.z_dim == 1 and not at.warning
    manifold = _chart(at)[1]["manifold0"]
    assert set(manifold.column("line").to_pylist()) == {0.0} and manifold.num_rows == 201  # 1-D noise: one curve
    _ok(at)


def test_view_toggles_switch_layers_off():
    at = _page()
    spec_before, _ = _chart(at)
    at.button_group(key="pg_views").set_value(["real", "fake"]).run()
    rows = _rows(at)
    assert rows["real0"] == rows["fake0"] == 512
    assert rows["heat0"] == rows["manifold0"] == rows["arrows0"] == 0
    assert _chart(at)[0] == spec_before  # same spec, new data: the browser updates the chart in place
    _ok(at)


def test_side_by_side_trains_two_runs_from_the_same_weights():
    at = _page()
    at.toggle(key="pg_compare").set_value(True).run()
    run = _run(at)
    assert run.compare and [t.config.loss for t in run.trainers] == ["non_saturating", "minimax"]
    a, b = run.trainers
    assert all(torch.equal(p, q) for p, q in zip(a.model.parameters(), b.model.parameters()))
    at.button(key="pg_step_both").click().run()
    assert a.iteration == b.iteration == 1
    rows = _rows(at)
    assert rows["heat0"] == rows["heat1"] == 1  # two planes
    curves = _chart(at)[1]["curves"]
    assert set(curves.column("run").to_pylist()) == {0, 1}  # both runs' curves
    assert "minimax" in at.markdown[-2].value or any("minimax" in m.value for m in at.markdown)
    at.slider(key="pg_b_k").set_value(3).run()  # B's k applies to B only, from the next step
    assert (a.config.d_steps, b.config.d_steps) == (1, 3)
    assert at.toggle(key="pg_slowmo").disabled
    _ok(at)


def test_slow_motion_walks_one_iteration_phase_by_phase():
    at = _page()
    at.toggle(key="pg_slowmo").set_value(True).run()
    _ok(at)
    assert at.button(key="pg_play_button").disabled
    trainer = _run(at).trainers[0]
    at.button(key="playground_slowmo_next").click().run()
    assert any("Phase 1" in m.value or "1 of" in m.value for m in at.markdown)
    for _ in range(3):
        at.button(key="playground_slowmo_next").click().run()
    assert trainer.d_updates == 0  # D's update is phase 6
    at.button(key="playground_slowmo_finish").click().run()
    assert (trainer.d_updates, trainer.iteration) == (1, 1)
    assert _run(at).histories[0].step[-1] == 1
    at.button(key="playground_slowmo_next").click().run()  # phase 1 of the next iteration: a new batch
    assert _rows(at)["batch0"] > 0  # the batch drawn on the plane
    at.toggle(key="pg_slowmo").set_value(False).run()
    assert len(at.get("vega_lite_chart")) == 1
    _ok(at)


@pytest.mark.skipif(not (PRETRAINED_DIR / pretrained_name("ring") / "config.json").is_file(),
                    reason="pretrained/toy_ring not produced (scripts/train_pretrained_toy.sh)")
def test_pretrained_toggle_loads_the_shipped_model():
    at = _page()
    at.toggle(key="pg_pretrained").set_value(True).run()
    run = _run(at)
    assert run.pretrained_steps and run.pretrained_steps > 0
    from ui.resources import pretrained

    shipped = pretrained(pretrained_name("ring")).model
    model = run.trainers[0].model
    assert model is not shipped
    assert all(torch.equal(p, q) for p, q in zip(model.state_dict().values(), shipped.state_dict().values()))
    assert at.select_slider(key="pg_width").disabled
    at.button(key="pg_step_both").click().run()
    assert not torch.equal(next(model.parameters()), next(shipped.parameters()))  # the shared copy is untouched
    _ok(at)


def test_csv_upload_trains_on_it_and_bad_files_get_a_clear_message():
    at = _page(pg_data="custom")
    _ok(at)
    assert at.info and at.button(key="pg_play_button").disabled
    at.file_uploader(key="pg_upload").set_value(("bad.csv", b"x,y\n1,2\n3,abc\n", "text/csv")).run()
    assert "bad.csv" in at.error[0].value and "'abc' is not a number" in at.error[0].value
    assert "pg_run" not in at.session_state or _run(at) is None
    rows = "\n".join(f"{i % 7},{(i * 3) % 5}" for i in range(40))
    at.file_uploader(key="pg_upload").set_value(("points.csv", ("x,y\n" + rows).encode(), "text/csv")).run()
    run = _run(at)
    assert len(run.source) == 40 and run.source.points.abs().max() <= 2.5 + 1e-6
    at.button(key="pg_step_both").click().run()
    assert run.trainers[0].iteration == 1
    _ok(at)


def test_typed_point_makes_a_cloud_and_starts_a_run():
    at = _page(pg_data="custom")
    at.number_input(key="pg_point_x").set_value(1.0)
    at.number_input(key="pg_point_y").set_value(-0.5)
    at.button(key="pg_point_add").click()
    at.run()
    points = at.session_state["pg_custom_points"]
    assert points.shape == (24, 2) and (points.mean(0) - torch.tensor([1.0, -0.5])).abs().max() < 0.1
    assert _run(at) is not None
    _ok(at)


def test_divergence_pauses_and_explains(monkeypatch):
    import ui.playground.run as state

    def explode(*_args, **_kwargs):
        raise TrainingDiverged("Training diverged at step 3: the generator loss became nan.")

    monkeypatch.setattr(state, "run_slice", explode)
    at = _page()
    at.button(key="pg_play_button").click().run()
    assert at.session_state["pg_playing"] is False
    assert "diverged" in at.error[0].value
    _ok(at)


@pytest.mark.parametrize("runs, charts", [(1, True), (2, True), (1, False)])
def test_live_chart_is_valid_vega_lite(runs, charts):
    import altair as alt

    from aigc_core import playground as pg
    from aigc_core.factory import toy_source
    from ui.catalog import load_translator
    from ui.playground.view import LAYERS, build_chart

    trainer = pg.build_trainer(pg.PlaygroundSettings(hidden_layers=1, width=8, batch_size=16), toy_source("ring"))
    trainer.step()
    view = pg.compute_view(trainer, data="ring", real_shown=pg.shown_real(trainer.source, 0),
                           noise=pg.view_noise(trainer.model, 0))
    history = pg.History()
    history.record(1, 1.0, 0.5, 3.0, 0.4)
    spec = build_chart(load_translator("en"), [view] * runs, [history] * runs, set(LAYERS), run_labels=("A", "B")[:runs], charts=charts,
                       batch={"real": torch.zeros(3, 2), "fake": None})
    spec["datasets"] = {name: table.to_pylist() for name, table in spec["datasets"].items()}
    alt.Chart.from_dict(spec, validate=True)  # raises on anything Vega-Lite's schema does not allow


def test_heat_image_colours_d_with_neutral_grey_in_the_middle():
    import base64
    import io

    from PIL import Image

    from ui.playground.view import HEAT_RANGE, heat_display, heat_image

    values = torch.tensor([[0.0, 0.5], [1.0, 0.25]]).numpy()  # rows along y: row 0 is the bottom
    url = heat_image(heat_display(values, zmid=0.5, zmax=1.0))
    picture = Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))).convert("RGB")
    assert picture.size == (2, 2)
    hex_of = lambda xy: "#%02x%02x%02x" % picture.getpixel(xy)  # noqa: E731
    assert hex_of((0, 1)) == HEAT_RANGE[0]  # bottom-left: D(x) = 0, "generated"
    assert hex_of((1, 1)) == HEAT_RANGE[1]  # bottom-right: 0.5, cannot tell
    assert hex_of((0, 0)) == HEAT_RANGE[2]  # top-left: 1, "real"
    # A critic's raw scores: the neutral value maps to the middle colour whatever the scale.
    assert heat_display(torch.tensor([3.0, 5.0, 1.0]).numpy(), zmid=3.0, zmax=5.0).tolist() == [0.5, 1.0, 0.0]


@pytest.mark.skipif(not (PRETRAINED_DIR / pretrained_name("ring") / "config.json").is_file(),
                    reason="pretrained/toy_ring not produced (scripts/train_pretrained_toy.sh)")
def test_pretrained_brings_its_architecture_whatever_the_widgets_say():
    at = _page(pg_pretrained=True, pg_width=8)  # e.g. a share link that sets both
    _ok(at)
    run = _run(at)
    assert run.pretrained_steps and run.trainers[0].model.config.width == 64
    assert not at.error
