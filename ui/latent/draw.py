"""The Latent Explorer's "Draw me a 7" tab: the shipped conditional models (whatever model the page's selector
names), in three views — fresh samples of a digit from each family (Home's section, ui/home/draw.py), style vs
content with the CVAE (ui/latent/draw_style.py), and fidelity vs diversity measured (ui/latent/draw_fidelity.py).
Only the chosen view runs: the page's tabs all run on every rerun, and a sweep is not free.
"""

from __future__ import annotations

import streamlit as st

from ui.home.draw import draw_section
from ui.i18n import t
from ui.latent.draw_fidelity import fidelity_panel
from ui.latent.draw_style import style_panel

VIEWS = ("samples", "style", "fidelity")
PREFIX = "lat_draw"  # key prefix of the samples view (Home's is "home_draw")


def draw_tab() -> None:
    st.markdown(t("draw.latent_intro"))
    view = st.segmented_control(t("draw.view"), options=list(VIEWS), default="samples", required=True,
                                format_func=lambda v: t(f"draw.view_{v}"), key="lat_draw_view",
                                help=t("draw.view_help")) or "samples"
    if view == "samples":
        draw_section(PREFIX)
    elif view == "style":
        style_panel()
    else:
        fidelity_panel()
