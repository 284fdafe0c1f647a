"""The Denoising explorer in a real browser, English and Chinese: scrubbing t with the keyboard redraws x_t, x̂_0 and
ε̂; the forward view draws the SNR chart; a timed run draws its samples and chart; the latent view decodes a slerp
path; no request leaves 127.0.0.1, no error or exception is shown.

The page needs a diffusion model. This module starts its own server with ``AIGC_DDPM_DIR`` pointing at a checkpoint:
``DENOISE_E2E_CHECKPOINT`` if set (e.g. a dev model from ``python -m aigc_core train --model diffusion_live --steps 300
--out /tmp/ddpm_dev``, which draws digit-like shapes for the screenshots), else a tiny seeded U-Net saved here (the same
code paths, noise-like pictures). Screenshots: artifacts/screenshots/denoise_en.png, denoise_zh.png,
denoise_steps_en.png, denoise_latent_zh.png.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from browserlib import (  # bench/ is on sys.path (conftest.py)
    ServerError,
    streamlit_server,
)
from e2e_support import foreign_requests, wait_for_app

from aigc_core.checkpoints import save_checkpoint
from aigc_core.models.unet import UNet, UNetConfig

SLOW_MS = 180_000  # a whole sampler run on a shared 2-core machine
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
SERVER_START_TIMEOUT_S = 90


@pytest.fixture(scope="module")
def app_url(tmp_path_factory) -> Iterator[str]:
    """This module's own server (overrides the session's): the same app, with a diffusion checkpoint to open."""
    folder = os.environ.get("DENOISE_E2E_CHECKPOINT")
    if not folder:
        folder = str(save_checkpoint(tmp_path_factory.mktemp("ddpm") / "ddpm_tiny",
                                     UNet(UNetConfig(channels=(8, 16), time_dim=16, groups=4), seed=1)))
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        with streamlit_server(env={"AIGC_DDPM_DIR": folder}, timeout=SERVER_START_TIMEOUT_S,
                              log=ARTIFACTS / "streamlit-e2e-denoise.log", die_with_parent=True) as running:
            yield running.url
    except ServerError as exc:
        pytest.fail(str(exc))


def _src(page, key: str, nth: int = 0) -> str:
    return page.locator(f".st-key-{key} img").nth(nth).get_attribute("src") or ""


def _wait_change(page, key: str, old: str) -> None:
    deadline = time.monotonic() + SLOW_MS / 1000
    while time.monotonic() < deadline:
        src = _src(page, key)
        if src and src != old:
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"the picture in {key} did not change")


def _assert_clean(page) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.locator('[data-testid="stAlertContentError"]').count() == 0
    assert "⟦" not in page.locator('[data-testid="stApp"]').inner_text()
    assert not foreign_requests(page), foreign_requests(page)
    assert not page.console_errors, page.console_errors


def _open(page, app_url: str, path: str) -> None:
    """Home first: a fresh server serves deep links only after st.navigation has run once (see app.py)."""
    page.goto(app_url)
    wait_for_app(page)
    page.goto(f"{app_url}/{path}")
    wait_for_app(page)


def _scrub(page, presses: int) -> None:
    """Move the t slider with the keyboard, as a user can: focus its thumb, press the right arrow."""
    thumb = page.locator(".st-key-dn_scrub_ddim_25 input[type='range']").first
    thumb.focus()
    for _ in range(presses):
        page.keyboard.press("ArrowRight")


def test_scrub_t_and_time_a_run_in_english(page, app_url, screenshot):
    _open(page, app_url, "denoise")
    page.locator(".st-key-dn_strip img").nth(2).wait_for(timeout=SLOW_MS)
    before = _src(page, "dn_strip")
    _scrub(page, 12)  # 12 of 25 steps: about halfway from noise to digit
    _wait_change(page, "dn_strip", before)
    wait_for_app(page)
    page.get_by_text("t = 520: step 12 of 25").wait_for(timeout=SLOW_MS)
    assert page.locator(".st-key-dn_strip img").count() == 3
    _assert_clean(page)
    screenshot("denoise_en")

    page.get_by_role("radio", name="Steps: time and quality").click()
    page.get_by_role("button", name="Sample and time it").click()
    page.locator(".st-key-dn_run_grid img").wait_for(timeout=SLOW_MS)
    page.get_by_text("samples with DDIM in 25 steps").wait_for(timeout=SLOW_MS)
    wait_for_app(page)
    page.locator(".st-key-dn_runs canvas, .st-key-dn_runs svg").first.wait_for(timeout=SLOW_MS)
    _assert_clean(page)
    page.mouse.move(0, 0)  # no tooltip over the pictures
    screenshot("denoise_steps_en")


def test_forward_noising_and_snr_in_chinese(page, app_url, screenshot):
    _open(page, app_url, "denoise?lang=zh")
    page.get_by_role("heading", name="去噪探索器").wait_for()
    page.locator(".st-key-dn_strip img").first.wait_for(timeout=SLOW_MS)
    page.get_by_role("radio", name="给真实数字加噪").click()
    page.locator(".st-key-dn_forward img").wait_for(timeout=SLOW_MS)
    page.locator(".st-key-dn_snr canvas, .st-key-dn_snr svg").first.wait_for(timeout=SLOW_MS)
    page.get_by_text("信噪比 SNR").first.wait_for()
    wait_for_app(page)
    _assert_clean(page)
    screenshot("denoise_zh")

    # Noise as a latent space: slerp between two x_T, each decoded by deterministic DDIM.
    page.get_by_role("radio", name="把噪声当作潜在空间").click()
    page.locator(".st-key-dn_latent img").nth(1).wait_for(timeout=SLOW_MS)
    page.get_by_text("球面插值 slerp 路径上的长度").wait_for(timeout=SLOW_MS)
    wait_for_app(page)
    _assert_clean(page)
    page.mouse.move(0, 0)
    screenshot("denoise_latent_zh")
