"""The Home page's live bits: an instant sample grid from the shipped pretrained GAN and VAE, and the device.

The pretrained models are the shared, cached ones (`ui.resources.pretrained`): they are only sampled, under inference
mode. A missing folder gives a message with the command that makes it, never an error.
"""

from __future__ import annotations

import threading

import numpy as np
import streamlit as st

from aigc_core import images
from aigc_core.live_eval import model_samples01
from ui.a11y.charts import image
from ui.i18n import t
from ui.resources import device_text, try_pretrained

HOME_MODELS = (("gan_mlp", "home_live.gan_caption"), ("vae_mlp_z20", "home_live.vae_caption"))
SAMPLES = 32  # 4 rows of 8
_SEED_KEY = "home_live_seed"
FIRST_SEED = 0  # a new session's grids; ui/server/warm.py computes them before the first browser asks
# Set once a session's Home run is complete (pages/home.py): the launcher's warming waits for it before the other
# pages' work, which would otherwise compete with that first run for the interpreter.
HOME_DRAWN = threading.Event()


@st.cache_data(show_spinner=False, max_entries=64)
def _grid(name: str, seed: int) -> np.ndarray | None:
    """The sample grid of a pretrained model for a seed (shared: the same seed gives the same picture)."""
    checkpoint, _ = try_pretrained(name)
    if checkpoint is None:
        return None
    return images.make_grid(model_samples01(checkpoint.model, SAMPLES, seed), nrow=8)


def _new_samples() -> None:
    st.session_state[_SEED_KEY] = st.session_state.get(_SEED_KEY, FIRST_SEED) + 1


def samples_section() -> None:
    st.subheader(t("home.samples_heading"), divider="gray")
    seed = st.session_state.get(_SEED_KEY, FIRST_SEED)
    st.html("<style>.st-key-home_samples img { image-rendering: pixelated; }</style>")
    with st.container(key="home_samples"):
        columns = st.columns(len(HOME_MODELS))
        for column, (name, caption_key) in zip(columns, HOME_MODELS):
            with column:
                grid = _grid(name, seed)
                if grid is None:
                    st.info(t("home_live.missing", name=name, command=f"python -m aigc_core train --model {name} --out pretrained/{name}"))
                else:
                    image(images.to_png_data_uri(grid), t(caption_key), width="stretch")  # inline: no media-file race
    left, right = st.columns([1, 3], vertical_alignment="center")
    left.button(t("home_live.new_samples"), on_click=_new_samples, key="home_live_new", icon=":material/casino:",
                help=t("home_live.new_samples_help"))
    right.caption(t("home_live.device", device=device_text()))


def warm_samples() -> None:
    """Fill the shared cache with a new session's grids (no Streamlit element: the launcher calls it off-session)."""
    for name, _ in HOME_MODELS:
        _grid(name, FIRST_SEED)
    from ui.home.draw import warm  # deferred: Home's "Draw me a 7" section and its models

    warm()
