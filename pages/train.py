"""Train: a GAN or a VAE on MNIST, live. Set-up in the sidebar; controls, live view, slow motion, history and
export in the main area. The feature lives in ui/train/: run.py (what a run is and remembers), settings.py (the
sidebar), link.py (the URL), controls.py (the session's run and the buttons), live.py (the timed fragment),
view.py (what a redraw draws), history.py and export.py (the tabs); slow motion in ui/slowmo.py (GAN) and
ui/slowmo_diffusion.py (diffusion); math in aigc_core."""

import streamlit as st

from ui.i18n import t
from ui.router import through_app
from ui.slowmo import slow_motion_panel
from ui.slowmo_diffusion import diffusion_slow_motion_panel
from ui.train import controls, export, history, link, live
from ui.train import run as train_run
from ui.train import settings as train_settings

through_app()  # first: a deep link on a fresh server still runs inside app.py (ui/router.py)

st.title(t("train.title"))
st.caption(t("train.intro"))

controls.restore_after_reload()  # a reloaded tab gets its trained model back (ui/server/parking.py)
link.link_in()  # a newly opened share link sets the sidebar (preset + its changes)
current = controls.current_run()
settings = train_settings.sidebar_settings(current.setup() if current is not None else None)
link.link_out(settings)  # the set-up into the URL, and the link to copy
run, pending = controls.sync_run(settings)
controls.keep_for_reload(run)
if run is None:
    st.stop()

controls.divergence_panel(run)
if pending:
    controls.pending_panel(run)
controls.controls(run, pending=pending)
st.caption(controls.model_caption(run))

tab_live, tab_slow, tab_history, tab_export = st.tabs(
    [t("train.tab_live"), t("train.tab_slowmo"), t("train.tab_history"), t("train.tab_export")]
)
with tab_live:
    live.live_view(run)
with tab_slow:
    if run.family not in ("gan", "diffusion"):
        st.info(t("train.slowmo_gan_only"))
    elif run.running:
        st.info(t("train.slowmo_pause_first"))
    else:
        panel = slow_motion_panel if run.family == "gan" else diffusion_slow_motion_panel
        panel(run.trainer, "train", on_iteration=lambda stats: train_run.record_steps(run, [stats], "both"),
              on_diverged=lambda exc: train_run.note_divergence(run, exc))
with tab_history:
    history.history_panel(run)
with tab_export:
    export.export_panel(run)
