"""Text alternatives for pictures: every chart has a "Show as table" expander, every image an alt text.

A page draws its charts inside a chart area; the area ends with one expander that holds a table per chart
(`ui.a11y.tables`: the numbers the chart plots, under the chart's own names)::

    with chart_area("concepts_kl"):
        altair_chart(view.kl_chart(vae), width="stretch")
        st.caption(...)              # the expander comes after everything in the block

The expander tracks its state (``on_change="rerun"``), so the tables are built and sent only while it is open: a
live view that redraws ten times a second pays nothing for a closed one. A chart drawn outside an area raises, so
a new chart cannot forget its table (tests/test_a11y_pages.py walks every page and checks each chart's table).

`image` is ``st.image`` with an alt text: the caption, unless a shorter description is given.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING, Any

import streamlit as st

from ui.i18n import t

if TYPE_CHECKING:
    import pandas as pd


def _tables() -> ModuleType:
    """ui.a11y.tables, imported on the first chart: it brings pandas (~0.2 s), which Home (images only) never needs,
    so a fresh server's first Home run does not wait for it."""
    # Deferred: see the docstring.
    from ui.a11y import tables

    return tables


TABLE_KEY_PREFIX = "a11y_table_"  # + the area's key: the expander's key (its open state in session state)
TABLE_LABEL = "a11y.show_table"  # i18n key of the expander's label

# Streamlit runs each session's script in its own thread; a context variable keeps areas apart.
_AREA: contextvars.ContextVar[ChartArea | None] = contextvars.ContextVar("aigc_chart_area", default=None)


@dataclass
class ChartArea:
    key: str
    tables: list[tuple[str, Callable[[], pd.DataFrame]]] = field(default_factory=list)


@contextmanager
def chart_area(key: str) -> Iterator[ChartArea]:
    """Charts drawn inside get one "Show as table" expander, drawn where the block ends (if it drew a chart)."""
    area = ChartArea(key)
    token = _AREA.set(area)
    try:
        yield area
    finally:
        _AREA.reset(token)
    if area.tables:
        _table_expander(area)


def add_table(title: str, make: Callable[[], pd.DataFrame]) -> None:
    """Put a table in the open chart area (for a chart drawn by other means, e.g. replaced in place)."""
    area = _AREA.get()
    if area is None:
        raise RuntimeError("a chart needs its table: draw it inside ui.a11y.charts.chart_area(...)")
    area.tables.append((title, make))


def _table_expander(area: ChartArea) -> None:
    box = st.expander(t(TABLE_LABEL), key=TABLE_KEY_PREFIX + area.key, on_change="rerun")
    if not box.open:
        return
    with box:
        for title, make in area.tables:
            if len(area.tables) > 1 and title:
                st.markdown(f"**{title}**")
            st.dataframe(make(), hide_index=True)


def chart_alt(title: str) -> str:
    """A chart's alt text: what it is, and where its numbers are."""
    return t("a11y.chart_alt", title=title) if title else t("a11y.chart_alt_untitled")


def altair_chart(chart: Any, *, where: Any = None, title: str | None = None,
                 table: Callable[[], pd.DataFrame] | None = None, **kwargs: Any) -> Any:
    """``st.altair_chart`` with its table in the open chart area (`table`: the rows the chart plots, where its
    first layer's data is not what matters, e.g. samples drawn over the data)."""
    title = title if title is not None else _tables().chart_title(chart)
    add_table(title, table or (lambda: _tables().altair_table(chart)))
    return (where or st).altair_chart(chart, alt=chart_alt(title), **kwargs)


def vega_lite_chart(data: Any, spec: dict, *, where: Any = None, title: str | None = None, **kwargs: Any) -> Any:
    """``st.vega_lite_chart`` with its table (the spec's main data) in the open chart area."""
    title = title if title is not None else _tables().chart_title(spec)
    add_table(title, lambda: _tables().vega_lite_table(spec, data))
    return (where or st).vega_lite_chart(data, spec, alt=chart_alt(title), **kwargs)


def plotly_chart(figure: Any, *, where: Any = None, title: str | None = None, **kwargs: Any) -> Any:
    """``st.plotly_chart`` with its table (one column per trace) in the open chart area."""
    title = title if title is not None else _tables().chart_title(figure)
    add_table(title, lambda: _tables().plotly_table([figure], series_header=t("a11y.series")))
    return (where or st).plotly_chart(figure, alt=chart_alt(title), **kwargs)


def image(picture: Any, caption: str | None = None, *, alt: str | None = None, where: Any = None,
          **kwargs: Any) -> Any:
    """``st.image`` whose alt text is `alt`, else the caption (a screen reader reads the alt text)."""
    text = alt or caption
    if not text:
        raise ValueError("an image needs an alt text or a caption")
    return (where or st).image(picture, caption=caption, alt=text, **kwargs)
