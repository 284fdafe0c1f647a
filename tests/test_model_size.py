"""Sizing a model from its config alone (aigc_core.models.size): exact parameter counts, activation counts that
match a real forward pass, clear refusals, and no allocation."""

import dataclasses
import time

import pytest
import torch

from aigc_core.errors import CheckpointError, ConfigError
from aigc_core.factory import build_trainer
from aigc_core.gan_trainer import GANTrainConfig
from aigc_core.models.classifier import ClassifierConfig
from aigc_core.models.gan import GAN, DCGANConfig, MLPGANConfig, ToyGANConfig
from aigc_core.models.registry import build_model, config_from_dict
from aigc_core.models.size import (
    DEFAULT_MAX_PARAMS,
    MAX_DEPTH,
    activation_count,
    check_model_size,
    parameter_count,
    validate_config,
)
from aigc_core.models.vae import VAE, VAEConvConfig, VAEMLPConfig
from aigc_core.presets import PRESETS

CONFIGS = {name: preset.model_config for name, preset in PRESETS.items()} | {
    "dcgan-deep-mbstd": DCGANConfig(z_dim=8, width=8, deep=True, minibatch_std=True),
    "mlp-gan-bn": MLPGANConfig(z_dim=3, g_hidden=(5, 7, 9), d_hidden=(4,), g_batchnorm=True),
    "toy-0-hidden": ToyGANConfig(z_dim=1, hidden_layers=0, width=3),
    "vae-conv": VAEConvConfig(z_dim=3, width=5),
    "classifier-tiny": ClassifierConfig(width=2, features=3),
}


def _forward_values(model: torch.nn.Module) -> int:
    """Values the leaf layers output for one sample, counted by hooks on a real forward pass of two samples."""
    total = [0]
    handles = [m.register_forward_hook(lambda _m, _i, out: total.__setitem__(0, total[0] + out.numel()))
               for m in model.modules() if not list(m.children())]
    model.eval()
    with torch.no_grad():
        y = torch.zeros(2, dtype=torch.long) if getattr(model, "conditional", False) else None  # the label's path too
        if isinstance(model, GAN):
            g, d = model.generator, model.discriminator
            fake = g(torch.zeros(2, model.config.z_dim)) if y is None else g(torch.zeros(2, model.config.z_dim), y)
            d(fake) if y is None else d(fake, y)
        elif isinstance(model, VAE):
            model(torch.zeros(2, 1, 28, 28), torch.zeros(2, model.config.z_dim), y)
        else:
            model(torch.zeros(2, 1, 28, 28))
    for handle in handles:
        handle.remove()
    return total[0] // 2


@pytest.mark.parametrize("name", CONFIGS)
def test_counts_match_the_built_model(name):
    config = CONFIGS[name]
    model = build_model(config)
    assert parameter_count(config) == sum(p.numel() for p in model.parameters())
    values = activation_count(config)
    if values is not None:  # None: an architecture that is not a chain of layers (parameters only)
        assert values == _forward_values(model)
    assert check_model_size(config) == parameter_count(config)


def test_the_finding_is_refused_in_milliseconds():
    config = MLPGANConfig(g_hidden=(10_000_000,))
    start = time.perf_counter()
    with pytest.raises(ConfigError, match=r"8,850,101,393 parameters \(35\.4 GB of weights\), above the limit of 50,000,000"):
        check_model_size(config)
    assert time.perf_counter() - start < 0.2
    assert parameter_count(config) == 8_850_101_393  # counted, never allocated


def test_caps_and_error_class_are_arguments():
    config = MLPGANConfig()
    params = parameter_count(config)
    assert check_model_size(config, max_params=params) == params
    with pytest.raises(CheckpointError, match=rf"above the limit of {params - 1:,}"):
        check_model_size(config, max_params=params - 1, error=CheckpointError)
    per_sample = activation_count(config)
    check_model_size(config, max_activations=per_sample * 64, batch_size=64)
    with pytest.raises(ConfigError, match=r"\(65 samples\) makes [\d,]+ activations .*smaller batch"):
        check_model_size(config, max_activations=per_sample * 64, batch_size=65)
    assert DEFAULT_MAX_PARAMS >= 10 * max(parameter_count(c) for c in CONFIGS.values())


BAD = {
    "z-dim-string": (VAEMLPConfig(z_dim="twenty"), r"VAEMLPConfig\.z_dim must be a whole number from 0 to"),
    "z-dim-bool": (VAEMLPConfig(z_dim=True), r"z_dim must be a whole number"),
    "z-dim-negative": (MLPGANConfig(z_dim=-1), r"z_dim must be a whole number from 0"),
    "z-dim-huge": (MLPGANConfig(z_dim=2**40), r"z_dim must be a whole number from 0 to 2,147,483,647"),
    "hidden-empty": (VAEMLPConfig(hidden=()), r"hidden must be a list of 1 to 64 layer widths"),
    "hidden-deep": (MLPGANConfig(g_hidden=(1,) * (MAX_DEPTH + 1)), r"g_hidden must be a list of 1 to 64"),
    "hidden-zero": (MLPGANConfig(d_hidden=(0,)), r"d_hidden must be a whole number from 1"),
    "hidden-float": (MLPGANConfig(d_hidden=(1.5,)), r"d_hidden must be a whole number"),
    "layers-million": (ToyGANConfig(hidden_layers=10**6), r"hidden_layers must be a whole number from 0 to 64"),
    "slope-nan": (MLPGANConfig(slope=float("nan")), r"slope must be a finite number"),
    "noise-unknown": (MLPGANConfig(noise="laplace"), r"noise must be one of 'gaussian', 'uniform'"),
    "deep-not-bool": (DCGANConfig(deep="yes"), r"deep must be true or false"),
}


@pytest.mark.parametrize(("config", "message"), BAD.values(), ids=BAD.keys())
def test_invalid_configs_are_config_errors(config, message):
    start = time.perf_counter()
    with pytest.raises(ConfigError, match=message):
        check_model_size(config)
    assert time.perf_counter() - start < 0.5


def test_validate_config_accepts_every_preset():
    for config in CONFIGS.values():
        validate_config(config)
    with pytest.raises(ConfigError, match="Not a model config"):
        validate_config(GANTrainConfig)


def test_config_from_dict_then_check_names_the_field():
    config = config_from_dict("vae_mlp", {"z_dim": 4, "hidden": [10**9, 10**9]})
    with pytest.raises(ConfigError, match=r"VAEMLPConfig has [\d,]+ parameters"):
        check_model_size(config)


def test_build_trainer_checks_the_size_before_building(monkeypatch):
    """A trainer asked for a model past the cap is refused from the config: the model is never built."""
    from aigc_core import factory

    built = []
    monkeypatch.setattr(factory, "build_model", lambda *a, **k: built.append(a) or build_model(*a, **k))
    huge = MLPGANConfig(g_hidden=(200_000,))
    with pytest.raises(ConfigError, match=r"above the limit of 1,000,000"):
        build_trainer(huge, GANTrainConfig(), source=None, max_params=1_000_000)
    assert built == []
    small = dataclasses.replace(huge, g_hidden=(8,), z_dim=2, d_hidden=(8,))
    with pytest.raises(ConfigError, match=r"activations .*\(64 samples\)|\(64 samples\) makes"):
        build_trainer(small, GANTrainConfig(), source=None, max_activations=64)
