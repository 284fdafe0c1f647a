"""Checkpoints: a folder with `config.json` (architecture, config, format version, provenance) and
`model.safetensors` (weights). Loading never unpickles anything: safetensors holds raw tensors only.

Loading is checked in the order that keeps a hostile upload cheap: sizes from the zip's directory or the file
system, then config.json, then the model's size from the config alone (`models.size`, no allocation), then the
weights file's size against what that config can need, and only then the weights themselves, which must be finite.

For a GAN trained with a weight EMA, the saved generator is the EMA generator (the one that draws the
samples); resuming continues from it.
"""

import contextlib
import io
import json
import lzma
import os
import struct
import zipfile
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_safetensors_bytes
from safetensors.torch import save as save_safetensors_bytes
from torch import nn

from .errors import CheckpointError, ConfigError
from .finite import require_finite_weights
from .models.registry import ARCHITECTURES, architecture_of, build_model, config_from_dict, config_to_dict
from .models.size import DEFAULT_MAX_ACTIVATIONS, DEFAULT_MAX_PARAMS, check_model_size, meta_model

FORMAT_VERSION = 1
CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"
MAX_ZIP_BYTES = 200 * 1024 * 1024  # uncompressed; our largest model is ~10 MB
MAX_CONFIG_BYTES = 1024 * 1024  # config.json is ~2 kB; provenance notes never need a megabyte
_PICKLE_PREFIXES = (b"\x80\x02", b"\x80\x03", b"\x80\x04", b"\x80\x05", b"PK\x03\x04")


@dataclass
class Checkpoint:
    model: nn.Module
    architecture: str
    family: str
    meta: dict[str, Any] = field(default_factory=dict)  # config.json as read

    @property
    def provenance(self) -> dict[str, Any]:
        return self.meta.get("provenance", {})

    @property
    def train_config(self) -> dict[str, Any] | None:
        return self.meta.get("train_config")


def _state_for_saving(model: nn.Module, sampling_generator: nn.Module | None) -> dict[str, torch.Tensor]:
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    if sampling_generator is not None:
        for k, v in sampling_generator.state_dict().items():
            state[f"generator.{k}"] = v.detach().cpu().contiguous()
    return state


def build_meta(
    model: nn.Module, *, train_config: dict | None = None, provenance: dict | None = None
) -> dict[str, Any]:
    arch = architecture_of(model.config)
    return {
        "format_version": FORMAT_VERSION,
        "family": arch.family,
        "architecture": arch.name,
        "model_config": config_to_dict(model.config),
        "train_config": train_config,
        "provenance": {"created": datetime.now(timezone.utc).isoformat(timespec="seconds"), **(provenance or {})},
    }


def checkpoint_bytes(
    model: nn.Module,
    *,
    sampling_generator: nn.Module | None = None,
    train_config: dict | None = None,
    provenance: dict | None = None,
) -> tuple[bytes, bytes]:
    """(config.json bytes, model.safetensors bytes)."""
    meta = build_meta(model, train_config=train_config, provenance=provenance)
    config_json = json.dumps(meta, indent=2, ensure_ascii=False).encode("utf-8")
    return config_json, save_safetensors_bytes(_state_for_saving(model, sampling_generator))


def write_atomically(path: Path, data: bytes) -> None:
    """Write `data` to `path` so that a reader (or a process killed midway) sees the old file or the new one whole:
    a temp file beside it, fsync, then `os.replace`."""
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(temp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)


def save_checkpoint(folder: str | Path, model: nn.Module, **kwargs: Any) -> Path:
    """Write config.json and model.safetensors, each atomically (a run killed while saving keeps a loadable folder)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    config_json, weights = checkpoint_bytes(model, **kwargs)
    write_atomically(folder / WEIGHTS_NAME, weights)
    write_atomically(folder / CONFIG_NAME, config_json)
    return folder


def checkpoint_zip(model: nn.Module, **kwargs: Any) -> bytes:
    """The checkpoint folder as a zip (what the app offers for download)."""
    config_json, weights = checkpoint_bytes(model, **kwargs)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(CONFIG_NAME, config_json)
        archive.writestr(WEIGHTS_NAME, weights)
    return buffer.getvalue()


def _parse_meta(config_json: bytes) -> dict[str, Any]:
    try:
        meta = json.loads(config_json.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"{CONFIG_NAME} is not valid JSON ({exc}).") from exc
    if not isinstance(meta, dict):
        raise CheckpointError(f"{CONFIG_NAME} must hold a JSON object.")
    version = meta.get("format_version")
    if not isinstance(version, int):
        raise CheckpointError(f"{CONFIG_NAME} has no integer 'format_version'; is this an AIGC Lab checkpoint?")
    if version > FORMAT_VERSION:
        raise CheckpointError(
            f"This checkpoint uses format version {version}, newer than this app understands ({FORMAT_VERSION}). "
            "Update AIGC Lab to load it."
        )
    for key in ("architecture", "model_config"):
        if key not in meta:
            raise CheckpointError(f"{CONFIG_NAME} is missing '{key}'.")
    if meta["architecture"] not in ARCHITECTURES:
        raise CheckpointError(
            f"Unknown architecture {meta['architecture']!r}; this app knows {', '.join(sorted(ARCHITECTURES))}."
        )
    if not isinstance(meta["model_config"], dict):
        raise CheckpointError(f"'model_config' in {CONFIG_NAME} must be an object.")
    return meta


def _parse_weights(weights: bytes) -> dict[str, torch.Tensor]:
    if weights.startswith(_PICKLE_PREFIXES):
        raise CheckpointError(
            "The weights file looks like a pickle / torch.save file. AIGC Lab never unpickles uploads, because "
            "unpickling can run arbitrary code; save the weights with safetensors instead."
        )
    try:
        return load_safetensors_bytes(weights)
    except (SafetensorError, ValueError, RuntimeError, OSError) as exc:
        raise CheckpointError(f"{WEIGHTS_NAME} is not a valid safetensors file ({exc}).") from exc


def _load_state(model: nn.Module, state: dict[str, torch.Tensor], architecture: str) -> None:
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    if missing or unexpected:
        raise CheckpointError(
            f"The weights do not fit a {architecture} model: {len(missing)} missing "
            f"(e.g. {missing[:3]}), {len(unexpected)} unexpected (e.g. {unexpected[:3]})."
        )
    for name in expected:  # the model's own order, so the first mismatch reported is always the same one
        tensor = state[name]
        if tensor.shape != expected[name].shape:
            raise CheckpointError(
                f"Weight {name!r} has shape {tuple(tensor.shape)}, but this {architecture} config needs "
                f"{tuple(expected[name].shape)}."
            )
        if tensor.dtype != expected[name].dtype:
            raise CheckpointError(f"Weight {name!r} has dtype {tensor.dtype}, expected {expected[name].dtype}.")
    require_finite_weights(state, what=f"This {architecture} checkpoint")
    model.load_state_dict(state)


@dataclass(frozen=True)
class _Sized:
    """A checkpoint's config, checked and sized, before any weight is read."""

    meta: dict[str, Any]
    config: Any
    max_weights_bytes: int  # the largest model.safetensors this config can explain


def _size_config(config_json: bytes, max_params: int, max_activations: int) -> _Sized:
    if len(config_json) > MAX_CONFIG_BYTES:
        raise CheckpointError(f"{CONFIG_NAME} is {len(config_json):,} bytes; an AIGC Lab config is a few kB.")
    meta = _parse_meta(config_json)
    architecture = meta["architecture"]
    config = config_from_dict(architecture, meta["model_config"])
    try:
        check_model_size(config, max_params=max_params, max_activations=max_activations, error=CheckpointError)
    except CheckpointError as exc:
        if "above the limit" in str(exc):
            raise
        raise CheckpointError(f"Cannot build a {architecture} model from this config: {exc}") from exc
    tensors = meta_model(config).state_dict()
    state_bytes = sum(t.numel() * t.element_size() for t in tensors.values())
    # A GAN may carry its EMA generator too (at most the model again); the safetensors header names each tensor.
    return _Sized(meta, config, 2 * state_bytes + 256 * len(tensors) + 64 * 1024)


def _check_weights_size(sized: _Sized, size: int) -> None:
    if size > sized.max_weights_bytes:
        raise CheckpointError(
            f"{WEIGHTS_NAME} is {size:,} bytes, more than a {sized.meta['architecture']} of this config can hold "
            f"(at most {sized.max_weights_bytes:,}); it is not this checkpoint's weights."
        )


def _build(sized: _Sized, weights: bytes) -> Checkpoint:
    _check_weights_size(sized, len(weights))
    architecture = sized.meta["architecture"]
    state = _parse_weights(weights)
    try:
        model = build_model(sized.config)
    except (ValueError, RuntimeError, TypeError, ConfigError) as exc:
        raise CheckpointError(f"Cannot build a {architecture} model from this config: {exc}") from exc
    _load_state(model, state, architecture)
    model.eval()
    return Checkpoint(model=model, architecture=architecture, family=ARCHITECTURES[architecture].family,
                      meta=sized.meta)


def checkpoint_from_bytes(
    config_json: bytes, weights: bytes, *, max_params: int = DEFAULT_MAX_PARAMS,
    max_activations: int = DEFAULT_MAX_ACTIVATIONS,
) -> Checkpoint:
    """A checkpoint from its two files' bytes. A config whose model exceeds `max_params` parameters (or
    `max_activations` values in a forward pass of one sample) is refused before anything is built."""
    return _build(_size_config(config_json, max_params, max_activations), weights)


def load_checkpoint(
    folder: str | Path, *, max_params: int = DEFAULT_MAX_PARAMS, max_activations: int = DEFAULT_MAX_ACTIVATIONS,
) -> Checkpoint:
    folder = Path(folder)
    if not folder.is_dir():
        raise CheckpointError(f"{folder} is not a checkpoint folder.")
    paths = [folder / CONFIG_NAME, folder / WEIGHTS_NAME]
    for path in paths:
        if not path.is_file():
            raise CheckpointError(f"{folder.name} has no {path.name}.")
    try:
        config_size = paths[0].stat().st_size
        if config_size > MAX_CONFIG_BYTES:
            raise CheckpointError(f"{CONFIG_NAME} is {config_size:,} bytes; an AIGC Lab config is a few kB.")
        sized = _size_config(paths[0].read_bytes(), max_params, max_activations)
        _check_weights_size(sized, paths[1].stat().st_size)  # before reading a byte of it
        return _build(sized, paths[1].read_bytes())
    except OSError as exc:
        raise CheckpointError(f"Cannot read {folder.name}: {exc.strerror or exc}") from exc


def load_checkpoint_zip(
    data: bytes, *, max_params: int = DEFAULT_MAX_PARAMS, max_activations: int = DEFAULT_MAX_ACTIVATIONS,
) -> Checkpoint:
    """Load a zipped checkpoint folder (as downloaded from the app), checking it before decompressing.

    Every size is checked against the zip's directory before the member is inflated, and Python's zip reader
    stops at the size the directory declares (a member that inflates to more fails its CRC), so a bomb costs
    kilobytes. The weights are only inflated once config.json has been read and the model sized.
    """
    if not data.startswith(b"PK"):
        if data.startswith(_PICKLE_PREFIXES[:-1]):
            raise CheckpointError(
                "This is a pickle / torch.save file. AIGC Lab never unpickles uploads, because unpickling can run "
                "arbitrary code. Upload a checkpoint .zip exported by AIGC Lab (config.json + model.safetensors)."
            )
        raise CheckpointError("This file is not a zip archive. Upload a checkpoint .zip exported by AIGC Lab.")
    with _reading_zip():
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = {Path(info.filename).name: info for info in archive.infolist() if not info.is_dir()}
        if sum(info.file_size for info in infos.values()) > MAX_ZIP_BYTES:
            raise CheckpointError("The archive unpacks to more than 200 MB; that is not an AIGC Lab checkpoint.")
        for name in (CONFIG_NAME, WEIGHTS_NAME):
            if name not in infos:
                raise CheckpointError(f"The archive has no {name}; expected config.json and model.safetensors.")
        if infos[CONFIG_NAME].file_size > MAX_CONFIG_BYTES:
            raise CheckpointError(
                f"{CONFIG_NAME} unpacks to {infos[CONFIG_NAME].file_size:,} bytes; an AIGC Lab config is a few kB."
            )
        config_json = archive.read(infos[CONFIG_NAME])
    sized = _size_config(config_json, max_params, max_activations)
    _check_weights_size(sized, infos[WEIGHTS_NAME].file_size)
    with _reading_zip():
        weights = archive.read(infos[WEIGHTS_NAME])
    return _build(sized, weights)


@contextlib.contextmanager
def _reading_zip() -> Iterator[None]:
    """Every way Python's zip reader fails on a damaged or unusual archive becomes one CheckpointError."""
    try:
        yield
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, zlib.error, lzma.LZMAError, OSError,
            NotImplementedError, RuntimeError, ValueError, struct.error) as exc:
        # NotImplementedError: an unsupported compression method; RuntimeError: an encrypted member;
        # OSError: bz2's "Invalid data stream"; ValueError / struct.error: malformed headers and extra fields.
        raise CheckpointError(f"The zip archive is damaged or truncated ({exc}).") from exc

