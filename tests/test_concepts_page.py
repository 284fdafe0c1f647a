"""The Concepts & Math page under AppTest: formulas render next to live numbers, and every control changes them."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from streamlit.testing.v1 import AppTest

from aigc_core import readouts
from aigc_core.evaluation import PRETRAINED_DIR
from aigc_core.models.unet import UNet, UNetConfig
from apptest_app import app_test
from ui.concepts import view
from ui.concepts.view import BATCH, gan_numbers, vae_numbers

pytestmark = [
    pytest.mark.skipif(
        not all((PRETRAINED_DIR / n / "config.json").is_file() for n in ("gan_seed_mlp", "vae_mlp_z20")),
        reason="needs shipped pretrained GAN and VAE",
    ),
    pytest.mark.usefixtures("whole_app"),
]


def _page() -> AppTest:
    at = app_test().run()
    at.switch_page("pages/concepts.py").run()
    assert not at.exception, at.exception
    return at


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _texts(at: AppTest) -> str:
    kinds = ("header", "subheader", "markdown", "caption", "latex")
    return "\n".join(str(e.value) for kind in kinds for e in getattr(at, kind))


def test_formulas_with_live_numbers_from_the_loaded_models():
    at = _page()
    assert len(at.latex) >= 8  # minimax, JS, both G losses, slopes, W1, ELBO, reparameterisation, KL, beta
    gan_name, vae_name = at.selectbox(key="concepts_gan").value, at.selectbox(key="concepts_vae").value
    gan, vae = gan_numbers(gan_name, 0), vae_numbers(vae_name, 0)
    metrics = _metrics(at)
    assert metrics["mean D(x), real"] == f"{gan.d_real:.3f}"
    assert metrics["mean D(G(z)), fake"] == f"{gan.d_fake:.3f}"
    assert metrics["KL (nats/image)"] == f"{vae.kl:.1f}"
    assert metrics["ELBO (nats/image)"] == f"{vae.elbo:.1f}"
    assert f"{gan.value:.3f}" in _texts(at)  # V(D, G) written into the formula
    # The numbers are the core's, on a real batch: check one against an independent call.
    real, _ = readouts.real_batch(BATCH, 0, "signed")
    assert gan.batch == BATCH == len(real)
    assert "⟦" not in _texts(at)
    assert len(at.get("vega_lite_chart")) >= 3  # G-loss curves, JS vs W, KL per dimension
    assert len(_tables_with(at, "z = μ + σ·ε")) == 1  # the reparameterisation worked through


def test_new_batch_models_and_sliders_change_the_numbers():
    at = _page()
    before = _metrics(at)
    at.button(key="concepts_new_batch").click().run()
    assert not at.exception, at.exception
    assert at.session_state["concepts_seed"] == 1
    assert _metrics(at) != before
    at.selectbox(key="concepts_gan").set_value("gan_mlp").run()
    at.selectbox(key="concepts_vae").set_value("vae_mlp_z2").run()
    assert not at.exception, at.exception
    assert _metrics(at)["mean D(x), real"] == f"{gan_numbers('gan_mlp', 1).d_real:.3f}"
    at.slider(key="concepts_shift").set_value(2.0).run()
    assert _metrics(at)["Wasserstein-1 distance"] == "2.00"
    assert _metrics(at)["JS divergence (nats)"] == "0.693"
    vae = vae_numbers("vae_mlp_z2", 1)
    at.slider(key="concepts_beta").set_value(4.0).run()
    assert f"**{vae.loss_at_beta(4.0):.1f}**" in _texts(at)


def test_chinese_page():
    at = app_test(lang="zh").run()
    at.switch_page("pages/concepts.py").run()
    assert not at.exception, at.exception
    text = _texts(at)
    assert "重参数化" in text and "后验坍塌" in text and "⟦" not in text
    assert "reconstruction" not in text and "saturating" not in text  # the words inside the formulas too


def _tables_with(at: AppTest, column: str) -> list:
    """The page's tables that have this column (the page holds several: reparameterisation, diffusion, detector)."""
    return [frame.value for frame in at.dataframe if column in frame.value.columns]


def test_diffusion_section_formulas_then_numbers_from_the_sessions_denoiser():
    at = _page()
    texts = _texts(at)
    assert "Diffusion: learn to remove noise" in texts and r"\bar\alpha_t" in texts  # the formulas are always there
    if "ddpm" not in [p.name for p in PRETRAINED_DIR.iterdir()]:
        assert any("No diffusion model is loaded yet" in str(i.value) for i in at.info)
        assert not _tables_with(at, "t")  # no diffusion table yet (the VAE's and the detector's are there)
    at.switch_page("pages/train.py").run()
    at.segmented_control(key="train_family").set_value("diffusion").run()
    at.select_slider(key="train_diffusion_steps").set_value(5).run()
    at.button(key="train_btn_step").click().run()
    at.switch_page("pages/concepts.py").run()
    assert not at.exception, at.exception
    (table,) = _tables_with(at, "t")
    assert list(table["t"]) == [10, 100, 250, 500, 750, 1000]
    measured, formula = table.iloc[:, 3], table.iloc[:, 4]  # the spread of x_t, measured and from the closed form
    assert ((measured - formula).abs() < 0.05 * formula).all()
    assert "On this batch: at t = 100" in _texts(at)


def test_the_shipped_denoisers_readout_is_computed_once_per_batch_and_equals_a_fresh_one(monkeypatch):
    """Concepts & Math caches the shipped ddpm's numbers (ui.server.warm computes the first batch's ahead)."""
    model = UNet(UNetConfig(channels=(8, 16), time_dim=16, groups=4), seed=1).eval()
    loads = []
    monkeypatch.setattr(view, "available_pretrained", lambda: ["ddpm"])
    monkeypatch.setattr(view, "try_pretrained", lambda name: (loads.append(name) or SimpleNamespace(model=model), None))
    view.shipped_diffusion_numbers.clear()
    try:
        first = view.diffusion_numbers(model, 3, shipped=True)
        assert view.diffusion_numbers(model, 3, shipped=True) == first
        assert loads == ["ddpm"]  # one readout for that batch, shared
        assert first == view.diffusion_numbers(model, 3)  # the same numbers as computed afresh
    finally:
        view.shipped_diffusion_numbers.clear()
