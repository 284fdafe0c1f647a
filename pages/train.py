"""Train: a GAN or a VAE on MNIST, live. Set-up in the sidebar; controls, live view, slow motion, history and
export in the main area. The logic lives in ui/live.py (the controller), ui/live_record.py (the run's step
records), ui/live_view.py (what a redraw shows), ui/train_settings.py (the sidebar), ui/train_export.py (save and
load) and ui/slowmo.py; the math in aigc_core."""

import streamlit as st

from ui import live, live_record, train_export, train_settings
from ui.i18n import t
from ui.page_setups import train_link_in, train_link_out
from ui.slowmo import slow_motion_panel

st.title(t("train.title"))
st.caption(t("train.intro"))

live.restore_after_reload()  # a reloaded tab gets its trained model back (ui/parking.py)
train_link_in()  # a newly opened share link sets the sidebar (preset + its changes)
settings = train_settings.sidebar_settings(live.current_run())
train_link_out(settings)  # the set-up into the URL, and the link to copy
run, pending = live.sync_run(settings)
live.keep_for_reload(run)
if run is None:
    st.stop()

live.divergence_panel(run)
if pending:
    live.pending_panel(run)
live.controls(run, pending=pending)
st.caption(live.model_caption(run))

tab_live, tab_slow, tab_history, tab_export = st.tabs(
    [t("train.tab_live"), t("train.tab_slowmo"), t("train.tab_history"), t("train.tab_export")]
)
with tab_live:
    live.live_view(run)
with tab_slow:
    if run.family != "gan":
        st.info(t("train.slowmo_gan_only"))
    elif run.running:
        st.info(t("train.slowmo_pause_first"))
    else:
        slow_motion_panel(run.trainer, "train",
                          on_iteration=lambda stats: live_record.record_steps(run, [stats], "both"),
                          on_diverged=lambda exc: live_record.note_divergence(run, exc))
with tab_history:
    live.history_panel(run)
with tab_export:
    train_export.export_panel(run)
