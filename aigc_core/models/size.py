"""How big a model a config describes, found before the model exists.

A config read from an upload can ask for anything (`g_hidden=[10000000]` is 8.9 billion parameters, 33 GB), so
every way into a model (checkpoint load, resume, a trainer built from a config, the CLI) sizes the config first
and refuses it with a message that names the figure and the cap. Sizing costs milliseconds and no memory:

- `parameter_count(config)`: exact. The model is built on PyTorch's meta device, where a tensor has a shape but
  no storage (`init_weights` skips such a model), so the count is the real model's by construction.
- `activation_count(config)`: the values one sample makes in a forward pass (what backward keeps), summed over
  the leaf layers. The shapes are walked layer by layer rather than run on the meta device, whose first forward
  pass imports PyTorch's Python decompositions (about a second, once per process).

Before either, `validate_config` checks each field's type and range from the dataclass itself, so a depth of a
million layers or a string where a width belongs is a ConfigError, not a slow build or a TypeError.
"""

import dataclasses
import math
import typing
from typing import Any

import torch
from torch import nn

from ..errors import AigcError, ConfigError
from .classifier import Classifier
from .conditional import ConditionalGenerator, ProjectionDiscriminator
from .gan import GAN, MinibatchStd
from .registry import architecture_of
from .vae import VAE

# Generous defaults for callers without a cap of their own (the CLI can raise them with flags; the app passes its
# per-session cap). The largest shipped model has 2.1 M parameters and makes ~0.35 M activations per sample.
DEFAULT_MAX_PARAMS = 50_000_000  # 200 MB of float32 weights
DEFAULT_MAX_ACTIVATIONS = 2**30  # values in one forward pass of a batch: 4 GiB of float32 (DCGAN, batch 4096: 0.7 G)
MAX_DEPTH = 64  # hidden layers in an MLP; deeper is certainly a typo (and would be slow to even build)
MAX_INT_FIELD = 2**31 - 1  # widths, z_dim: anything above is refused here rather than by a C++ overflow

_DEPTH_FIELDS = ("hidden_layers", "layers", "blocks")  # integer fields that count layers rather than units


def validate_config(config: Any) -> None:
    """Every field of a model config has its annotated type and a sane range; raises ConfigError."""
    if not dataclasses.is_dataclass(config) or isinstance(config, type):
        raise ConfigError(f"Not a model config: {type(config).__name__}.")
    hints = typing.get_type_hints(type(config))
    name = type(config).__name__
    for field in dataclasses.fields(config):
        value, hint = getattr(config, field.name), hints[field.name]
        where = f"{name}.{field.name}"
        origin = typing.get_origin(hint)
        if hint is bool:
            if not isinstance(value, bool):
                raise ConfigError(f"{where} must be true or false, not {value!r}.")
        elif hint is int:
            _check_int(value, where, MAX_DEPTH if field.name in _DEPTH_FIELDS else MAX_INT_FIELD)
        elif hint is float:
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ConfigError(f"{where} must be a finite number, not {value!r}.")
        elif origin is tuple:
            if not isinstance(value, tuple) or not 1 <= len(value) <= MAX_DEPTH:
                raise ConfigError(f"{where} must be a list of 1 to {MAX_DEPTH} layer widths, not {_clip(value)}.")
            for item in value:
                _check_int(item, where, MAX_INT_FIELD, low=1)
        elif origin is typing.Literal:
            if value not in typing.get_args(hint):
                choices = ", ".join(map(repr, typing.get_args(hint)))
                raise ConfigError(f"{where} must be one of {choices}, not {_clip(value)}.")
    validate = getattr(config, "validate", None)
    if callable(validate):  # a config's own rules (e.g. the U-Net's), once every field has the right type
        validate()


def _check_int(value: Any, where: str, high: int, low: int = 0) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(f"{where} must be a whole number from {low} to {high:,}, not {_clip(value)}.")


def _clip(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def meta_model(config: Any) -> nn.Module:
    """The model of `config` on the meta device: shapes only, no storage, no initialisation."""
    validate_config(config)
    architecture = architecture_of(config)
    try:
        with torch.device("meta"):
            return architecture.build(config, seed=0)
    except AigcError:
        raise
    except (ValueError, RuntimeError, TypeError, ZeroDivisionError) as exc:  # e.g. a width of 0 in a conv
        raise ConfigError(f"Cannot build a {architecture.name} model from this config: {exc}") from exc


def parameter_count(config: Any) -> int:
    """Parameters of the model `config` describes (all networks together), without building it."""
    return sum(p.numel() for p in meta_model(config).parameters())


def activation_count(config: Any) -> int | None:
    """Values one sample makes in a forward pass through every network of the model (G then D for a GAN);
    None for an architecture whose layers are not a chain this module can walk (then only parameters count)."""
    model = meta_model(config)
    return _activations(model)


def _activations(model: nn.Module) -> int | None:
    if isinstance(model, GAN):
        generator, discriminator = model.generator, model.discriminator
        if isinstance(generator, ConditionalGenerator):  # the label's embedding, then the body on [z; e(y)]
            label_dim = generator.label_embedding.embedding_dim
            fake, g_values = _walk(generator.body, (model.config.z_dim + label_dim,))
            g_values += label_dim
        else:
            fake, g_values = _walk(generator, (model.config.z_dim,))
        if isinstance(discriminator, ProjectionDiscriminator):  # φ(x), ψ(φ) and the label's embedding V_y
            features, d_values = _walk(discriminator.features, fake)
            d_values += _walk(discriminator.head, features)[1] + discriminator.label_embedding.embedding_dim
        else:
            _, d_values = _walk(discriminator, fake)
        return g_values + d_values
    if isinstance(model, VAE):
        c = model.num_classes  # a conditional VAE's encoder sees [x; one_hot(y)], flat, and its decoder [z; one_hot(y)]
        features, e_values = _walk(model.encoder, (784 + c,) if c else (1, 28, 28))
        _, s_values = _walk(model.to_stats, features)
        _, d_values = _walk(model.decoder, (model.config.z_dim + c,))
        return e_values + s_values + d_values
    if isinstance(model, Classifier):
        features, b_values = _walk(model.body, (1, 28, 28))
        _, h_values = _walk(model.head, features)
        return b_values + h_values
    return None  # e.g. the diffusion U-Net: skip connections, not a chain


def _walk(module: nn.Module, shape: tuple[int, ...]) -> tuple[tuple[int, ...], int]:
    """(output shape, values made) of `module` on one sample of `shape` (no batch axis), from shapes alone."""
    children = list(module.children())
    if children:
        total = 0
        for child in children:
            shape, values = _walk(child, shape)
            total += values
        return shape, total
    if isinstance(module, nn.Linear):
        out = (*shape[:-1], module.out_features)
    elif isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.MaxPool2d)):
        out = _conv_shape(module, shape)
    elif isinstance(module, nn.Flatten):
        out = (math.prod(shape),)
    elif isinstance(getattr(module, "shape", None), tuple):  # the GAN's reshape layer: a view to `shape`
        out = tuple(module.shape)
    elif isinstance(module, nn.Unflatten):
        out = (*shape[: module.dim - 1], *module.unflattened_size, *shape[module.dim :])
    elif isinstance(module, MinibatchStd):
        out = (shape[0] + 1, *shape[1:])
    else:  # element-wise: activations, batch norm
        out = shape
    return out, math.prod(out)


def _conv_shape(module: nn.Module, shape: tuple[int, ...]) -> tuple[int, ...]:
    def pair(value: Any) -> tuple[int, int]:
        return (value, value) if isinstance(value, int) else tuple(value)

    kernel, stride, padding = pair(module.kernel_size), pair(module.stride), pair(module.padding)
    channels = module.out_channels if hasattr(module, "out_channels") else shape[0]
    sides = []
    for side, k, s, p in zip(shape[1:], kernel, stride, padding):
        if isinstance(module, nn.ConvTranspose2d):
            sides.append((side - 1) * s - 2 * p + k)
        else:
            sides.append((side + 2 * p - k) // s + 1)
    return (channels, *sides)


def check_model_size(
    config: Any,
    *,
    max_params: int = DEFAULT_MAX_PARAMS,
    max_activations: int = DEFAULT_MAX_ACTIVATIONS,
    batch_size: int = 1,
    error: type[AigcError] = ConfigError,
) -> int:
    """Refuse a config whose model is too large, before anything is allocated; returns its parameter count.

    `max_params` bounds the parameters of all networks together; `max_activations` bounds the values of one
    forward pass of `batch_size` samples. The error (ConfigError, or e.g. CheckpointError for an upload) names the
    figure and the cap. An invalid config raises ConfigError whatever `error` is, or `error` when it is a sibling.
    """
    try:
        model = meta_model(config)
    except ConfigError as exc:
        raise (exc if error is ConfigError else error(str(exc))) from exc
    arch = type(config).__name__
    params = sum(p.numel() for p in model.parameters())
    if params > max_params:
        raise error(
            f"This {arch} has {_figure(params)} parameters ({_bytes(4 * params)} of weights), above the limit of "
            f"{_figure(max_params)}. Use smaller layers."
        )
    per_sample = _activations(model)
    values = 0 if per_sample is None else per_sample * max(batch_size, 1)
    if values > max_activations:
        per = f" ({batch_size} samples)" if batch_size > 1 else ""
        raise error(
            f"One forward pass of this {arch}{per} makes {_figure(values)} activations ({_bytes(4 * values)}), "
            f"above the limit of {_figure(max_activations)}. Use smaller layers or a smaller batch."
        )
    return params


def _figure(n: int) -> str:
    return f"{n:,}"


def _bytes(n: int) -> str:
    for unit, size in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n / 1e3:.0f} kB"
