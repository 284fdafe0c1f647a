"""The launcher (`python -m ui.server.launch`, what scripts/run.sh runs): Home is ready before any browser has
connected, and a browser then gets all of Home, the same pictures a new session has always had for seed 0."""

from __future__ import annotations

import time

from browserlib import streamlit_server
from conftest import ARTIFACTS, SCREENSHOTS, SERVER_START_TIMEOUT_S, VIEWPORT
from e2e_support import MENU_LINKS, foreign_requests, wait_for_app
from playwright.sync_api import expect

from aigc_core import images
from aigc_core.checkpoints import load_checkpoint
from aigc_core.device import device_parts, pick_device
from aigc_core.evaluation import PRETRAINED_DIR
from aigc_core.live_eval import model_samples01
from ui.catalog import load_translator
from ui.home.view import FIRST_SEED, HOME_MODELS, SAMPLES
from ui.server.launch import READY

LOG = ARTIFACTS / "streamlit-launch.log"
SAMPLE_IMAGES = ".st-key-home_samples img"


def _wait_for_log_line(line: str, timeout_s: float = 120.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if line in LOG.read_text(errors="replace"):
            return True
        time.sleep(0.2)
    return False


def _grid_uri(name: str) -> str:
    """Home's picture for a new session, computed here from the checkpoint and seed alone (as pretrained() and
    ui.home.view._grid do: eval mode, a grid of 8 per row)."""
    model = load_checkpoint(PRETRAINED_DIR / name).model.eval()
    return images.to_png_data_uri(images.make_grid(model_samples01(model, SAMPLES, FIRST_SEED), nrow=8))


def test_launcher_has_home_ready_before_a_browser_and_then_shows_all_of_it(browser):
    with streamlit_server(timeout=SERVER_START_TIMEOUT_S, log=LOG, die_with_parent=True) as server:
        assert _wait_for_log_line(READY), LOG.read_text(errors="replace")[-3000:]

        context = browser.new_context(viewport=VIEWPORT, locale="en-US")
        try:
            page = context.new_page()
            page.request_urls, errors = [], []  # what foreign_requests reads, as the page fixture records it
            context.on("request", lambda request: page.request_urls.append(request.url))
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(server.url)
            wait_for_app(page)
            tr = load_translator("en")
            main = page.locator('[data-testid="stMain"]')
            expect(main.get_by_role("heading", name=tr("home.title"))).to_be_visible()
            for _, caption_key in HOME_MODELS:
                expect(main).to_contain_text(tr(caption_key))
            expect(page.locator(SAMPLE_IMAGES)).to_have_count(len(HOME_MODELS))
            page.wait_for_function(f"""() => [...document.querySelectorAll('{SAMPLE_IMAGES}')]
                .every((img) => img.complete && img.naturalWidth > 0)""")
            sources = [page.locator(SAMPLE_IMAGES).nth(i).get_attribute("src") for i in range(len(HOME_MODELS))]
            assert sources == [_grid_uri(name) for name, _ in HOME_MODELS]

            kind, detail = device_parts(pick_device())
            device = tr(f"common.device_{kind}", name=detail, threads=detail)
            expect(main).to_contain_text(tr("home_live.device", device=device))
            expect(page.locator('[data-testid="stSidebar"]')).to_contain_text(tr("common.device_line", device=device))
            # The samples section's own button (Draw me a 7 has a "New samples" button too).
            expect(main.locator(".st-key-home_live_new").get_by_role("button", name=tr("home_live.new_samples"))) \
                .to_be_visible()
            menu = page.locator(MENU_LINKS)
            expect(main.locator('[data-testid="stPageLink"]')).to_have_count(menu.count() - 1)  # a card a page

            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / "home_launcher.png"), full_page=True)
            assert page.locator('[data-testid="stException"]').count() == 0
            assert not foreign_requests(page) and not errors, (foreign_requests(page), errors)
        finally:
            context.close()
