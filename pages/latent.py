"""Placeholder for the latent page, created by the app shell. Replace this file with the real page."""

import streamlit as st

from ui.i18n import t

st.title(t("nav.latent"))
st.info(t("common.coming_soon"))
