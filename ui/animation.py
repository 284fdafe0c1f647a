"""The training as an animated GIF: a "Make the GIF" button with a progress bar, then a download button. Shared by
the Train page's History tab (the fixed-noise grids, ui/train/history.py) and the playground (its plane,
ui/playground/animation.py). The encoding is `aigc_core.animation.encode_gif`.

The GIF is made on request, not on every rerun (a few seconds of CPU), and kept in session state beside a weak
reference to the run it shows: a new run (Reset, another model) no longer offers the old film, and the kept
bytes never keep an old run alive.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import streamlit as st

from aigc_core.animation import encode_gif
from ui.i18n import t
from ui.text import plain

MIN_FRAMES = 2


def gif_section(prefix: str, owner: object, frames: Sequence[tuple[int, Any]], *, intro_key: str, too_few: str,
                label_key: str, file_name: str, draw: Callable[[Any], np.ndarray] | None = None,
                heading: bool = True) -> None:
    """The section: `frames` are (step, what to draw), `draw` turns one into a uint8 picture (None: it is one).
    `owner` is the run the frames belong to; `label_key` the catalog key of a frame's label (ASCII: "step {step}");
    `heading=False` where a container above already says what this is."""
    if heading:
        st.markdown(f"**{t('animation.heading')}**")
    if len(frames) < MIN_FRAMES:
        st.info(too_few, icon=":material/movie:")
        return
    first, last = frames[0][0], frames[-1][0]
    st.caption(t(intro_key, n=len(frames), first=f"{first:,}", last=f"{last:,}"))
    state_key = f"{prefix}_gif"
    if st.button(t("animation.make"), key=f"{prefix}_gif_make", icon=":material/movie:", help=t("animation.make_help")):
        data = _make(frames, label_key, draw)
        if data is not None:
            st.session_state[state_key] = (weakref.ref(owner), len(frames), first, last, data)
    kept = st.session_state.get(state_key)
    if kept is None or kept[0]() is not owner:
        return
    _, count, first, last, data = kept
    st.download_button(t("animation.download"), data=data, file_name=f"{file_name}.gif", mime="image/gif",
                       key=f"{prefix}_gif_download", icon=":material/download:", on_click="ignore")
    st.caption(t("animation.made", n=count, first=f"{first:,}", last=f"{last:,}", size=f"{len(data) / 1e6:.1f}"))


def _make(frames: Sequence[tuple[int, Any]], label_key: str, draw: Callable[[Any], np.ndarray] | None) -> bytes | None:
    """The GIF bytes, with a progress bar while they are made (drawing the frames first, if they need it)."""
    bar = st.progress(0.0, text=t("animation.drawing") if draw is not None else t("animation.progress"))
    drawn_share = 0.4 if draw is not None else 0.0
    try:
        if draw is None:
            pictures = [picture for _, picture in frames]
        else:
            pictures = []
            for index, (_, item) in enumerate(frames):
                pictures.append(draw(item))
                if index % 4 == 3 or index == len(frames) - 1:  # a delta per bar move: every few frames is enough
                    bar.progress(drawn_share * (index + 1) / len(frames), text=t("animation.drawing"))
        labels = [t(label_key, step=f"{step:,}") for step, _ in frames]
        shown = [-1]

        def progress(fraction: float) -> None:
            percent = int(100 * (drawn_share + (1 - drawn_share) * fraction))
            if percent >= shown[0] + 2:  # the encoder reports every frame: a delta per 2 % is enough
                shown[0] = percent
                bar.progress(min(percent, 100), text=t("animation.progress"))

        data = encode_gif(pictures, labels, progress=progress)
    except ValueError as exc:
        bar.empty()
        st.error(t("animation.failed", message=plain(exc)), icon=":material/error:")
        return None
    bar.empty()
    return data
