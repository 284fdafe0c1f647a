"""A small chart drawer on Pillow (no plotting library needed): line panels and bar panels tiled into one PNG.

Used by bench/run_all.py for bench/results.png. Each panel has a title, axes with ticks, an optional dashed goal
line, and a legend; colours are a colour-blind-safe palette (Okabe & Ito).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from PIL import Image, ImageDraw, ImageFont

PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"]
BACKGROUND, INK, GRID, MUTED = "#FFFFFF", "#1F2330", "#E5E7EB", "#6B7280"


def font(size: int) -> ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1 has no scalable default font
        return ImageFont.load_default()


@dataclass
class Series:
    label: str
    xs: list[float]
    ys: list[float]


@dataclass
class LinePanel:
    title: str
    x_label: str
    y_label: str
    series: list[Series]
    goal: float | None = None
    goal_label: str = "goal"


@dataclass
class BarPanel:
    title: str
    y_label: str
    labels: list[str]
    values: list[float]
    reference: float | None = None  # e.g. 100 % or a ratio of 1.0, drawn dashed
    reference_label: str = ""
    value_format: str = "{:.2f}"
    colors: list[str] = field(default_factory=list)


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering [low, high] (1-2-5 steps)."""
    if not math.isfinite(low) or not math.isfinite(high):
        return [0.0, 1.0]
    if high <= low:
        high = low + 1.0
    raw = (high - low) / max(count, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    start = math.floor(low / step) * step
    ticks, value = [], start
    while value <= high + step * 0.5:
        ticks.append(round(value, 10))
        value += step
    return ticks


def _fmt(value: float) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:g}"
    return f"{value:.3g}"


def _dashed(draw: ImageDraw.ImageDraw, start: tuple[float, float], end: tuple[float, float], color: str) -> None:
    (x0, y0), (x1, y1) = start, end
    length = math.hypot(x1 - x0, y1 - y0)
    dashes = max(1, int(length // 8))
    for i in range(0, dashes, 2):
        a, b = i / dashes, min((i + 1) / dashes, 1.0)
        draw.line([(x0 + (x1 - x0) * a, y0 + (y1 - y0) * a), (x0 + (x1 - x0) * b, y0 + (y1 - y0) * b)],
                  fill=color, width=2)


class _Frame:
    """Plot area of one panel: maps data coordinates to pixels."""

    def __init__(self, box: tuple[int, int, int, int], x_range: tuple[float, float], y_range: tuple[float, float]):
        self.left, self.top, self.right, self.bottom = box
        self.x0, self.x1 = x_range
        self.y0, self.y1 = y_range

    def x(self, value: float) -> float:
        return self.left + (value - self.x0) / (self.x1 - self.x0 or 1) * (self.right - self.left)

    def y(self, value: float) -> float:
        return self.bottom - (value - self.y0) / (self.y1 - self.y0 or 1) * (self.bottom - self.top)


def _axes(draw, frame: _Frame, x_ticks, y_ticks, small, x_label: str, y_label: str, show_x: bool = True) -> None:
    for tick in y_ticks:
        y = frame.y(tick)
        draw.line([(frame.left, y), (frame.right, y)], fill=GRID, width=1)
        draw.text((frame.left - 8, y), _fmt(tick), fill=MUTED, font=small, anchor="rm")
    if show_x:
        for tick in x_ticks:
            x = frame.x(tick)
            draw.line([(x, frame.bottom), (x, frame.bottom + 5)], fill=MUTED, width=1)
            draw.text((x, frame.bottom + 8), _fmt(tick), fill=MUTED, font=small, anchor="mt")
        draw.text(((frame.left + frame.right) / 2, frame.bottom + 30), x_label, fill=INK, font=small, anchor="mt")
    draw.line([(frame.left, frame.top), (frame.left, frame.bottom), (frame.right, frame.bottom)], fill=INK, width=1)
    draw.text((frame.left, frame.top - 14), y_label, fill=MUTED, font=small, anchor="lb")


def draw_line_panel(image: Image.Image, box: tuple[int, int, int, int], panel: LinePanel) -> None:
    draw = ImageDraw.Draw(image)
    title, small = font(20), font(14)
    left, top, right, bottom = box
    draw.text((left + 10, top + 8), panel.title, fill=INK, font=title)
    xs = [x for s in panel.series for x in s.xs] or [0.0, 1.0]
    ys = [y for s in panel.series for y in s.ys if y is not None and math.isfinite(y)] or [0.0, 1.0]
    if panel.goal is not None:
        ys.append(panel.goal)
    pad = (max(ys) - min(ys)) * 0.08 or 1.0
    x_ticks = nice_ticks(0.0, max(xs))
    y_ticks = nice_ticks(min(ys) - pad, max(ys) + pad)
    frame = _Frame((left + 80, top + 70, right - 30, bottom - 110), (x_ticks[0], x_ticks[-1]),
                   (y_ticks[0], y_ticks[-1]))
    _axes(draw, frame, x_ticks, y_ticks, small, panel.x_label, panel.y_label)
    if panel.goal is not None:
        y = frame.y(panel.goal)
        _dashed(draw, (frame.left, y), (frame.right, y), MUTED)
        draw.text((frame.right - 4, y - 4), f"{panel.goal_label} {_fmt(panel.goal)}", fill=MUTED, font=small,
                  anchor="rb")
    for index, series in enumerate(panel.series):
        color = PALETTE[index % len(PALETTE)]
        points = [(frame.x(x), frame.y(y)) for x, y in zip(series.xs, series.ys) if y is not None and math.isfinite(y)]
        if len(points) > 1:
            draw.line(points, fill=color, width=3, joint="curve")
        for px, py in points:
            draw.ellipse([px - 4, py - 4, px + 4, py + 4], fill=color)
    # Legend under the axes.
    x, y = frame.left, bottom - 44
    for index, series in enumerate(panel.series):
        color = PALETTE[index % len(PALETTE)]
        width = draw.textlength(series.label, font=small) + 40
        if x + width > right - 10:
            x, y = frame.left, y + 20
        draw.line([(x, y + 8), (x + 22, y + 8)], fill=color, width=4)
        draw.text((x + 28, y + 8), series.label, fill=INK, font=small, anchor="lm")
        x += width + 12


def draw_bar_panel(image: Image.Image, box: tuple[int, int, int, int], panel: BarPanel) -> None:
    draw = ImageDraw.Draw(image)
    title, small = font(20), font(14)
    left, top, right, bottom = box
    draw.text((left + 10, top + 8), panel.title, fill=INK, font=title)
    values = [v if v is not None and math.isfinite(v) else 0.0 for v in panel.values] or [0.0]
    high = max(values + ([panel.reference] if panel.reference is not None else []))
    y_ticks = nice_ticks(0.0, high * 1.1 if high > 0 else 1.0)
    frame = _Frame((left + 80, top + 70, right - 30, bottom - 110), (0, max(len(values), 1)),
                   (y_ticks[0], y_ticks[-1]))
    _axes(draw, frame, [], y_ticks, small, "", panel.y_label, show_x=False)
    slot = (frame.right - frame.left) / max(len(values), 1)
    for index, (label, value) in enumerate(zip(panel.labels, values)):
        color = (panel.colors[index] if index < len(panel.colors) else PALETTE[index % len(PALETTE)])
        x0 = frame.left + slot * index + slot * 0.18
        x1 = frame.left + slot * (index + 1) - slot * 0.18
        draw.rectangle([x0, frame.y(value), x1, frame.bottom], fill=color)
        draw.text(((x0 + x1) / 2, frame.y(value) - 4), panel.value_format.format(value), fill=INK, font=small,
                  anchor="mb")
        lines = label.split("\n")
        for line_index, line in enumerate(lines):
            draw.text(((x0 + x1) / 2, frame.bottom + 8 + 17 * line_index), line, fill=INK, font=small, anchor="mt")
    if panel.reference is not None:
        y = frame.y(panel.reference)
        _dashed(draw, (frame.left, y), (frame.right, y), MUTED)
        draw.text((frame.right - 4, y - 4), panel.reference_label, fill=MUTED, font=small, anchor="rb")


def render(panels: list[LinePanel | BarPanel], path: str, columns: int = 2, size: tuple[int, int] = (760, 520),
           heading: str = "") -> None:
    """Tile the panels (row by row) into one PNG."""
    rows = math.ceil(len(panels) / columns) if panels else 1
    head = 56 if heading else 0
    image = Image.new("RGB", (columns * size[0], rows * size[1] + head), BACKGROUND)
    if heading:
        ImageDraw.Draw(image).text((20, 16), heading, fill=INK, font=font(24))
    for index, panel in enumerate(panels):
        col, row = index % columns, index // columns
        box = (col * size[0], head + row * size[1], (col + 1) * size[0], head + (row + 1) * size[1])
        if isinstance(panel, LinePanel):
            draw_line_panel(image, box, panel)
        else:
            draw_bar_panel(image, box, panel)
    image.save(path, format="PNG", optimize=True)
