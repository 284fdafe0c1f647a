"""Fidelity vs diversity, measured live: the cGAN's truncation ψ and the diffusion model's guidance w as sliders, and
a sweep of each knob charted as conditional accuracy and classifier score against within-class diversity, with the
slider's own setting marked and its samples shown. The measures are aigc_core.conditional_tools (`measure`,
`draw_sweep_batch`); this module draws them.

Each setting is drawn in parts of `BATCH` samples, each part cached for every session (the shipped models never
change), so the progress bar moves part by part the first time and a sweep someone has measured is instant.
The diffusion sweep costs whole sampler runs (minutes on a busy CPU the first time), so it starts on a button press;
the cGAN's is milliseconds and starts at once.
"""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st
import torch

from aigc_core import conditional_tools as ct
from aigc_core import images, palette
from ui.a11y.charts import altair_chart, chart_area, image
from ui.i18n import t
from ui.latent import draw_models as dm
from ui.latent.panels import png_uri
from ui.resources import mnist

FAMILY = {"psi": "gan", "guidance": "diffusion"}
SWEEP = {"psi": (0.0, 0.25, 0.5, 1.0, 1.5), "guidance": (0.0, 1.0, 2.0, 4.0, 8.0)}
SAMPLES = {"psi": 200, "guidance": 100}  # per setting: the digits 0-9 in turn
STEP = {"psi": 0.05, "guidance": 0.5}
BATCH = 20  # samples per cached part (a progress-bar step)
SEED = 0  # one fixed measurement, shared by every session
SHOWN_PER_DIGIT = 8  # columns of the current setting's grid
GO_STATE = "lat_draw_fid_go"  # the knobs this session asked to measure (the diffusion sweep waits for a press)


@st.cache_data(show_spinner=False, max_entries=512)  # 20 samples each: at most ~32 MB
def _part(_model: torch.nn.Module, token: str, knob: str, value: float, n: int, seed: int, start: int,
          stop: int) -> np.ndarray:
    """Samples start … stop-1 of a setting's n (float32, [0, 1]); `token` names the model for the cache."""
    return ct.draw_sweep_batch(_model, knob, value, n=n, seed=seed, part=slice(start, stop)).numpy()  # type: ignore[arg-type]


def _setting_images(model: torch.nn.Module, token: str, knob: str, value: float, n: int) -> torch.Tensor:
    parts = [_part(model, token, knob, value, n, SEED, p.start, p.stop) for p in ct.batches(n, BATCH)]
    return torch.from_numpy(np.concatenate(parts))


@st.cache_data(show_spinner=False, max_entries=256)
def _measure(_model: torch.nn.Module, _classifier: torch.nn.Module, token: str, knob: str, value: float,
             n: int) -> ct.Measure:
    return ct.measure(_setting_images(_model, token, knob, value, n), ct.sweep_labels(n), _classifier, value)


@st.cache_data(show_spinner=False, max_entries=4)
def _real(_classifier: torch.nn.Module, per_class: int) -> ct.Measure:
    test = mnist("test")
    return ct.real_measure(test.images, test.labels, _classifier, per_class)


def _go(knob: str) -> None:
    st.session_state[GO_STATE] = {*st.session_state.get(GO_STATE, ()), knob}


def _format(knob: str, value: float) -> str:
    return t(f"draw.knob_value_{knob}", value=value)


@st.fragment
def fidelity_panel() -> None:
    st.markdown(t("draw.fid_intro"))
    knob = st.segmented_control(t("draw.knob"), options=list(ct.KNOBS), default="psi", required=True,
                                format_func=lambda k: t(f"draw.knob_{k}"), key="lat_draw_knob",
                                help=t("draw.knob_help")) or "psi"
    model = dm.shipped(FAMILY[knob])
    if model.model is None:
        st.info(model.message())
        if knob == "guidance":
            st.caption(t("draw.fid_other_knob"))
        return
    reader = dm.classifier()
    if reader is None:
        st.warning(t("draw.no_classifier"))
        return
    low, high = ct.PSI_RANGE if knob == "psi" else ct.GUIDANCE_RANGE
    default = 1.0 if knob == "psi" else model.guidance
    value = round(float(st.slider(t(f"draw.slider_{knob}"), low, high, float(default), step=STEP[knob],
                                  key=f"lat_draw_slider_{knob}", help=t(f"draw.slider_{knob}_help"))), 2)
    n = SAMPLES[knob]
    st.caption(t("draw.fid_method", n=n, per_digit=n // ct.NUM_DIGITS, settings=", ".join(
        _format(knob, v) for v in SWEEP[knob])))
    if knob == "guidance" and knob not in st.session_state.get(GO_STATE, ()):
        st.info(t("draw.fid_guidance_wait", n=n, settings=len(SWEEP[knob])))
        st.button(t("draw.fid_measure"), key="lat_draw_measure", icon=":material/speed:", on_click=_go, args=(knob,),
                  help=t("draw.fid_measure_help"))
        return
    settings = list(SWEEP[knob]) + ([] if value in SWEEP[knob] else [value])
    points = _measure_all(model, reader, knob, settings, n)
    real = _real(reader, n // ct.NUM_DIGITS)
    _charts(knob, points, value, real)
    current = points[value]
    st.markdown(t("draw.fid_current", setting=_format(knob, value), accuracy=100 * current.conditional_accuracy,
                  score=current.classifier_score, diversity=current.diversity,
                  real_accuracy=100 * real.conditional_accuracy, real_diversity=real.diversity))
    _current_samples(model, knob, value, n)


def _measure_all(model: dm.Shipped, reader, knob: str, settings: list[float], n: int) -> dict[float, ct.Measure]:
    """Every setting's measure; the progress bar moves with each cached part (instant when already measured)."""
    parts = ct.batches(n, BATCH)
    total = len(settings) * len(parts)
    bar = st.progress(0.0, text=t("draw.fid_progress", done=1, total=len(settings)))
    points = {}
    for i, value in enumerate(settings):
        for j, p in enumerate(parts):
            _part(model.model, model.token, knob, value, n, SEED, p.start, p.stop)
            bar.progress((i * len(parts) + j + 1) / total, text=t("draw.fid_progress", done=i + 1, total=len(settings)))
        points[value] = _measure(model.model, reader, model.token, knob, value, n)
    bar.empty()
    return points


def _charts(knob: str, points: dict[float, ct.Measure], value: float, real: ct.Measure) -> None:
    what = {"sweep": t("draw.series_sweep"), "current": t("draw.series_current"), "real": t("draw.series_real")}
    rows = [{"setting": _format(knob, v), "value": v, "diversity": m.diversity,
             "accuracy": 100 * m.conditional_accuracy, "score": m.classifier_score, "kind": what["sweep"]}
            for v, m in sorted(points.items()) if v in SWEEP[knob]]
    current = points[value]
    rows.append({"setting": _format(knob, value), "value": value, "diversity": current.diversity,
                 "accuracy": 100 * current.conditional_accuracy, "score": current.classifier_score,
                 "kind": what["current"]})
    rows.append({"setting": what["real"], "value": float("nan"), "diversity": real.diversity,
                 "accuracy": 100 * real.conditional_accuracy, "score": real.classifier_score, "kind": what["real"]})
    frame = pd.DataFrame(rows)
    names = {"setting": t("draw.col_setting"), "diversity": t("draw.col_diversity"),
             "accuracy": t("draw.col_accuracy"), "score": t("draw.col_score"), "kind": t("draw.col_kind")}
    colours = alt.Scale(domain=list(what.values()), range=[palette.FAKE, palette.BLACK, palette.REAL])
    shapes = alt.Scale(domain=list(what.values()), range=["circle", "diamond", "square"])
    x_max = round(1.15 * float(frame["diversity"].max()) + 0.01, 2)

    def chart(field: str, title: str) -> alt.LayerChart:
        base = alt.Chart(frame).encode(
            # Room for the points' labels on the right (diversity is never below 0).
            x=alt.X("diversity:Q", title=names["diversity"], scale=alt.Scale(domain=[0, x_max], nice=False)),
            y=alt.Y(f"{field}:Q", title=title, scale=alt.Scale(zero=False, padding=16)),
            tooltip=[alt.Tooltip("setting:N", title=names["setting"]),
                     alt.Tooltip("accuracy:Q", title=names["accuracy"], format=".1f"),
                     alt.Tooltip("score:Q", title=names["score"], format=".2f"),
                     alt.Tooltip("diversity:Q", title=names["diversity"], format=".3f")])
        sweep = base.transform_filter(alt.datum.kind == what["sweep"])
        line = sweep.mark_line(color=palette.FAKE).encode(order="value:Q")
        marks = base.mark_point(filled=True, size=110, opacity=1).encode(
            color=alt.Color("kind:N", scale=colours, title=None, legend=alt.Legend(orient="bottom")),
            shape=alt.Shape("kind:N", scale=shapes, title=None))
        labels = sweep.mark_text(align="left", dx=8, dy=-8, fontSize=11).encode(text="setting:N")
        return (line + marks + labels).properties(height=260)

    table = frame[list(names)].rename(columns=names)
    left, right = st.columns(2)
    with chart_area(f"lat_draw_fid_{knob}"):
        altair_chart(chart("accuracy", names["accuracy"]), where=left, title=t("draw.chart_accuracy"),
                     table=lambda: table, width="stretch")
        altair_chart(chart("score", names["score"]), where=right, title=t("draw.chart_score"),
                     table=lambda: table, width="stretch")
        st.caption(t("draw.chart_caption"))


def _current_samples(model: dm.Shipped, knob: str, value: float, n: int) -> None:
    shown = _setting_images(model.model, model.token, knob, value, n)
    labels = ct.sweep_labels(n)
    rows = torch.cat([shown[labels == k][:SHOWN_PER_DIGIT] for k in range(ct.NUM_DIGITS)])
    per_row = min(SHOWN_PER_DIGIT, n // ct.NUM_DIGITS)
    with st.container(key="lat_draw_fid_samples"):
        image(png_uri(images.make_grid(rows, nrow=per_row, padding=1), 2),
              t("draw.fid_samples", setting=_format(knob, value), per_row=per_row))
