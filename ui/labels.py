"""Translated label sets for core functions that take labels (the Mermaid diagrams of `aigc_core.diagrams`).
Pure: the caller passes the translator (``ui.i18n.t`` on a page, a `ui.catalog.Translator` in pure code)."""

from __future__ import annotations

from collections.abc import Callable

from aigc_core.diagrams import DIFFUSION_LABEL_KEYS, GAN_LABEL_KEYS, VAE_LABEL_KEYS


def gan_labels(tr: Callable[..., str]) -> dict[str, str]:
    """The GAN diagram's labels in `tr`'s language."""
    return {key: tr(f"slowmo.gan_label.{key}") for key in GAN_LABEL_KEYS}


def vae_labels(tr: Callable[..., str]) -> dict[str, str]:
    """The VAE diagram's labels in `tr`'s language."""
    return {key: tr(f"slowmo.vae_label.{key}") for key in VAE_LABEL_KEYS}


def diffusion_labels(tr: Callable[..., str]) -> dict[str, str]:
    """The diffusion diagram's labels in `tr`'s language."""
    return {key: tr(f"slowmo.diffusion_label.{key}") for key in DIFFUSION_LABEL_KEYS}
