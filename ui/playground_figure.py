"""The playground's one Plotly figure: the plane (D heatmap, G manifold, real and generated points, G gradient
arrows) next to the curves over time (D and G loss; KL and JS), for one run or two side by side.

The figure is built as a plain dict and wrapped without Plotly's per-property validation (`_validate=False`):
the layout is fixed and covered by a test that builds it with validation, and skipping it keeps a redraw
cheap (see bench/bench_playground.py). Nothing here computes model outputs: it draws a `PlaygroundView`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
import torch

from aigc_core.playground import PLANE_BOUNDS, History, PlaygroundView
from ui.i18n import t

REAL_COLOR = "#1a9850"  # GAN Lab's convention: green is real ...
FAKE_COLOR = "#8e44ad"  # ... and purple is generated
MANIFOLD_COLOR = "rgba(60, 60, 60, 0.45)"
ARROW_COLOR = "#d35400"
# D's verdict: purple where it says "generated", neutral grey where it cannot tell, green where it says "real".
HEAT_SCALE = [[0.0, "#c39bd3"], [0.5, "#f2f2f2"], [1.0, "#a9dfbf"]]
LOSS_COLORS = {"d_loss": "#2c7fb8", "g_loss": "#e6550d", "kl": "#31a354", "js": "#756bb1"}
ARROW_MAX_LENGTH = 0.6  # the longest arrow, in plane units; the others are drawn to scale

LAYERS: tuple[str, ...] = ("real", "fake", "heatmap", "manifold", "gradients")


def _rounded(values: np.ndarray, digits: int = 3) -> list:
    """Plain lists with a few decimals: the figure travels as JSON on every redraw, so shorter numbers help."""
    return np.round(np.asarray(values, dtype=np.float64), digits).tolist()


def arrow_segments(points: np.ndarray, directions: np.ndarray, max_length: float = ARROW_MAX_LENGTH
                   ) -> tuple[list[float | None], list[float | None], list[float]]:
    """x, y (start, end, gap per arrow) and marker sizes (an arrowhead at each end only). Arrows are scaled
    together so the longest is `max_length` long: their lengths compare, their units do not matter."""
    lengths = np.linalg.norm(directions, axis=1)
    longest = float(lengths.max()) if len(lengths) else 0.0
    scale = max_length / longest if longest > 1e-12 else 0.0
    ends = points + directions * scale
    xs: list[float | None] = []
    ys: list[float | None] = []
    sizes: list[float] = []
    for (x0, y0), (x1, y1) in zip(_rounded(points), _rounded(ends)):
        xs += [x0, x1, None]
        ys += [y0, y1, None]
        sizes += [0, 9, 0]
    return xs, ys, sizes


def _axis_names(index: int) -> tuple[str, str]:
    """Plotly's trace references for axis number `index` (1 -> "x", "y"; 2 -> "x2", "y2")."""
    suffix = "" if index == 1 else str(index)
    return f"x{suffix}", f"y{suffix}"


def _layout_axis(index: int) -> tuple[str, str]:
    suffix = "" if index == 1 else str(index)
    return f"xaxis{suffix}", f"yaxis{suffix}"


def plane_traces(
    view: PlaygroundView, layers: set[str], axis: int, *, show_legend: bool, batch: dict | None = None
) -> list[dict]:
    """The plane's traces for one view, on axis pair `axis`. `batch`: {"real": (n, 2), "fake": (n, 2)} tensors
    of the current training batch (slow motion), drawn larger on top."""
    x, y = _axis_names(axis)
    traces: list[dict] = []
    heat = view.heatmap
    if "heatmap" in layers and heat is not None:
        traces.append({
            "type": "heatmap", "x": _rounded(heat.xs), "y": _rounded(heat.ys), "z": _rounded(heat.values),
            "zmin": heat.zmin, "zmid": heat.zmid, "zmax": heat.zmax, "colorscale": HEAT_SCALE, "showscale": False,
            "xaxis": x, "yaxis": y, "name": t("playground.layer.heatmap"),
            "hovertemplate": t("playground.hover_heat" if heat.probability else "playground.hover_score")
            + "<extra></extra>",
        })
    manifold = view.manifold
    if "manifold" in layers and manifold is not None:
        mx: list[float | None] = []
        my: list[float | None] = []
        for line in manifold.lines:
            mx += _rounded(line[:, 0]) + [None]
            my += _rounded(line[:, 1]) + [None]
        traces.append({
            "type": "scatter", "mode": "lines", "x": mx, "y": my, "xaxis": x, "yaxis": y,
            "line": {"color": MANIFOLD_COLOR, "width": 1.5 if manifold.z_dim == 1 else 1},
            "name": t("playground.layer.manifold"), "hoverinfo": "skip", "showlegend": show_legend,
            "legendgroup": "manifold",
        })
    for key, color, points in (("real", REAL_COLOR, view.real), ("fake", FAKE_COLOR, view.fake)):
        if key in layers:
            traces.append({
                "type": "scatter", "mode": "markers", "x": _rounded(points[:, 0]), "y": _rounded(points[:, 1]),
                "xaxis": x, "yaxis": y, "name": t(f"playground.layer.{key}"), "showlegend": show_legend,
                "legendgroup": key, "hoverinfo": "skip",
                "marker": {"size": 4, "color": color, "opacity": 0.8, "line": {"width": 0.5, "color": "white"}},
            })
    grads = view.gradients
    if "gradients" in layers and grads is not None:
        ax, ay, sizes = arrow_segments(grads.points, grads.directions)
        traces.append({
            "type": "scatter", "mode": "lines+markers", "x": ax, "y": ay, "xaxis": x, "yaxis": y,
            "line": {"color": ARROW_COLOR, "width": 1.5},
            "marker": {"symbol": "arrow", "angleref": "previous", "size": sizes, "color": ARROW_COLOR},
            "name": t("playground.layer.gradients"), "showlegend": show_legend, "legendgroup": "gradients",
            "hoverinfo": "skip",
        })
    if batch:
        for key, color in (("real", REAL_COLOR), ("fake", FAKE_COLOR)):
            points = batch.get(key)
            if points is None:
                continue
            points = torch.as_tensor(points).reshape(-1, 2)
            traces.append({
                "type": "scatter", "mode": "markers", "x": points[:, 0].tolist(), "y": points[:, 1].tolist(),
                "xaxis": x, "yaxis": y, "name": t(f"playground.batch_{key}"), "showlegend": show_legend,
                "hoverinfo": "skip",
                "marker": {"size": 11, "color": color, "symbol": "circle", "line": {"width": 2, "color": "black"}},
            })
    return traces


def _curve_traces(histories: Sequence[History], run_labels: Sequence[str], axis_loss: int, axis_div: int
                  ) -> list[dict]:
    traces: list[dict] = []
    dashes = ("solid", "dot")
    for run, (history, label) in enumerate(zip(histories, run_labels)):
        suffix = f" ({label})" if label else ""
        for key, axis in (("d_loss", axis_loss), ("g_loss", axis_loss), ("kl", axis_div), ("js", axis_div)):
            x, y = _axis_names(axis)
            traces.append({
                "type": "scatter", "mode": "lines", "x": list(history.step), "y": _rounded(getattr(history, key), 4),
                "xaxis": x, "yaxis": y, "name": t(f"playground.curve.{key}") + suffix,
                "line": {"color": LOSS_COLORS[key], "width": 1.6, "dash": dashes[run % 2]},
                "hovertemplate": "%{y:.3f}<extra>" + t(f"playground.curve.{key}") + suffix + "</extra>",
            })
    return traces


def _plane_axes(domain_x: list[float], domain_y: list[float], anchor: int) -> tuple[dict, dict]:
    x, y = _axis_names(anchor)
    common = {"range": list(PLANE_BOUNDS), "showgrid": False, "zeroline": False, "ticks": "", "showticklabels": False,
              "mirror": True, "showline": True, "linecolor": "#bbbbbb", "fixedrange": True}
    return ({**common, "domain": domain_x, "anchor": y, "constrain": "domain"},
            {**common, "domain": domain_y, "anchor": x, "scaleanchor": x, "scaleratio": 1, "constrain": "domain"})


def _chart_axes(domain_x: list[float], domain_y: list[float], anchor: int, *, log: bool = False) -> tuple[dict, dict]:
    x, y = _axis_names(anchor)
    return ({"domain": domain_x, "anchor": y, "title": {"text": t("playground.axis_iteration"), "standoff": 2},
             "tickfont": {"size": 10}, "title_font": {"size": 11}},
            {"domain": domain_y, "anchor": x, "tickfont": {"size": 10}, "type": "log" if log else "linear"})


def _title(text: str, x: float, y: float) -> dict:
    return {"text": f"<b>{text}</b>", "x": x, "y": y, "xref": "paper", "yref": "paper", "showarrow": False,
            "xanchor": "left", "yanchor": "bottom", "font": {"size": 12}}


def build_figure(
    views: Sequence[PlaygroundView],
    histories: Sequence[History],
    layers: set[str],
    *,
    run_labels: Sequence[str] = ("",),
    batch: dict | None = None,
    charts: bool = True,
    validate: bool = False,
) -> go.Figure:
    """One run: the plane on the left, loss and KL/JS charts stacked on the right. Two runs: both planes on top,
    the two charts below with both runs' curves (solid = first run, dotted = second). charts=False: the plane only
    (one run; used beside the slow-motion panel)."""
    data: list[dict] = []
    layout: dict = {
        "margin": {"l": 8, "r": 8, "t": 28, "b": 8}, "plot_bgcolor": "white", "paper_bgcolor": "white",
        "uirevision": "playground", "hovermode": "closest", "dragmode": False,
        "legend": {"orientation": "h", "x": 0, "y": -0.02, "yanchor": "top", "font": {"size": 11}},
        "annotations": [],
    }
    if len(views) == 1 and not charts:
        layout["height"] = 400
        data += plane_traces(views[0], layers, 1, show_legend=True, batch=batch)
        layout["xaxis"], layout["yaxis"] = _plane_axes([0.0, 1.0], [0.12, 1.0], 1)
        layout["margin"]["t"] = 8
        return go.Figure({"data": data, "layout": layout}, **({} if validate else {"_validate": False}))
    if len(views) == 1:
        layout["height"] = 470
        data += plane_traces(views[0], layers, 1, show_legend=True, batch=batch)
        plane = _plane_axes([0.0, 0.56], [0.1, 1.0], 1)
        loss = _chart_axes([0.66, 1.0], [0.66, 0.97], 2)
        div = _chart_axes([0.66, 1.0], [0.17, 0.48], 3)
        layout["annotations"] += [_title(t("playground.chart_loss"), 0.66, 0.975),
                                  _title(t("playground.chart_divergence"), 0.66, 0.485)]
    else:
        layout["height"] = 720
        for index, (view, label) in enumerate(zip(views, run_labels)):
            data += plane_traces(view, layers, index + 1, show_legend=index == 0, batch=None)
        plane = _plane_axes([0.0, 0.48], [0.42, 0.97], 1)
        second = _plane_axes([0.52, 1.0], [0.42, 0.97], 2)
        layout["xaxis2"], layout["yaxis2"] = second
        layout["annotations"] += [_title(run_labels[0], 0.0, 0.975), _title(run_labels[1], 0.52, 0.975)]
        loss = _chart_axes([0.0, 0.46], [0.08, 0.32], 3)
        div = _chart_axes([0.54, 1.0], [0.08, 0.32], 4)
        layout["annotations"] += [_title(t("playground.chart_loss"), 0.0, 0.325),
                                  _title(t("playground.chart_divergence"), 0.54, 0.325)]
    layout["xaxis"], layout["yaxis"] = plane
    first_chart = 2 if len(views) == 1 else 3
    layout[_layout_axis(first_chart)[0]], layout[_layout_axis(first_chart)[1]] = loss
    layout[_layout_axis(first_chart + 1)[0]], layout[_layout_axis(first_chart + 1)[1]] = div
    data += _curve_traces(histories, run_labels if len(views) > 1 else ("",), first_chart, first_chart + 1)
    figure = {"data": data, "layout": layout}
    return go.Figure(figure) if validate else go.Figure(figure, _validate=False)


def draw_figure(candidates: torch.Tensor, points: torch.Tensor | None) -> go.Figure:
    """The "draw your own points" plane: faint candidate points to click, box or lasso, and the points so far."""
    data = [{
        "type": "scatter", "mode": "markers", "x": candidates[:, 0].tolist(), "y": candidates[:, 1].tolist(),
        "name": t("playground.draw_candidates"), "marker": {"size": 6, "color": "rgba(120, 120, 120, 0.25)"},
        "hovertemplate": "(%{x:.2f}, %{y:.2f})<extra></extra>",
    }]
    if points is not None and len(points):
        shown = points[:2000]
        data.append({
            "type": "scatter", "mode": "markers", "x": shown[:, 0].tolist(), "y": shown[:, 1].tolist(),
            "name": t("playground.draw_points"), "marker": {"size": 4, "color": REAL_COLOR}, "hoverinfo": "skip",
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
