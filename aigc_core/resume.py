"""Resuming training from a checkpoint: the training config back from its JSON, and a trainer that continues at
the step count the checkpoint records (so a cosine schedule and the step axis of the charts carry on).

A checkpoint made by the Train page records `provenance.steps` (generator updates) and, for GANs,
`provenance.d_updates`; one made by the CLI records `provenance.steps`. The weights are copied: the
checkpoint's model is never trained in place (pages may hand in a cached, shared model).
"""

from __future__ import annotations

import copy
from dataclasses import fields, replace
from typing import Any

import torch

from .checkpoints import Checkpoint
from .errors import CheckpointError, ConfigError
from .factory import Trainer, build_trainer
from .diffusion_trainer import DiffusionTrainConfig
from .gan_trainer import GANTrainConfig, GANTrainer
from .models.size import DEFAULT_MAX_ACTIVATIONS, DEFAULT_MAX_PARAMS, check_model_size
from .optim import OptimizerConfig
from .vae_trainer import VAETrainConfig

_CONFIG_CLASSES = {"gan": GANTrainConfig, "vae": VAETrainConfig, "diffusion": DiffusionTrainConfig}


def train_config_from_dict(family: str, values: dict[str, Any]) -> GANTrainConfig | VAETrainConfig | DiffusionTrainConfig:
    """Rebuild and validate a training config saved as JSON (nested optimizer settings included)."""
    if family not in _CONFIG_CLASSES:
        raise ConfigError(f"No training config for a {family} model.")
    cls = _CONFIG_CLASSES[family]
    if not isinstance(values, dict):
        raise CheckpointError("The checkpoint's train_config must be a JSON object.")
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise CheckpointError(f"The checkpoint's train_config has unknown fields: {unknown}.")
    cleaned = dict(values)
    try:
        for name in ("g_optim", "d_optim", "optim"):
            if name in cleaned and isinstance(cleaned[name], dict):
                cleaned[name] = OptimizerConfig(**cleaned[name])
        config = cls(**cleaned)
    except TypeError as exc:
        raise CheckpointError(f"The checkpoint's train_config is invalid: {exc}") from exc
    config.validate()
    return config


def recorded_steps(checkpoint: Checkpoint) -> tuple[int, int]:
    """(steps, d_updates) recorded in the checkpoint's provenance; (0, 0) when absent or malformed."""
    provenance = checkpoint.provenance if isinstance(checkpoint.provenance, dict) else {}
    steps = provenance.get("steps", 0)
    steps = steps if isinstance(steps, int) and not isinstance(steps, bool) and steps >= 0 else 0
    d_updates = provenance.get("d_updates", steps)
    d_updates = d_updates if isinstance(d_updates, int) and not isinstance(d_updates, bool) and d_updates >= 0 else steps
    return steps, d_updates


def trainer_from_checkpoint(
    checkpoint: Checkpoint,
    train_config: GANTrainConfig | VAETrainConfig | DiffusionTrainConfig,
    *,
    device: torch.device | str = "cpu",
    continue_count: bool = True,
    max_params: int = DEFAULT_MAX_PARAMS,
    max_activations: int = DEFAULT_MAX_ACTIVATIONS,
) -> Trainer:
    """A trainer over a deep copy of the checkpoint's model, in training mode, continuing its step count.

    The model's size is checked against the caps (from its config, as `build_trainer` does) before the copy is
    made: a checkpoint loaded under a generous cap may still be too large to train in this session."""
    if checkpoint.family not in _CONFIG_CLASSES:
        raise CheckpointError(f"A {checkpoint.family} checkpoint cannot be trained on this page.")
    if not isinstance(train_config, _CONFIG_CLASSES[checkpoint.family]):
        raise ConfigError(f"A {checkpoint.family} model needs a {_CONFIG_CLASSES[checkpoint.family].__name__}.")
    check_model_size(checkpoint.model.config, max_params=max_params, max_activations=max_activations,
                     batch_size=train_config.batch_size)
    model = copy.deepcopy(checkpoint.model).to(device).train().requires_grad_(True)
    trainer = build_trainer(model.config, train_config, model=model, device=device, max_params=max_params,
                            max_activations=max_activations)
    if continue_count:
        steps, d_updates = recorded_steps(checkpoint)
        trainer.iteration = steps
        trainer.last = replace(trainer.last, step=steps)
        if isinstance(trainer, GANTrainer):
            trainer.d_updates = d_updates
            trainer.last = replace(trainer.last, d_updates=d_updates)
        trainer.guard.take(steps)
    return trainer
