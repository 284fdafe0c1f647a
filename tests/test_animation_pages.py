"""The training as an animated GIF, as a user gets it: train a few slices on the Train page or in the playground,
press "Make the GIF", and a download of a GIF with the kept frames is offered (AppTest). The browser's real
download is checked in tests/e2e/test_animation_browser.py."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from apptest_app import app_test
from ui.train.run import STATE, animation_frames

PLAYGROUND = str(Path(__file__).resolve().parents[1] / "pages" / "playground.py")


def _ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    return at


def _gif(data: bytes) -> Image.Image:
    gif = Image.open(io.BytesIO(data))
    assert gif.format == "GIF"
    return gif


def _texts(at: AppTest) -> str:
    return " ".join(str(e.value) for e in [*at.markdown, *at.caption, *at.info, *at.error])


@pytest.mark.usefixtures("whole_app")
def test_train_a_few_slices_then_download_the_training_as_gif():
    at = _ok(app_test().run())
    _ok(at.switch_page("pages/train.py").run())
    assert "Start training and come back" in _texts(at)  # the History tab says there is nothing yet
    at.select_slider(key="train_slice").set_value(0.2).run()
    _ok(at.button(key="train_btn_start").click().run())
    run = at.session_state[STATE]
    for _ in range(12):  # a few slices, until a few frames are kept (a snapshot every 10 steps)
        if len(run.snapshots) >= 3:
            break
        _ok(at.run())
    _ok(at.button(key="train_btn_start").click().run())  # Pause
    assert not run.running and len(run.snapshots) >= 3
    frames = animation_frames(run)
    assert not [b for b in at.get("download_button") if b.proto.label == "Download the GIF"]  # not before asked
    _ok(at.button(key="train_gif_make").click().run())
    buttons = [b for b in at.get("download_button") if b.proto.label == "Download the GIF"]
    assert len(buttons) == 1
    data = at.session_state["train_gif"][4]  # what the download button serves
    gif = _gif(data)
    assert gif.n_frames == len(frames) and gif.width == frames[0][1].shape[1]
    assert f"{len(frames)} frames, 0 to {frames[-1][0]:,}" in _texts(at)
    _ok(at.button(key="train_btn_reset").click().run())  # a new run: the old film is no longer offered
    assert not [b for b in at.get("download_button") if b.proto.label == "Download the GIF"]


def _playground(**state: object) -> AppTest:
    at = AppTest.from_file(PLAYGROUND, default_timeout=60)
    at.session_state["pg_batch"] = 16
    for key, value in state.items():
        at.session_state[key] = value
    return _ok(at.run())


def test_playground_play_then_download_the_plane_as_gif():
    at = _playground(pg_redraw=3)
    assert "at least two frames" in _texts(at)  # one redraw so far: nothing to animate
    assert not [b for b in at.button if b.key == "pg_gan_gif_make"]
    _ok(at.button(key="pg_play_button").click().run())  # one timed run: frame after frame
    _ok(at.button(key="pg_play_button").click().run())  # Pause
    run = at.session_state["pg_run"]
    kept = run.frames.steps()
    assert len(kept) >= 3 and kept[0] == 0 and kept[-1] == run.trainers[0].iteration
    _ok(at.button(key="pg_gan_gif_make").click().run())
    assert [b for b in at.get("download_button") if b.proto.label == "Download the GIF"]
    gif = _gif(at.session_state["pg_gan_gif"][4])
    assert gif.n_frames == len(kept) and gif.width == 240  # one 240 px plane per frame
    gif.seek(0)
    first = gif.convert("RGB").copy()
    gif.seek(gif.n_frames - 1)
    last = gif.convert("RGB").copy()
    assert first.tobytes() != last.tobytes()  # G's points moved while it trained


def test_playground_side_by_side_draws_two_planes():
    at = _playground(pg_redraw=3, pg_compare=True)
    _ok(at.button(key="pg_step_both").click().run())
    _ok(at.button(key="pg_gan_gif_make").click().run())
    gif = _gif(at.session_state["pg_gan_gif"][4])
    assert gif.n_frames == 2 and gif.width == 2 * 240 + 8


def test_playground_diffusion_mode_has_its_own_film():
    at = _playground(pg_family="diffusion")
    for _ in range(2):
        _ok(at.button(key="pg_step_both").click().run())  # one denoiser step each
    run = at.session_state["pg_run_diffusion"]
    assert run.frames.steps() == [0, 1, 2]
    _ok(at.button(key="pg_diffusion_gif_make").click().run())
    gif = _gif(at.session_state["pg_diffusion_gif"][4])
    assert gif.n_frames == 3 and gif.width == 240
    assert "pg_gan_gif" not in at.session_state  # the GAN run's film is another one
