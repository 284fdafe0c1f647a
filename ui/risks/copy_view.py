"""What the "Does it copy?" tab draws: a sample beside its nearest training digits, and the histogram of
nearest-training distances of the samples against the fresh (test) digits' yardstick. Pure: no Streamlit import;
labels come in as arguments (the tab translates them)."""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd
import torch

from aigc_core import images
from aigc_core.neighbours import CopyReport

BINS = 30
SAMPLE_COLOUR, REFERENCE_COLOUR = "#d55e00", "#0072b2"  # vermillion and blue (Okabe–Ito): safe for colour blindness


def neighbour_strip(sample: torch.Tensor, groups: list[torch.Tensor], scale: int = 2) -> np.ndarray:
    """One picture: the sample, then each group of neighbours (k, 1, 28, 28) after a white gap tile. uint8."""
    gap = torch.ones(1, 1, 28, 28)
    tiles = [sample.reshape(1, 1, 28, 28)]
    for group in groups:
        tiles += [gap, group.reshape(-1, 1, 28, 28)]
    strip = torch.cat(tiles).clamp(0, 1)
    return images.upscale(images.make_grid(strip, nrow=len(strip), padding=1), scale)


def histogram_frame(report: CopyReport, sample_label: str, reference_label: str, bins: int = BINS) -> pd.DataFrame:
    """Both distributions on shared bins, each as a share of its own set (64 samples against 2,000 fresh digits)."""
    values = np.concatenate([report.sample_distances, report.reference_distances])
    edges = np.histogram_bin_edges(values, bins=bins)
    rows = []
    for label, data in ((sample_label, report.sample_distances), (reference_label, report.reference_distances)):
        counts, _ = np.histogram(data, bins=edges)
        for left, right, count in zip(edges[:-1], edges[1:], counts):
            rows.append({"set": label, "from": float(left), "to": float(right), "share": count / max(len(data), 1)})
    return pd.DataFrame(rows)


def distance_histogram(report: CopyReport, *, sample_label: str, reference_label: str, x_title: str,
                       y_title: str, threshold_label: str) -> alt.LayerChart:
    """Overlaid histograms (shares) with a dashed rule at the copy threshold (the fresh digits' low quantile)."""
    frame = histogram_frame(report, sample_label, reference_label)
    colour = alt.Color("set:N", title=None, scale=alt.Scale(domain=[sample_label, reference_label],
                                                             range=[SAMPLE_COLOUR, REFERENCE_COLOUR]),
                       legend=alt.Legend(orient="top", labelLimit=400))
    bars = alt.Chart(frame).mark_bar(opacity=0.55, binSpacing=0).encode(
        x=alt.X("from:Q", title=x_title), x2="to:Q", y=alt.Y("share:Q", title=y_title, stack=None,
                                                               axis=alt.Axis(format="%")), y2=alt.datum(0),
        color=colour, tooltip=["set:N", alt.Tooltip("from:Q", format=".2f"), alt.Tooltip("to:Q", format=".2f"),
                               alt.Tooltip("share:Q", format=".1%")])
    rule = alt.Chart(pd.DataFrame({"x": [report.threshold], "label": [threshold_label]})).mark_rule(
        strokeDash=[4, 4], color="#444444").encode(x="x:Q", tooltip=["label:N", alt.Tooltip("x:Q", format=".2f")])
    return alt.layer(bars, rule).properties(height=220)
