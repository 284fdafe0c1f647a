"""What the Latent Explorer's map draws: which test digits, where, and the Vega-Lite spec around them. Pure (no
Streamlit import), so `bench/bench_latent.py` times the page's own spec; ui/latent/panels.py draws it."""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd

from aigc_core import explorer, palette

MAP_POINTS = 3000
IMAGE_SCALE = 8  # 28 px -> 224 px, nearest neighbour
DIGIT_COLOURS = palette.DIGITS  # one colour per digit class on the map


@functools.lru_cache(maxsize=8)
def map_subset(size: int, total: int) -> np.ndarray:
    """Indices of the test images drawn on the map (the same for every model, so maps are comparable)."""
    return np.sort(np.random.default_rng(0).choice(total, size=min(size, total), replace=False))


def map_points(encoded: explorer.EncodedSet, size: int) -> pd.DataFrame:
    index = map_subset(size, len(encoded.mu))
    coords = encoded.coords[index].numpy()
    return pd.DataFrame({"x": coords[:, 0], "y": coords[:, 1],
                         "digit": encoded.labels[index].numpy().astype(str), "index": index})


def map_spec(marks: list[tuple[float, float, str, str, str]], x_title: str, y_title: str, legend: str) -> dict:
    """Vega-Lite spec of the latent map: the points (the chart's data) with a click-to-pick selection (the nearest
    point wins, so a click need not hit one), and one marker layer per (x, y, label, colour, shape).

    Written as a plain spec rather than with Altair: this runs on every slider move, and validating an Altair
    chart of 3,000 points costs about 45 ms of CPU, against well under 1 ms for this dictionary.
    """
    def axis(field: str, title: str) -> dict:
        return {"field": field, "type": "quantitative", "title": title}

    layers: list[dict] = [{
        "mark": {"type": "circle", "size": 14, "opacity": 0.55},
        "params": [{"name": "pick", "select": {"type": "point", "fields": ["index"], "on": "click",
                                                "clear": False, "nearest": True}}],
        "encoding": {
            "x": axis("x", x_title), "y": axis("y", y_title),
            "color": {"field": "digit", "type": "nominal", "scale": {"range": list(DIGIT_COLOURS)}, "title": legend},
            "tooltip": [{"field": "digit", "type": "nominal", "title": legend},
                        {"field": "index", "type": "quantitative", "title": "#"}],
        },
    }]
    for x, y, label, colour, shape in marks:
        layers.append({
            "data": {"values": [{"x": x, "y": y, "what": label}]},
            "mark": {"type": "point", "shape": shape, "size": 420, "filled": True, "color": colour,
                     "stroke": "white", "strokeWidth": 1.5},
            "encoding": {"x": {"field": "x", "type": "quantitative"}, "y": {"field": "y", "type": "quantitative"},
                         "tooltip": [{"field": "what", "type": "nominal", "title": " "}]},
        })
    return {"height": 360, "layer": layers}
