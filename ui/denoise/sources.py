"""Which denoiser the Denoising explorer opens, and the session's cache of what it computed from it.

In the order the page offers them: the shipped ``pretrained/ddpm`` (through `ui.resources`, shared by every
session and never modified); a checkpoint folder named by ``AIGC_DDPM_DIR`` (for development and the browser tests,
before the shipped one exists; loaded once per server, read-only too); the diffusion model this browser session is
training on the Train page (``ui.train.controls.current_run()``). Only 28×28 image denoisers (`UNet`) qualify.

Trajectories and sampler runs cost whole sampler runs, so each is kept per (model, settings) in this session's
``st.session_state`` (a few entries, newest last); the key includes the session model's training step, so a model
that trained on is never shown with stale pictures.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import streamlit as st

from aigc_core import diffusion as dm
from aigc_core.checkpoints import Checkpoint, load_checkpoint
from aigc_core.diffusion_trainer import DiffusionTrainConfig
from aigc_core.errors import AigcError
from aigc_core.models.classifier import Classifier
from aigc_core.models.unet import UNet
from ui.resources import available_pretrained, device, try_pretrained
from ui.text import plain
from ui.train.controls import current_run

PRETRAINED_NAME = "ddpm"
PRETRAINED = f"pretrained:{PRETRAINED_NAME}"
FOLDER = "folder"
SESSION = "session"
FOLDER_ENV = "AIGC_DDPM_DIR"  # a diffusion checkpoint folder to offer as well (development, tests)
CACHE_STATE = "_dn_cache"
CACHE_ENTRIES = 6  # per kind of result; a 200-step trajectory is ~2 MB
DEFAULT_GUIDANCE = DiffusionTrainConfig().guidance

R = TypeVar("R")


@dataclass(frozen=True, eq=False)
class DenoiseSource:
    id: str  # PRETRAINED, FOLDER or SESSION
    name: str  # what the model selector shows after its kind: checkpoint name, folder or preset
    model: UNet
    step: int | None = None  # the session model's training step (None for a checkpoint)
    guidance: float = DEFAULT_GUIDANCE  # the w its samples were drawn with (the page's starting value)

    @property
    def key(self) -> str:
        """What cached results are keyed by: the model and, for the session's, the object and its step."""
        return self.id if self.step is None else f"{self.id}:{id(self.model)}@{self.step}"

    @property
    def schedule(self) -> dm.NoiseSchedule:
        return dm.schedule_for(self.model.config)

    @property
    def T(self) -> int:
        return int(self.model.config.timesteps)

    @property
    def conditional(self) -> bool:
        return self.model.config.num_classes > 0


def _session_run():
    """The Train page's run in this session, if one was built there."""
    try:
        return current_run()
    except Exception:  # a half-built run must not break this page
        return None


def _session_denoiser(run) -> UNet | None:
    trainer = getattr(run, "trainer", None)
    if getattr(trainer, "family", None) != "diffusion" or not isinstance(trainer.model, UNet):
        return None  # a GAN, a VAE or a 2-D toy denoiser
    return trainer.sampling_model()  # the EMA weights the Train page samples from


def _folder() -> str | None:
    folder = os.environ.get(FOLDER_ENV, "").strip()
    return folder if folder and (Path(folder) / "config.json").is_file() else None


@st.cache_resource(show_spinner=False, max_entries=2)
def _folder_checkpoint(folder: str) -> Checkpoint:
    """A checkpoint folder loaded once per server (safetensors only), like the shipped ones. Read-only."""
    checkpoint = load_checkpoint(folder)
    checkpoint.model.to(device()).eval().requires_grad_(False)
    return checkpoint


def source_ids() -> list[str]:
    ids = [PRETRAINED] if PRETRAINED_NAME in available_pretrained() else []
    if _folder() is not None:
        ids.append(FOLDER)
    run = _session_run()
    if run is not None and _session_denoiser(run) is not None:
        ids.append(SESSION)
    return ids


def _guidance(checkpoint: Checkpoint) -> float:
    value = (checkpoint.train_config or {}).get("guidance", DEFAULT_GUIDANCE)
    try:
        dm.check_guidance(value)
    except AigcError:
        return DEFAULT_GUIDANCE
    return float(value)


def open_source(source_id: str) -> tuple[DenoiseSource | None, str | None]:
    """(source, None) or (None, a readable reason)."""
    if source_id == SESSION:
        run = _session_run()
        model = None if run is None else _session_denoiser(run)
        if model is None:
            return None, "no diffusion model on the Train page"
        return DenoiseSource(SESSION, run.settings.preset, model, run.trainer.iteration,
                             float(run.trainer.config.guidance)), None
    if source_id == FOLDER:
        folder = _folder()
        if folder is None:
            return None, f"{FOLDER_ENV} names no checkpoint folder"
        try:
            checkpoint = _folder_checkpoint(folder)
        except AigcError as exc:
            return None, plain(exc)
        name = Path(folder).name
    else:
        checkpoint, error = try_pretrained(PRETRAINED_NAME)
        if checkpoint is None:
            return None, plain(error)
        name = PRETRAINED_NAME
    if not isinstance(checkpoint.model, UNet):
        return None, f"{plain(name)} is not a diffusion model for 28×28 digits"
    return DenoiseSource(source_id, name, checkpoint.model, None, _guidance(checkpoint)), None


def classifier() -> Classifier | None:
    """The shipped MNIST classifier that scores samples (None if this copy has none)."""
    checkpoint, _ = try_pretrained("classifier")
    model = None if checkpoint is None else checkpoint.model
    return model if isinstance(model, Classifier) else None


def cached(kind: str, key: tuple, compute: Callable[[], R]) -> R:
    """compute() once per (kind, key) in this session; the oldest of a kind goes after CACHE_ENTRIES."""
    store: dict = st.session_state.setdefault(CACHE_STATE, {}).setdefault(kind, {})
    if key in store:
        store[key] = store.pop(key)  # newest last
        return store[key]
    value = compute()
    store[key] = value
    while len(store) > CACHE_ENTRIES:
        store.pop(next(iter(store)))
    return value


def cached_value(kind: str, key: tuple) -> object | None:
    """A cached result if there is one (without computing it)."""
    return st.session_state.get(CACHE_STATE, {}).get(kind, {}).get(key)
