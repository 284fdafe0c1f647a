"""Which models the Latent Explorer can open, and the cached, read-only things computed from them.

A `LatentSource` wraps either a shipped pretrained checkpoint (shared by every session, never modified) or the
model this browser session is training on the Train page (``ui.train.live.current_run()``), behind one `decode` /
`encode` interface. Encodings of the MNIST test set are immutable per pretrained model, so they are cached with
``st.cache_resource``; the session's own model changes while it trains, so its encodings are recomputed when its
step counter moves (and only on a subset of the test set).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st
import torch

from aigc_core import explorer, latent, pixels
from aigc_core.explorer import EncodedSet
from aigc_core.images import make_grid
from aigc_core.gan_trainer import generate
from aigc_core.models.gan import GAN, ToyGANConfig
from aigc_core.models.vae import VAE
from ui.resources import NOT_GAN_OR_VAE, available_pretrained, mnist, try_pretrained
from ui.train.controls import current_run

SESSION = "session"
SESSION_ENCODE_IMAGES = 2000  # the session's model changes as it trains: encode a subset, quickly


@dataclass(frozen=True, eq=False)
class LatentSource:
    id: str  # "pretrained:<name>" or "session"
    name: str  # checkpoint name or preset of the session's run
    family: str  # "gan" or "vae"
    model: GAN | VAE
    step: int | None = None  # the session model's training step (None for pretrained)
    trainer: object | None = None

    @property
    def z_dim(self) -> int:
        return int(self.model.z_dim)

    @property
    def is_vae(self) -> bool:
        return self.family == "vae"

    @property
    def pretrained(self) -> bool:
        return self.id != SESSION

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Images (N, 1, 28, 28) in [0, 1] for codes (N, D)."""
        if self.trainer is not None and self.trainer.family == "gan":
            # The session's generator may be mid-training (train mode, BatchNorm): generate() switches to eval.
            return pixels.signed_to_unit(generate(self.trainer.sampling_generator(), z.reshape(-1, self.z_dim)))
        return explorer.decode(self.model, z)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return explorer.encode(self.model, x)  # type: ignore[arg-type]


def _session_run():
    """The Train page's run in this session, if that page exists and something was built there."""
    try:
        return current_run()
    except Exception:  # a half-built run must not break this page
        return None


def image_model_names() -> list[str]:
    """Shipped checkpoints that generate MNIST images (GANs and VAEs; not the classifier or the denoiser)."""
    names = []
    for name in available_pretrained():
        if name in NOT_GAN_OR_VAE:
            continue
        names.append(name)
    return names


def source_ids() -> list[str]:
    ids = [f"pretrained:{name}" for name in image_model_names()]
    run = _session_run()
    if run is not None and _session_model_ok(run):
        ids.append(SESSION)
    return ids


def session_model_is_conditional() -> bool:
    """Whether this session's Train run is a class-conditional GAN or VAE (left out of the source list)."""
    run = _session_run()
    return run is not None and bool(getattr(getattr(run.trainer, "model", None), "conditional", False))


def _session_model_ok(run) -> bool:
    """An unconditional image GAN or VAE: a conditional model's picture depends on a label these views do not ask
    for (its encoder needs one); its place is the "Draw me a 7" tab."""
    model = getattr(run.trainer, "model", None)
    if getattr(model, "conditional", False):
        return False
    if isinstance(model, GAN):
        return not isinstance(model.config, ToyGANConfig)
    return isinstance(model, VAE)


def open_source(source_id: str) -> tuple[LatentSource | None, str | None]:
    """(source, None) or (None, a readable reason)."""
    if source_id == SESSION:
        run = _session_run()
        if run is None or not _session_model_ok(run):
            return None, "no session model"
        trainer = run.trainer
        family = trainer.family
        return LatentSource(SESSION, run.settings.preset, family, trainer.model, trainer.iteration, trainer), None
    name = source_id.split(":", 1)[-1]
    checkpoint, error = try_pretrained(name)
    if checkpoint is None:
        return None, error
    if checkpoint.family not in ("gan", "vae"):
        return None, f"{name} is not an image model"
    return LatentSource(source_id, name, checkpoint.family, checkpoint.model), None


@st.cache_resource(show_spinner=False, max_entries=8)
def pretrained_encoding(name: str) -> EncodedSet:
    """The whole test set encoded by a shipped VAE (immutable; shared by all sessions)."""
    checkpoint, error = try_pretrained(name)
    if checkpoint is None or not isinstance(checkpoint.model, VAE):
        raise ValueError(error or f"{name} is not a VAE")
    test = mnist("test")
    return explorer.encode_dataset(checkpoint.model, test.images, test.labels)


def encoded_test_set(source: LatentSource) -> EncodedSet | None:
    if not source.is_vae:
        return None
    if source.pretrained:
        return pretrained_encoding(source.name)
    cache = st.session_state.setdefault("_latent_session_encoding", {})
    if cache.get("step") != source.step or cache.get("model") is not source.model:
        test = mnist("test")
        cache.update(step=source.step, model=source.model, encoded=explorer.encode_dataset(
            source.model, test.images[:SESSION_ENCODE_IMAGES], test.labels[:SESSION_ENCODE_IMAGES]))  # type: ignore[arg-type]
    return cache["encoded"]


@st.cache_resource(show_spinner=False, max_entries=8)
def _pretrained_manifold(name: str, n: int) -> np.ndarray:
    checkpoint, _ = try_pretrained(name)
    assert checkpoint is not None
    images = explorer.decode(checkpoint.model, latent.manifold_grid(n))  # (n*n, 1, 28, 28)
    return images_grid(images, n)


def manifold_picture(source: LatentSource, n: int) -> np.ndarray:
    """The n x n grid of decoded codes over the 2-D latent plane (uint8 picture)."""
    if source.pretrained:
        return _pretrained_manifold(source.name, n)
    return images_grid(source.decode(latent.manifold_grid(n)), n)


def images_grid(images: torch.Tensor, nrow: int, padding: int = 1) -> np.ndarray:
    return make_grid(images, nrow=nrow, padding=padding)
