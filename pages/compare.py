"""Which generator? GAN, VAE and diffusion side by side on MNIST: pictures first, then what was measured, and a
conclusion computed from those numbers. A thin page over ui/compare/ (one module per tab); the measuring is in
aigc_core/compare.py."""

from __future__ import annotations

import streamlit as st

from ui.compare.side_by_side import side_by_side_tab
from ui.i18n import t
from ui.router import through_app

through_app()  # first: a deep link on a fresh server still runs inside app.py (ui/router.py)

st.title(t("compare.title"))
st.markdown(t("compare.intro"))

# Race tabs (ui/compare/race.py) are added here by the race helper: add their labels after the first one.
tabs = st.tabs([t("compare.tab_side_by_side")])
with tabs[0]:
    side_by_side_tab()
