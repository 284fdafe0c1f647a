"""The Train page's controller: the session's run in ``st.session_state[STATE]`` (built from the sidebar's
`Settings`, kept across a reload by ui/server/parking.py), and what the user's actions do to it: Start / Pause,
one D step, one G step (or one VAE step), Reset; the question asked before a trained model is replaced; the
divergence panel; the caption that names the model.
"""

from __future__ import annotations

import time
from typing import Any

import streamlit as st
import torch

from aigc_core.errors import AigcError, CheckpointError, ConfigError, TrainingDiverged
from aigc_core.factory import build_trainer
from aigc_core.mnist import to_tensor
from aigc_core.resume import trainer_from_checkpoint
from ui.i18n import t
from ui.resources import device, mnist, try_pretrained
from ui.server import limits, parking
from ui.text import plain
from ui.train import autosave
from ui.train.run import STATE, Settings, TrainRun, new_history, note_divergence, record_steps
from ui.train.settings import SAVED, set_widgets

LIMIT_MESSAGE = "train_limit_message"  # why Start was refused (a per-session cap), shown once above the controls
SLOWMO_STATE = "train_slowmo_stepper"  # the slow-motion walk (ui/slowmo.py); Start and Reset abandon it


# --- the session's run -------------------------------------------------------------------------------------------


def new_run(settings: Settings, trainer: Any, origin: str, origin_name: str = "") -> TrainRun:
    family = trainer.family
    history = new_history(family)
    run = TrainRun(settings=settings, trainer=trainer, origin=origin, origin_name=origin_name,
                  structure=settings.structure, history=history)
    run.widget_values = dict(st.session_state.get(SAVED, {}))
    if family == "vae":
        test = mnist("test")
        run.recon_input = to_tensor(test.images[:8], "unit")
        run.recon_labels = torch.from_numpy(test.labels[:8].astype("int64"))  # a conditional VAE encodes with them
    return run


def build_run(settings: Settings) -> TrainRun:
    """A new run for these settings: from scratch, or a deep copy of a pretrained model (never the cached one)."""
    limits.enforce(batch_size=settings.train_config.batch_size)  # the server's per-session caps (ui/server/limits.py)
    if settings.start == "pretrained":
        checkpoint, error = try_pretrained(settings.preset)
        if checkpoint is None:
            raise CheckpointError(error or settings.preset)
        limits.enforce(config=checkpoint.model.config)  # before the session's copy is made
        trainer = trainer_from_checkpoint(checkpoint, settings.train_config, device=device())
        return new_run(settings, trainer, "pretrained", settings.preset)
    limits.enforce(config=settings.model_config)  # counted on the meta device: nothing is built above the cap
    trainer = build_trainer(settings.model_config, settings.train_config, device=device())
    return new_run(settings, trainer, "scratch")


def current_run() -> TrainRun | None:
    return st.session_state.get(STATE)


def sync_run(settings: Settings) -> tuple[TrainRun | None, bool]:
    """Make the session's run follow the sidebar. Returns (run, pending): pending = the sidebar asks for a new
    model while a trained one exists, so the page must ask before replacing it."""
    run = current_run()
    released = limits.released_notice()  # this session's model was released while it sat idle
    if released:
        st.info(released, icon=":material/hourglass_empty:")
    try:
        if run is None or (settings.structure != run.structure and not run.trained):
            run = build_run(settings)
            st.session_state[STATE] = run
            return run, False
    except AigcError as exc:
        st.error(t("train.build_failed", message=plain(exc)))
        return run, False
    if settings.structure != run.structure:
        return run, True
    if settings.train_config != run.trainer.config:
        try:
            limits.enforce(batch_size=settings.train_config.batch_size)
            run.trainer.update_config(settings.train_config)
            run.settings = settings
            run.widget_values = dict(st.session_state.get(SAVED, {}))
            st.toast(t("train.applied_in_place"), icon=":material/tune:")
        except ConfigError as exc:
            st.error(plain(exc))
    return run, False


def restore_after_reload(*, on_train_page: bool = True) -> None:
    """At the top of the page: a reloaded tab gets its trained run back, paused, with the sidebar it was trained
    with; a second tab opened on the same link gets a run of its own (ui/server/parking.py). Says which happened.
    app.py calls it on the other pages too (the run's token stays in the URL there), with a link to Train."""
    outcome = parking.adopt(STATE, fallback=lambda token: autosave.restore(token, new_run))  # after a restart
    run = current_run()
    if outcome in ("restored", "autosaved") and run is not None:
        run.running = False  # the old tab's last slice may still be ending; Start continues from here
        set_widgets(run.widget_values)
        steps = f"{run.trainer.iteration:,}"
        key = "train.restored" if outcome == "restored" else "train.autosave_restored"
        if on_train_page:
            st.success(t(key, steps=steps), icon=":material/restore:")
        else:
            st.success(t(f"{key}_elsewhere", steps=steps), icon=":material/restore:")
            st.page_link("pages/train.py", label=t("nav.train"), icon=":material/model_training:")  # i18n: ok (a path)
    elif outcome == "other_tab":
        st.info(t("train.other_tab"), icon=":material/tab:")
    elif outcome == "gone":
        st.info(t("train.run_gone", minutes=f"{limits.current().idle_minutes:g}"), icon=":material/history:")


def keep_for_reload(run: TrainRun | None, *, full_run: bool = True) -> None:
    """Park the session's run so that a page reload finds it again: once it has trained or is about to (Start
    reruns the whole page before the first slice, which is when the URL gets the tab's token)."""
    parking.keep(run, worth_keeping=run is not None and (run.trained or run.running), full_run=full_run)


# --- buttons and panels -----------------------------------------------------------------------------------------


def _confirm_rebuild() -> None:
    run = current_run()
    if run is not None:
        run.running = False
    st.session_state.pop(STATE, None)  # the next run builds from the sidebar


def _keep_current() -> None:
    run = current_run()
    if run is not None:
        set_widgets(run.widget_values)


def pending_panel(run: TrainRun) -> None:
    with st.container(border=True):
        st.warning(t("train.pending", steps=run.trainer.iteration), icon=":material/warning:")
        left, right = st.columns(2)
        left.button(t("train.pending_build"), on_click=_confirm_rebuild, type="primary", key="train_btn_rebuild",
                    icon=":material/add_circle:", width="stretch")
        right.button(t("train.pending_keep"), on_click=_keep_current, key="train_btn_keep",
                     icon=":material/undo:", width="stretch")



def _single(run: TrainRun, what: str) -> None:
    start = time.perf_counter()
    try:
        if what == "d":
            stats = run.trainer.step_d()
        elif what == "g":
            stats = run.trainer.step_g()
        else:
            stats = run.trainer.step()
        record_steps(run, [stats], what)
    except TrainingDiverged as exc:
        note_divergence(run, exc)
    run.train_seconds += time.perf_counter() - start


def _on_start_pause() -> None:
    run = current_run()
    if run is None:
        return
    if not run.running:
        refused = limits.request_training()  # None, or why not: the server's cap on concurrent trainings
        if refused:
            st.session_state[LIMIT_MESSAGE] = refused
            return
    run.running = not run.running
    if not run.running:
        limits.stop_training()
        autosave.save(run)  # a paused run is on disk as it stands
    if run.running:
        run.diverged = None
        run._rate_mark = None
        st.session_state.pop(SLOWMO_STATE, None)  # an unfinished slow-motion walk is abandoned


def _on_step(what: str) -> None:
    run = current_run()
    if run is not None:
        run.running = False
        run.diverged = None
        _single(run, what)


def _on_reset() -> None:
    run = current_run()
    if run is not None:
        run.running = False
    st.session_state.pop(STATE, None)
    st.session_state.pop(SLOWMO_STATE, None)


def controls(run: TrainRun, *, pending: bool) -> None:
    refused = st.session_state.pop(LIMIT_MESSAGE, None)
    if refused:
        st.warning(refused, icon=":material/group:")
    is_gan = run.family == "gan"
    columns = st.columns(4 if is_gan else 3)
    if run.running:
        columns[0].button(t("train.pause"), on_click=_on_start_pause, key="train_btn_start", type="primary",
                          icon=":material/pause:", width="stretch", help=t("train.pause_help"))
    else:
        columns[0].button(t("train.start"), on_click=_on_start_pause, key="train_btn_start", type="primary",
                          icon=":material/play_arrow:", width="stretch", disabled=pending, help=t("train.start_button_help"))
    if is_gan:
        columns[1].button(t("train.step_d"), on_click=_on_step, args=("d",), key="train_btn_step_d",
                          help=t("train.step_d_help"), icon=":material/looks_one:", width="stretch", disabled=pending)
        columns[2].button(t("train.step_g"), on_click=_on_step, args=("g",), key="train_btn_step_g",
                          help=t("train.step_g_help"), icon=":material/looks_two:", width="stretch", disabled=pending)
    else:
        columns[1].button(t("train.step_once"), on_click=_on_step, args=("both",), key="train_btn_step",
                          icon=":material/skip_next:", width="stretch", disabled=pending, help=t("train.step_once_help"))
    columns[-1].button(t("train.reset"), on_click=_on_reset, key="train_btn_reset", help=t("train.reset_help"),
                       icon=":material/restart_alt:", width="stretch")


def divergence_panel(run: TrainRun) -> None:
    if not run.diverged:
        return
    suffix = "" if run.diverged_kind == "non_finite" else f"_{run.diverged_kind}"  # explosion, saturation
    with st.container(border=True):
        st.error(t(f"train.diverged_title{suffix}"), icon=":material/error:")
        st.markdown(t(f"train.diverged_what{suffix}"))
        st.markdown(t(f"train.diverged_try{suffix}"))
        st.caption(t("train.diverged_detail", message=plain(run.diverged)))


def model_caption(run: TrainRun) -> str:
    params = sum(p.numel() for p in run.trainer.model.parameters())
    origin = {"scratch": t("train.origin_scratch"), "pretrained": t("train.origin_pretrained", name=run.origin_name),
              "upload": t("train.origin_upload", name=plain(run.origin_name))}[run.origin]
    return t("train.model_caption", preset=t(f"train.preset_name.{run.settings.preset}"), params=f"{params:,}",
             origin=origin)
