"""The Lessons page's drawing: each lesson's charts and sample strips (`DRAW[key](lesson)`) and its verdict. All
numbers come from ``aigc_core.lessons``; the lesson itself runs in ui/lessons/run.py, timed by ui/lessons/live.py.
"""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd
import streamlit as st
import torch

from aigc_core import images, palette
from aigc_core.lessons import Lesson
from ui.a11y.charts import altair_chart, image
from ui.i18n import t
from ui.lessons.diffusion_view import DIFFUSION_DRAW, diffusion_verdict
from ui.lessons.memorization_view import MEMORIZATION_DRAW, memorization_verdict


def _png(picture, scale: int) -> str:
    """An inline PNG for st.image: the lesson's strips change while it runs, and a media file replaced by the
    next slice would answer a late browser with a 404 (see ui/latent/panels.png_uri)."""
    return images.to_png_data_uri(images.upscale(picture, scale))


def strip(samples: torch.Tensor, caption: str, nrow: int = 8, scale: int = 2) -> None:
    image(_png(images.make_grid(samples, nrow=nrow, padding=1), scale), caption)


def frame(lesson: Lesson) -> pd.DataFrame:
    return pd.DataFrame([{k: v for k, v in r.items() if not isinstance(v, list)} for r in lesson.records])


# One colour per arm on every chart of a lesson (aigc_core.palette: the arm that works blue, the one that goes
# wrong vermillion, a warm-up grey).
GOOD, WRONG = palette.BLUE, palette.VERMILLION
COLOURS = {
    "warmup": palette.GREY, "minimax": WRONG, "non_saturating": GOOD,
    "balanced": GOOD, "strong": WRONG, "sgd": WRONG, "adam": GOOD,
    "generator_alone": WRONG, "brightness": GOOD,
}
BETA_COLOURS = palette.CATEGORICAL
MAX_CHART_POINTS = 300  # per arm: enough for the shape of a curve, cheap to send on every slice


def _thin(data: pd.DataFrame, column: str) -> pd.DataFrame:
    """Every n-th row of each arm so that no arm has more than MAX_CHART_POINTS (its last row always kept)."""
    parts = []
    for _, part in data.groupby(column, sort=False):
        stride = max(1, -(-len(part) // MAX_CHART_POINTS))
        keep = part.iloc[::stride]
        if keep.index[-1] != part.index[-1]:
            keep = pd.concat([keep, part.iloc[[-1]]])
        parts.append(keep)
    return pd.concat(parts) if parts else data


def line_chart(data: pd.DataFrame, y: str, title: str, *, log: bool = False, colour: str = "arm",
               legend: dict[str, str] | None = None, height: int = 220, floor: float | None = None) -> alt.Chart | None:
    """Lines of `y` against the step, one per arm, in the arm's own colour. On a log scale values are shown by
    size (absolute value); `floor` draws exact zeros (and anything smaller) at that height instead of dropping them."""
    data = data.dropna(subset=[y]) if y in data else data.iloc[0:0]
    if data.empty:
        return None
    data = _thin(data, colour)
    arms = list(dict.fromkeys(data[colour]))
    names = [(legend or {}).get(arm, str(arm)) for arm in arms]
    palette = [COLOURS.get(arm, BETA_COLOURS[i % len(BETA_COLOURS)]) for i, arm in enumerate(arms)]
    data = data.assign(series=data[colour].map(dict(zip(arms, names))))
    if log:
        size = data[y].abs()
        data = data.assign(**{y: size.clip(lower=floor)}) if floor else data[size > 0].assign(**{y: size})
    return alt.Chart(data).mark_line().encode(
        x=alt.X("step:Q", title=t("lessons.axis_step"), axis=alt.Axis(format="d", tickMinStep=1)),
        y=alt.Y(f"{y}:Q", title=title, scale=alt.Scale(type="log") if log else alt.Undefined),
        color=alt.Color("series:N", title=None, legend=alt.Legend(orient="top"),
                        scale=alt.Scale(domain=names, range=palette)),
    ).properties(height=height)


def show_chart(chart: alt.Chart | None) -> None:
    if chart is not None:
        altair_chart(chart, width="stretch")  # its table: in the lesson's chart area (ui/lessons/live.py)


def histogram_chart(before: list[int], after: list[int]) -> alt.Chart:
    rows = [{"digit": str(d), "count": c, "when": t("lessons.mc_before")} for d, c in enumerate(before)]
    rows += [{"digit": str(d), "count": c, "when": t("lessons.mc_after")} for d, c in enumerate(after)]
    return alt.Chart(pd.DataFrame(rows)).mark_bar().encode(
        x=alt.X("digit:N", title=t("lessons.mc_digit_axis")),
        xOffset="when:N",
        y=alt.Y("count:Q", title=t("lessons.mc_count_axis")),
        color=alt.Color("when:N", title=None, legend=alt.Legend(orient="top"),
                        scale=alt.Scale(range=[GOOD, WRONG])),
    ).properties(height=240)


# --- each lesson's live view and result ------------------------------------------------------------------------


def draw_mode_collapse(lesson: Lesson) -> None:
    data = frame(lesson)
    c1, c2 = st.columns(2)
    with c1:
        show_chart(line_chart(data, "entropy", t("lessons.mc_entropy_axis"), legend={"generator_alone": "G"}))
    with c2:
        show_chart(line_chart(data, "top_share", t("lessons.mc_top_axis"), legend={"generator_alone": "G"}))
    if lesson.records:
        first, last = lesson.records[0]["counts"], lesson.records[-1]["counts"]
        altair_chart(histogram_chart(first, last), width="stretch")
    _samples(lesson, ("before", "after"))


def draw_vanishing_gradient(lesson: Lesson) -> None:
    legend = {"minimax": t("lessons.vg_minimax"), "non_saturating": t("lessons.vg_ns"), "warmup": t("lessons.vg_warmup")}
    numbers = lesson.numbers or {}
    if "ratio" in numbers:  # measured on one and the same state, right after the warm-up
        m1, m2, m3 = st.columns(3)
        m1.metric(t("lessons.vg_norm_minimax"), f"{numbers['grad_norm_minimax']:.4f}", help=t("lessons.vg_norm_minimax_help"))
        m2.metric(t("lessons.vg_norm_ns"), f"{numbers['grad_norm_non_saturating']:.3f}", help=t("lessons.vg_norm_ns_help"))
        m3.metric(t("lessons.vg_ratio"), f"{numbers['ratio']:.0f}×", help=t("lessons.vg_ratio_help"))
    data = frame(lesson)
    c1, c2 = st.columns(2)
    with c1:
        show_chart(line_chart(data[data["arm"] != "warmup"] if not data.empty else data, "grad_norm_g",
                              t("lessons.axis_grad_g"), log=True, legend=legend))
    with c2:
        show_chart(line_chart(data, "d_fake", t("lessons.axis_d_fake"), legend=legend))
    # No sample strips here: after a few hundred steps both generators still draw noise; the numbers tell it.


def draw_strong_discriminator(lesson: Lesson) -> None:
    legend = {"balanced": t("lessons.sd_balanced"), "strong": t("lessons.sd_strong")}
    data = frame(lesson)
    c1, c2 = st.columns(2)
    with c1:
        show_chart(line_chart(data, "d_fake", t("lessons.axis_d_fake"), legend=legend))
    with c2:
        show_chart(line_chart(data, "d_loss", t("lessons.axis_d_loss"), legend=legend))
    show_chart(line_chart(data, "g_loss", t("lessons.axis_g_loss"), legend=legend, height=180))


def draw_divergence(lesson: Lesson) -> None:
    legend = {"sgd": t("lessons.dv_sgd"), "adam": t("lessons.dv_adam")}
    data = frame(lesson)
    c1, c2 = st.columns(2)
    with c1:
        show_chart(line_chart(data, "g_loss", t("lessons.axis_abs_g_loss"), log=True, legend=legend))
    with c2:
        show_chart(line_chart(data, "grad_norm_g", t("lessons.axis_grad_g"), log=True, legend=legend, floor=1e-8))
        st.caption(t("lessons.dv_zero_caption"))
    numbers = lesson.numbers or {}
    if numbers.get("message"):
        st.error(t("lessons.dv_caught", step=numbers["diverged_at"], restored=numbers["restored_to"]))
        with st.expander(t("lessons.dv_message")):
            st.code(numbers["message"], language="text")
    _samples(lesson, ("sgd", "adam"), legend)


def draw_vae_beta(lesson: Lesson) -> None:
    data = frame(lesson)
    c1, c2 = st.columns(2)
    with c1:
        show_chart(line_chart(data, "kl", t("lessons.axis_kl")))
    with c2:
        show_chart(line_chart(data, "recon", t("lessons.axis_recon")))
    numbers = lesson.numbers or {}
    if numbers.get("per_beta"):
        table = pd.DataFrame([
            {"β": beta, t("lessons.vb_recon"): round(v["recon"], 1), t("lessons.vb_kl"): round(v["kl"], 2),
             t("lessons.vb_active"): v["active"], t("lessons.vb_spread"): round(v["spread"], 3)}
            for beta, v in numbers["per_beta"].items()
        ])
        st.dataframe(table, hide_index=True)
        st.caption(t("lessons.vb_table_caption", real=numbers["real_spread"]))
    if "input" in lesson.samples:
        strip(lesson.samples["input"], t("lessons.vb_inputs"), nrow=8, scale=2)
        for name, samples in lesson.samples.items():
            if name != "input":
                strip(samples, t("lessons.vb_row", name=name), nrow=8, scale=2)


def draw_article_gan(lesson: Lesson) -> None:
    data = frame(lesson)
    c1, c2 = st.columns(2)
    legend = {"gan_seed_mlp": t("lessons.ag_corrected"), "gan_seed_mlp_as_given": t("lessons.ag_as_given")}
    with c1:
        show_chart(line_chart(data, "d_fake", t("lessons.axis_d_fake"), legend=legend))
    with c2:
        chart = line_chart(data, "brightness", t("lessons.axis_brightness"), legend={"brightness": t("lessons.ag_samples")})
        real = getattr(lesson, "real_brightness", None)
        if chart is not None and real is not None:
            rule = alt.Chart(pd.DataFrame({"y": [real]})).mark_rule(strokeDash=[4, 4], color=palette.BLACK).encode(y="y:Q")
            chart = alt.layer(chart, rule)
        show_chart(chart)
        st.caption(t("lessons.ag_brightness_caption", real=real or 0.0))
    snapshots = getattr(lesson, "snapshots", [])
    if snapshots:
        grid = torch.cat([samples[:8] for _, samples in snapshots])
        strip(grid, t("lessons.ag_snapshots", steps=", ".join(str(step) for step, _ in snapshots)), nrow=8, scale=2)


DRAW = {
    "mode_collapse": draw_mode_collapse,
    "vanishing_gradient": draw_vanishing_gradient,
    "strong_discriminator": draw_strong_discriminator,
    "divergence": draw_divergence,
    "vae_beta": draw_vae_beta,
    "article_gan": draw_article_gan,
    **DIFFUSION_DRAW,
    **MEMORIZATION_DRAW,
}


def _samples(lesson: Lesson, names: tuple[str, ...], legend: dict[str, str] | None = None) -> None:
    present = [name for name in names if name in lesson.samples]
    if not present:
        return
    columns = st.columns(len(present))
    for column, name in zip(columns, present):
        with column:
            label = (legend or {}).get(name) or t(f"lessons.samples_{name}")
            strip(lesson.samples[name], label, nrow=8, scale=2)


def verdict_text(key: str, numbers: dict[str, Any]) -> str:
    """The result in one sentence, with the numbers that show it."""
    if key == "mode_collapse":
        return t("lessons.mc_result", before=numbers["classes_before"], after=numbers["classes_after"],
                 digit=numbers["top_class_after"], share=100 * numbers["top_share_after"],
                 e0=numbers["entropy_before"], e1=numbers["entropy_after"])
    if key == "vanishing_gradient":
        return t("lessons.vg_result", mm=numbers["grad_norm_minimax"], ns=numbers["grad_norm_non_saturating"],
                 ratio=numbers["ratio"], d0=numbers["d_fake_start"], dmm=numbers["d_fake_minimax"],
                 dns=numbers["d_fake_non_saturating"])
    if key == "strong_discriminator":
        return t("lessons.sd_result", fb=numbers["d_fake_balanced"], fs=numbers["d_fake_strong"],
                 lb=numbers["d_loss_balanced"], ls=numbers["d_loss_strong"], gb=numbers["g_loss_balanced"],
                 gs=numbers["g_loss_strong"])
    if key == "divergence":
        if numbers.get("diverged_at") is None:
            return t("lessons.dv_result_none")
        return t("lessons.dv_result", step=numbers["diverged_at"], peak=numbers["max_abs_loss_before"],
                 restored=numbers["restored_to"], adam=numbers["adam_g_loss"], grad=numbers["adam_grad_norm_g"],
                 d_fake=numbers["adam_d_fake"])
    if key == "vae_beta":
        per = numbers["per_beta"]
        betas = list(per)
        return t("lessons.vb_result", small=betas[0], large=betas[-1], kl_small=per[betas[0]]["kl"],
                 kl_large=per[betas[-1]]["kl"], active=per[betas[-1]]["active"], spread=per[betas[-1]]["spread"])
    if key in DIFFUSION_DRAW:
        return diffusion_verdict(key, numbers)
    if key in MEMORIZATION_DRAW:
        return memorization_verdict(numbers)
    if key == "article_gan":
        return t("lessons.ag_result", d_real=numbers["d_real"], d_fake=numbers["d_fake"],
                 start=numbers["brightness_start"], end=numbers["brightness_end"], real=numbers["brightness_real"])
    return ""
