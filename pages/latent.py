"""Latent Explorer: walk through the code space z of a trained GAN or VAE and watch what the decoder draws."""

from __future__ import annotations

import streamlit as st

from ui.i18n import t
from ui.latent.draw import draw_tab
from ui.latent.panels import explore_panel, interpolation_panel, traversal_panel
from ui.latent.sources import SESSION, open_source, session_model_is_conditional, source_ids
from ui.latent.upload import digit_panel
from ui.router import through_app

through_app()  # first: a deep link on a fresh server still runs inside app.py (ui/router.py)

st.title(t("latent.title"))
st.markdown(t("latent.intro"))

ids = source_ids()
if not ids:
    st.info(t("latent.no_models"))
    st.stop()


def _label(source_id: str) -> str:
    if source_id == SESSION:
        return t("latent.model_session")
    name = source_id.split(":", 1)[-1]
    return t("latent.model_pretrained", name=name, kind=t(f"latent.kind_{'vae' if name.startswith('vae') else 'gan'}"))


default = "pretrained:vae_mlp_z2" if "pretrained:vae_mlp_z2" in ids else ids[0]
if st.session_state.get("lat_model") not in ids:
    st.session_state["lat_model"] = default
choice = st.selectbox(t("latent.model"), options=ids, format_func=_label, key="lat_model", help=t("latent.model_help"))
if session_model_is_conditional():
    st.caption(t("latent.session_conditional"))
source, error = open_source(choice)
if source is None:
    st.error(t("latent.model_error", message=error or choice))
    st.stop()

about = t("latent.about_vae" if source.is_vae else "latent.about_gan", z=source.z_dim)
if not source.pretrained:
    about += " " + t("latent.about_session", step=source.step or 0)
st.caption(about)

tabs = st.tabs([t("latent.tab_explore"), t("latent.tab_interpolate"), t("latent.tab_traverse"), t("latent.tab_digit"),
               t("draw.tab")])
with tabs[0]:
    explore_panel(source)
with tabs[1]:
    interpolation_panel(source)
with tabs[2]:
    traversal_panel(source)
with tabs[3]:
    digit_panel(source)
with tabs[4]:
    draw_tab()  # the shipped conditional models (ui/latent/draw.py), whatever model is chosen above
