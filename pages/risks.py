"""Responsible AIGC, hands-on: measure what the source article only discusses — copying of training data,
membership inference, differential privacy, and telling real from fake. A thin page over ui/risks/ (one module per
tab); all math in aigc_core (neighbours, membership, privacy, detector)."""

from __future__ import annotations

import streamlit as st

from ui.i18n import t
from ui.risks.copying import copying_tab
from ui.risks.game import game_tab
from ui.risks.membership import membership_tab
from ui.risks.privacy import privacy_tab
from ui.router import through_app

through_app()  # first: a deep link on a fresh server still runs inside app.py (ui/router.py)

st.title(t("risks.title"))
st.markdown(t("risks.intro"))

copy, membership, privacy, game = st.tabs(
    [t("risks.tab_copy"), t("risks.tab_membership"), t("risks.tab_privacy"), t("risks.tab_game")]
)
with copy:
    copying_tab()
with membership:
    membership_tab()
with privacy:
    privacy_tab()
with game:
    game_tab()
