"""The "Side by side" tab: samples from each family's shipped models, then a table of what was measured."""

from __future__ import annotations

import streamlit as st

from ui.i18n import t


def side_by_side_tab() -> None:
    st.info(t("compare.coming"))
