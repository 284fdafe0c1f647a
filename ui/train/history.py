"""The Train page's History tab: scrub through the sample grids kept while training (`SnapshotTimeline`), and
download them as an animated GIF (`ui.animation`)."""

from __future__ import annotations

import streamlit as st

from aigc_core import images
from ui.animation import gif_section
from ui.a11y.charts import image
from ui.i18n import t
from ui.train.run import TrainRun, animation_frames


def history_panel(run: TrainRun) -> None:
    steps = run.snapshots.steps()
    if len(steps) < 2:  # nothing to scrub and nothing to animate yet: one message for both
        st.info(t("train.history_empty", every=run.snapshots.every))
        return
    scrubber(run, steps)
    st.divider()
    gif_section("train", run, animation_frames(run), intro_key="animation.intro_train", label_key="animation.label_train",
                too_few=t("train.history_empty", every=run.snapshots.every),
                file_name=f"aigc_{run.settings.preset}_training_step{run.trainer.iteration}")


def scrubber(run: TrainRun, steps: list[int]) -> None:
    index = st.select_slider(t("train.history_slider"), options=list(range(len(steps))), value=len(steps) - 1,
                             format_func=lambda i: t("train.history_step", step=steps[i]), key="train_scrub")
    step, grid = run.snapshots.items[index]
    with st.container(key="train_history"):
        image(images.to_png_data_uri(grid), t("train.history_caption", step=step), width=480)  # inline
