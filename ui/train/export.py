"""The Train page's "Save and load" tab: download the model (a checkpoint zip), the sample grid and the metrics;
upload a checkpoint to go on training it. Loading goes through aigc_core.checkpoints (safetensors, no pickle)."""

from __future__ import annotations

from dataclasses import asdict, replace
from typing import Any

import streamlit as st

from aigc_core import images
from aigc_core.checkpoints import checkpoint_zip, load_checkpoint_zip
from aigc_core.errors import AigcError, CheckpointError
from aigc_core.presets import get_preset, live_train_config
from aigc_core.resume import train_config_from_dict, trainer_from_checkpoint
from ui.i18n import t
from ui.resources import device
from ui.server import limits
from ui.text import plain
from ui.train.controls import current_run, new_run
from ui.train.run import STATE, Settings, TrainRun
from ui.train.settings import (
    BATCH_SIZES, FAMILIES, PRESETS, SAMPLE_STEP_CHOICES, preset_widget_values, set_widgets, setting_key, train_widget_values,
)
from ui.train.view import sample_grid


def checkpoint_bytes(run: TrainRun) -> bytes:
    """The session's model as a checkpoint zip (config.json + model.safetensors), resumable by upload."""
    trainer = run.trainer
    sampling = trainer.ema_generator if trainer.family == "gan" else None
    provenance = {"source": "AIGC Lab Train page", "preset": run.settings.preset, "steps": trainer.iteration,
                  "origin": run.origin if not run.origin_name else f"{run.origin}: {run.origin_name}"}
    if trainer.family == "gan":
        provenance["d_updates"] = trainer.d_updates
    # A denoiser is saved as its EMA weights, the ones that draw its samples (as the CLI saves it).
    saved = trainer.sampling_model() if trainer.family == "diffusion" else trainer.model
    return checkpoint_zip(saved, sampling_generator=sampling, train_config=asdict(trainer.config),
                          provenance=provenance)


def grid_png(run: TrainRun) -> bytes:
    return images.to_png_bytes(images.upscale(sample_grid(run.trainer), 2))


def export_panel(run: TrainRun) -> None:
    st.markdown(t("train.export_intro"))
    name = f"aigc_{run.settings.preset}_step{run.trainer.iteration}"
    columns = st.columns(3)
    columns[0].download_button(t("train.download_model"), data=lambda: checkpoint_bytes(run), file_name=f"{name}.zip",
                               mime="application/zip", key="train_dl_model", icon=":material/download:",
                               on_click="ignore", width="stretch", help=t("train.download_model_help"))
    columns[1].download_button(t("train.download_png"), data=lambda: grid_png(run), file_name=f"{name}.png",
                               mime="image/png", key="train_dl_png", icon=":material/image:", on_click="ignore",
                               width="stretch", help=t("train.download_png_help"))
    columns[2].download_button(t("train.download_csv"), data=run.history.to_csv, file_name=f"{name}_metrics.csv",
                               mime="text/csv", key="train_dl_csv", icon=":material/table:", on_click="ignore",
                               width="stretch", disabled=not len(run.history), help=t("train.download_csv_help"))
    st.divider()
    st.markdown(t("train.upload_intro"))
    st.file_uploader(t("train.upload"), type=["zip"], key="train_upload", on_change=_on_upload,
                     help=t("train.upload_help"))
    message = st.session_state.get("train_upload_message")
    if message:
        kind, text = message
        (st.success if kind == "ok" else st.error)(text)


def resume_from_zip(data: bytes, file_name: str) -> tuple[TrainRun, str | None]:
    """A run continuing an uploaded checkpoint, and a notice when one of its settings could not be kept; sets the
    sidebar to match it. Raises AigcError with a message (a model above the server's caps included: its size is
    counted from config.json before anything is built)."""
    checkpoint = load_checkpoint_zip(data, max_params=limits.current().max_params)
    family = checkpoint.family
    if family not in FAMILIES:
        raise CheckpointError(t("train.upload_wrong_family", family=family))
    if checkpoint.architecture in ("toy_gan", "toy_denoiser"):
        raise CheckpointError(t("train.upload_toy"))
    preset_name = next((p for p in PRESETS[family] if get_preset(p).model_config == checkpoint.model.config),
                       PRESETS[family][0])
    preset = get_preset(preset_name)
    train_config = preset.train_config
    if checkpoint.train_config:
        try:
            train_config = train_config_from_dict(family, checkpoint.train_config)
        except AigcError:
            train_config = preset.train_config  # weights are what matter; fall back to the preset's recipe
    train_config = live_train_config(train_config)  # a long recipe's EMA would freeze the live grid
    limits.enforce(batch_size=train_config.batch_size)
    train_config, notice = _fit_to_widgets(train_config)
    trainer = trainer_from_checkpoint(checkpoint, train_config, device=device())
    values = {setting_key("family"): family, **preset_widget_values(family, preset_name),
              **train_widget_values(family, train_config)}
    if family != "diffusion":
        values[setting_key(f"{family}_z")] = int(checkpoint.model.config.z_dim)
    set_widgets(values)
    settings = Settings(family, preset_name, "scratch", checkpoint.model.config, train_config)
    run = new_run(settings, trainer, "upload", file_name)
    # What the sidebar will read back for these widget values: so it does not ask to rebuild.
    model_config = preset.model_config
    if family != "diffusion" and model_config.z_dim != checkpoint.model.config.z_dim:
        model_config = replace(model_config, z_dim=int(checkpoint.model.config.z_dim))
    run.structure = Settings(family, preset_name, "scratch", model_config, train_config).structure
    run.images_seen = trainer.iteration * train_config.batch_size
    return run, notice


def _fit_to_widgets(train_config: Any) -> tuple[Any, str | None]:
    """A checkpoint's settings that the sidebar cannot show (a batch of 100, say) become the nearest it can, and
    the returned notice says so: never a silent change."""
    notices = []
    if train_config.batch_size not in BATCH_SIZES:
        used = min(BATCH_SIZES, key=lambda b: (abs(b - train_config.batch_size), b))
        notices.append(t("train.upload_batch_changed", batch=train_config.batch_size, used=used))
        train_config = replace(train_config, batch_size=used)
    steps = getattr(train_config, "sample_steps", None)
    if steps is not None and steps not in SAMPLE_STEP_CHOICES:
        used = min(SAMPLE_STEP_CHOICES, key=lambda s: (abs(s - steps), s))
        notices.append(t("train_diffusion.upload_steps_changed", steps=steps, used=used))
        train_config = replace(train_config, sample_steps=used)
    return train_config, " ".join(notices) or None


def _on_upload() -> None:
    uploaded = st.session_state.get("train_upload")
    if uploaded is None:
        return
    try:
        run, notice = resume_from_zip(uploaded.getvalue(), uploaded.name)
    except AigcError as exc:
        st.session_state["train_upload_message"] = ("error", t("train.upload_failed", message=plain(exc)))
        return
    old = current_run()
    if old is not None:
        old.running = False
    st.session_state[STATE] = run
    st.session_state.pop("train_slowmo_stepper", None)
    text = t("train.upload_ok", name=plain(uploaded.name), steps=run.trainer.iteration)
    st.session_state["train_upload_message"] = ("ok", text + (f" {notice}" if notice else ""))
