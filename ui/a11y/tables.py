"""A chart's data as a table: the text alternative behind each chart's "Show as table" expander (ui/a11y/areas.py).

Pure (no Streamlit import): each function reads the chart object the page is about to draw (a Plotly figure, an
Altair chart, a Vega-Lite spec and its data) and returns the numbers it plots, headed by the chart's own translated
names (legend entries, axis titles). Nothing is recomputed, so the table always says what the chart shows.

- Plotly: one column per trace, named by its legend entry, joined on x (the step of a live run); a heatmap gives
  one column per row (y label), headed with its colour bar's title.
- Vega-Lite (and Altair, through ``chart.to_dict()``): the rows of the chart's main data (the data its first
  view draws), with the fields its views encode, headed by their axis or legend titles. Layers with data of their
  own (a marker for the current value) are left out: the page's caption says that value. A line chart with one
  line per category becomes wide: x, then one column per line.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

MAX_ROWS = 2_000  # a table of more rows is thinned evenly (last row kept): enough to read, cheap to send

_CHANNELS = ("x", "y", "color", "theta", "size", "column", "row")
_LINE_MARKS = {"line", "area", "trail"}


def thin(frame: pd.DataFrame, max_rows: int = MAX_ROWS) -> pd.DataFrame:
    """Every n-th row so that at most about `max_rows` remain, the last row always kept."""
    if len(frame) <= max_rows:
        return frame.reset_index(drop=True)
    stride = -(-len(frame) // max_rows)
    keep = list(range(0, len(frame), stride))
    if keep[-1] != len(frame) - 1:
        keep.append(len(frame) - 1)
    return frame.iloc[keep].reset_index(drop=True)


# --- Plotly -----------------------------------------------------------------------------------------------------


def _text(value: Any) -> str:
    """A Plotly title (a string, a dict with "text", or a Title object) as plain text."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    text = value.get("text") if isinstance(value, Mapping) else getattr(value, "text", None)
    return "" if text is None else str(text)


def _array(values: Any) -> np.ndarray:
    return np.asarray([] if values is None else values)


def _points_only(figures: list[Any]) -> bool:
    traces = [trace for figure in figures for trace in figure.data]
    return bool(traces) and all(trace.type in ("scatter", "scattergl") and trace.mode == "markers" for trace in traces)


def plotly_table(figures: Iterable[Any], series_header: str = "") -> pd.DataFrame:
    """The traces of `figures` side by side: x (the first figure's x-axis title), then one column per trace.
    A scatter plot of points (markers only) is a list of points instead: x, y and the trace's name."""
    figures = list(figures)
    if _points_only(figures):
        layout = figures[0].layout
        x_title, y_title = _text(layout.xaxis.title) or "x", _text(layout.yaxis.title) or "y"
        parts = [pd.DataFrame({series_header: trace.name or "", x_title: _array(trace.x), y_title: _array(trace.y)})
                 for figure in figures for trace in figure.data]
        return thin(pd.concat(parts, ignore_index=True))
    columns: dict[str, pd.Series] = {}
    x_title = ""
    for figure in figures:
        x_title = x_title or _text(figure.layout.xaxis.title)
        for trace in figure.data:
            x = _array(trace.x)
            if trace.type == "heatmap":
                z = np.atleast_2d(_array(trace.z))
                rows = list(_array(trace.y)) or list(range(len(z)))
                unit = _text(trace.colorbar.title) if trace.colorbar is not None else ""
                for name, values in zip(rows, z):
                    header = f"{name} ({unit})" if unit else str(name)
                    columns[header] = pd.Series(values[: len(x)], index=x[: len(values)])
                continue
            y = _array(trace.y)
            if not len(y):
                continue
            name = trace.name or f"{len(columns) + 1}"
            columns[name] = pd.Series(y, index=x[: len(y)] if len(x) else np.arange(len(y)))
    if not columns:
        return pd.DataFrame({x_title or "x": []})
    # Duplicate x values (rare: a rolled-back run) keep their last value, so the columns align.
    columns = {name: series[~series.index.duplicated(keep="last")] for name, series in columns.items()}
    table = pd.DataFrame(columns)
    table.index.name = x_title or "x"
    return thin(table.sort_index().reset_index())


# --- Vega-Lite and Altair -------------------------------------------------------------------------------------------


def _units(spec: Mapping[str, Any], inherited_data: Any = None, inherited_encoding: Mapping | None = None
           ) -> list[tuple[Any, str, dict]]:
    """(data, mark type, encoding) of every single view in a (layered, concatenated) spec."""
    data = spec.get("data", inherited_data)
    encoding = {**(inherited_encoding or {}), **spec.get("encoding", {})}
    children = [child for key in ("layer", "hconcat", "vconcat", "concat") for child in spec.get(key, [])]
    if children:
        return [unit for child in children for unit in _units(child, data, encoding)]
    mark = spec.get("mark")
    mark_type = mark.get("type") if isinstance(mark, Mapping) else mark
    return [(data, str(mark_type or ""), encoding)] if "mark" in spec else []


def _rows(data: Any, spec: Mapping[str, Any], given: Any) -> pd.DataFrame | None:
    """The rows of a view's data: inline values, a named dataset of the spec, or the data passed beside it."""
    if isinstance(data, Mapping) and "values" in data:
        return pd.DataFrame(data["values"])
    if isinstance(data, Mapping) and "name" in data and data["name"] in spec.get("datasets", {}):
        return _frame(spec["datasets"][data["name"]])
    if data is None and given is not None:
        return _frame(given)
    return None


def _frame(data: Any) -> pd.DataFrame:
    if isinstance(data, pd.DataFrame):
        return data
    if hasattr(data, "to_pandas"):  # a pyarrow table
        return data.to_pandas()
    return pd.DataFrame(data)


def _encoded_fields(encoding: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """(channel, field, header) for each encoded field, the tooltip's fields last. A colour without a title is a
    legend without one: its column has no header either. A tooltip field without a title is left out (its name is
    the code's, not the reader's)."""
    out = []
    for channel in _CHANNELS:
        spec = encoding.get(channel)
        if isinstance(spec, Mapping) and spec.get("field"):
            fallback = "" if channel == "color" else spec["field"]
            out.append((channel, spec["field"], spec.get("title") or fallback))
    tooltips = encoding.get("tooltip") or []
    for spec in tooltips if isinstance(tooltips, list) else [tooltips]:
        if isinstance(spec, Mapping) and spec.get("field") and (spec.get("title") or "").strip():
            out.append(("tooltip", spec["field"], spec["title"]))
    return out


def vega_lite_table(spec: Mapping[str, Any], data: Any = None) -> pd.DataFrame:
    """The main data of a Vega-Lite chart (`data`: what ``st.vega_lite_chart(data, spec)`` gets beside the spec)."""
    units = _units(spec)
    if not units:
        return pd.DataFrame()
    main = units[0][0]
    frame = _rows(main, spec, data)
    if frame is None:
        return pd.DataFrame()
    views = [(mark, encoding) for unit_data, mark, encoding in units if unit_data == main]
    headers: dict[str, str] = {}
    for _mark, encoding in views:
        for _channel, field, header in _encoded_fields(encoding):
            if field in frame.columns and field not in headers and header not in headers.values():
                headers[field] = header
    if not headers:
        return thin(frame)
    mark, encoding = views[0]
    x, y, colour = (encoding.get(c, {}) if isinstance(encoding.get(c), Mapping) else {} for c in ("x", "y", "color"))
    wide = (mark in _LINE_MARKS and colour.get("field") in frame.columns and x.get("field") in frame.columns
            and y.get("field") in frame.columns and colour.get("type") == "nominal")
    if wide:
        try:
            pivot = frame.pivot(index=x["field"], columns=colour["field"], values=y["field"])
        except ValueError:  # one x with two values in a line: keep the rows as they are
            pivot = None
        if pivot is not None:
            # The lines in the order the chart's legend lists them.
            order = list(dict.fromkeys(frame[colour["field"]]))
            pivot = pivot[order]
            pivot.columns = [str(c) for c in pivot.columns]
            pivot.index.name = headers.get(x["field"], x["field"])
            return thin(pivot.reset_index())
    table = frame[list(headers)].rename(columns=headers)
    return thin(table)


def altair_table(chart: Any) -> pd.DataFrame:
    """The table of an Altair chart (its Vega-Lite dictionary, with the data inline)."""
    return vega_lite_table(chart.to_dict())


def chart_title(spec_or_figure: Any, fallback: str = "") -> str:
    """A short name for a chart: its title, else its y-axis title, else `fallback` (a table's heading)."""
    layout = getattr(spec_or_figure, "layout", None)
    if layout is not None:  # Plotly
        return _text(layout.title) or _text(layout.yaxis.title) or fallback
    spec = spec_or_figure.to_dict() if hasattr(spec_or_figure, "to_dict") else spec_or_figure
    title = spec.get("title") if isinstance(spec, Mapping) else None
    if title:
        return _text(title)
    for _data, _mark, encoding in _units(spec) if isinstance(spec, Mapping) else []:
        y = encoding.get("y")
        if isinstance(y, Mapping) and y.get("title"):
            return str(y["title"])
    return fallback
