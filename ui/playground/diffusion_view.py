"""Diffusion mode's live chart: the plane (real points, the denoiser's samples, its score field at the chosen t,
the particles on their reverse trajectories, the forward process at t) next to the curves (the denoising loss;
KL and JS), as one Vega-Lite spec, laid out like the GAN's (ui/playground/view.py, whose helpers it uses).

As there, the spec depends only on the language; every frame (and the particles' animation frame) travels in the
named datasets, so the browser updates the chart in place. Pure: no Streamlit import; takes the translator.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from aigc_core import palette
from aigc_core.playground import PLANE_BOUNDS, DiffusionView, History
from ui.catalog import Translator
from ui.playground.view import (
    _OWN, ARROW_COLOR, CHART_PX, FAKE_COLOR, PLANE_PX, REAL_COLOR, SCHEMA, _chart_spec, _empty, _table, _xy, arrows,
    curves_dataset,
)

DIFFUSION_LAYERS: tuple[str, ...] = ("real", "fake", "field", "particles", "forward")
FORWARD_COLOR = palette.SKY_BLUE  # the data blurred by the forward process: a lighter blue than the data
PARTICLE_COLOR = palette.BLUISH_GREEN
TRAIL_COLOR = palette.tint(palette.BLUISH_GREEN, 0.5)
FIELD_MAX_LENGTH = 0.3  # the field's grid is 0.35 apart: arrows stay within about one cell
FIELD_CLIP_QUANTILE = 0.9  # arrows longer than this quantile are drawn at its length (the score blows up near data)
# A denoiser step on the ring costs ~3 GAN iterations and a diffusion frame's sampler run ~60 ms, so diffusion
# mode trains shorter slices than the GAN's SLICE_SECONDS to keep >= 5 redraws/s (bench_playground_diffusion.py).
DIFFUSION_SLICE_SECONDS = 0.1
HOLD_FRAMES = 6  # the particles rest on x_0 this many redraws before the animation starts again from x_T


def particle_step(frame: int, steps: int) -> int:
    """Which sampler step (0 = x_T … steps = x_0) the particles show at animation frame `frame`: a loop that runs
    from noise to data, then holds the data for HOLD_FRAMES frames."""
    return min(frame % (steps + 1 + HOLD_FRAMES), steps)


def field_arrows(points: np.ndarray, directions: np.ndarray) -> pa.Table:
    """The score field as arrows: lengths above the FIELD_CLIP_QUANTILE quantile are clipped to it, then all are
    scaled together (ui.playground.view.arrows) so the longest is FIELD_MAX_LENGTH. Directions are kept."""
    lengths = np.linalg.norm(directions, axis=1, keepdims=True)
    if len(lengths):
        cap = float(np.quantile(lengths, FIELD_CLIP_QUANTILE))
        directions = directions * np.minimum(1.0, cap / np.maximum(lengths, 1e-12))
    return arrows(points, directions, max_length=FIELD_MAX_LENGTH)


def diffusion_datasets(view: DiffusionView, layers: set[str], frame: int | None) -> dict[str, pa.Table]:
    """The per-frame data of the plane. frame None: the particles at x_0 with their whole trails (paused);
    otherwise the animation frame `frame` (`particle_step`) with the trails so far."""
    out: dict[str, pa.Table] = {}
    for key, points in (("real", view.real), ("fake", view.fake), ("forward", view.forward)):
        shown = key in layers and points is not None
        out[f"d_{key}"] = _table(x=points[:, 0], y=points[:, 1]) if shown else _empty("x", "y")
    field = view.field
    out["d_field"] = (field_arrows(field.points, field.directions) if "field" in layers and field is not None
                      else _empty("x", "y", "x2", "y2", "angle"))
    paths = view.trajectories
    if "particles" in layers and paths is not None:
        steps = len(paths.positions) - 1
        upto = steps if frame is None else particle_step(frame, steps)
        trail = paths.positions[: upto + 1]  # (k, P, 2)
        k, count = trail.shape[:2]
        out["d_trails"] = _table(x=trail[..., 0].ravel(), y=trail[..., 1].ravel(),
                                 line=np.tile(np.arange(count), k), i=np.repeat(np.arange(k), count))
        out["d_particles"] = _table(x=trail[-1, :, 0], y=trail[-1, :, 1])
    else:
        out["d_trails"] = _empty("x", "y", "line", "i")
        out["d_particles"] = _empty("x", "y")
    return out


def diffusion_plane_spec(size: int) -> dict:
    """Every layer of the diffusion plane, reading the datasets named `d_<layer>`."""
    low, high = PLANE_BOUNDS

    def dots(name: str, color: str, size_px: int = 14, opacity: float = 0.85) -> dict:
        return {"data": {"name": name}, "mark": {"type": "circle", "size": size_px, "color": color,
                                                  "opacity": opacity, "clip": True}, "encoding": _xy()}

    layers = [
        dots("d_forward", FORWARD_COLOR, 12, 0.55),
        dots("d_real", REAL_COLOR),
        dots("d_fake", FAKE_COLOR),
        {"data": {"name": "d_field"}, "mark": {"type": "rule", "color": ARROW_COLOR, "strokeWidth": 1.2, "clip": True},
         "encoding": {**_xy(), "x2": {"field": "x2"}, "y2": {"field": "y2"}}},
        {"data": {"name": "d_field"},
         "mark": {"type": "point", "shape": "triangle", "filled": True, "size": 22, "color": ARROW_COLOR,
                  "opacity": 1, "clip": True},
         "encoding": {**_xy("x2", "y2"), "angle": {"field": "angle", "type": "quantitative",
                                                   "scale": {"domain": [-360, 360], "range": [-360, 360]}}}},
        {"data": {"name": "d_trails"},
         "mark": {"type": "line", "color": TRAIL_COLOR, "opacity": 0.6, "strokeWidth": 1, "clip": True},
         "encoding": {**_xy(), "detail": {"field": "line", "type": "nominal"},
                      "order": {"field": "i", "type": "quantitative"}}},
        {"data": {"name": "d_particles"},
         "mark": {"type": "circle", "size": 46, "color": PARTICLE_COLOR, "stroke": "white", "strokeWidth": 1,
                  "opacity": 1, "clip": True}, "encoding": _xy()},
        {"data": {"values": [{"x0": low, "y0": low, "x1": high, "y1": high}]},
         "mark": {"type": "rect", "fill": None, "stroke": palette.FRAME, "strokeWidth": 1},
         "encoding": {**_xy("x0", "y0"), "x2": {"field": "x1"}, "y2": {"field": "y1"}}},
    ]
    return {"width": size, "height": size, "layer": layers}


def build_diffusion_chart(
    tr: Translator, view: DiffusionView, history: History, layers: set[str], *, frame: int | None = None
) -> dict:
    """The Vega-Lite spec with its datasets: the plane left, the loss and KL/JS charts stacked right."""
    datasets: dict[str, pa.Table] = {"curves": curves_dataset([history]), **diffusion_datasets(view, layers, frame)}
    width, height = CHART_PX[1]
    loss = _chart_spec(tr, ("loss",), tr("playground.chart_loss_diffusion"), (width, height), 1)
    div = _chart_spec(tr, ("kl", "js"), tr("playground.chart_divergence"), (width, height), 1, two_axes=True)
    return {
        "$schema": SCHEMA,
        "usermeta": {"embedOptions": {"renderer": "canvas"}},
        "config": {"view": {"stroke": None}, "concat": {"spacing": 16}, "axis": {"grid": True, "gridOpacity": 0.4},
                   "aria": False, "mark": {"aria": False}},
        "datasets": datasets,
        "hconcat": [diffusion_plane_spec(PLANE_PX[1]), {"vconcat": [loss, div], "spacing": 18, "resolve": _OWN}],
        "spacing": 28, "resolve": _OWN,
    }


def diffusion_legend_markdown(tr: Translator) -> str:
    """A one-line key for the diffusion plane's marks."""
    return "   ".join([
        f":blue[●] {tr('playground.layer.real')}", f":orange[●] {tr('playground.layer.samples')}",
        f"➤ {tr('playground.layer.field')}", f":green[●] {tr('playground.layer.particles')}",
        f":blue[○] {tr('playground.layer.forward')}",
    ])
