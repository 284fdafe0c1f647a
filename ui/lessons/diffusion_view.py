"""The diffusion lessons' drawing (`DRAW` entries that ui/lessons/view.py merges into its own) and their verdicts:
Altair scatters of each arm's 2-D samples over the data, the denoising loss while training, and small charts and
tables of the numbers. Every number comes from ``aigc_core.lessons.diffusion``."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st
import torch

from aigc_core import palette
from aigc_core.lessons import Lesson
from aigc_core.playground.views import PLANE_BOUNDS
from ui.a11y.charts import altair_chart
from ui.i18n import t

SHOWN = 400  # points of each arm (and of the data) drawn on a plane: enough for the shape, cheap on every slice
MAX_LOSS_POINTS = 300  # per arm on the loss chart
LOSS_WINDOW = 50  # steps in the loss chart's running mean
# aigc_core.palette: the arm that goes wrong vermillion, the one that works blue, the reference sky blue.
ARM_COLOURS = {"ddpm_few": palette.VERMILLION, "ddim_few": palette.BLUE, "reference": palette.SKY_BLUE,
               "denoiser": palette.BLACK, "linear": palette.VERMILLION, "cosine": palette.BLUE}
DATA_COLOUR = palette.GREY


def _every(n: int) -> slice:
    """Every k-th row, so that at most SHOWN of n are drawn, spread over all of them (the guidance lesson's
    samples are sorted by class)."""
    return slice(None, None, max(1, -(-n // SHOWN)))


def _xy(points: torch.Tensor) -> pd.DataFrame:
    shown = points[_every(len(points))].numpy()
    return pd.DataFrame({"x": shown[:, 0], "y": shown[:, 1]})


def plane(lesson: Lesson, arm: str, title: str, *, labels: torch.Tensor | None = None, extent: float | None = None,
          ) -> alt.Chart:
    """The real points (grey) under the arm's samples: in the arm's colour, or coloured by requested class. The
    square is the playground's unless `extent` widens it (strongly guided samples leave it)."""
    bounds = list(PLANE_BOUNDS) if extent is None else [-extent, extent]
    axis = {"scale": alt.Scale(domain=bounds), "title": None}
    data = alt.Chart(_xy(lesson.points["data"])).mark_circle(size=8, opacity=0.25, color=DATA_COLOUR, clip=True).encode(
        x=alt.X("x:Q", **axis), y=alt.Y("y:Q", **axis))
    samples = _xy(lesson.points[arm])
    if labels is None:
        dots = alt.Chart(samples).mark_circle(size=10, opacity=0.7, color=ARM_COLOURS.get(arm, palette.BLUE), clip=True)
        dots = dots.encode(x=alt.X("x:Q", **axis), y=alt.Y("y:Q", **axis))
    else:
        samples = samples.assign(label=labels[_every(len(labels))].numpy().astype(str))
        dots = alt.Chart(samples).mark_circle(size=10, opacity=0.7, clip=True).encode(
            x=alt.X("x:Q", **axis), y=alt.Y("y:Q", **axis),
            color=alt.Color("label:N", scale=alt.Scale(range=list(palette.CLASSES)), legend=None))
    return alt.layer(data, dots).properties(height=230, title=title)


def _planes(lesson: Lesson, arms: dict[str, str], **kwargs: Any) -> None:  # kwargs: plane()'s
    present = [arm for arm in arms if arm in lesson.points]
    if not present or "data" not in lesson.points:
        return
    for column, arm in zip(st.columns(len(arms)), present):
        # Its table: the arm's samples (the chart draws them over the real points).
        altair_chart(plane(lesson, arm, arms[arm], **kwargs), where=column, title=arms[arm],
                     table=lambda arm=arm: _xy(lesson.points[arm]), width="stretch")


def loss_chart(lesson: Lesson, legend: dict[str, str]) -> alt.Chart | None:
    """Each arm's denoising loss against its step: a running mean, every n-th step (≤ MAX_LOSS_POINTS per arm)."""
    data = pd.DataFrame(lesson.records)
    if data.empty:
        return None
    # Smoothed and thinned per arm (the arms' records interleave in chunks, so one stride over all rows could pick
    # one arm only): each batch's loss depends on its random t, so single steps scatter widely.
    parts = [part.assign(loss=part["loss"].rolling(LOSS_WINDOW, min_periods=1).mean())
             .iloc[::max(1, -(-len(part) // MAX_LOSS_POINTS))] for _, part in data.groupby("arm", sort=False)]
    data = pd.concat(parts).assign(series=lambda d: d["arm"].map(legend))
    names = [legend[arm] for arm in legend if arm in set(data["arm"])]
    colours = [ARM_COLOURS[arm] for arm in legend if arm in set(data["arm"])]
    return alt.Chart(data).mark_line().encode(
        x=alt.X("step:Q", title=t("lessons.axis_step"), axis=alt.Axis(format="d")),
        y=alt.Y("loss:Q", title=t("lessons.df_loss_axis"), scale=alt.Scale(type="log")),
        color=alt.Color("series:N", title=None, legend=alt.Legend(orient="top"),
                        scale=alt.Scale(domain=names, range=colours)),
    ).properties(height=180)


def _show(chart: alt.Chart | None) -> None:
    if chart is not None:
        altair_chart(chart, width="stretch")  # its table: in the lesson's chart area (ui/lessons/live.py)


def _numbers_table(per_arm: dict[str, dict[str, Any]], names: dict[str, str]) -> None:
    st.dataframe(pd.DataFrame([
        {"": names[arm], t("lessons.df_kl"): round(v["kl"], 3), t("lessons.df_js"): round(v["js"], 3),
         t("lessons.df_modes"): v["modes"], t("lessons.df_distance"): round(v["distance"], 3)}
        for arm, v in per_arm.items()
    ]), hide_index=True)


# --- each lesson ---------------------------------------------------------------------------------------------------


def steps_names(lesson: Lesson) -> dict[str, str]:
    few, reference = lesson.settings["ddpm_few"][1], lesson.settings["reference"][1]  # type: ignore[attr-defined]
    return {"ddpm_few": t("lessons.dst_ddpm", steps=few), "ddim_few": t("lessons.dst_ddim", steps=few),
            "reference": t("lessons.dst_reference", steps=reference)}


def draw_diffusion_steps(lesson: Lesson) -> None:
    names = steps_names(lesson)
    _show(loss_chart(lesson, {"denoiser": t("lessons.df_training")}))
    _planes(lesson, names)
    per_arm = (lesson.numbers or {}).get("per_arm")
    if per_arm:
        _numbers_table(per_arm, names)
        bars = pd.DataFrame([{"arm": names[arm], "kl": v["kl"]} for arm, v in per_arm.items()])
        _show(alt.Chart(bars).mark_bar().encode(
            x=alt.X("arm:N", title=None, sort=None, axis=alt.Axis(labelAngle=0)),
            y=alt.Y("kl:Q", title=t("lessons.df_kl")),
            color=alt.Color("arm:N", legend=None, scale=alt.Scale(
                domain=[names[a] for a in per_arm], range=[ARM_COLOURS[a] for a in per_arm])),
        ).properties(height=180))
        if "data_distance" in lesson.numbers:
            samples = len(lesson.x_T)  # type: ignore[attr-defined]
            st.caption(t("lessons.df_table_caption", samples=samples, real=len(lesson.points["data"]),
                         data=lesson.numbers["data_distance"]))


def draw_diffusion_guidance(lesson: Lesson) -> None:
    weights = lesson.weights  # type: ignore[attr-defined]
    _show(loss_chart(lesson, {"denoiser": t("lessons.df_training")}))
    # One square for every w, wide enough for the farthest sample: strongly guided samples leave the playground's.
    extent = max([PLANE_BOUNDS[1]] + [math.ceil(float(p.abs().max())) for p in lesson.points.values()])
    _planes(lesson, {lesson.arm(w): t("lessons.dgd_w", w=f"{w:g}") for w in weights},  # type: ignore[attr-defined]
            labels=lesson.labels, extent=extent)  # type: ignore[attr-defined]
    per_w = (lesson.numbers or {}).get("per_w")
    if not per_w:
        return
    data = pd.DataFrame(list(per_w.values()))
    charts = (("fidelity", t("lessons.dgd_fidelity")), ("spread", t("lessons.dgd_spread")),
              ("offset", t("lessons.dgd_offset")))
    for column, (key, title) in zip(st.columns(len(charts)), charts):
        altair_chart(alt.Chart(data).mark_line(point=True, color=palette.BLACK).encode(
            x=alt.X("w:O", title=t("lessons.dgd_axis_w")), y=alt.Y(f"{key}:Q", title=title),
        ).properties(height=180), where=column, width="stretch")
    if "data_fidelity" in lesson.numbers:
        per_class = len(lesson.labels) // 8  # type: ignore[attr-defined]
        st.caption(t("lessons.dgd_caption", per_class=per_class, steps=lesson.steps,  # type: ignore[attr-defined]
                     fidelity=lesson.numbers["data_fidelity"], offset=lesson.numbers["data_offset"],
                     spread=lesson.numbers["data_spread"]))


def draw_diffusion_schedule(lesson: Lesson) -> None:
    numbers = lesson.numbers
    names = {"linear": t("lessons.dsc_linear"), "cosine": t("lessons.dsc_cosine")}
    rows = [{"t": step, "series": names[kind], "alpha_bar": a, "log10_snr": s}
            for kind in names
            for step, (a, s) in enumerate(zip(numbers[f"alpha_bars_{kind}"], numbers[f"log10_snr_{kind}"]))]
    curves = pd.DataFrame(rows)
    colour = alt.Color("series:N", title=None, legend=alt.Legend(orient="top"),
                       scale=alt.Scale(domain=list(names.values()), range=[ARM_COLOURS[k] for k in names]))
    c1, c2 = st.columns(2)
    alpha = alt.Chart(curves).mark_line().encode(x=alt.X("t:Q", title="t"), y=alt.Y("alpha_bar:Q",
                                                 title=t("lessons.dsc_alpha_axis")), color=colour)
    rule = alt.Chart(pd.DataFrame({"y": [numbers["level"]]})).mark_rule(strokeDash=[4, 4], color=palette.GREY).encode(
        y="y:Q")
    altair_chart(alt.layer(alpha, rule).properties(height=200), where=c1, width="stretch")
    altair_chart(alt.Chart(curves.dropna()).mark_line().encode(
        x=alt.X("t:Q", title="t"), y=alt.Y("log10_snr:Q", title=t("lessons.dsc_snr_axis")), color=colour,
    ).properties(height=200), where=c2, width="stretch")
    st.caption(t("lessons.dsc_caption", level=numbers["level"], linear=numbers["destroyed_linear"],
                 cosine=numbers["destroyed_cosine"], T=numbers["T"]))
    _show(loss_chart(lesson, names))
    _planes(lesson, {kind: t("lessons.dsc_samples", name=name, T=numbers["T"]) for kind, name in names.items()})
    if all(f"kl_{kind}" in numbers for kind in names):
        _numbers_table({kind: {k: numbers[f"{k}_{kind}"] for k in ("kl", "js", "modes", "distance")}
                        for kind in names}, names)


DIFFUSION_DRAW: dict[str, Callable[[Lesson], None]] = {
    "diffusion_steps": draw_diffusion_steps,
    "diffusion_guidance": draw_diffusion_guidance,
    "diffusion_schedule": draw_diffusion_schedule,
}


def diffusion_verdict(key: str, numbers: dict[str, Any]) -> str:
    """The result of a diffusion lesson in one sentence, with the numbers that show it."""
    if key == "diffusion_steps":
        arm = numbers["per_arm"]
        ddpm, ddim, ref = arm["ddpm_few"], arm["ddim_few"], arm["reference"]
        return t("lessons.dst_result", few=numbers["few"], ref=numbers["reference_steps"],
                 kl_ddpm=ddpm["kl"], kl_ddim=ddim["kl"], kl_ref=ref["kl"], m_ddpm=ddpm["modes"],
                 m_ddim=ddim["modes"], m_ref=ref["modes"], d_ddpm=ddpm["distance"], d_ddim=ddim["distance"],
                 d_ref=ref["distance"], d_data=numbers["data_distance"])
    if key == "diffusion_guidance":
        per_w = list(numbers["per_w"].values())
        first, last = per_w[0], per_w[-1]
        return t("lessons.dgd_result", w0=f"{first['w']:g}", w1=f"{last['w']:g}", f0=first["fidelity"],
                 f1=last["fidelity"], s0=first["spread"], s1=last["spread"], fd=numbers["data_fidelity"],
                 sd=numbers["data_spread"], o0=first["offset"], o1=last["offset"], od=numbers["data_offset"])
    if key == "diffusion_schedule":
        return t("lessons.dsc_result", T=numbers["T"], half=numbers["half"], a_lin=numbers["alpha_bar_half_linear"],
                 a_cos=numbers["alpha_bar_half_cosine"], t_lin=numbers["destroyed_linear"],
                 t_cos=numbers["destroyed_cosine"], kl_lin=numbers["kl_linear"], kl_cos=numbers["kl_cosine"],
                 m_lin=numbers["modes_linear"], m_cos=numbers["modes_cosine"])
    return ""
