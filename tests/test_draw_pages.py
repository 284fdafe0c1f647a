"""Draw me a 7 under AppTest (the whole app, as on the server): Home's section and the Latent Explorer's tab, as a
student uses them — pick a digit, new samples, a link's digit (a bad one is reported), a model that is missing or
unconditional, style vs content with a test digit and an upload (a bad one is explained), the fidelity vs diversity
sweeps.

Most tests stand small, fresh conditional models in for the shipped ones (`fresh_models`), so they are quick and do
not depend on what pretrained/ holds; one test opens the shipped models when they are there.
"""

from __future__ import annotations

import io
import re

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw
from streamlit.testing.v1 import AppTest

from aigc_core import conditional_tools as ct
from aigc_core import images as image_tools
from aigc_core.evaluation import PRETRAINED_DIR, load_classifier
from aigc_core.models.gan import GAN, MLPGANConfig
from aigc_core.models.unet import UNet, UNetConfig
from aigc_core.models.vae import VAE, VAEMLPConfig
from apptest_app import app_test
from ui.latent import draw_models as dm

pytestmark = [
    pytest.mark.skipif(not (PRETRAINED_DIR / "classifier" / "config.json").is_file(), reason="needs the classifier"),
    pytest.mark.usefixtures("whole_app", "one_thread"),
]
needs_latent_models = pytest.mark.skipif(
    not all((PRETRAINED_DIR / n / "config.json").is_file() for n in ("vae_mlp_z2", "vae_mlp_z20")),
    reason="the Latent Explorer opens on a shipped VAE",
)

# Module-level, so that they live as long as the cached samples keyed by their id (ui/latent/draw_models.py).
FRESH = {
    "gan": GAN(MLPGANConfig(z_dim=8, g_hidden=(32,), d_hidden=(32,), slope=0.2, num_classes=10, label_dim=4),
               seed=1).eval(),
    "vae": VAE(VAEMLPConfig(z_dim=4, hidden=(32,), num_classes=10), seed=1).eval(),
    "diffusion": UNet(UNetConfig(channels=(8, 16), time_dim=16, groups=4, timesteps=50), seed=1).eval(),
}
UNCONDITIONAL_VAE = VAE(VAEMLPConfig(z_dim=4, hidden=(32,)), seed=1).eval()


def _stand_in(monkeypatch, **problems: str) -> None:
    """The fresh models stand in for the shipped ones; `problems` (family="missing" | "unconditional") for some."""
    def shipped(family: str) -> dm.Shipped:
        name = dm.FOLDERS[family]
        problem = problems.get(family)
        if problem == "missing":
            return dm.Shipped(family, name, problem="missing")
        if problem == "unconditional":
            try:
                ct.require_conditional(UNCONDITIONAL_VAE)
            except Exception as exc:  # the core's own message, as dm.shipped would show it
                return dm.Shipped(family, name, problem="unconditional", detail=str(exc))
        return dm.Shipped(family, name, FRESH[family], guidance=2.0)

    monkeypatch.setattr(dm, "shipped", shipped)


@pytest.fixture
def fresh_models(monkeypatch):
    _stand_in(monkeypatch)


def _texts(at: AppTest) -> str:
    kinds = ("title", "subheader", "markdown", "caption", "info", "error", "warning")
    captions = [img.caption for e in at.image for img in e.proto.imgs]
    return "\n".join([str(e.value) for kind in kinds for e in getattr(at, kind)] + captions)


def _draw_images(at: AppTest) -> list[tuple[str, str]]:
    """(url, caption) of the Draw me a 7 grids (found by their alt text), in the order cGAN, CVAE, diffusion."""
    found = []
    for element in at.image:
        for img in element.proto.imgs:
            if "samples of the digit" in img.alt or "个数字" in img.alt:
                found.append((img.url, img.caption))
    return found


def _home(**query: str) -> AppTest:
    at = app_test(**query).run()
    assert not at.exception, at.exception
    return at


# --- Home ---------------------------------------------------------------------------------------------------------


def test_home_draws_the_digit_from_each_family_with_the_classifiers_verdict(fresh_models):
    at = _home()
    assert "Draw me a 7" in [s.value for s in at.subheader]
    assert at.button_group(key="home_draw_digit").value == 7
    grids = _draw_images(at)
    assert len(grids) == 3  # cGAN, CVAE, diffusion
    assert all(re.search(r"The classifier reads \d of 8 as a 7\.", caption) for _, caption in grids)
    assert "guidance w = 2" in grids[2][1]
    # Another digit: new pictures, the verdict about that digit, and the link names it.
    at.button_group(key="home_draw_digit").set_value(3).run()
    assert not at.exception, at.exception
    threes = _draw_images(at)
    assert all("as a 3." in caption for _, caption in threes)
    assert all(a != b for (a, _), (b, _) in zip(grids, threes))
    assert at.query_params["digit"] in ("3", ["3"])
    # New samples: the same digit, other pictures.
    at.button(key="home_draw_new").click().run()
    again = _draw_images(at)
    assert all("as a 3." in caption for _, caption in again)
    assert all(a != b for (a, _), (b, _) in zip(threes, again))
    assert "⟦" not in _texts(at)


def test_the_verdict_counts_what_the_classifier_reads(fresh_models):
    at = _home()
    model = dm.Shipped("gan", "cgan", FRESH["gan"])
    samples = ct.draw_digit(FRESH["gan"], 7, 8, seed=0)
    hits = ct.classifier_verdict(load_classifier(), samples, 7)
    assert f"The classifier reads {hits} of 8 as a 7." == _draw_images(at)[0][1]
    assert model.token.startswith("cgan:")


def test_a_link_names_the_digit_and_a_digit_outside_0_to_9_is_reported(fresh_models):
    at = _home(digit="3")
    assert at.button_group(key="home_draw_digit").value == 3
    assert all("as a 3." in caption for _, caption in _draw_images(at))
    for bad in ("12", "-1", "seven", "3.5"):
        at = _home(digit=bad)
        assert at.button_group(key="home_draw_digit").value == 7, bad
        notices = "\n".join(i.value for i in at.info)
        assert "Digit" in notices and bad in notices, (bad, notices)
        assert len(_draw_images(at)) == 3


def test_a_missing_or_unconditional_model_is_explained_and_the_others_still_draw(monkeypatch):
    _stand_in(monkeypatch, diffusion="missing", vae="unconditional")
    at = _home()
    infos = "\n".join(i.value for i in at.info)
    assert "Diffusion (classifier-free guidance): not shipped yet" in infos
    assert "--model diffusion --seed 0 --save-every 500 --resume --out pretrained/ddpm" in infos
    assert "pretrained/cvae cannot draw a digit on request" in infos and "unconditional" in infos
    assert len(_draw_images(at)) == 1  # the cGAN's
    at.button_group(key="home_draw_digit").set_value(0).run()
    assert not at.exception, at.exception


def test_home_in_chinese(fresh_models):
    at = _home(lang="zh")
    assert "给我画个 7" in [s.value for s in at.subheader]
    assert any("分类器把其中" in img.caption for e in at.image for img in e.proto.imgs)
    assert "⟦" not in _texts(at)


@pytest.mark.skipif(not all((PRETRAINED_DIR / n / "config.json").is_file() for n in ("cgan", "cvae")),
                    reason="needs the shipped cGAN and CVAE")
def test_home_with_the_shipped_models():
    at = _home()
    grids = _draw_images(at)
    assert len(grids) >= 2  # the diffusion model may not be shipped in this checkout
    reads = [re.search(r"The classifier reads (\d) of 8 as a 7\.", caption) for _, caption in grids]
    assert all(reads)
    assert int(reads[0].group(1)) >= 7 and int(reads[1].group(1)) >= 6  # the shipped cGAN (99 %) and CVAE (97 %)
    if len(grids) == 2:
        assert "not shipped yet" in "\n".join(i.value for i in at.info)


# --- Latent Explorer --------------------------------------------------------------------------------------------


def _latent(view: str | None = None) -> AppTest:
    at = app_test().run()
    at.switch_page("pages/latent.py").run()
    assert not at.exception, at.exception
    if view is not None:
        at.button_group(key="lat_draw_view").set_value(view).run()
        assert not at.exception, at.exception
    return at


def _sweep_charts(at: AppTest) -> list:
    """The fidelity vs diversity charts (the page has other Vega-Lite charts in its other tabs)."""
    return [c for c in at.get("vega_lite_chart") if "within-class diversity" in getattr(c.proto, "spec", "")]


def _image_by_alt(at: AppTest, text: str) -> list[str]:
    return [img.url for e in at.image for img in e.proto.imgs if text in img.alt]


@needs_latent_models
def test_latent_tab_samples_view_is_homes_section(fresh_models):
    at = _latent()
    assert at.button_group(key="lat_draw_view").value == "samples"
    assert at.button_group(key="lat_draw_digit").value == 7
    at.button_group(key="lat_draw_digit").set_value(5).run()
    assert not at.exception, at.exception
    assert len([c for _, c in _draw_images(at) if "as a 5." in c]) == 3


@needs_latent_models
def test_style_vs_content_with_a_test_digit(fresh_models):
    at = _latent("style")
    test_index = 0
    x = torch.from_numpy(_test_digit(test_index))
    guess, _ = ct.classifier_guess(load_classifier(), x)
    picker = at.button_group(key=f"lat_draw_label_test_{test_index}")
    assert picker.value == guess  # the label starts at the classifier's guess
    assert f"The classifier reads a {guess}" in _texts(at)
    every = _image_by_alt(at, "decoded from the code of your digit")
    assert len(every) == 1
    picker.set_value((guess + 1) % 10).run()  # the user corrects the label: another code, another row
    assert _image_by_alt(at, "decoded from the code of your digit") != every
    at.number_input(key="lat_draw_index").set_value(1).run()
    assert not at.exception, at.exception
    second, _ = ct.classifier_guess(load_classifier(), torch.from_numpy(_test_digit(1)))
    assert at.button_group(key="lat_draw_label_test_1").value == second  # a new digit starts at its own guess
    # Fix z, vary the label; fix the label, vary z: a new z changes both rows, the digit only the second.
    rows = (_image_by_alt(at, "One random code decoded"), _image_by_alt(at, "decoded from 10 random codes"))
    at.button(key="lat_draw_new_code").click().run()
    assert at.number_input(key="lat_draw_code_seed").value == 1
    moved = (_image_by_alt(at, "One random code decoded"), _image_by_alt(at, "decoded from 10 random codes"))
    assert moved[0] != rows[0] and moved[1] != rows[1]
    at.selectbox(key="lat_draw_fixed_digit").set_value(2).run()
    assert _image_by_alt(at, "One random code decoded") == moved[0]
    assert _image_by_alt(at, "The digit 2 decoded from 10 random codes")
    assert not at.exception, at.exception


def _test_digit(index: int) -> np.ndarray:
    from aigc_core.mnist import load_mnist

    return load_mnist("test").images[index].astype(np.float32) / 255


def _png(size: tuple[int, int], seven: bool = True) -> bytes:
    image = Image.new("L", size, 255)
    if seven:
        ImageDraw.Draw(image).line([(20, 30), (100, 30), (55, 140)], fill=0, width=14)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


@needs_latent_models
def test_style_vs_content_with_an_upload_and_bad_uploads(fresh_models):
    at = _latent("style")
    at.button_group(key="lat_draw_style_source").set_value("upload").run()
    assert "Upload a picture of a digit" in _texts(at)
    for name, data, reason in (("notes.png", b"not an image", "Could not read"),
                               ("tiny.png", _png((4, 4), seven=False), "too small"),
                               ("blank.png", _png((64, 64), seven=False), "")):
        at.file_uploader(key="lat_draw_uploader").upload(name, data, "image/png").run()
        assert not at.exception, at.exception
        errors = "\n".join(e.value for e in at.error)
        assert "This picture cannot be used" in errors and reason in errors, (name, errors)
    data = _png((120, 160))
    at.file_uploader(key="lat_draw_uploader").upload("seven.png", data, "image/png").run()
    assert not at.exception, at.exception
    assert not at.error
    digit = torch.from_numpy(image_tools.preprocess_digit(data))
    guess, _ = ct.classifier_guess(load_classifier(), digit)
    assert f"The classifier reads a {guess}" in _texts(at)
    assert len(_image_by_alt(at, "decoded from the code of your digit")) == 1


@needs_latent_models
def test_fidelity_vs_diversity_truncation_sweep(fresh_models):
    at = _latent("fidelity")
    assert at.button_group(key="lat_draw_knob").value == "psi"
    assert at.slider(key="lat_draw_slider_psi").value == 1.0
    assert len(_sweep_charts(at)) == 2  # accuracy and classifier score against diversity
    assert "At ψ = 1:" in _texts(at)
    assert _image_by_alt(at, "Samples at ψ = 1")
    at.slider(key="lat_draw_slider_psi").set_value(0.7).run()  # between sweep points: measured on its own
    assert not at.exception, at.exception
    assert "At ψ = 0.7:" in _texts(at)
    at.slider(key="lat_draw_slider_psi").set_value(0.0).run()  # ψ = 0: one picture per digit, no diversity
    assert re.search(r"At ψ = 0:.*diversity 0\.000\.", _texts(at))


@needs_latent_models
def test_guidance_sweep_waits_for_a_press_then_measures(fresh_models):
    at = _latent("fidelity")
    at.button_group(key="lat_draw_knob").set_value("guidance").run()
    assert at.slider(key="lat_draw_slider_guidance").value == 2.0
    assert "runs the diffusion sampler 5 times" in _texts(at)
    assert len(_sweep_charts(at)) == 0
    at.button(key="lat_draw_measure").click().run()
    assert not at.exception, at.exception
    assert len(_sweep_charts(at)) == 2
    assert "At w = 2:" in _texts(at)


@needs_latent_models
def test_without_the_diffusion_model_the_guidance_sweep_says_so(monkeypatch):
    _stand_in(monkeypatch, diffusion="missing")
    at = _latent("fidelity")
    at.button_group(key="lat_draw_knob").set_value("guidance").run()
    assert not at.exception, at.exception
    assert "not shipped yet" in "\n".join(i.value for i in at.info)
    assert "truncation sweep still works" in _texts(at)
    at.button_group(key="lat_draw_knob").set_value("psi").run()
    assert len(_sweep_charts(at)) == 2
