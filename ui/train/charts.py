"""Plotly charts of a live run, built from chart-sized columns (`MetricHistory.downsampled()`).

Pure: each function takes the translator of the page's language (no Streamlit import here) and returns a
`go.Figure`; the page draws it with `st.plotly_chart(fig, config=CHART_CONFIG)`.
Colours are `aigc_core.palette`'s roles (Okabe–Ito, safe for colour-vision deficiency): D blue, G vermillion;
real blue, generated orange. `uirevision` keeps a user's zoom while
the data keep updating.

Building a Plotly figure (layout, validation) costs several times more than replacing its data, and the live
view redraws a few times a second, so a run keeps a `ChartSet`: figures built once, whose traces get new x/y
arrays on each redraw. The bench times exactly this.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from aigc_core import palette
from aigc_core.losses import LOGIT_LOSSES
from ui.catalog import Translator

D_COLOUR, G_COLOUR = palette.D, palette.G
REAL_COLOUR, FAKE_COLOUR = palette.REAL, palette.FAKE
CHART_HEIGHT = 250
CHART_CONFIG = {"displayModeBar": False, "responsive": True}
FEW_POINTS = 30


def log_ticks(values: np.ndarray) -> list[float] | None:
    """Tick positions for a log axis, labelled in full (0.5, not Plotly's lone "5"): 1-2-5 steps over a narrow
    range, powers of ten over a wide one (a diverging run spans many decades)."""
    finite = values[np.isfinite(values) & (values > 0)]
    if not len(finite):
        return None
    low, high = np.floor(np.log10(finite.min())), np.ceil(np.log10(finite.max()))
    decades = np.arange(low, high + 1)
    if high - low > 3:
        step = max(1, int(np.ceil((high - low) / 6)))
        return [float(10.0**d) for d in decades[::step]]
    return [float(m * 10.0**d) for d in decades for m in (1, 2, 5)]


def _figure(tr: Translator, title: str, y_title: str, *, log_y: bool = False,
            y_range: Sequence[float] | None = None) -> go.Figure:
    figure = go.Figure()
    figure.update_layout(
        title={"text": title, "font": {"size": 16}},
        height=CHART_HEIGHT,
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "xanchor": "right", "x": 1.0},
        xaxis={"title": {"text": tr("train.chart.step")}},
        yaxis={"title": {"text": y_title}, "type": "log" if log_y else "linear",
               **({"tickformat": "~g"} if log_y else {}),
               **({"range": list(y_range)} if y_range is not None else {})},
        uirevision="keep",
        hovermode="x unified",
    )
    return figure


def _line(figure: go.Figure, x: np.ndarray, y: np.ndarray, name: str, colour: str, *, dash: str | None = None) -> None:
    figure.add_scatter(x=x, y=y, mode="lines", name=name, line={"color": colour, "width": 2, "dash": dash})


# The column each trace of each figure shows, in the order the functions below add them.
GAN_SERIES = (("d_loss", "g_loss"), ("d_real", "d_fake"), ("grad_norm_d", "grad_norm_g"))
VAE_SERIES = (("loss", "recon"), ("kl",), ("grad_norm",))
# Diffusion: the loss, the loss by noise level (one heatmap: a row per quarter of t) and the gradient norm.
T_QUARTERS = tuple(f"loss_by_t_{i}" for i in range(4))  # DiffusionStats.loss_by_t, as MetricHistory columns
DIFFUSION_SERIES = (("loss",), T_QUARTERS, ("grad_norm",))
HEATMAP = "heatmap"  # a figure whose one trace shows several columns as rows (z), not lines
QUALITY_SERIES = (("classifier_score", "fid"),)


class ChartSet:
    """Figures built once, redrawn by replacing their traces' data (x is always the "step" column)."""

    def __init__(self, figures: list[go.Figure], series: Sequence[Sequence[str]]) -> None:
        self.figures = figures
        self.series = series

    def update(self, columns: Mapping[str, np.ndarray]) -> list[go.Figure]:
        few = len(columns["step"]) < FEW_POINTS  # a line through one or two points is invisible: show markers
        for figure, names in zip(self.figures, self.series):
            with figure.batch_update():
                if figure.data and figure.data[0].type == HEATMAP:
                    _update_heatmap(figure.data[0], columns, names)
                    continue
                if figure.layout.yaxis.type == "log":
                    figure.layout.yaxis.tickvals = log_ticks(np.concatenate([columns[name] for name in names]))
                for trace, name in zip(figure.data, names):
                    trace.x = columns["step"]
                    trace.y = columns[name]
                    trace.mode = "lines+markers" if few or name in QUALITY_SERIES[0] else "lines"
        return self.figures


def _update_heatmap(trace: go.Heatmap, columns: Mapping[str, np.ndarray], names: Sequence[str]) -> None:
    """Rows = the named columns, x = the step, z = log10 of the values (losses span decades; NaN stays a gap)."""
    stacked = np.vstack([columns[name] for name in names]) if len(columns["step"]) else np.empty((len(names), 0))
    with np.errstate(divide="ignore", invalid="ignore"):
        trace.z = np.where(stacked > 0, np.log10(stacked), np.nan)
    trace.x = columns["step"]


def live_chart_set(tr: Translator, family: str, loss: str | None = None, timesteps: int = 1000) -> ChartSet:
    """The charts of the live view for a GAN (with its loss), a VAE or a diffusion model (trained with `timesteps`
    noise levels), with empty data."""
    series = (*GAN_SERIES, *VAE_SERIES, *DIFFUSION_SERIES)
    empty = {name: np.empty(0) for names in series for name in names} | {"step": np.empty(0)}
    if family == "gan":
        return ChartSet(gan_charts(tr, empty, loss or "non_saturating"), GAN_SERIES)
    if family == "diffusion":
        return ChartSet(diffusion_charts(tr, empty, timesteps), DIFFUSION_SERIES)
    return ChartSet(vae_charts(tr, empty), VAE_SERIES)


def quality_chart_set(tr: Translator) -> ChartSet:
    empty = {"step": np.empty(0), "classifier_score": np.empty(0), "fid": np.empty(0)}
    return ChartSet([quality_chart(tr, empty)], QUALITY_SERIES)


def gan_charts(tr: Translator, columns: Mapping[str, np.ndarray], loss: str) -> list[go.Figure]:
    """Losses, mean D outputs and gradient norms against the step."""
    x = columns["step"]
    losses = _figure(tr, tr("train.chart.losses"), tr("train.chart.loss_axis"))
    _line(losses, x, columns["d_loss"], tr("train.chart.d_loss"), D_COLOUR)
    _line(losses, x, columns["g_loss"], tr("train.chart.g_loss"), G_COLOUR)

    probability = loss in LOGIT_LOSSES
    y_axis = tr("train.chart.prob_axis" if probability else "train.chart.score_axis")
    outputs = _figure(tr, tr("train.chart.outputs"), y_axis,
                      y_range=(0, 1) if probability else None)
    _line(outputs, x, columns["d_real"], tr("train.chart.d_real"), REAL_COLOUR)
    _line(outputs, x, columns["d_fake"], tr("train.chart.d_fake"), FAKE_COLOUR)
    if probability:
        outputs.add_hline(y=0.5, line={"color": palette.GREY, "dash": "dot", "width": 1})

    grads = _figure(tr, tr("train.chart.grads"), tr("train.chart.norm_axis"), log_y=True)
    _line(grads, x, columns["grad_norm_d"], tr("train.chart.grad_d"), D_COLOUR)
    _line(grads, x, columns["grad_norm_g"], tr("train.chart.grad_g"), G_COLOUR)
    return [losses, outputs, grads]


def vae_charts(tr: Translator, columns: Mapping[str, np.ndarray]) -> list[go.Figure]:
    """Loss and reconstruction (nats per image), KL (nats per image) and the gradient norm."""
    x = columns["step"]
    loss = _figure(tr, tr("train.chart.vae_loss"), tr("train.chart.nats_axis"))
    _line(loss, x, columns["loss"], tr("train.chart.loss"), D_COLOUR)
    _line(loss, x, columns["recon"], tr("train.chart.recon"), G_COLOUR, dash="dot")
    kl = _figure(tr, tr("train.chart.kl"), tr("train.chart.nats_axis"))
    _line(kl, x, columns["kl"], tr("train.chart.kl_line"), REAL_COLOUR)
    grads = _figure(tr, tr("train.chart.grads"), tr("train.chart.norm_axis"), log_y=True)
    _line(grads, x, columns["grad_norm"], tr("train.chart.grad_vae"), D_COLOUR)
    return [loss, kl, grads]


def diffusion_charts(tr: Translator, columns: Mapping[str, np.ndarray], timesteps: int) -> list[go.Figure]:
    """The denoising loss; the loss by noise level over time (which t the model has learned: a row per quarter of
    [1, T], coloured by log10 of the loss); the gradient norm."""
    x = columns["step"]
    loss = _figure(tr, tr("train_diffusion.chart_loss"), tr("train_diffusion.chart_loss_axis"), log_y=True)
    _line(loss, x, columns["loss"], tr("train_diffusion.chart_loss_line"), D_COLOUR)
    quarter = timesteps / 4
    rows = [tr("train_diffusion.chart_t_row", low=int(i * quarter) + 1, high=int((i + 1) * quarter)) for i in range(4)]
    by_t = _figure(tr, tr("train_diffusion.chart_by_t"), tr("train_diffusion.chart_by_t_axis"))
    by_t.add_heatmap(x=x, y=rows, z=np.empty((4, 0)), colorscale=palette.SEQUENTIAL_PLOTLY, reversescale=True, hoverongaps=False,
                     colorbar={"title": {"text": tr("train_diffusion.chart_by_t_colour")}, "thickness": 12},
                     hovertemplate="%{y}<br>%{x}: 10^%{z:.2f}<extra></extra>")
    _update_heatmap(by_t.data[0], columns, T_QUARTERS)
    by_t.update_layout(hovermode="closest", yaxis={"type": "category"})  # rows are named, not numbers
    grads = _figure(tr, tr("train.chart.grads"), tr("train.chart.norm_axis"), log_y=True)
    _line(grads, x, columns["grad_norm"], tr("train_diffusion.chart_grad"), D_COLOUR)
    return [loss, by_t, grads]


def quality_chart(tr: Translator, columns: Mapping[str, np.ndarray]) -> go.Figure:
    """Classifier score (higher is better, at most 10) and the FID estimate (lower is better) against the step."""
    x = columns["step"]
    figure = _figure(tr, tr("train.chart.quality"), tr("train.chart.score_axis_cs"))
    figure.add_scatter(x=x, y=columns["classifier_score"], mode="lines+markers", name=tr("train.chart.cs"),
                       line={"color": D_COLOUR, "width": 2})
    figure.add_scatter(x=x, y=columns["fid"], mode="lines+markers", name=tr("train.chart.fid"), yaxis="y2",
                       line={"color": G_COLOUR, "width": 2, "dash": "dot"})
    figure.update_layout(
        yaxis={"range": [0, 10.5]},
        yaxis2={"title": {"text": tr("train.chart.fid_axis")}, "overlaying": "y", "side": "right", "rangemode": "tozero",
                "showgrid": False},
        margin={"l": 10, "r": 50, "t": 40, "b": 10},
    )
    return figure
