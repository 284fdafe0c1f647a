"""The Train page's autosave: what of a `TrainRun` goes to disk (ui/server/autosave.py keeps the files, one set per
tab token) and how the run comes back from it when a reloaded tab finds no run on a restarted server.

Written every `ui.server.autosave.every_s()` seconds while training (from the live fragment, after a slice) and
when training is paused:
- ``config.json`` + ``model.safetensors``: the model as `aigc_core.checkpoints` writes it (for a GAN with a weight
  EMA the generator is the EMA one, as in a download), with the training config and the step counts;
- ``run.json``: the sidebar's settings and widget values, where the model came from, the counters;
- ``history.safetensors``: the metric and quality histories' numeric columns, thinned to `MAX_HISTORY_ROWS`.
Not kept: the optimizer's moments and the data order (a restored run goes on like an uploaded checkpoint), the
History tab's sample grids, text columns of the history (a GAN record's phase). Loading goes through
`aigc_core.checkpoints` with the server's caps; nothing is unpickled.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, is_dataclass
from typing import Any

import numpy as np
import streamlit as st
import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_tensors
from safetensors.torch import save as save_tensors

from aigc_core.checkpoints import CONFIG_NAME, WEIGHTS_NAME, checkpoint_bytes, checkpoint_from_bytes
from aigc_core.errors import AigcError
from aigc_core.history import MetricHistory
from aigc_core.models.registry import architecture_of, config_from_dict, config_to_dict
from aigc_core.resume import train_config_from_dict, trainer_from_checkpoint
from ui.i18n import t
from ui.resources import device
from ui.server import autosave, limits, parking
from ui.server.autosave import AutosaveError
from ui.text import plain
from ui.train.run import Settings, TrainRun

RUN_NAME = "run.json"
HISTORY_NAME = "history.safetensors"
# A denoiser's EMA weights, which draw its samples (the export saves them as the model); absent for GANs (their EMA
# generator is inside the checkpoint) and VAEs. An autosave without it restarts the EMA from the weights.
EMA_NAME = "ema.safetensors"
FORMAT = 1
MAX_HISTORY_ROWS = 20_000  # ~1.5 MB of float64 for a GAN's 9 columns; the charts draw at most 600 points anyway
MAX_RUN_JSON_BYTES = 1024 * 1024
SAVED_AT = "_aigc_autosave_at"  # session state: (run id, time.monotonic() of its last autosave)
WARNED = "_aigc_autosave_warned"  # session state: the failed-write warning was shown (once per session)


# --- a run as files, and back (no Streamlit calls) ------------------------------------------------------------


def _encode(value: Any) -> Any:
    """A settings value as JSON: a model config as its architecture and fields, numbers and text as they are."""
    if is_dataclass(value) and not isinstance(value, type):
        return {"architecture": architecture_of(value).name, "config": config_to_dict(value)}
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"architecture", "config"}:
        return config_from_dict(value["architecture"], value["config"])
    return value


def _thinned(history: MetricHistory) -> torch.Tensor:
    """(columns, rows) float64, evenly thinned to MAX_HISTORY_ROWS rows (the first and last kept)."""
    data = np.stack([history.column(name) for name in history.numeric]) if len(history) else np.zeros(
        (len(history.numeric), 0))
    if data.shape[1] > MAX_HISTORY_ROWS:
        keep = np.unique(np.linspace(0, data.shape[1] - 1, MAX_HISTORY_ROWS).round().astype(np.int64))
        data = data[:, keep]
    return torch.from_numpy(np.ascontiguousarray(data, dtype=np.float64))


def run_files(run: TrainRun) -> dict[str, bytes]:
    """What an autosave of `run` holds, file name -> bytes."""
    trainer = run.trainer
    provenance = {"source": "AIGC Lab autosave", "preset": run.settings.preset, "steps": trainer.iteration}
    if run.family == "gan":
        provenance["d_updates"] = trainer.d_updates
    sampling = getattr(trainer, "ema_generator", None) if run.family == "gan" else None
    config_json, weights = checkpoint_bytes(trainer.model, sampling_generator=sampling,
                                            train_config=asdict(trainer.config), provenance=provenance)
    settings = run.settings
    state = {
        "format": FORMAT,
        "settings": {"family": settings.family, "preset": settings.preset, "start": settings.start,
                     "model_config": _encode(settings.model_config)},
        "structure": [_encode(part) for part in run.structure],
        "origin": run.origin, "origin_name": run.origin_name,
        "widget_values": {k: v for k, v in run.widget_values.items() if isinstance(v, (str, int, float, bool))},
        "train_seconds": run.train_seconds, "images_seen": run.images_seen, "last_quality_at": run.last_quality_at,
        "history_fields": list(run.history.numeric), "history_text": list(run.history.text),
        "quality_fields": list(run.quality.numeric),
    }
    history = save_tensors({"history": _thinned(run.history), "quality": _thinned(run.quality)})
    files = {CONFIG_NAME: config_json, WEIGHTS_NAME: weights, RUN_NAME: json.dumps(state).encode("utf-8"),
             HISTORY_NAME: history}
    ema = getattr(trainer, "ema_model", None) if run.family == "diffusion" else None
    if ema is not None:
        files[EMA_NAME] = save_tensors({k: v.detach().cpu().contiguous() for k, v in ema.state_dict().items()})
    return files


def _load_ema(trainer: Any, data: bytes) -> None:
    """The saved EMA into the restored denoiser's EMA copy: same names and shapes, finite, or an AutosaveError."""
    ema = getattr(trainer, "ema_model", None)
    if ema is None:
        return  # a run whose config has no EMA: nothing to restore into
    tensors = load_tensors(data)
    own = ema.state_dict()
    if set(tensors) != set(own) or any(tensors[k].shape != own[k].shape for k in own):
        raise AutosaveError("The autosave's EMA weights do not match its model.")
    if not all(torch.isfinite(v).all() for v in tensors.values() if v.is_floating_point()):
        raise AutosaveError("The autosave's EMA weights are not finite.")
    ema.load_state_dict(tensors)


def _history(fields: list, text: list, data: torch.Tensor) -> MetricHistory:
    if not all(isinstance(name, str) for name in [*fields, *text]) or data.ndim != 2 or data.shape[0] != len(fields):
        raise AutosaveError("The autosave's history does not match its field names.")
    history = MetricHistory(fields, text)
    values = data.to(torch.float64).numpy()
    history.extend([dict(zip(fields, column)) for column in values.T.tolist()])
    return history


def run_from_files(files: dict[str, bytes], make_run: Callable[..., TrainRun], *, max_params: int,
                   device: torch.device | str = "cpu", enforce: Callable[..., None] | None = None) -> TrainRun:
    """The run an autosave holds, paused. `make_run(settings, trainer, origin, origin_name)` builds a new run as the
    page does (ui.train.controls.new_run); `enforce(batch_size=..., config=...)` may refuse it before it is built
    (the server's caps, ui.server.limits.enforce). Raises AigcError (a damaged file, a model above a cap)."""
    for name in (CONFIG_NAME, WEIGHTS_NAME, RUN_NAME, HISTORY_NAME):
        if name not in files:
            raise AutosaveError(f"The autosave has no {name}.")
    if len(files[RUN_NAME]) > MAX_RUN_JSON_BYTES:
        raise AutosaveError(f"The autosave's {RUN_NAME} is too large.")
    try:
        state = json.loads(files[RUN_NAME].decode("utf-8"))
        tensors = load_tensors(files[HISTORY_NAME])
        if not isinstance(state, dict) or state.get("format") != FORMAT:
            raise AutosaveError(f"The autosave's {RUN_NAME} is not one this version writes.")
        checkpoint = checkpoint_from_bytes(files[CONFIG_NAME], files[WEIGHTS_NAME], max_params=max_params)
        train_config = train_config_from_dict(checkpoint.family, checkpoint.train_config)
        saved = state["settings"]
        settings = Settings(str(saved["family"]), str(saved["preset"]), str(saved["start"]),
                            _decode(saved["model_config"]), train_config)
        if enforce is not None:
            enforce(batch_size=train_config.batch_size, config=checkpoint.model.config)
        trainer = trainer_from_checkpoint(checkpoint, train_config, device=device, max_params=max_params)
        if EMA_NAME in files:
            _load_ema(trainer, files[EMA_NAME])
        run = make_run(settings, trainer, str(state["origin"]), str(state["origin_name"]))
        run.structure = tuple(_decode(part) for part in state["structure"])
        run.widget_values = dict(state["widget_values"])
        run.history = _history(state["history_fields"], state["history_text"], tensors["history"])
        run.quality = _history(state["quality_fields"], [], tensors["quality"])
        run.train_seconds = float(state["train_seconds"])
        run.images_seen = int(state["images_seen"])
        run.last_quality_at = float(state["last_quality_at"])
    except AigcError:
        raise
    except (UnicodeDecodeError, json.JSONDecodeError, SafetensorError, KeyError, TypeError, ValueError,
            AttributeError) as exc:
        raise AutosaveError(f"The autosave is damaged ({type(exc).__name__}: {exc}).") from exc
    run.running = False
    return run


# --- glue for the page (Streamlit) -------------------------------------------------------------------------------


def save(run: TrainRun) -> bool:
    """Write this tab's autosave now (when it has a token: a run worth keeping). A full or read-only disk is said
    once per session, and training goes on. Returns whether a file was written."""
    token = parking.token()
    if token is None or not run.trained:
        return False
    st.session_state[SAVED_AT] = (id(run), time.monotonic())
    try:
        autosave.store().write(token, run_files(run))
    except OSError as exc:
        if not st.session_state.get(WARNED):
            st.session_state[WARNED] = True
            reason = plain(exc.strerror or exc)
            st.toast(t("train.autosave_failed", reason=reason), icon=":material/sd_card_alert:", duration="long")
        return False
    return True


def maybe_save(run: TrainRun) -> None:
    """After a slice: write the autosave if the last one of this run is `every_s` seconds old."""
    run_id, at = st.session_state.get(SAVED_AT, (None, 0.0))
    if run_id != id(run):  # a new run (or a restored one): count from now, its first write comes one period later
        st.session_state[SAVED_AT] = (id(run), time.monotonic())
        return
    if time.monotonic() - at >= autosave.every_s():
        save(run)


def restore(token: str, make_run: Callable[..., TrainRun]) -> TrainRun | None:
    """The run autosaved under `token`, or None when there is none or it cannot be used (said on the page; a
    damaged file is deleted)."""
    saved = autosave.store()
    try:
        files = saved.read(token)
        if files is None:
            return None
        return run_from_files(files, make_run, max_params=limits.current().max_params, device=device(),
                              enforce=limits.enforce)
    except AigcError as exc:
        st.warning(t("train.autosave_unreadable", message=plain(exc)), icon=":material/sd_card_alert:")
        if not isinstance(exc, limits.LimitError):  # a damaged file stays damaged; a cap may be raised again
            saved.discard(token)
        return None
