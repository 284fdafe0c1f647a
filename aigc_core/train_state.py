"""A run's whole training state beside its checkpoint, so that a command-line run can stop at any moment and continue
bit for bit from its last save (`python -m aigc_core train ... --save-every N --resume`).

A checkpoint (`checkpoints.py`) holds what samples are drawn from; continuing the training needs more: the live
weights (a GAN's or a denoiser's checkpoint holds the EMA copy), the EMA copy itself, the optimizers' moments, the
trainer's random stream and its counters. Two files, never pickle:

- `trainer_state-<step>.safetensors`: tensors only. "model.*" (live weights), "ema.*" (the EMA copy, if any),
  "optimizer.<name>.<parameter index>.<key>" (e.g. Adam's step, exp_avg, exp_avg_sq) and "rng" (the trainer's
  torch.Generator state).
- `trainer_state.json`: the format version, family, preset and data, the training config, the counters, the last
  stats record, the guard's saturation count, the optimizers' non-tensor state, extra fields the caller keeps
  (the CLI's wall seconds), and the name of the tensors file it belongs to.

Both are written atomically (temp file, fsync, `os.replace`), the tensors first under a new name and the JSON that
names them last; older tensor files are removed after that. A run killed at any moment leaves a JSON that names a
complete tensors file: the last save, whole.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save

from .checkpoints import write_atomically
from .errors import CheckpointError

FORMAT_VERSION = 1
STATE_NAME = "trainer_state.json"
_TENSORS = re.compile(r"trainer_state-\d{9,}\.safetensors")
_COUNTERS = ("iteration", "d_updates")
_MAX_STATE_BYTES = 1024 * 1024  # the JSON is a few kB


def has_training_state(folder: str | Path) -> bool:
    return (Path(folder) / STATE_NAME).is_file()


def _ema_module(trainer: Any) -> torch.nn.Module | None:
    """The EMA copy a trainer keeps (a GAN's generator, a denoiser), if any."""
    return getattr(trainer, "ema_model", None) or getattr(trainer, "ema_generator", None)


def save_training_state(folder: str | Path, trainer: Any, *, preset: str, data: str, train_config: dict,
                        extra: dict | None = None) -> Path:
    """Write the tensors file for `trainer.iteration`, then the JSON that names it; remove older tensor files."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tensors: dict[str, torch.Tensor] = {f"model.{k}": v for k, v in trainer.model.state_dict().items()}
    ema = _ema_module(trainer)
    if ema is not None:
        tensors.update({f"ema.{k}": v for k, v in ema.state_dict().items()})
    optimizer_extra: dict[str, dict[str, dict[str, Any]]] = {}
    for name, optimizer in trainer.optimizers.items():
        for index, values in optimizer.state_dict()["state"].items():
            for key, value in values.items():
                if isinstance(value, torch.Tensor):
                    tensors[f"optimizer.{name}.{index}.{key}"] = value
                else:  # e.g. None for an SGD momentum buffer not yet made; plain numbers
                    optimizer_extra.setdefault(name, {}).setdefault(str(index), {})[key] = value
    tensors["rng"] = trainer.rng.get_state()
    # safetensors refuses shared storage; copies on the CPU are cheap next to a training step
    tensors = {k: v.detach().cpu().contiguous().clone() for k, v in tensors.items()}
    tensors_name = f"trainer_state-{trainer.iteration:09d}.safetensors"
    write_atomically(folder / tensors_name, save(tensors))
    last = getattr(trainer, "last", None)
    state = {
        "format_version": FORMAT_VERSION,
        "family": trainer.family,
        "preset": preset,
        "data": data,
        "train_config": train_config,
        "counters": {name: int(getattr(trainer, name)) for name in _COUNTERS if hasattr(trainer, name)},
        "last": asdict(last) if last is not None else None,
        "saturated_for": int(trainer.guard.saturated_for),
        "optimizer_extra": optimizer_extra,
        "tensors": tensors_name,
        **(extra or {}),
    }
    write_atomically(folder / STATE_NAME, json.dumps(state, indent=2).encode("utf-8"))
    for old in folder.glob("trainer_state-*.safetensors"):
        if old.name != tensors_name and _TENSORS.fullmatch(old.name):
            old.unlink(missing_ok=True)
    return folder / STATE_NAME


def read_training_state(folder: str | Path) -> dict[str, Any]:
    """The JSON of a saved state, checked for its version and the name of its tensors file."""
    path = Path(folder) / STATE_NAME
    if path.stat().st_size > _MAX_STATE_BYTES:
        raise CheckpointError(f"{path} is larger than a training state can be.")
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"{path} is not valid JSON ({exc}).") from exc
    if not isinstance(state, dict) or state.get("format_version") != FORMAT_VERSION:
        raise CheckpointError(f"{path} is not a training state this version understands.")
    if not isinstance(state.get("tensors"), str) or not _TENSORS.fullmatch(state["tensors"]):  # no paths
        raise CheckpointError(f"{path} names no valid tensors file.")
    return state


def load_training_state(folder: str | Path, trainer: Any, state: dict[str, Any] | None = None) -> dict[str, Any]:
    """Put a saved state into `trainer` (built from the same preset and config) and return its JSON.

    The optimizers keep their current hyperparameters (lr, betas: the config's); their moments come back."""
    folder = Path(folder)
    state = state if state is not None else read_training_state(folder)
    if state.get("family") != trainer.family:
        raise CheckpointError(f"The saved training state is of a {state.get('family')} model, not {trainer.family}.")
    try:
        tensors = load_file(folder / state["tensors"])
    except (OSError, SafetensorError) as exc:
        raise CheckpointError(f"Cannot read {folder / state['tensors']}: {exc}") from exc
    try:
        trainer.model.load_state_dict(_part(tensors, "model."))
        ema = _ema_module(trainer)
        if ema is not None:
            ema.load_state_dict(_part(tensors, "ema."))
        extra = state.get("optimizer_extra", {})
        for name, optimizer in trainer.optimizers.items():
            saved: dict[int, dict[str, Any]] = {}
            for key, value in _part(tensors, f"optimizer.{name}.").items():
                index, field = key.split(".", 1)
                saved.setdefault(int(index), {})[field] = value
            for index, values in extra.get(name, {}).items():
                saved.setdefault(int(index), {}).update(values)
            optimizer.load_state_dict({"state": saved, "param_groups": optimizer.state_dict()["param_groups"]})
        trainer.rng.set_state(tensors["rng"])
    except (RuntimeError, KeyError, ValueError) as exc:
        raise CheckpointError(f"The saved training state does not fit this model: {exc}") from exc
    for name, value in state.get("counters", {}).items():
        if name in _COUNTERS:
            setattr(trainer, name, int(value))
    if state.get("last") is not None and hasattr(trainer, "last"):
        values = {k: tuple(v) if isinstance(v, list) else v for k, v in state["last"].items()}
        trainer.last = type(trainer.last)(**values)
    trainer.guard.take(trainer.iteration)  # the loaded state is the one a rollback returns to
    trainer.guard.saturated_for = int(state.get("saturated_for", 0))
    return state


def _part(tensors: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    return {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}
