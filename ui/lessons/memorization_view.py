"""The memorization lesson's drawings (``aigc_core.lessons.memorization``): each run's samples above their nearest
training digits, the median nearest-neighbour distance over time against each training set's yardstick, the ratio
chart with the control, and the verdict computed from the last measurement. Merged into ``ui.lessons.view.DRAW``."""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd
import streamlit as st
import torch

from aigc_core import images
from aigc_core.lessons import Lesson
from ui.i18n import t

COLOURS = {"small": "#d55e00", "full": "#0072b2", "control": "#999999"}  # Okabe–Ito vermillion, blue; grey
ROW = 8  # samples per row; each row of samples is followed by the row of their nearest training digits


def pairs_picture(samples: torch.Tensor, nearest: torch.Tensor, scale: int = 2) -> str:
    """Rows of samples, each followed by the row of their nearest training digits, as an inline PNG."""
    rows = []
    for start in range(0, len(samples), ROW):
        rows += [samples[start:start + ROW], nearest[start:start + ROW]]
    grid = images.make_grid(torch.cat(rows), nrow=ROW, padding=1)
    return images.to_png_data_uri(images.upscale(grid, scale))  # inline: a replaced media file would 404 mid-run


def _names() -> dict[str, str]:
    return {arm: t(f"lessons.memorization.arm_{arm}") for arm in COLOURS}


def _charts(lesson: Lesson) -> None:
    data = pd.DataFrame(lesson.records)
    if data.empty:
        return
    names = _names()
    data = data.assign(run=data["arm"].map(names))
    colour = alt.Color("run:N", title=None, legend=alt.Legend(orient="top", labelLimit=400, columns=1),
                       scale=alt.Scale(domain=[names[a] for a in COLOURS], range=list(COLOURS.values())))
    own = data[data["arm"] != "control"]
    lines = alt.Chart(own).mark_line(point=True).encode(
        x=alt.X("step:Q", title=t("lessons.memorization.axis_step")),
        y=alt.Y("median:Q", title=t("lessons.memorization.axis_median"), scale=alt.Scale(zero=False)), color=colour)
    yardsticks = alt.Chart(own.drop_duplicates("arm")).mark_rule(strokeDash=[4, 4]).encode(y="yardstick:Q",
                                                                                          color=colour)
    ratios = alt.Chart(data).mark_line(point=True).encode(
        x=alt.X("step:Q", title=t("lessons.memorization.axis_step")),
        y=alt.Y("ratio:Q", title=t("lessons.memorization.axis_ratio"), scale=alt.Scale(zero=False)), color=colour)
    one = alt.Chart(pd.DataFrame({"y": [1.0]})).mark_rule(strokeDash=[4, 4], color="#444444").encode(y="y:Q")
    c1, c2 = st.columns(2)
    c1.altair_chart(alt.layer(lines, yardsticks).properties(height=220), width="stretch")
    c1.caption(t("lessons.memorization.median_caption"))
    c2.altair_chart(alt.layer(ratios, one).properties(height=220), width="stretch")
    c2.caption(t("lessons.memorization.ratio_caption"))


def draw_memorization(lesson: Lesson) -> None:
    _charts(lesson)
    numbers = lesson.numbers
    columns = st.columns(2)
    for column, arm in zip(columns, ("small", "full")):
        if arm not in lesson.samples or arm not in numbers:
            continue
        column.image(pairs_picture(lesson.samples[arm], lesson.samples[f"{arm}_nearest"]),
                     caption=t(f"lessons.memorization.grid_{arm}", step=numbers[arm]["step"],
                               median=numbers[arm]["median"], small=getattr(lesson, "small", 100)))


def memorization_verdict(numbers: dict[str, Any]) -> str:
    return t("lessons.memorization.result", small=numbers["small_digits"], steps=numbers["steps"],
             ratio_small=numbers["ratio_small"], ratio_full=numbers["ratio_full"],
             ratio_control=numbers["ratio_control"], median_small=numbers["median_small"],
             median_full=numbers["median_full"], yard_small=numbers["yardstick"]["small"],
             yard_full=numbers["yardstick"]["full"], share_small=numbers["share_small"],
             share_full=numbers["share_full"])


MEMORIZATION_DRAW = {"memorization": draw_memorization}
