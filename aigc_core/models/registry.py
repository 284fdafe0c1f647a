"""Architecture names <-> config classes and constructors, so checkpoints can be rebuilt from JSON."""

import dataclasses
from typing import Any, Callable

from torch import nn

from ..errors import CheckpointError, ConfigError
from .classifier import Classifier, ClassifierConfig
from .detector import Detector, DetectorConfig
from .gan import GAN, DCGANConfig, MLPGANConfig, ToyGANConfig
from .unet import ToyDenoiser, ToyDenoiserConfig, UNet, UNetConfig
from .vae import VAE, VAEConvConfig, VAEMLPConfig


@dataclasses.dataclass(frozen=True)
class Architecture:
    name: str
    family: str  # "gan", "vae", "diffusion", "classifier" or "detector"
    config_class: type
    build: Callable[..., nn.Module]


ARCHITECTURES: dict[str, Architecture] = {
    a.name: a
    for a in (
        Architecture("mlp_gan", "gan", MLPGANConfig, GAN),
        Architecture("dcgan", "gan", DCGANConfig, GAN),
        Architecture("toy_gan", "gan", ToyGANConfig, GAN),
        Architecture("vae_mlp", "vae", VAEMLPConfig, VAE),
        Architecture("vae_conv", "vae", VAEConvConfig, VAE),
        Architecture("classifier", "classifier", ClassifierConfig, Classifier),
        Architecture("detector", "detector", DetectorConfig, Detector),
        Architecture("unet", "diffusion", UNetConfig, UNet),
        Architecture("toy_denoiser", "diffusion", ToyDenoiserConfig, ToyDenoiser),
    )
}


def image_family(model: nn.Module) -> str:
    """"gan", "vae" or "diffusion" for a generative model (GAN, VAE or U-Net denoiser); ConfigError for anything else.
    The pages that compare, sample by digit or attack generators branch on it."""
    if isinstance(model, GAN):
        return "gan"
    if isinstance(model, VAE):
        return "vae"
    if isinstance(model, UNet):
        return "diffusion"
    raise ConfigError(f"{type(model).__name__} is not an MNIST image generator (a GAN, a VAE or a U-Net denoiser).")


def architecture_of(config: Any) -> Architecture:
    for arch in ARCHITECTURES.values():
        if type(config) is arch.config_class:
            return arch
    raise ConfigError(f"Unknown model config type {type(config).__name__}.")


def config_to_dict(config: Any) -> dict[str, Any]:
    return dataclasses.asdict(config)


def config_from_dict(architecture: str, values: dict[str, Any]) -> Any:
    """Rebuild a frozen config from JSON; unknown fields or bad values raise CheckpointError."""
    if architecture not in ARCHITECTURES:
        known = ", ".join(sorted(ARCHITECTURES))
        raise CheckpointError(f"Unknown architecture {architecture!r}; this version knows: {known}.")
    config_class = ARCHITECTURES[architecture].config_class
    fields = {f.name: f for f in dataclasses.fields(config_class)}
    unknown = set(values) - set(fields)
    if unknown:
        raise CheckpointError(f"Config for {architecture} has unknown fields: {sorted(unknown)}.")
    cleaned = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}
    try:
        return config_class(**cleaned)
    except TypeError as exc:
        raise CheckpointError(f"Config for {architecture} is invalid: {exc}") from exc


def build_model(config: Any, *, seed: int = 0) -> nn.Module:
    return architecture_of(config).build(config, seed=seed)
