"""The playground's plane as a small picture (uint8 RGB), for the animated GIF of a run (`aigc_core.animation`).

The live chart is Vega-Lite drawn by the browser, and nothing on the server can rasterise it offline (Plotly's
and Altair's exporters need kaleido or a browser), so this draws the same data with Pillow: D's heatmap, G's
manifold, the real and generated points and G's gradient arrows (`PlaygroundView`); in diffusion mode the real
points, the samples and the score field at t (`DiffusionView`). Side by side runs become two planes. The colours
are arguments (`PlaneColors`), so the GIF uses the live chart's own. Plain NumPy + Pillow.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from .diffusion_views import DiffusionView
from .views import PLANE_BOUNDS, PlaygroundView

PLANE_SIZE = 240  # pixels per side of one plane: small, and the points still read
GAP = 8  # white pixels between side-by-side planes
ARROW_PX = 14  # the longest arrow, in pixels (the others to scale, as on the live chart)
Colour = tuple[int, int, int]


def rgb(colour: str) -> Colour:
    """'#1a9850' -> (26, 152, 80)."""
    digits = colour.lstrip("#")
    if len(digits) != 6:
        raise ValueError(f"Expected a colour as #rrggbb; got {colour!r}.")
    return int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16)


@dataclass(frozen=True)
class PlaneColors:
    """The live chart's colours, as '#rrggbb': heat runs from "generated" through "cannot tell" to "real"."""

    real: str
    fake: str
    manifold: str
    arrow: str
    heat: tuple[str, str, str]
    frame: str = "#bbbbbb"


def _heat(view: PlaygroundView, colors: PlaneColors, size: int) -> Image.Image:
    """D's verdict coloured through `colors.heat` (neutral zmid in the middle), rows flipped (y points up)."""
    heatmap = view.heatmap
    assert heatmap is not None
    half = heatmap.zmax - heatmap.zmid if heatmap.zmax > heatmap.zmid else 1.0
    v = np.clip(0.5 + 0.5 * (heatmap.values - heatmap.zmid) / half, 0.0, 1.0)[..., None]  # (R, R, 1)
    v = np.nan_to_num(v, nan=0.5)
    low, mid, high = (np.array(rgb(c), dtype=np.float64) for c in colors.heat)
    pixels = np.where(v < 0.5, low + (mid - low) * (v / 0.5), mid + (high - mid) * ((v - 0.5) / 0.5))[::-1]
    small = Image.fromarray(np.round(pixels).astype(np.uint8), mode="RGB")
    return small.resize((size, size), Image.Resampling.BILINEAR)  # soft, as the browser scales it


def _to_pixels(points: np.ndarray, size: int) -> np.ndarray:
    """Plane coordinates (N, 2) to pixel coordinates (N, 2): x to the right, y upwards; NaN/inf dropped."""
    points = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    points = points[np.isfinite(points).all(axis=1)]
    low, high = PLANE_BOUNDS
    scaled = (points - low) / (high - low) * (size - 1)
    return np.stack([scaled[:, 0], (size - 1) - scaled[:, 1]], axis=1)


def _dots(draw: ImageDraw.ImageDraw, points: np.ndarray, colour: Colour, size: int, radius: float = 1.6) -> None:
    for x, y in _to_pixels(points, size):
        if -radius <= x <= size + radius and -radius <= y <= size + radius:
            draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=colour)


def _arrows(draw: ImageDraw.ImageDraw, starts: np.ndarray, directions: np.ndarray, colour: Colour,
            size: int) -> None:
    """Line segments from each start along its direction, the longest ARROW_PX pixels, with a dot at the tip."""
    starts = np.asarray(starts, dtype=np.float64).reshape(-1, 2)
    directions = np.nan_to_num(np.asarray(directions, dtype=np.float64).reshape(-1, 2), posinf=0.0, neginf=0.0)
    longest = float(np.linalg.norm(directions, axis=1).max()) if len(directions) else 0.0
    if longest <= 0:
        return
    low, high = PLANE_BOUNDS
    ends = starts + directions / longest * ARROW_PX * (high - low) / size
    for (x0, y0), (x1, y1) in zip(_to_pixels(starts, size), _to_pixels(ends, size)):
        draw.line((x0, y0, x1, y1), fill=colour, width=1)
        draw.ellipse((x1 - 1.2, y1 - 1.2, x1 + 1.2, y1 + 1.2), fill=colour)


def plane_picture(view: PlaygroundView | DiffusionView, colors: PlaneColors, *,
                  size: int = PLANE_SIZE) -> np.ndarray:
    """One plane, (size, size, 3) uint8: the layers the view holds (a switched-off layer is None: not drawn)."""
    if isinstance(view, PlaygroundView) and view.heatmap is not None:
        image = _heat(view, colors, size)
    else:
        image = Image.new("RGB", (size, size), "white")
    draw = ImageDraw.Draw(image)
    if isinstance(view, PlaygroundView) and view.manifold is not None:
        for line in view.manifold.lines:
            pixels = _to_pixels(line, size)
            if len(pixels) > 1:
                draw.line([tuple(p) for p in pixels], fill=rgb(colors.manifold), width=1)
    if isinstance(view, DiffusionView) and view.field is not None:  # 400 arrows: under the points, not over
        _arrows(draw, view.field.points, view.field.directions, rgb(colors.arrow), size)
    _dots(draw, view.real, rgb(colors.real), size)
    _dots(draw, view.fake, rgb(colors.fake), size)
    if isinstance(view, PlaygroundView) and view.gradients is not None:  # 48 arrows on G's points, as on the page
        _arrows(draw, view.gradients.points, view.gradients.directions, rgb(colors.arrow), size)
    draw.rectangle((0, 0, size - 1, size - 1), outline=rgb(colors.frame))
    return np.asarray(image, dtype=np.uint8)


def planes_picture(views: Sequence[PlaygroundView | DiffusionView], colors: PlaneColors, *,
                   size: int = PLANE_SIZE) -> np.ndarray:
    """One plane per run, side by side with a white gap: (size, n * size + (n - 1) * GAP, 3) uint8."""
    if not views:
        raise ValueError("Need at least one view to draw.")
    pictures = [plane_picture(view, colors, size=size) for view in views]
    if len(pictures) == 1:
        return pictures[0]
    gap = np.full((size, GAP, 3), 255, dtype=np.uint8)
    parts = [pictures[0]]
    for picture in pictures[1:]:
        parts += [gap, picture]
    return np.concatenate(parts, axis=1)
