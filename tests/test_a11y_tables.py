"""ui/a11y/tables.py: a chart's table holds exactly the numbers the chart plots, under the chart's own names."""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd
import plotly.graph_objects as go

from ui.a11y.tables import MAX_ROWS, altair_table, chart_title, plotly_table, thin, vega_lite_table
from ui.catalog import Translator, load_catalog
from ui.train import charts

TR = Translator(load_catalog("en"))


def _columns(steps: int = 6) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    names = {name for series in charts.GAN_SERIES + charts.DIFFUSION_SERIES + charts.QUALITY_SERIES for name in series}
    return {"step": np.arange(steps, dtype=float) * 10, **{name: rng.random(steps) + 0.1 for name in names}}


def test_plotly_lines_become_columns_named_by_the_legend():
    columns = _columns()
    losses = charts.gan_charts(TR, columns, "non_saturating")[0]
    table = plotly_table([losses])
    assert list(table.columns) == [TR("train.chart.step"), TR("train.chart.d_loss"), TR("train.chart.g_loss")]
    np.testing.assert_allclose(table[TR("train.chart.step")], columns["step"])
    np.testing.assert_allclose(table[TR("train.chart.d_loss")], columns["d_loss"])
    np.testing.assert_allclose(table[TR("train.chart.g_loss")], columns["g_loss"])


def test_plotly_heatmap_rows_become_columns_with_the_colour_bar_title():
    columns = _columns()
    by_t = charts.diffusion_charts(TR, columns, 1000)[1]
    table = plotly_table([by_t])
    assert len(table.columns) == 1 + 4
    assert all(TR("train_diffusion.chart_by_t_colour") in name for name in table.columns[1:])
    np.testing.assert_allclose(table.iloc[:, 1], np.log10(columns["loss_by_t_0"]))  # what the colours show


def test_plotly_points_are_listed_with_their_series():
    figure = go.Figure()
    figure.add_scatter(x=[0, 1], y=[2, 3], mode="markers", name="real")
    figure.add_scatter(x=[4], y=[5], mode="markers", name="fake")
    table = plotly_table([figure], series_header="series")
    assert table.values.tolist() == [["real", 0, 2], ["real", 1, 3], ["fake", 4, 5]]


def test_a_vega_lite_line_chart_per_category_becomes_wide():
    data = pd.DataFrame({"t": [0, 1, 0, 1], "norm": [1.0, 2.0, 3.0, 4.0], "path": ["lerp", "lerp", "slerp", "slerp"]})
    chart = alt.Chart(data).mark_line().encode(x=alt.X("t:Q", title="time"), y=alt.Y("norm:Q", title="‖z‖"),
                                               color=alt.Color("path:N", title=None))
    rule = alt.Chart(pd.DataFrame({"t": [0.5]})).mark_rule().encode(x="t:Q")
    table = altair_table(alt.layer(chart, rule))  # the marker layer has data of its own: left out
    assert table.values.tolist() == [[0, 1.0, 3.0], [1, 2.0, 4.0]]
    assert list(table.columns) == ["time", "lerp", "slerp"]
    assert chart_title(alt.layer(chart, rule)) == "‖z‖"


def test_vega_lite_points_keep_their_rows_under_the_axis_titles():
    spec = {"data": {"values": [{"steps": 10, "sampler": "DDIM", "q": 0.9, "extra": 1}]},
            "hconcat": [{"mark": "point", "encoding": {"x": {"field": "steps", "type": "quantitative", "title": "Steps"},
                                                       "y": {"field": "q", "type": "quantitative", "title": "Quality"},
                                                       "color": {"field": "sampler", "type": "nominal",
                                                                 "title": "Sampler"}}}]}
    table = vega_lite_table(spec)
    assert table.to_dict("records") == [{"Steps": 10, "Quality": 0.9, "Sampler": "DDIM"}]  # "extra": not drawn


def test_data_passed_beside_the_spec_is_used():
    spec = {"layer": [{"mark": "circle", "encoding": {"x": {"field": "x", "type": "quantitative", "title": "z1"},
                                                      "y": {"field": "y", "type": "quantitative", "title": "z2"}}}]}
    table = vega_lite_table(spec, pd.DataFrame({"x": [1.0], "y": [2.0]}))
    assert table.to_dict("records") == [{"z1": 1.0, "z2": 2.0}]


def test_long_tables_are_thinned_keeping_the_last_row():
    frame = pd.DataFrame({"step": np.arange(MAX_ROWS * 3 + 1)})
    thinned = thin(frame)
    assert len(thinned) <= MAX_ROWS + 1
    assert thinned["step"].iloc[0] == 0 and thinned["step"].iloc[-1] == MAX_ROWS * 3
