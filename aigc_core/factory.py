"""Assemble a trainer from a preset or from explicit configs: the one place that knows which data
source and pixel range each model family needs. Used by the CLI, the pages and the bench."""

from functools import lru_cache
from typing import Any

import torch

from .classifier_trainer import ClassifierTrainer, ClassifierTrainConfig
from .diffusion_trainer import DiffusionTrainConfig, DiffusionTrainer
from .errors import ConfigError
from .gan_trainer import GANTrainConfig, GANTrainer
from .mnist import ImageSource, PixelRange, load_mnist, subset
from .models.registry import architecture_of, build_model
from .models.size import DEFAULT_MAX_ACTIVATIONS, DEFAULT_MAX_PARAMS, check_model_size
from .presets import Preset
from .toy2d import TOY_DISTRIBUTIONS, PointSource
from .vae_trainer import VAETrainConfig, VAETrainer

Trainer = GANTrainer | VAETrainer | ClassifierTrainer | DiffusionTrainer
SIGNED_FAMILIES = ("gan", "diffusion")  # trained on images in [-1, 1], and on 2-D points


@lru_cache(maxsize=8)
def mnist_source(pixel_range: PixelRange, device: str = "cpu", split: str = "train") -> ImageSource:
    """Shared, read-only MNIST source (one copy per range and device for the whole process)."""
    return ImageSource(load_mnist(split), pixel_range=pixel_range, device=device)


def subset_source(family: str, size: int, *, seed: int = 0, device: torch.device | str = "cpu") -> ImageSource:
    """A source over `size` seeded training digits (`mnist.subset`), in the range `family` trains on: pass it to
    `build_trainer(..., source=...)`. Not cached: a subset is small, and each experiment owns its own."""
    digits, _ = subset(load_mnist("train"), size, seed=seed)
    return ImageSource(digits, pixel_range="signed" if family in SIGNED_FAMILIES else "unit", device=device)


@lru_cache(maxsize=16)
def toy_source(name: str, device: str = "cpu", seed: int = 0) -> PointSource:
    return PointSource.from_name(name, seed=seed, device=device)


def data_source(family: str, data: str, device: torch.device | str) -> Any:
    device = str(torch.device(device))
    if data == "mnist":
        return mnist_source("signed" if family in SIGNED_FAMILIES else "unit", device)
    if data in TOY_DISTRIBUTIONS and family in SIGNED_FAMILIES:
        return toy_source(data, device)
    raise ConfigError(f"No data set {data!r} for a {family} model.")


def build_trainer(
    model_config: Any,
    train_config: Any,
    *,
    data: str = "mnist",
    device: torch.device | str = "cpu",
    model: torch.nn.Module | None = None,
    source: Any | None = None,
    max_params: int = DEFAULT_MAX_PARAMS,
    max_activations: int = DEFAULT_MAX_ACTIVATIONS,
) -> Trainer:
    """A fresh trainer (or one continuing `model`) with the seed taken from `train_config`.

    The model's size is checked from its config before anything is built (ConfigError past `max_params`
    parameters, or `max_activations` values in a forward pass of one batch), whether or not `model` is given.
    """
    family = architecture_of(model_config).family
    train_config.validate()
    check_model_size(model_config, max_params=max_params, max_activations=max_activations,
                     batch_size=train_config.batch_size)
    if model is None:
        model = build_model(model_config, seed=train_config.seed)
    source = source if source is not None else data_source(family, data, device)
    if family == "gan":
        if not isinstance(train_config, GANTrainConfig):
            raise ConfigError("A GAN needs a GANTrainConfig.")
        return GANTrainer(model, source, train_config, device=device)
    if family == "diffusion":
        if not isinstance(train_config, DiffusionTrainConfig):
            raise ConfigError("A diffusion model needs a DiffusionTrainConfig.")
        return DiffusionTrainer(model, source, train_config, device=device)
    if family == "vae":
        if not isinstance(train_config, VAETrainConfig):
            raise ConfigError("A VAE needs a VAETrainConfig.")
        return VAETrainer(model, source, train_config, device=device)
    if not isinstance(train_config, ClassifierTrainConfig):
        raise ConfigError("The classifier needs a ClassifierTrainConfig.")
    return ClassifierTrainer(model, source, train_config, device=device)


def trainer_from_preset(preset: Preset, *, seed: int | None = None, device: torch.device | str = "cpu") -> Trainer:
    train_config = preset.train_config
    if seed is not None:
        train_config = type(train_config)(**{**train_config.__dict__, "seed": seed})
    return build_trainer(preset.model_config, train_config, data=preset.data, device=device)
