"""Denoising explorer: watch a diffusion model turn noise into a digit, step by step, and see what each step knows."""

from __future__ import annotations

import streamlit as st

from ui.denoise.panels import (
    choice_row,
    forward_panel,
    latent_panel,
    reverse_panel,
    steps_panel,
)
from ui.denoise.sources import FOLDER, FOLDER_ENV, SESSION, open_source, source_ids
from ui.i18n import t
from ui.router import through_app
from ui.text import plain

through_app()  # first: a deep link on a fresh server still runs inside app.py (ui/router.py)

st.title(t("denoise.title"))
st.markdown(t("denoise.intro"))

ids = source_ids()
if not ids:
    st.info(t("denoise.no_model"), icon=":material/info:")
    st.page_link("pages/train.py", label=t("denoise.no_model_link"), icon=":material/model_training:")  # i18n: ok (a path)
    st.stop()


def _label(source_id: str) -> str:
    if source_id == SESSION:
        return t("denoise.model_session")
    if source_id == FOLDER:
        return t("denoise.model_folder", env=FOLDER_ENV)
    return t("denoise.model_pretrained")


if st.session_state.get("dn_model") not in ids:
    st.session_state["dn_model"] = ids[0]
choice_id = st.selectbox(t("denoise.model"), ids, format_func=_label, key="dn_model", help=t("denoise.model_help"))
source, error = open_source(choice_id)
if source is None:
    st.error(t("denoise.model_error", message=error or choice_id))
    st.stop()

about = t("denoise.about", name=plain(source.name), T=source.T, schedule=source.schedule.kind,
          prediction=source.model.config.prediction)
if source.step is not None:
    about += " " + t("denoise.about_session", step=source.step)
st.caption(about)

choice = choice_row(source)
VIEWS = {"reverse": reverse_panel, "forward": forward_panel, "steps": steps_panel, "latent": latent_panel}
# One panel at a time: each costs sampler runs, and tabs would compute all four on every page load.
view = st.segmented_control(t("denoise.view"), list(VIEWS), default="reverse", required=True, key="dn_view",
                            format_func=lambda v: t(f"denoise.view_{v}"), help=t("denoise.view_help")) or "reverse"
VIEWS[view](source, choice)
