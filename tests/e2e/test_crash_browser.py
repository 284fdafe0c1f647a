"""A crash loses no work: three tabs train three different models, the server is killed with SIGKILL (no chance
to save anything then) and started again on the same address with the same autosave folder; each reloaded tab gets
its own model back from its autosave (ui/server/autosave.py, ui/train/autosave.py), at most one autosave period
behind, never another tab's.

This test starts its own servers (the shared one of conftest.py must not be killed)."""

from __future__ import annotations

import os
import re
import signal
import time

from conftest import ARTIFACTS, SCREENSHOTS, SERVER_START_TIMEOUT_S, VIEWPORT
from test_train_browser import _step, _wait_step_above

from browserlib import free_port, streamlit_server
from e2e_support import wait_for_app

AUTOSAVE_EVERY_S = 10  # the default (ui/server/autosave.py), so this checks what the README promises
TRAIN_S = 16  # long enough for an autosave of every tab
TABS = {  # name -> the set-up in its link: three different models
    "a": "preset=gan_mlp_live&seed=11",
    "b": "preset=gan_seed_mlp&seed=22",
    "c": "preset=vae_mlp_z2&seed=33",
}
# The reload usually finds the run on disk; but a tab left open reconnects to the new server by itself, and that
# session may adopt the autosave first: the reload then finds it in memory (ui/server/parking.py). Either way the
# run came from the autosave: nothing else outlived the SIGKILL.
RESTORED = re.compile("back from its autosave at step|your model is here again at step")
CAPTIONS = {"a": "MLP GAN, mid-size", "b": "The article's MLP GAN", "c": "MLP VAE, 2-D latent space"}


def _caption(tab) -> str:
    return tab.locator('[data-testid="stCaptionContainer"]').filter(has_text="Model:").first.inner_text()


def test_a_killed_server_gives_every_tab_its_model_back(browser, tmp_path):
    folder = tmp_path / "autosave"
    env = {"AIGC_AUTOSAVE_DIR": str(folder), "AIGC_AUTOSAVE_SECONDS": str(AUTOSAVE_EVERY_S)}
    port = free_port()
    contexts = [browser.new_context(viewport=VIEWPORT, locale="en-US") for _ in TABS]
    tabs = {name: context.new_page() for name, context in zip(TABS, contexts)}
    seen: dict[str, list[tuple[float, int]]] = {name: [] for name in TABS}
    try:
        with streamlit_server(env=env, timeout=SERVER_START_TIMEOUT_S, log=ARTIFACTS / "streamlit-crash-1.log",
                              die_with_parent=True, port=port) as server:
            for name, tab in tabs.items():
                if name == "a":  # a fresh server serves a deep link only once st.navigation has run
                    tab.goto(server.url)
                    wait_for_app(tab)
                tab.goto(f"{server.url}/train?{TABS[name]}")
                wait_for_app(tab)
                tab.locator(".st-key-train_btn_start button").first.click()
            for tab in tabs.values():
                _wait_step_above(tab, 0)
                tab.wait_for_function("() => location.search.includes('run=')")
            started = time.monotonic()
            while time.monotonic() - started < TRAIN_S:
                for name, tab in tabs.items():
                    seen[name].append((time.monotonic(), _step(tab)))
                time.sleep(0.5)
            urls = {name: tab.evaluate("location.href") for name, tab in tabs.items()}
            assert len(list(folder.glob("*.zip"))) == 3
            os.killpg(server.process.pid, signal.SIGKILL)  # the whole process group, at once
            killed = time.monotonic()
            server.process.wait(timeout=15)

        with streamlit_server(env=env, timeout=SERVER_START_TIMEOUT_S, log=ARTIFACTS / "streamlit-crash-2.log",
                              die_with_parent=True, port=port):
            for name, tab in tabs.items():
                tab.goto(urls[name])  # a reload of the same address: the tab's token is in it
                wait_for_app(tab)
                try:
                    tab.get_by_text(RESTORED).wait_for()
                except Exception:
                    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
                    tab.screenshot(path=str(SCREENSHOTS / f"FAILED-crash_{name}.png"), full_page=True)
                    raise
                restored = _step(tab)
                floor = max(step for when, step in seen[name] if when <= killed - AUTOSAVE_EVERY_S - 5)
                assert restored >= floor > 0, (name, restored, seen[name])  # at most one period behind
                assert f"at step {restored:,}" in tab.locator('[data-testid="stAlert"]').first.inner_text()
                assert CAPTIONS[name] in _caption(tab), _caption(tab)  # its own model, not another tab's
                assert tab.locator('[data-testid="stException"]').count() == 0
                assert tab.evaluate("location.href").split("run=")[1][:16] == urls[name].split("run=")[1][:16]
                SCREENSHOTS.mkdir(parents=True, exist_ok=True)
                tab.screenshot(path=str(SCREENSHOTS / f"crash_restored_{name}_en.png"), full_page=True)
            tab = tabs["a"]
            tab.locator(".st-key-train_btn_start button").first.click()  # and it trains on from there
            _wait_step_above(tab, _step(tab))
    finally:
        for context in contexts:
            context.close()
