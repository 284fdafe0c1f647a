"""The Train page's diffusion mode under AppTest: pick "Diffusion", step, train a slice, read the charts (the loss by
noise level as a heatmap), the grid and the diagram; change the sampler settings in place; save and resume."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from apptest_app import app_test
from ui.train.export import checkpoint_bytes
from ui.train.run import STATE

pytestmark = pytest.mark.usefixtures("whole_app", "one_thread")


def _diffusion_page() -> AppTest:
    at = app_test().run()
    at.switch_page("pages/train.py").run()
    at.segmented_control(key="train_family").set_value("diffusion").run()
    at.select_slider(key="train_diffusion_steps").set_value(5).run()  # a cheap grid: these tests redraw often
    assert not at.exception, at.exception
    return at


def _run(at: AppTest):
    return at.session_state[STATE]


def _click(at: AppTest, key: str) -> AppTest:
    at.button(key=key).click().run()
    assert not at.exception, at.exception
    return at


def _pictures(at: AppTest) -> list[str]:
    return [h.proto.body for h in at.html if "data:image/png" in h.proto.body]


def test_diffusion_steps_and_shows_its_own_charts_grid_and_diagram():
    at = _diffusion_page()
    run = _run(at)
    assert run.family == "diffusion" and run.trainer.conditional
    assert "train_diffusion_z" not in at.session_state  # a denoiser has no z: no z widget
    _click(at, "train_btn_step")
    assert run.trainer.iteration == 1 and len(run.history) == 1
    charts = at.get("plotly_chart")
    assert len(charts) == 3
    specs = "".join(chart.proto.spec for chart in charts)
    assert "Denoising loss" in specs and "which t the model has learned" in specs and '"heatmap"' in specs
    assert _pictures(at) and "each row asks for one digit" in "".join(_pictures(at))
    assert "Denoiser" in "".join(h.proto.body for h in at.html) or any("Denoiser" in str(m.value) for m in at.markdown)


def test_diffusion_trains_in_slices_and_sampler_settings_apply_in_place():
    at = _diffusion_page()
    run = _run(at)
    _click(at, "train_btn_start")
    at.run()  # one live slice
    assert run.running and run.trainer.iteration > 0
    _click(at, "train_btn_start")  # pause
    steps = run.trainer.iteration
    at.slider(key="train_diffusion_guidance").set_value(4.0).run()
    at.select_slider(key="train_diffusion_steps").set_value(10).run()
    assert not at.exception
    assert _run(at) is run and run.trainer.iteration == steps  # the same model, not rebuilt
    assert run.trainer.config.guidance == 4.0 and run.trainer.config.sample_steps == 10
    assert run.grid is not None and run.grid[1] == (steps, 4.0, 10)  # the grid was redrawn with the new settings


def test_a_saved_diffusion_model_resumes_where_it_stopped():
    at = _diffusion_page()
    _click(at, "train_btn_step")
    _click(at, "train_btn_step")
    data = checkpoint_bytes(_run(at))
    fresh = _diffusion_page()
    fresh.file_uploader(key="train_upload").upload("ddpm.zip", data, "application/zip").run()
    assert not fresh.exception, fresh.exception
    run = _run(fresh)
    assert run.family == "diffusion" and run.trainer.iteration == 2 and run.origin == "upload"
    _click(fresh, "train_btn_step")
    assert run.trainer.iteration == 3
