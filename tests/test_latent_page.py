"""The Latent Explorer under AppTest: every control, as a student uses it (whole app, as on the server)."""

from __future__ import annotations

import io
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw
from streamlit.testing.v1 import AppTest

from aigc_core.evaluation import PRETRAINED_DIR
from aigc_core.factory import build_trainer
from aigc_core.models.vae import VAEMLPConfig
from aigc_core.vae_trainer import VAETrainConfig
from apptest_app import app_test
from ui.latent.panels import UPLOAD_STATE, Z_STATE

pytestmark = [
    pytest.mark.skipif(
        not all((PRETRAINED_DIR / n / "config.json").is_file() for n in ("vae_mlp_z2", "vae_mlp_z20", "gan_seed_mlp")),
        reason="needs the shipped pretrained VAEs and the article GAN",
    ),
    pytest.mark.usefixtures("whole_app"),
]
Z2 = "pretrained:vae_mlp_z2"


def _page(model: str | None = None) -> AppTest:
    at = app_test().run()
    at.switch_page("pages/latent.py").run()
    assert not at.exception, at.exception
    if model is not None:
        at.selectbox(key="lat_model").set_value(model).run()
        assert not at.exception, at.exception
    return at


def _images(at: AppTest) -> list[str]:
    return [url for image in at.image for url in image.value]


def _z(at: AppTest, source: str = Z2) -> list[float]:
    return list(at.session_state[Z_STATE][source])


def _texts(at: AppTest) -> str:
    kinds = ("title", "markdown", "caption", "info", "error", "warning", "success")
    return "\n".join(str(e.value) for kind in kinds for e in getattr(at, kind))


def test_sliders_move_z_and_redraw_the_image():
    at = _page()
    assert at.selectbox(key="lat_model").value == Z2  # the 2-D VAE is the default: it has the map
    assert "⟦" not in _texts(at)
    sid = "pretrained_vae_mlp_z2"
    assert [s.label for s in at.slider][:2] == ["z1", "z2"]
    before = _images(at)
    at.slider(key=f"lat_dim_{sid}_0").set_value(1.5).run()
    assert not at.exception, at.exception
    assert _z(at)[0] == pytest.approx(1.5)
    assert _images(at) != before
    # The map of the encoded test set is drawn, with the current z marked.
    assert len(at.get("vega_lite_chart")) >= 1


def test_random_draw_reset_and_go_to_a_test_digit():
    at = _page()
    sid = "pretrained_vae_mlp_z2"
    at.number_input(key=f"lat_seed_{sid}").set_value(7).run()
    at.button(key=f"lat_draw_{sid}").click().run()
    drawn = _z(at)
    gen = torch.Generator().manual_seed(7)
    assert drawn == pytest.approx(torch.randn((1, 2), generator=gen)[0].tolist())
    assert at.number_input(key=f"lat_seed_{sid}").value == 8  # the next press draws a new code
    assert at.slider(key=f"lat_dim_{sid}_0").value == pytest.approx(max(-4, min(4, drawn[0])), abs=1e-3)
    at.button(key=f"lat_reset_{sid}").click().run()
    assert _z(at) != drawn
    at.number_input(key=f"lat_goto_{sid}").set_value(42).run()
    at.button(key=f"lat_goto_btn_{sid}").click().run()
    assert not at.exception, at.exception
    from ui.latent.sources import pretrained_encoding

    assert _z(at) == pytest.approx(pretrained_encoding("vae_mlp_z2").mu[42].tolist(), abs=1e-5)


def test_principal_direction_sliders_for_a_larger_code():
    at = _page("pretrained:vae_mlp_z20")
    sid = "pretrained_vae_mlp_z20"
    assert len([s for s in at.slider if s.key.startswith(f"lat_dim_{sid}")]) == 6  # z = 20 > 10: 6 chosen dims
    at.button_group(key=f"lat_mode_{sid}").set_value("pca").run()
    assert not at.exception, at.exception
    sliders = [s for s in at.slider if s.key.startswith(f"lat_pc_{sid}")]
    assert len(sliders) == 6 and "%" in sliders[0].label
    before, images = _z(at, "pretrained:vae_mlp_z20"), _images(at)
    at.slider(key=f"lat_pc_{sid}_0").set_value(2.0).run()
    after = _z(at, "pretrained:vae_mlp_z20")
    assert after != before and _images(at) != images
    assert at.slider(key=f"lat_pc_{sid}_0").value == pytest.approx(2.0, abs=1e-3)


def test_gan_gets_dimension_choice_and_no_encoder_features():
    at = _page("pretrained:gan_seed_mlp")
    sid = "pretrained_gan_seed_mlp"
    assert at.multiselect(key=f"lat_dims_{sid}").value == [0, 1, 2, 3, 4, 5]
    at.multiselect(key=f"lat_dims_{sid}").set_value([10, 99]).run()
    assert {s.key for s in at.slider} >= {f"lat_dim_{sid}_10", f"lat_dim_{sid}_99"}
    before = _images(at)
    at.slider(key=f"lat_dim_{sid}_99").set_value(-2.0).run()
    assert not at.exception and _images(at) != before
    assert not at.get("vega_lite_chart") or all("pick" not in str(c.proto) for c in at.get("vega_lite_chart"))
    assert any("no encoder" in i.value for i in at.info)  # the digit tab explains why it is empty


def test_interpolation_and_traversal_controls():
    at = _page()
    sid = "pretrained_vae_mlp_z2"
    images = _images(at)
    at.slider(key=f"lat_isteps_{sid}").set_value(12).run()
    at.button_group(key=f"lat_interp_kind_{sid}").set_value("digits").run()
    at.number_input(key=f"lat_ib_{sid}").set_value(11).run()
    assert not at.exception, at.exception
    assert _images(at) != images
    images = _images(at)
    at.multiselect(key=f"lat_tdims_{sid}").set_value([1]).run()
    at.slider(key=f"lat_trange_{sid}").set_value((-2.0, 2.0)).run()
    at.slider(key=f"lat_tcols_{sid}").set_value(5).run()
    at.slider(key=f"lat_msize_{sid}").set_value(10).run()
    assert not at.exception, at.exception
    assert _images(at) != images


def _digit_png(invert: bool = False) -> bytes:
    """A hand-drawn-looking 7, dark ink on white paper, 120x160 pixels."""
    image = Image.new("L", (120, 160), 255)
    draw = ImageDraw.Draw(image)
    draw.line([(20, 30), (100, 30), (55, 140)], fill=0, width=14)
    if invert:
        image = Image.eval(image, lambda v: 255 - v)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def test_upload_a_digit_see_its_code_move_there_and_repair_it():
    at = _page()
    sid = "pretrained_vae_mlp_z2"
    at.file_uploader(key="lat_uploader").upload("seven.png", _digit_png(), "image/png").run()
    assert not at.exception, at.exception
    upload = at.session_state[UPLOAD_STATE]
    assert upload["digit"].shape == (28, 28) and float(upload["digit"].max()) == pytest.approx(1.0)
    code = upload["code"][Z2]
    assert "lands next to test digit" in _texts(at)
    at.button(key=f"lat_upload_move_{sid}").click().run()
    assert _z(at) == pytest.approx(code, abs=1e-5)
    # Repair: the uploaded digit is offered first; change region and iterations.
    assert at.button_group(key=f"lat_rsrc_{sid}_upload").value == "upload"
    at.selectbox(key=f"lat_rregion_{sid}").set_value("bottom").run()
    at.slider(key=f"lat_riter_{sid}").set_value(5).run()
    assert not at.exception, at.exception
    assert "Mean pixel error in the erased part" in _texts(at)
    at.button_group(key=f"lat_rsrc_{sid}_upload").set_value("test").run()
    at.number_input(key=f"lat_ridx_{sid}").set_value(3).run()
    assert not at.exception, at.exception


def test_a_bad_upload_shows_an_error_and_the_page_keeps_working():
    at = _page()
    at.file_uploader(key="lat_uploader").upload("notes.png", b"this is not an image", "image/png").run()
    assert not at.exception, at.exception
    assert any("could not be used" in e.value for e in at.error)
    at.slider(key="lat_dim_pretrained_vae_mlp_z2_1").set_value(-1.0).run()
    assert not at.exception


def test_the_session_model_from_the_train_page_is_offered():
    trainer = build_trainer(VAEMLPConfig(z_dim=3, hidden=(16,)), VAETrainConfig(batch_size=8))
    trainer.step()
    at = app_test()
    at.session_state["train_run"] = SimpleNamespace(trainer=trainer, settings=SimpleNamespace(preset="vae_mlp_z2"))
    at.run()
    at.switch_page("pages/latent.py").run()
    assert "Your model from the Train page" in at.selectbox(key="lat_model").options
    at.selectbox(key="lat_model").set_value("session").run()
    assert not at.exception, at.exception
    assert "Trained for 1 steps" in _texts(at)
    before = _images(at)
    at.slider(key="lat_dim_session_2").set_value(3.0).run()
    assert _z(at, "session")[2] == pytest.approx(3.0) and _images(at) != before
    assert np.isfinite(_z(at, "session")).all()


def test_a_conditional_session_model_is_left_out_with_a_reason():
    """A CVAE from the Train page cannot be encoded without labels: it is not offered, and the page says why."""
    trainer = build_trainer(VAEMLPConfig(z_dim=3, hidden=(16,), num_classes=10), VAETrainConfig(batch_size=8))
    trainer.step()
    at = app_test()
    at.session_state["train_run"] = SimpleNamespace(trainer=trainer, settings=SimpleNamespace(preset="cvae_live"))
    at.run()
    at.switch_page("pages/latent.py").run()
    assert not at.exception, at.exception
    assert "Your model from the Train page" not in at.selectbox(key="lat_model").options
    assert "class-conditional" in _texts(at)
