"""The playground's live chart: the plane (D heatmap, G manifold, real and generated points, G gradient arrows)
next to the curves over time (D and G loss; KL and JS), for one run or two side by side, as one Vega-Lite spec.

Why Vega-Lite and not Plotly for the live view: Streamlit gives a Plotly chart a new identity whenever its figure
changes, so the browser rebuilds it on every redraw (blank frames while playing). A Vega-Lite chart whose spec
stays the same and whose named datasets change is updated in place. So the spec here depends only on the layout
(one or two runs, the language) and every layer is always present; what changes per frame, including which
layers are switched off (an empty dataset), travels in `datasets` as Arrow tables.

The "draw your own points" editor stays a Plotly chart: it needs Plotly's click / box / lasso selection events.
Nothing here computes model outputs: it lays out a `PlaygroundView`. Pure: no Streamlit import (the functions take
the page's translator), so `bench/bench_playground.py` calls `build_chart` as the page does.
"""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pyarrow as pa
import torch
from PIL import Image

from aigc_core import palette
from aigc_core.playground import PLANE_BOUNDS, History, PlaygroundView
from ui.catalog import Translator

# GAN Lab paints real green and generated purple; those two merge for many colour-blind viewers, so the app's
# palette (aigc_core.palette, Okabe–Ito) paints real blue and generated orange, and the gradients black.
REAL_COLOR = palette.REAL
FAKE_COLOR = palette.FAKE
MANIFOLD_COLOR = palette.INK
ARROW_COLOR = palette.GRADIENT
# D's verdict, mapped to [0, 1] with 0.5 = "cannot tell": orange = "generated", grey = unsure, blue = "real".
HEAT_RANGE = list(palette.VERDICT_SCALE)
# "loss" is a denoiser's (diffusion mode, ui/playground/diffusion_view.py); d_loss and g_loss are the GAN's.
CURVE_KEYS = ("d_loss", "g_loss", "kl", "js", "loss")
CURVE_COLORS = {"d_loss": palette.D, "g_loss": palette.G, "kl": palette.BLACK, "js": palette.ORANGE, "loss": palette.D}
ARROW_MAX_LENGTH = 0.6  # the longest arrow, in plane units; the others are drawn to scale
LAYERS: tuple[str, ...] = ("real", "fake", "heatmap", "manifold", "gradients")
PLANE_PX = {1: 360, 2: 300}  # plane side in pixels for one run / two runs (fits a 1,280 px laptop screen)
CHART_PX = {1: (300, 140), 2: (250, 130)}  # (width, height) of each curve chart
SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json"
SLICE_SECONDS = 0.25  # the longest a slice trains before a frame is drawn (Pause answers within about this)


def _table(**columns: object) -> pa.Table:
    return pa.table({name: pa.array(np.asarray(values, dtype=np.float32)) for name, values in columns.items()})


def _empty(*names: str) -> pa.Table:
    return _table(**{name: np.zeros(0) for name in names})


def heat_display(values: np.ndarray, zmid: float, zmax: float) -> np.ndarray:
    """D's values on a [0, 1] colour scale whose middle (0.5) is the neutral value zmid (zmax - zmid: half range)."""
    half = zmax - zmid if zmax > zmid else 1.0
    return np.clip(0.5 + 0.5 * (values - zmid) / half, 0.0, 1.0)


def _rgb(hex_color: str) -> np.ndarray:
    return np.array([int(hex_color[i : i + 2], 16) for i in (1, 3, 5)], dtype=np.float64)


def heat_image(display: np.ndarray) -> str:
    """A PNG data URL of the heatmap: display values in [0, 1] (rows along y, upwards) coloured through HEAT_RANGE.

    One small image instead of 1,600 rectangles keeps the browser's redraw cheap, and the browser's smoothing
    when it scales the 40 x 40 picture up gives the soft gradient GAN Lab shows.
    """
    stops = np.stack([_rgb(c) for c in HEAT_RANGE])  # (3, 3)
    v = np.clip(display, 0.0, 1.0)[..., None]  # (R, R, 1)
    low = stops[0] + (stops[1] - stops[0]) * (v / 0.5)
    high = stops[1] + (stops[2] - stops[1]) * ((v - 0.5) / 0.5)
    pixels = np.where(v < 0.5, low, high)[::-1]  # image rows go downwards
    buffer = io.BytesIO()
    Image.fromarray(np.round(pixels).astype(np.uint8), mode="RGB").save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def arrows(points: np.ndarray, directions: np.ndarray, max_length: float = ARROW_MAX_LENGTH) -> pa.Table:
    """Arrow rows (x, y) -> (x2, y2) with the head's angle (degrees clockwise from "up", as Vega rotates shapes).
    Arrows are scaled together so the longest is `max_length` long: their lengths compare, their units do not."""
    lengths = np.linalg.norm(directions, axis=1)
    longest = float(lengths.max()) if len(lengths) else 0.0
    scale = max_length / longest if longest > 1e-12 else 0.0
    ends = points + directions * scale
    angle = np.degrees(np.arctan2(directions[:, 0], directions[:, 1]))  # atan2(dx, dy): 0 = up, 90 = right
    return _table(x=points[:, 0], y=points[:, 1], x2=ends[:, 0], y2=ends[:, 1], angle=angle)


def plane_datasets(view: PlaygroundView, layers: set[str], run: int, batch: dict | None = None) -> dict[str, pa.Table]:
    """The per-frame data of one plane (run index `run`). Switched-off layers get empty tables."""
    out: dict[str, pa.Table] = {}
    heat = view.heatmap
    shown = "heatmap" in layers and heat is not None
    url = [heat_image(heat_display(heat.values, heat.zmid, heat.zmax))] if shown else []
    out[f"heat{run}"] = pa.table({"url": pa.array(url, pa.string())})
    manifold = view.manifold
    if "manifold" in layers and manifold is not None:
        lines, points = manifold.lines.shape[:2]
        out[f"manifold{run}"] = _table(x=manifold.lines[..., 0].ravel(), y=manifold.lines[..., 1].ravel(),
                                       line=np.repeat(np.arange(lines), points), i=np.tile(np.arange(points), lines))
    else:
        out[f"manifold{run}"] = _empty("x", "y", "line", "i")
    for key, points in (("real", view.real), ("fake", view.fake)):
        out[f"{key}{run}"] = _table(x=points[:, 0], y=points[:, 1]) if key in layers else _empty("x", "y")
    grads = view.gradients
    out[f"arrows{run}"] = (arrows(grads.points, grads.directions) if "gradients" in layers and grads is not None
                           else _empty("x", "y", "x2", "y2", "angle"))
    rows = []
    for kind, code in (("real", 0.0), ("fake", 1.0)):
        points = None if batch is None else batch.get(kind)
        if points is not None:
            p = torch.as_tensor(points).reshape(-1, 2).numpy()
            rows.append(np.column_stack([p, np.full(len(p), code)]))
    stacked = np.concatenate(rows) if rows else np.zeros((0, 3))
    out[f"batch{run}"] = _table(x=stacked[:, 0], y=stacked[:, 1], kind=stacked[:, 2])
    return out


def curves_dataset(histories: Sequence[History]) -> pa.Table:
    """Long format for the two charts: one row per (run, curve, step); NaN values (no update yet) are dropped."""
    steps, values, keys, runs = [], [], [], []
    for run, history in enumerate(histories):
        for index, key in enumerate(CURVE_KEYS):
            column = np.asarray(getattr(history, key), dtype=np.float64)
            keep = np.isfinite(column)
            steps.append(np.asarray(history.step, dtype=np.float64)[keep])
            values.append(column[keep])
            keys.append(np.full(int(keep.sum()), index))
            runs.append(np.full(int(keep.sum()), run))
    return pa.table({
        "step": pa.array(np.concatenate(steps) if steps else np.zeros(0), pa.float64()),
        "value": pa.array(np.concatenate(values) if values else np.zeros(0), pa.float64()),
        "curve": pa.array(np.concatenate(keys).astype(np.int8) if keys else np.zeros(0, np.int8)),
        "run": pa.array(np.concatenate(runs).astype(np.int8) if runs else np.zeros(0, np.int8)),
    })


def curves_table(tr: Translator, histories: Sequence[History], curves: Sequence[str],
                 run_labels: Sequence[str] = ("",)) -> pd.DataFrame:
    """The curve charts as a table, their text alternative: the iteration, then one column per curve (per run when
    two runs are compared: "A · KL"), under the charts' legend names; empty where a curve has no value yet."""
    columns: dict[str, pd.Series] = {}
    for run, history in enumerate(histories):
        prefix = f"{'AB'[run]} · " if len(histories) > 1 else ""
        for key in curves:
            values = np.asarray(getattr(history, key), dtype=np.float64)
            columns[prefix + tr(f"playground.curve.{key}")] = pd.Series(values, index=list(history.step))
    table = pd.DataFrame({name: series[~series.index.duplicated(keep="last")] for name, series in columns.items()})
    table.index.name = tr("playground.axis_iteration")
    return table.sort_index().reset_index().dropna(how="all", subset=list(columns))


def points_table(tr: Translator, view: PlaygroundView, batch: dict | None = None) -> pd.DataFrame:
    """The plane's points as a table (real, generated and, in slow motion, the batch of this iteration)."""
    parts = [(tr("playground.layer.real"), view.real), (tr("playground.layer.fake"), view.fake)]
    if batch:
        parts += [(tr(f"slowmo.{kind}_points"), batch[kind]) for kind in ("real", "fake") if batch.get(kind) is not None]
    rows = [pd.DataFrame({"": name, "x": p[:, 0], "y": p[:, 1]})
            for name, points in parts if points is not None
            for p in [torch.as_tensor(points).reshape(-1, 2).numpy()]]
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame({"": [], "x": [], "y": []})


def _xy(field_x: str = "x", field_y: str = "y") -> dict:
    axis = {"domain": list(PLANE_BOUNDS), "nice": False, "zero": False}
    return {"x": {"field": field_x, "type": "quantitative", "scale": axis, "axis": None},
            "y": {"field": field_y, "type": "quantitative", "scale": axis, "axis": None}}


def _datum(value: float) -> dict:
    """A fixed position on the plane's shared scale (a corner of the heatmap image)."""
    return {"datum": value, "type": "quantitative", "axis": None,
            "scale": {"domain": list(PLANE_BOUNDS), "nice": False, "zero": False}}


def plane_spec(run: int, size: int, title: str | None = None) -> dict:
    """Every layer of one plane, reading the datasets named `<layer><run>`."""
    low, high = PLANE_BOUNDS
    layers = [
        # The image spans the plane corner to corner (x..x2, y..y2), so it follows the plane if the chart is resized.
        {"data": {"name": f"heat{run}"}, "mark": {"type": "image", "aspect": False, "smooth": True},
         "encoding": {"x": _datum(low), "x2": {"datum": high}, "y": _datum(high), "y2": {"datum": low},
                      "url": {"field": "url", "type": "nominal"}}},
        {"data": {"name": f"manifold{run}"},
         "mark": {"type": "line", "color": MANIFOLD_COLOR, "opacity": 0.45, "strokeWidth": 1, "clip": True},
         "encoding": {**_xy(), "detail": {"field": "line", "type": "nominal"},
                      "order": {"field": "i", "type": "quantitative"}}},
        {"data": {"name": f"real{run}"},
         "mark": {"type": "circle", "size": 14, "color": REAL_COLOR, "opacity": 0.85, "clip": True}, "encoding": _xy()},
        {"data": {"name": f"fake{run}"},
         "mark": {"type": "circle", "size": 14, "color": FAKE_COLOR, "opacity": 0.85, "clip": True}, "encoding": _xy()},
        {"data": {"name": f"arrows{run}"},
         "mark": {"type": "rule", "color": ARROW_COLOR, "strokeWidth": 1.5, "clip": True},
         "encoding": {**_xy(), "x2": {"field": "x2"}, "y2": {"field": "y2"}}},
        {"data": {"name": f"arrows{run}"},
         "mark": {"type": "point", "shape": "triangle", "filled": True, "size": 36, "color": ARROW_COLOR,
                  "opacity": 1, "clip": True},
         "encoding": {**_xy("x2", "y2"), "angle": {"field": "angle", "type": "quantitative",
                                                   "scale": {"domain": [-360, 360], "range": [-360, 360]}}}},
        *({"data": {"name": f"batch{run}"}, "transform": [{"filter": f"datum.kind == {code}"}],
           "mark": {"type": "circle", "size": 110, "color": color, "stroke": "black", "strokeWidth": 1.5,
                    "opacity": 1, "clip": True},
           "encoding": _xy()} for code, color in ((0, REAL_COLOR), (1, FAKE_COLOR))),
        {"data": {"values": [{"x0": low, "y0": low, "x1": high, "y1": high}]},
         "mark": {"type": "rect", "fill": None, "stroke": palette.FRAME, "strokeWidth": 1},
         "encoding": {**_xy("x0", "y0"), "x2": {"field": "x1"}, "y2": {"field": "y1"}}},
    ]
    spec = {"width": size, "height": size, "layer": layers}
    if title:
        spec["title"] = {"text": title, "fontSize": 12, "anchor": "start"}
    return spec


def _chart_spec(tr: Translator, curves: tuple[str, ...], title: str, size: tuple[int, int], runs: int, *, two_axes: bool = False
                ) -> dict:
    """A line chart of some curves over iterations. two_axes: one y axis per curve (left, right), for curves of
    different scales (KL can reach ~20 nats while JS stays below ln 2)."""
    indices = [CURVE_KEYS.index(key) for key in curves]
    labels = [tr(f"playground.curve.{key}") for key in curves]
    color = {"field": "label", "type": "nominal", "title": None,
             "scale": {"domain": labels, "range": [CURVE_COLORS[key] for key in curves]},
             "legend": {"orient": "top", "labelFontSize": 10, "symbolSize": 60, "padding": 0}}
    x = {"field": "step", "type": "quantitative", "title": tr("playground.axis_iteration"),
         "scale": {"domain": {"unionWith": [0, 10]}},  # a first frame at iteration 0 still gets an axis
         "axis": {"tickCount": 4, "labelFontSize": 10, "titleFontSize": 10, "format": "~s"}}

    def y(orient: str = "left", axis_title: str | None = None, axis_color: str | None = None) -> dict:
        axis = {"tickCount": 4, "labelFontSize": 10, "orient": orient, "titleFontSize": 10}
        if axis_color:
            axis.update(labelColor=axis_color, titleColor=axis_color)
        return {"field": "value", "type": "quantitative", "title": axis_title, "axis": axis, "scale": {"zero": False}}

    def encoding(y_encoding: dict) -> dict:
        out = {"x": x, "y": y_encoding, "color": color, "detail": {"field": "run", "type": "nominal"}}
        if runs == 2:  # solid A, dashed B; the planes' titles say what A and B are
            out["strokeDash"] = {"field": "run_label", "type": "nominal", "title": None,
                                 "scale": {"domain": ["A", "B"], "range": [[1, 0], [4, 3]]},
                                 "legend": {"orient": "top", "labelFontSize": 10, "symbolSize": 60, "padding": 0}}
        return out

    transform = [
        {"filter": {"field": "curve", "oneOf": indices}},
        {"calculate": f"{json.dumps(labels)}[indexof({json.dumps(indices)}, datum.curve)]", "as": "label"},
    ]
    if runs == 2:
        transform.append({"calculate": "['A', 'B'][datum.run]", "as": "run_label"})
    spec = {"width": size[0], "height": size[1], "data": {"name": "curves"}, "transform": transform,
            "title": {"text": title, "fontSize": 12, "anchor": "start"}}
    mark = {"type": "line", "strokeWidth": 1.6, "clip": True}
    if not two_axes:
        return {**spec, "mark": mark, "encoding": encoding(y())}
    spec["layer"] = [
        {"transform": [{"filter": {"field": "curve", "equal": index}}], "mark": mark,
         "encoding": encoding(y("left" if side == 0 else "right", label, CURVE_COLORS[key]))}
        for side, (index, key, label) in enumerate(zip(indices, curves, labels))
    ]
    spec["resolve"] = {"scale": {"y": "independent"}}
    return spec


# Each chart keeps its own colour scale and legend (by default concatenated views merge them).
_OWN = {"scale": {"color": "independent", "strokeDash": "independent"},
        "legend": {"color": "independent", "strokeDash": "independent"}}


def build_chart(
    tr: Translator,
    views: Sequence[PlaygroundView],
    histories: Sequence[History],
    layers: set[str],
    *,
    run_labels: Sequence[str] = ("",),
    batch: dict | None = None,
    charts: bool = True,
) -> dict:
    """The Vega-Lite spec with its datasets. One run: the plane left, the loss and KL/JS charts stacked right.
    Two runs: both planes on top, the two charts below with both runs (solid = A, dashed = B). charts=False:
    the plane alone (beside the slow-motion panel)."""
    runs = len(views)
    datasets: dict[str, pa.Table] = {"curves": curves_dataset(histories)}
    for run, view in enumerate(views):
        datasets.update(plane_datasets(view, layers, run, batch if run == 0 else None))
    size = PLANE_PX[runs]
    width, height = CHART_PX[runs]
    loss = _chart_spec(tr, ("d_loss", "g_loss"), tr("playground.chart_loss"), (width, height), runs)
    div = _chart_spec(tr, ("kl", "js"), tr("playground.chart_divergence"), (width, height), runs, two_axes=True)
    body: dict
    if not charts:
        body = plane_spec(0, size)
    elif runs == 1:
        body = {"hconcat": [plane_spec(0, size), {"vconcat": [loss, div], "spacing": 18, "resolve": _OWN}],
                "spacing": 28, "resolve": _OWN}
    else:
        planes = {"hconcat": [plane_spec(run, size, run_labels[run]) for run in range(runs)], "spacing": 16}
        body = {"vconcat": [planes, {"hconcat": [loss, div], "spacing": 28, "resolve": _OWN}], "spacing": 16,
                "resolve": _OWN}
    return {
        "$schema": SCHEMA,
        # Canvas, without per-mark accessibility nodes: thousands of marks are redrawn several times a second.
        "usermeta": {"embedOptions": {"renderer": "canvas"}},
        "config": {"view": {"stroke": None}, "concat": {"spacing": 16}, "axis": {"grid": True, "gridOpacity": 0.4},
                   "aria": False, "mark": {"aria": False}},
        "datasets": datasets,
        **body,
    }


def legend_markdown(tr: Translator) -> str:
    """A one-line key for the plane's marks (Vega-Lite legends would need a shared colour scale)."""
    return "   ".join([
        f":blue[●] {tr('playground.layer.real')}", f":orange[●] {tr('playground.layer.fake')}",
        f"➤ {tr('playground.layer.gradients')}", f"─ {tr('playground.layer.manifold')}",
        tr("playground.legend_heat"),
    ])

def draw_figure(tr: Translator, candidates: torch.Tensor, points: torch.Tensor | None) -> go.Figure:
    """The "draw your own points" plane: faint candidate points to click, box or lasso, and the points so far."""
    data = [{
        "type": "scatter", "mode": "markers", "x": candidates[:, 0].tolist(), "y": candidates[:, 1].tolist(),
        "name": tr("playground.draw_candidates"), "marker": {"size": 6, "color": "rgba(120, 120, 120, 0.25)"},
        "hovertemplate": "(%{x:.2f}, %{y:.2f})<extra></extra>",
    }]
    if points is not None and len(points):
        shown = points[:2000]
        data.append({
            "type": "scatter", "mode": "markers", "x": shown[:, 0].tolist(), "y": shown[:, 1].tolist(),
            "name": tr("playground.draw_points"), "marker": {"size": 4, "color": REAL_COLOR}, "hoverinfo": "skip",
        })
    axis = {"range": list(PLANE_BOUNDS), "zeroline": False, "fixedrange": True}
    layout = {
        "height": 420, "margin": {"l": 8, "r": 8, "t": 8, "b": 8}, "dragmode": "lasso", "plot_bgcolor": "white",
        "xaxis": {**axis, "constrain": "domain"}, "yaxis": {**axis, "scaleanchor": "x", "scaleratio": 1},
        "legend": {"orientation": "h", "y": -0.02, "yanchor": "top"}, "clickmode": "event+select",
    }
    return go.Figure({"data": data, "layout": layout})


def selected_points(selection: object) -> torch.Tensor | None:
    """The (x, y) of the candidate points in a Plotly selection event (st.plotly_chart(on_select=...)), (K, 2)."""
    try:
        points = selection["selection"]["points"]  # type: ignore[index]
    except (KeyError, TypeError):
        return None
    picked = [(p["x"], p["y"]) for p in points if p.get("curve_number", 0) == 0 and "x" in p and "y" in p]
    return torch.tensor(picked, dtype=torch.float32) if picked else None
