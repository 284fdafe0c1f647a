"""2-D GAN Playground: train a small GAN on points in the plane and watch D's verdict, G's manifold and the
gradients that move G's samples (after GAN Lab, Kahng et al., 2018), one run or two side by side; or, in diffusion
mode, a denoiser: its score field at a chosen noise level, particles flowing from noise to the data, the forward
process blurring the data.

A thin page over ui/playground/: settings.py (the sidebar), link.py (the URL), data.py (your own points), run.py
(the session's run), controls.py (the toolbar), live.py (the timed fragment and slow motion), view.py (what a
redraw draws), animation.py (the run as a GIF); all math in `aigc_core`.
"""

import streamlit as st

from ui.i18n import t
from ui.playground import controls, link, live
from ui.playground.animation import animation_panel
from ui.playground import run as state
from ui.playground import settings as playground_settings
from ui.playground.data import custom_points_editor
from ui.router import through_app
from ui.text import plain

through_app()  # first: a deep link on a fresh server still runs inside app.py (ui/router.py)

playground_settings.init_defaults()
link.link_in()  # a newly opened share link sets the sidebar
diffusion = st.session_state["pg_family"] == "diffusion"
st.title(t("playground.title_diffusion") if diffusion else t("playground.title"))
st.caption(t("playground.intro_diffusion") if diffusion else t("playground.intro"))

playground_settings.family_control()
playground_settings.sidebar_settings()
link.link_out()  # the set-up into the URL, and the link to copy
if st.session_state["pg_data"] == "custom":
    custom_points_editor()
settings = playground_settings.current_settings()

run, pending, error = state.sync(settings)
controls.toolbar(ready=run is not None, compare=run is not None and run.compare, diffusion=diffusion)

if error:
    st.error(t("playground.settings_error", message=plain(error)), icon=":material/error:")
message = st.session_state.pop(state.ERROR_KEY, None)
if message:
    st.error(message, icon=":material/warning:")
if pending:
    names = ", ".join(t(f"playground.field.{name}") for name in pending)
    st.warning(t("playground.pending_reset", names=names), icon=":material/restart_alt:")
if run is not None and run.pretrained_steps:
    st.caption(t("playground.pretrained_loaded", steps=f"{run.pretrained_steps:,}"))

if run is None:
    if settings[0].data == "custom":
        st.info(t("playground.need_points"), icon=":material/info:")
elif st.session_state.get("pg_slowmo") and not run.compare and not run.diffusion:
    live.slow_motion(run)
else:
    live.abandon_slow_motion(run)
    live.live_fragment(bool(st.session_state.get(state.PLAYING_KEY)))
if run is not None:
    animation_panel(run)  # the run so far as an animated GIF (ui/playground/animation.py)

with st.expander(t("playground.how_heading")):
    st.markdown(t("playground.how_text_diffusion") if diffusion else t("playground.how_text"))
