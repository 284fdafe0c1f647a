"""Shared, cached, read-only resources for every page: the device, pretrained checkpoints, MNIST.

`st.cache_resource` objects are shared by all browser sessions, so they must never be mutated: pages
sample from them under inference mode; anything a session trains lives in its own session state.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st
import torch

from aigc_core.checkpoints import Checkpoint, load_checkpoint
from aigc_core.device import device_parts, pick_device
from aigc_core.errors import CheckpointError
from aigc_core.evaluation import PRETRAINED_DIR
from aigc_core.mnist import Digits, load_mnist
from ui.i18n import t

# Shipped pretrained folders, in the order pages list them.
PRETRAINED_NAMES = ("gan_mlp", "dcgan", "gan_seed_mlp", "vae_mlp_z20", "vae_mlp_z2", "classifier", "ddpm")
# Shipped class-conditional GAN and VAE ("draw me a 7"): kept apart from PRETRAINED_NAMES, whose pages encode and
# attack models without labels; the Train page, Home, the Latent Explorer's "Draw me a 7" and "Which generator?" use them.
CONDITIONAL_NAMES = ("cgan", "cvae")
# Shipped checkpoints that are not GANs or VAEs (pages that list generators by name leave these out).
NOT_GAN_OR_VAE = ("classifier", "ddpm")


@st.cache_resource(show_spinner=False)
def device() -> torch.device:
    return pick_device()


def device_text() -> str:
    """The compute device in the page's language, e.g. "CPU (2 threads)" or "CUDA GPU (NVIDIA H200)"."""
    kind, detail = device_parts(device())
    return t(f"common.device_{kind}", name=detail, threads=detail)


def available_pretrained() -> list[str]:
    """Names of shipped checkpoints that exist on disk (all of them in a normal checkout)."""
    return [name for name in PRETRAINED_NAMES if (PRETRAINED_DIR / name / "config.json").is_file()]


@st.cache_resource(show_spinner="Loading pretrained weights…")
def pretrained(name: str) -> Checkpoint:
    """A shipped checkpoint, loaded once per server (safetensors only) and moved to the device. Read-only."""
    checkpoint = load_checkpoint(Path(PRETRAINED_DIR) / name)
    checkpoint.model.to(device()).eval().requires_grad_(False)
    return checkpoint


def try_pretrained(name: str) -> tuple[Checkpoint | None, str | None]:
    """(checkpoint, None) or (None, readable error) so a page can explain instead of crashing."""
    try:
        return pretrained(name), None
    except CheckpointError as exc:
        return None, str(exc)


@st.cache_resource(show_spinner=False)
def mnist(split: str = "test") -> Digits:
    return load_mnist(split)
