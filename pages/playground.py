"""Placeholder for the playground page, created by the app shell. Replace this file with the real page."""

import streamlit as st

from ui.i18n import t

st.title(t("nav.playground"))
st.info(t("common.coming_soon"))
