"""The Train page under AppTest: what a student does with it, a few slices at a time.

In AppTest the live fragment runs once per `at.run()`, so each run is one training slice while running. The whole
app runs each time (`run_like_server`), as on the server. Chinese is checked by tests/test_i18n_pages.py and in the
browser: AppTest formats translated options in its own thread, in English, so it cannot click through a Chinese page.
"""

from __future__ import annotations

import math
import pickle

import pytest
import torch
from streamlit.testing.v1 import AppTest

from aigc_core.factory import build_trainer
from aigc_core.gan_trainer import GANTrainConfig
from aigc_core.models.gan import ARTICLE_GAN
from apptest_app import app_test
from trainer_support import NaNAfter
from ui.train.controls import _single
from ui.train.run import STATE, TrainRun
from ui.train.export import checkpoint_bytes


pytestmark = pytest.mark.usefixtures("whole_app")


def _train_page() -> AppTest:
    at = app_test().run()
    at.switch_page("pages/train.py").run()
    assert not at.exception, at.exception
    return at


def _run(at: AppTest):
    return at.session_state[STATE]


def _texts(at: AppTest) -> str:
    parts = []
    for kind in ("title", "markdown", "caption", "info", "error", "warning", "success"):
        parts += [str(e.value) for e in getattr(at, kind)]
    parts += [str(e.value) for e in at.sidebar.caption]
    return "\n".join(parts)


def _image_ids(at: AppTest) -> list[str]:
    """The live view's pictures (inline PNGs), as their data URIs."""
    return [h.proto.body for h in at.html if "data:image/png" in h.proto.body]


def _click(at: AppTest, key: str) -> AppTest:
    at.button(key=key).click().run()
    assert not at.exception, at.exception
    return at


def test_start_slices_pause_and_the_view_changes():
    at = _train_page()
    at.select_slider(key="train_slice").set_value(0.2).run()
    assert _run(at).trainer.iteration == 0
    assert "⟦" not in _texts(at)
    _click(at, "train_btn_start")
    run = _run(at)
    assert run.running
    first_steps, first_images = run.trainer.iteration, _image_ids(at)
    assert first_steps > 0
    at.run()  # another slice
    assert not at.exception, at.exception
    assert run.trainer.iteration > first_steps
    assert len(at.get("plotly_chart")) == 3  # losses, D outputs, gradient norms
    assert _image_ids(at) and _image_ids(at) != first_images  # the sample grid evolves
    assert int(at.metric[0].value.replace(",", "")) > 0  # drawn before the slice: one slice behind
    first_chart = at.get("plotly_chart")[0].proto.spec
    _click(at, "train_btn_start")  # Pause
    assert not _run(at).running
    assert at.get("plotly_chart")[0].proto.spec != first_chart  # the loss chart has new points
    paused_at = _run(at).trainer.iteration
    at.run()
    assert _run(at).trainer.iteration == paused_at  # nothing trains while paused
    assert len(run.history) == paused_at


def test_single_d_and_g_steps_then_reset():
    at = _train_page()
    _click(at, "train_btn_step_d")
    trainer = _run(at).trainer
    assert (trainer.iteration, trainer.d_updates) == (0, 1)
    _click(at, "train_btn_step_g")
    assert (trainer.iteration, trainer.d_updates) == (1, 1)
    assert len(_run(at).history) == 2
    _click(at, "train_btn_reset")
    assert _run(at).trainer.iteration == 0 and len(_run(at).history) == 0


def test_divergence_pauses_keeps_finite_weights_and_the_app_alive():
    at = _train_page()
    for net in ("g", "d"):
        at.selectbox(key=f"train_{net}_opt").set_value("sgd")
        at.number_input(key=f"train_{net}_lr").set_value(1000.0)
    at.run()
    assert not at.exception, at.exception
    assert _run(at).trainer.config.g_optim.lr == 1000.0  # applied in place, no new model needed
    _click(at, "train_btn_start")
    for _ in range(3):
        if _run(at).diverged:
            break
        at.run()
    run = _run(at)
    assert run.diverged and not run.running
    assert any("Training stopped" in e.value for e in at.error)
    said = {"non_finite": "infinite or not a number", "explosion": "weights were exploding"}[run.diverged_kind]
    assert any(said in e.value for e in at.error)  # the panel says which way it went wrong
    assert "learning rate 10 times smaller" in _texts(at)
    assert all(bool(torch.isfinite(p).all()) for p in run.trainer.model.parameters())
    # The step counter is that of the restored weights; the diverged tail stays on the charts while paused.
    restored = run.trainer.iteration
    assert restored == run.rolled_back_to and f"restored from step {restored}" in run.diverged
    tail = run.history.column("step")
    assert len(tail) and tail.max() > restored
    # The epoch shown is that of the restored weights too: the undone updates' images are not counted.
    assert run.images_seen == run.trainer.d_updates * run.trainer.config.batch_size
    # The student follows the advice: a sane learning rate, and training goes on with the same model.
    for net in ("g", "d"):
        at.selectbox(key=f"train_{net}_opt").set_value("adam")
        at.number_input(key=f"train_{net}_lr").set_value(0.0002)
    at.run()
    _click(at, "train_btn_step_g")
    assert _run(at) is run and not run.diverged
    # ...and the steps it redoes replace the diverged ones: one record per step, in order, up to the trainer's.
    steps = run.history.column("step")
    assert run.trainer.iteration == restored + 1 and steps.max() == restored + 1
    assert (steps[1:] > steps[:-1]).all() and run.rolled_back_to is None


def test_a_rollback_forgets_a_lone_d_step_and_its_images(signed, one_thread):
    """A D step made after the snapshot carries the snapshot's step number (the iteration is not finished), so
    the redo must trim by D updates; the epoch counter forgets that step's batch too."""
    source = NaNAfter(signed, good=101)  # the 102nd batch is NaN
    run = TrainRun(settings=None, trainer=build_trainer(ARTICLE_GAN, GANTrainConfig(batch_size=4), source=source),
                  origin="scratch")
    for _ in range(100):
        _single(run, "both")
    _single(run, "d")  # D update 101, still "step 100"
    assert run.history.last()["step"] == 100 and run.images_seen == 101 * 4
    _single(run, "both")  # its D update reads the NaN batch
    assert run.diverged and (run.trainer.iteration, run.trainer.d_updates) == (100, 100)
    assert run.images_seen == 100 * 4
    source.heal()
    _single(run, "both")
    steps, updates = run.history.column("step"), run.history.column("d_updates")
    assert list(steps[-2:]) == [100, 101] and list(updates[-2:]) == [100, 101] and len(run.history) == 101
    assert run.images_seen == 101 * 4


def test_export_and_upload_round_trip():
    at = _train_page()
    for _ in range(2):
        _click(at, "train_btn_step_d")
        _click(at, "train_btn_step_g")
    run = _run(at)
    assert len(at.download_button) == 3
    data = checkpoint_bytes(run)
    weights = {k: v.clone() for k, v in run.trainer.model.state_dict().items()}
    _click(at, "train_btn_reset")
    assert _run(at).trainer.iteration == 0
    at.file_uploader(key="train_upload").upload("mine.zip", data, "application/zip").run()
    assert not at.exception, at.exception
    resumed = _run(at)
    assert resumed.trainer.iteration == 2 and resumed.trainer.d_updates == 2
    assert resumed.origin == "upload"
    assert any("resumed at step 2" in s.value for s in at.success)
    state = resumed.trainer.model.state_dict()
    # The EMA generator is what gets saved for G (it draws the samples); D is saved as trained.
    assert all(torch.equal(state[k], weights[k]) for k in weights if k.startswith("discriminator"))
    assert not at.warning  # the sidebar was set to match: no "needs a new model" question
    _click(at, "train_btn_step_g")
    assert _run(at).trainer.iteration == 3


@pytest.mark.parametrize(
    "content, words",
    [(b"definitely not a zip", "not a zip"), (pickle.dumps({"weights": [1, 2]}), "pickle")],
)
def test_bad_upload_shows_an_error_and_keeps_the_model(content, words):
    at = _train_page()
    _click(at, "train_btn_step_g")
    before = _run(at)
    at.file_uploader(key="train_upload").upload("bad.zip", content, "application/zip").run()
    assert not at.exception, at.exception
    assert any(words in e.value for e in at.error), [e.value for e in at.error]
    assert _run(at) is before and before.trainer.iteration == 1


def test_structural_change_asks_first_and_hyperparameters_apply_in_place():
    at = _train_page()
    _click(at, "train_btn_step_g")
    run = _run(at)
    at.number_input(key="train_gan_k").set_value(2).run()
    assert _run(at) is run and run.trainer.config.d_steps == 2  # in place
    at.number_input(key="train_gan_seed").set_value(5).run()
    assert _run(at) is run  # not thrown away ...
    assert at.warning and "need a new model" in at.warning[0].value  # ... the page asks
    _click(at, "train_btn_keep")
    assert at.number_input(key="train_gan_seed").value == 0 and not at.warning
    at.number_input(key="train_gan_seed").set_value(5).run()
    _click(at, "train_btn_rebuild")
    assert _run(at) is not run and _run(at).trainer.iteration == 0 and _run(at).trainer.config.seed == 5


def test_vae_trains_with_reconstructions():
    at = _train_page()
    at.button_group(key="train_family").set_value("vae").run()
    assert not at.exception, at.exception
    run = _run(at)
    assert run.family == "vae"
    _click(at, "train_btn_step")
    assert run.trainer.iteration == 1
    assert len(at.get("plotly_chart")) == 3
    assert len(_image_ids(at)) == 2  # samples, and inputs vs reconstructions
    assert math.isfinite(run.history.last()["loss"])


def test_slow_motion_tab_walks_phases():
    at = _train_page()
    _click(at, "train_slowmo_next")
    assert any("Phase 1 of 12" in m.value for m in at.markdown)
    _click(at, "train_slowmo_finish")
    assert _run(at).trainer.iteration == 1 and len(_run(at).history) == 1


def test_start_from_pretrained_copies_the_shared_model():
    from ui.resources import available_pretrained, pretrained

    if "gan_seed_mlp" not in available_pretrained():
        pytest.skip("needs pretrained/gan_seed_mlp")
    at = _train_page()
    at.selectbox(key="train_preset_gan").set_value("gan_seed_mlp").run()
    at.radio(key="train_start").set_value("pretrained").run()
    assert not at.exception, at.exception
    run = _run(at)
    shared = pretrained("gan_seed_mlp").model
    assert run.origin == "pretrained" and run.trainer.model is not shared
    assert run.trainer.iteration == pretrained("gan_seed_mlp").provenance["steps"]
    before = {k: v.clone() for k, v in shared.state_dict().items()}
    _click(at, "train_btn_step_g")
    assert all(torch.equal(v, shared.state_dict()[k]) for k, v in before.items())  # the cache is never trained
    assert not shared.training


def test_history_scrubs_through_snapshots():
    at = _train_page()
    _run(at).snapshots.every = 1  # a snapshot after every step, so a few clicks make a history
    for _ in range(3):
        _click(at, "train_btn_step_d")
        _click(at, "train_btn_step_g")
    steps = _run(at).snapshots.steps()
    assert len(steps) >= 3
    slider = at.select_slider(key="train_scrub")
    slider.set_value(0).run()
    assert not at.exception, at.exception
    assert any(f"at step {steps[0]}" in caption for image in at.image for caption in image.captions)


def test_quick_quality_estimate_is_recorded(monkeypatch):
    from ui.resources import available_pretrained
    from ui.train import live

    if "classifier" not in available_pretrained():
        pytest.skip("needs pretrained/classifier")
    at = _train_page()
    _click(at, "train_btn_step_g")
    run = _run(at)
    monkeypatch.setattr(live, "quick_score", lambda trainer, classifier: {
        "step": trainer.iteration, "classifier_score": 2.0, "fid": 300.0, "samples": 500})
    monkeypatch.setattr(live, "_reference_ready", lambda classifier: True)
    live.maybe_measure_quality(run, force=True)
    assert run.quality.last()["step"] == 1
    at.run()
    assert len(at.get("plotly_chart")) == 4  # the three live charts and the quality chart


def test_a_long_recipe_ema_is_capped_for_live_training(monkeypatch):
    """A recipe made for hours (EMA 0.9999: a 10,000-step horizon) would keep the live grid still for minutes."""
    from dataclasses import replace

    from aigc_core.presets import LIVE_EMA, PRESETS

    recipe = PRESETS["dcgan"]
    monkeypatch.setitem(PRESETS, "dcgan", replace(recipe, train_config=replace(recipe.train_config, ema=0.9999)))
    at = _train_page()
    at.selectbox(key="train_preset_gan").set_value("dcgan").run()
    _click(at, "train_btn_step_g")
    assert _run(at).trainer.iteration == 1 and _run(at).trainer.config.ema == LIVE_EMA
    assert _run(at).trainer.config.r1_gamma == recipe.train_config.r1_gamma  # the rest is the recipe's


def test_a_saturated_discriminator_is_explained_as_such():
    from aigc_core.errors import TrainingDiverged
    from ui.train.run import note_divergence

    at = _train_page()
    _click(at, "train_btn_step_g")
    note_divergence(_run(at), TrainingDiverged("D has won", step=1, restored_step=None, kind="saturation"))
    at.run()
    assert not at.exception
    assert any("discriminator has won outright" in e.value for e in at.error)
    assert "non-saturating G loss" in _texts(at) and "not a number" not in " ".join(e.value for e in at.error)



@pytest.mark.parametrize("family, preset", [("gan", "cgan_live"), ("vae", "cvae_live")])
def test_a_conditional_preset_draws_one_row_per_digit_and_the_labels_path(family, preset):
    at = _train_page()
    if family != "gan":
        at.button_group(key="train_family").set_value(family).run()
    at.selectbox(key=f"train_preset_{family}").set_value(preset).run()
    assert not at.exception, at.exception
    if family == "gan":  # a GAN steps D and G on their own buttons
        _click(at, "train_btn_step_d")
        _click(at, "train_btn_step_g")
    else:
        _click(at, "train_btn_step")
    run = _run(at)
    assert run.trainer.conditional and run.trainer.iteration == 1
    grid = run.grid[2]  # 10 rows (digits 0-9) of 6 samples, 28 px each plus 2 px gaps
    assert grid.shape[0] > grid.shape[1] and round(grid.shape[0] / 30) == 10 and round(grid.shape[1] / 30) == 6
    assert "label --> " in run.diagram[2]  # the diagram shows y's path into the networks
    assert "each row asks for one digit" in "".join(_image_ids(at))  # the grid's caption says how to read it
    if family == "vae":
        assert len(_image_ids(at)) == 2  # reconstructions work: each test digit is encoded with its label


def test_the_shipped_conditional_gan_can_be_continued_and_still_draws_each_row_s_digit():
    """Start from pretrained/cgan: the grid's rows are the digits 0-9, as the classifier reads them."""
    from aigc_core import evaluation, pixels

    at = _train_page()
    at.selectbox(key="train_preset_gan").set_value("cgan").run()
    at.radio(key="train_start").set_value("pretrained").run()
    assert not at.exception, at.exception
    run = _run(at)
    assert run.origin == "pretrained" and run.trainer.conditional and run.trainer.iteration == 20000
    samples = pixels.signed_to_unit(run.trainer.sample())
    probs, _ = evaluation.classify(evaluation.load_classifier(), samples)
    assert (probs.argmax(1) == run.trainer.fixed_labels).float().mean() >= 0.9
