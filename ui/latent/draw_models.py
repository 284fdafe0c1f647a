"""Draw me a 7's models: the shipped class-conditional cGAN, CVAE and diffusion model (pretrained/cgan, cvae, ddpm),
and the cached samples Home and the Latent Explorer show of them.

The models are the shared, read-only `ui.resources.pretrained` checkpoints; everything here samples them under
inference mode (aigc_core.conditional_tools). A folder that is not there yet (the diffusion model is not shipped in
every checkout), one that does not load, or one that holds an unconditional model gives a `Shipped` with no model
and a message to show instead, never an error. Samples are cached per (model, digit, seed): the same picture for
everyone who asks for the same thing, and a model is only asked once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st
import torch

from aigc_core import conditional_tools as ct
from aigc_core.errors import AigcError
from aigc_core.evaluation import PRETRAINED_DIR
from aigc_core.models.classifier import Classifier
from aigc_core.presets import train_command
from ui.i18n import t
from ui.resources import try_pretrained
from ui.text import plain

FAMILIES = ("gan", "vae", "diffusion")
FOLDERS = {"gan": "cgan", "vae": "cvae", "diffusion": "ddpm"}  # pretrained/<folder>
PRESET_OF = {"gan": "cgan", "vae": "cvae", "diffusion": "diffusion"}  # the preset that makes each folder
DEFAULT_GUIDANCE = 2.0  # the diffusion model's own w when its config does not say


@dataclass(frozen=True, eq=False)
class Shipped:
    """A family's shipped conditional model, or why there is none (`problem`: missing, error, unconditional)."""

    family: str
    name: str
    model: torch.nn.Module | None = None
    guidance: float = DEFAULT_GUIDANCE
    problem: str | None = None
    detail: str = ""

    @property
    def token(self) -> str:
        """What a cached sample is keyed by: the folder and the loaded object (a reloaded folder is a new model)."""
        return f"{self.name}:{id(self.model)}"

    @property
    def command(self) -> str:
        return train_command(PRESET_OF[self.family], self.name)

    def message(self) -> str:
        """Why there is no model, in the page's language."""
        family = t(f"draw.family_{self.family}")
        if self.problem == "missing":
            return t("draw.not_shipped", family=family, name=self.name, command=self.command)
        if self.problem == "unconditional":
            return t("draw.not_conditional", family=family, name=self.name, detail=plain(self.detail))
        return t("draw.load_error", family=family, name=self.name, detail=plain(self.detail))


def shipped(family: str) -> Shipped:
    name = FOLDERS[family]
    if not (PRETRAINED_DIR / name / "config.json").is_file():
        return Shipped(family, name, problem="missing")
    checkpoint, error = try_pretrained(name)
    if checkpoint is None:
        return Shipped(family, name, problem="error", detail=error or "")
    try:
        if ct.family_of(checkpoint.model) != family:
            raise AigcError(f"pretrained/{name} holds a {checkpoint.family} model, not a {family} model.")
        ct.require_conditional(checkpoint.model)
    except AigcError as exc:
        return Shipped(family, name, problem="unconditional", detail=str(exc))
    guidance = float((checkpoint.train_config or {}).get("guidance", DEFAULT_GUIDANCE))
    return Shipped(family, name, checkpoint.model, guidance=guidance)


def classifier() -> Classifier | None:
    checkpoint, _ = try_pretrained("classifier")
    return None if checkpoint is None else checkpoint.model  # type: ignore[return-value]


def sampling_settings(model: Shipped) -> dict[str, float]:
    """How a family is sampled on Home: the prior as trained (ψ = 1), the diffusion model at its own guidance."""
    return {"guidance": model.guidance} if model.family == "diffusion" else {"psi": 1.0}


@st.cache_data(show_spinner=False, max_entries=512)
def digit_samples(_model: torch.nn.Module, token: str, family: str, digit: int, n: int, seed: int,
                  guidance: float) -> np.ndarray:
    """n samples of `digit` (float32 (n, 1, 28, 28) in [0, 1]); `token` names the model for the cache."""
    settings = {"guidance": guidance} if family == "diffusion" else {"psi": 1.0}
    return ct.draw_digit(_model, digit, n, seed, **settings).numpy()


def samples_of(model: Shipped, digit: int, n: int, seed: int) -> torch.Tensor:
    assert model.model is not None
    return torch.from_numpy(digit_samples(model.model, model.token, model.family, ct.check_digit(digit), n, seed,
                                          model.guidance))


@st.cache_data(show_spinner=False, max_entries=512)
def _verdict(_classifier: Classifier, _images: np.ndarray, token: str, digit: int, n: int, seed: int) -> int:
    return ct.classifier_verdict(_classifier, torch.from_numpy(_images), digit)


def verdict(model: Shipped, images: torch.Tensor, digit: int, seed: int) -> int | None:
    """How many of `images` (that model's samples of `digit` from `seed`) the classifier reads as `digit`."""
    reader = classifier()
    if reader is None:
        return None
    return _verdict(reader, images.numpy(), model.token, digit, len(images), seed)
