"""Which generator? GAN, VAE and diffusion side by side on MNIST: pictures first, then what was measured, and a
conclusion computed from those numbers. A thin page over ui/compare/ (one module per tab); the measuring is in
aigc_core/compare.py."""

from __future__ import annotations

import streamlit as st

from ui.compare.race import mnist_race_tab
from ui.compare.race_toy import toy_race_tab
from ui.compare.side_by_side import side_by_side_tab
from ui.i18n import t
from ui.router import through_app

through_app()  # first: a deep link on a fresh server still runs inside app.py (ui/router.py)

st.title(t("compare.title"))
st.markdown(t("compare.intro"))

# The race tabs (ui/compare/race.py, race_toy.py) follow the first one.
tabs = st.tabs([t("compare.tab_side_by_side"), t("race.tab_mnist"), t("race.tab_toy")])
with tabs[0]:
    side_by_side_tab()
with tabs[1]:
    mnist_race_tab()
with tabs[2]:
    toy_race_tab()
