"""Bad input and faults through the pages (AppTest): each case shows a clear message, the app keeps running, and
what the student trained is still there.

Cases already covered beside their page are not repeated here: a non-zip and a harmless pickle uploaded to the
Train page, lr = 1000 diverging there (test_train_page.py); a CSV with text in the playground
(test_playground_page.py). The core-level catalogue is tests/test_faults.py.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch
from streamlit.testing.v1 import AppTest
from test_faults import animated_gif, bad_checkpoints, huge_png, png, seven

import ui.train.live  # noqa: F401  (imported up front so the first AppTest run does not pay for imports)
from aigc_core.vae_trainer import MAX_BETA

ROOT = Path(__file__).resolve().parents[1]
TRAIN, LATENT, PLAYGROUND = (str(ROOT / "pages" / f"{name}.py") for name in ("train", "latent", "playground"))


@pytest.fixture(scope="module", autouse=True)
def _warm_up() -> None:
    """Untimed first runs: loading translations, Plotly and the pretrained models can take longer than a test's
    budget on a busy machine; the tests then time the pages themselves."""
    for page in (TRAIN, LATENT):
        AppTest.from_file(page, default_timeout=600).run()


def _open(page: str, **state: object) -> AppTest:
    at = AppTest.from_file(page, default_timeout=120)
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    _ok(at)
    return at


def _ok(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def _errors(at: AppTest) -> str:
    """The error messages as the user reads them (text from files is backslash-escaped Markdown: ui/text.py)."""
    return re.sub(r"\\(.)", r"\1", "\n".join(str(e.value) for e in at.error))


def _click(at: AppTest, key: str) -> AppTest:
    at.button(key=key).click().run()
    _ok(at)
    return at


def _train_run(at: AppTest):
    return at.session_state["train_run"]


# --- checkpoints through the Train page's upload ---------------------------------------------------------------

UPLOAD_CASES = [c for c in bad_checkpoints(Path("/nonexistent")) if c not in ("not a zip",)]


@pytest.mark.parametrize("case", UPLOAD_CASES)
def test_bad_checkpoint_upload_keeps_the_trained_model(tmp_path, case):
    marker = tmp_path / "code-ran"
    data, words = bad_checkpoints(marker)[case]
    at = _open(TRAIN)
    _click(at, "train_btn_step_g")
    before = _train_run(at)
    weights = {k: v.clone() for k, v in before.trainer.model.state_dict().items()}
    at.file_uploader(key="train_upload").upload(f"{case}.zip", data, "application/zip").run()
    _ok(at)
    assert words in _errors(at), _errors(at)
    run = _train_run(at)
    assert run is before and run.trainer.iteration == 1
    assert all(torch.equal(v, weights[k]) for k, v in run.trainer.model.state_dict().items())
    assert not marker.exists(), "the crafted pickle was unpickled: its code ran on the server"
    _click(at, "train_btn_step_g")  # and the page still trains
    assert _train_run(at).trainer.iteration == 2


# --- images through the Latent page's upload -------------------------------------------------------------------


def _latent_with_upload(name: str, data: bytes, mime: str) -> AppTest:
    at = _open(LATENT)
    assert at.selectbox(key="lat_model").value.endswith("vae_mlp_z2"), "the digit panel needs a VAE"
    at.file_uploader(key="lat_uploader").upload(name, data, mime).run()
    _ok(at)
    return at


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
@pytest.mark.parametrize(
    "name, make, words",
    [
        ("notes.png", lambda: b"%PDF-1.7 a document, not a picture", "Could not read this file as an image"),
        ("huge.png", huge_png, "too large (10000×10000 pixels)"),
        ("dot.png", lambda: png(__import__("PIL.Image").Image.new("L", (1, 1), 0)), "too small (1×1 pixels)"),
    ],
)
def test_unusable_picture_gets_a_message(name, make, words):
    at = _latent_with_upload(name, make(), "image/png")
    assert "This image could not be used" in _errors(at) and words in _errors(at), _errors(at)
    assert "lat_upload" not in at.session_state  # nothing half-prepared was kept
    # The page still works: the explorer's pictures are drawn.
    assert at.image


@pytest.mark.parametrize(
    "name, make, mime",
    [("seven.gif", animated_gif, "image/gif"), ("seven-cmyk.jpg", lambda: png(seven("CMYK"), format="JPEG"), "image/jpeg"),
     ("seven-16bit.png", lambda: png(seven("I;16")), "image/png"),  # the original could not be displayed as it is
     ("seven-float.png", lambda: png(seven("F"), format="TIFF"), "image/png")],  # a float TIFF renamed .png
)
def test_odd_but_valid_picture_is_prepared_like_mnist(name, make, mime):
    at = _latent_with_upload(name, make(), mime)
    assert not at.error, _errors(at)
    digit = at.session_state["lat_upload"]["digit"]
    assert digit.shape == (28, 28) and 20 < (digit > 0.2).sum() < 400  # a stroke, centred like MNIST
    assert at.session_state["lat_upload"]["code"]  # encoded by the VAE and shown next to its reconstruction
    assert at.session_state["lat_upload"]["preview"].dtype.name == "uint8"  # what the page shows as "your picture"
    assert any("lat_upload" not in str(i) for i in at.image) and not at.exception


# --- points through the playground's CSV upload ----------------------------------------------------------------


@pytest.mark.parametrize(
    "case, data, words",
    [
        ("NaN", b"1,2\nnan,4\n5,6\n", "non-finite value (nan)"),
        ("inf", b"1,2\n3,inf\n5,6\n", "non-finite value (inf)"),
        ("one point", b"x,y\n1,2\n", "Need at least 2 points; got 1"),
        ("10^7 points", b"0.5,0.25\n" * 10_000_000, "too large"),
    ],
)
def test_bad_points_file_gets_a_message_and_the_page_keeps_working(case, data, words):
    at = _open(PLAYGROUND, pg_data="custom", pg_batch=16)
    at.file_uploader(key="pg_upload").set_value((f"{case}.csv", data, "text/csv")).run()
    _ok(at)
    assert words in _errors(at), _errors(at)
    good = "\n".join(f"{i % 7},{(i * 3) % 5}" for i in range(40)).encode()
    at.file_uploader(key="pg_upload").set_value(("good.csv", good, "text/csv")).run()
    _ok(at)
    at.button(key="pg_step_both").click().run()
    _ok(at)
    assert at.session_state["pg_run"].trainers[0].iteration == 1


# --- hyperparameters on the Train page -------------------------------------------------------------------------


def test_batch_1_cannot_be_chosen():
    at = _open(TRAIN)
    options = [int(o) for o in at.select_slider(key="train_gan_batch").options]
    assert min(options) >= 2  # batch norm needs two samples; the widget offers none below


def test_k_0_and_beta_beyond_the_limit_are_refused_by_the_widgets():
    at = _open(TRAIN)
    assert at.number_input(key="train_gan_k").min == 1
    at.segmented_control(key="train_family").set_value("vae").run()
    _ok(at)
    assert at.number_input(key="train_vae_beta").max == MAX_BETA


@pytest.mark.parametrize("beta", [0.0, MAX_BETA])
def test_vae_beta_at_both_ends_trains(beta):
    at = _open(TRAIN)
    at.segmented_control(key="train_family").set_value("vae").run()
    at.number_input(key="train_vae_beta").set_value(beta).run()
    _ok(at)
    _click(at, "train_btn_step")
    run = _train_run(at)
    assert run.trainer.config.beta == beta and run.trainer.iteration == 1
    last = run.history.last()
    assert all(torch.isfinite(torch.tensor(last[k])) for k in ("loss", "recon", "kl"))
    if beta == 0.0:
        assert last["loss"] == pytest.approx(last["recon"])


@pytest.mark.parametrize("family", ["gan", "vae"])
def test_z_dim_1_builds_and_trains(family):
    at = _open(TRAIN)
    if family == "vae":
        at.segmented_control(key="train_family").set_value("vae").run()
    at.number_input(key=f"train_{family}_z").set_value(1).run()
    _ok(at)
    _click(at, "train_btn_step_g" if family == "gan" else "train_btn_step")
    run = _train_run(at)
    assert run.trainer.model.z_dim == 1 and run.trainer.iteration == 1
    samples = run.trainer.sample()
    assert samples.shape == (64, 1, 28, 28) and bool(torch.isfinite(samples).all())


# --- interaction -----------------------------------------------------------------------------------------------


def test_double_click_on_start_leaves_one_consistent_run():
    at = _open(TRAIN)
    run = _train_run(at)
    # Two clicks before the server answers are one click event for Streamlit: training starts once.
    at.button(key="train_btn_start").click()
    at.button(key="train_btn_start").click()
    at.run()
    _ok(at)
    assert _train_run(at) is run and run.running
    # A second click that arrives after the rerun lands on the same button, now Pause.
    _click(at, "train_btn_start")
    assert _train_run(at) is run and not run.running
    steps = run.trainer.iteration
    assert steps == len(run.history) and steps > 0
    at.run()
    assert run.trainer.iteration == steps  # paused means paused


def test_switching_page_while_training_keeps_the_run():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    at.switch_page("pages/train.py").run()
    _ok(at)
    _click(at, "train_btn_start")
    run = _train_run(at)
    steps = run.trainer.iteration
    assert run.running and steps > 0
    at.switch_page("pages/home.py").run()
    _ok(at)
    at.switch_page("pages/latent.py").run()
    _ok(at)
    at.switch_page("pages/train.py").run()
    _ok(at)
    assert _train_run(at) is run and run.trainer.iteration >= steps  # nothing was lost or rebuilt
    _click(at, "train_btn_start")
    assert not run.running


def test_two_sessions_stay_independent():
    first, second = _open(TRAIN), _open(TRAIN)
    second.number_input(key="train_gan_seed").set_value(7).run()
    _ok(second)
    _click(first, "train_btn_step_g")
    _click(first, "train_btn_step_g")
    _click(second, "train_btn_step_d")
    one, two = _train_run(first), _train_run(second)
    assert one is not two and one.trainer is not two.trainer
    assert (one.trainer.iteration, one.trainer.d_updates) == (2, 0)
    assert (two.trainer.iteration, two.trainer.d_updates) == (0, 1)
    assert (one.trainer.config.seed, two.trainer.config.seed) == (0, 7)
    pointers = {p.data_ptr() for p in one.trainer.model.parameters()}
    assert not pointers & {p.data_ptr() for p in two.trainer.model.parameters()}  # no shared weights
    assert not torch.equal(one.trainer.fixed_z, two.trainer.fixed_z)  # each seed draws its own noise
