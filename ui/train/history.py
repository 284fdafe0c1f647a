"""The Train page's History tab: scrub through the sample grids kept while training (`SnapshotTimeline`)."""

from __future__ import annotations

import streamlit as st

from aigc_core import images
from ui.i18n import t
from ui.train.run import TrainRun


def history_panel(run: TrainRun) -> None:
    steps = run.snapshots.steps()
    if len(steps) < 2:
        st.info(t("train.history_empty", every=run.snapshots.every))
        return
    index = st.select_slider(t("train.history_slider"), options=list(range(len(steps))), value=len(steps) - 1,
                             format_func=lambda i: t("train.history_step", step=steps[i]), key="train_scrub")
    step, grid = run.snapshots.items[index]
    with st.container(key="train_history"):
        st.image(images.to_png_data_uri(grid), caption=t("train.history_caption", step=step), width=480)  # inline
