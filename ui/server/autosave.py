"""Autosaves on disk: a tab's trained run survives the server being killed (SIGKILL, a power cut, the machine's
out-of-memory killer), not only a page reload (ui/server/parking.py keeps runs in memory only).

One file per tab token (the ``?run=`` token of ui/server/parking.py): ``<token>.zip``, holding the files the
feature gives it (the Train page's are in ui/train/autosave.py: the checkpoint's config.json + model.safetensors,
run.json, history.safetensors). JSON and safetensors only: nothing here is ever unpickled. The zip is stored, not
deflated (weights barely compress, and a write happens every few seconds of training).

A write goes to a temporary name in the same folder, is fsynced, then ``os.replace``d over the old file, so a
reader sees the previous autosave or the new one, never half of one; a temporary file is never read.

Where and how much (environment, else the defaults below):
- ``AIGC_AUTOSAVE_DIR``: the folder (default ``.aigc_autosave/`` in the repository root, gitignored). It must
  outlive the server process, so it is not a temporary folder;
- ``AIGC_AUTOSAVE_SECONDS``: how often a training run is written (default 10 s, so a restart loses at most that
  plus one write);
- ``AIGC_AUTOSAVE_MAX_RUNS`` / ``AIGC_AUTOSAVE_MAX_MB``: at most this many files and megabytes; the oldest go first
  (the file just written always stays);
- the idle rule (``AIGC_IDLE_MINUTES``, ui/server/limits.py): a file not written for that long is deleted, when the
  server first uses the folder and at every write.
Bad values fall back to the default, as in ui/server/limits.py.
"""

from __future__ import annotations

import io
import logging
import math
import os
import secrets
import threading
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from aigc_core.errors import CheckpointError
from ui.server import limits
from ui.server.parking import is_token

_log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]
SUFFIX = ".zip"
TEMP_SUFFIX = ".tmp"
MAX_FILE_BYTES = 256 * 1024 * 1024  # above any model the caps allow (20M parameters are 80 MB) plus its history
STALE_TEMP_S = 120.0  # a temporary file this old belongs to a write that died with its process


class AutosaveError(CheckpointError):
    """An autosave file could not be read (damaged, truncated, not ours); the message says why."""


@dataclass(frozen=True)
class AutosaveConfig:
    folder: Path = ROOT / ".aigc_autosave"
    every_s: float = 10.0
    max_runs: int = 40
    max_mb: float = 512.0


_ENV = {"every_s": "AIGC_AUTOSAVE_SECONDS", "max_runs": "AIGC_AUTOSAVE_MAX_RUNS", "max_mb": "AIGC_AUTOSAVE_MAX_MB"}


def read_config(environ: dict[str, str] | None = None) -> AutosaveConfig:
    environ = os.environ if environ is None else environ
    defaults = AutosaveConfig()
    values: dict[str, object] = {}
    folder = environ.get("AIGC_AUTOSAVE_DIR", "").strip()
    if folder:
        values["folder"] = Path(folder).expanduser()
    for name, env_name in _ENV.items():
        raw = environ.get(env_name)
        if raw is None:
            continue
        default = getattr(defaults, name)
        try:
            number = float(raw)
            if not math.isfinite(number) or number <= 0:
                raise ValueError
            values[name] = int(number) if isinstance(default, int) else number
        except (TypeError, ValueError, OverflowError):
            _log.warning("Ignoring %s=%r (need a positive number); using %s", env_name, raw, default)
    return AutosaveConfig(**values)


class AutosaveStore:
    """Token -> the files of one autosave, in one folder. Thread-safe within a process (a lock around writes and
    sweeps); one server per folder."""

    def __init__(self, folder: str | Path, *, max_runs: int = 40, max_bytes: int = 512 * 1024 * 1024,
                 max_age_s: float = 3600.0, clock: Callable[[], float] = time.time) -> None:
        self.folder = Path(folder)
        self.max_runs = max_runs
        self.max_bytes = max_bytes
        self.max_age_s = max_age_s
        self.clock = clock  # wall-clock seconds, compared with file modification times
        self._lock = threading.Lock()

    def path(self, token: str) -> Path:
        if not is_token(token):  # the token comes from a URL: never a path of its own
            raise ValueError(f"not a run token: {token!r}")
        return self.folder / f"{token}{SUFFIX}"

    def write(self, token: str, files: dict[str, bytes]) -> Path:
        """Replace the token's autosave with these files, atomically; then apply the bounds. Raises OSError (a full
        or read-only disk, a folder that cannot be made): the caller says so and carries on."""
        final = self.path(token)
        with self._lock:
            self.folder.mkdir(parents=True, exist_ok=True)
            temp = self.folder / f".{token}.{secrets.token_hex(4)}{TEMP_SUFFIX}"
            try:
                with open(temp, "wb") as handle:
                    with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_STORED) as archive:
                        for name, data in files.items():
                            archive.writestr(name, data)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(temp, final)
            finally:
                if temp.exists():
                    temp.unlink(missing_ok=True)
            _fsync_folder(self.folder)
            self._sweep(keep=final)
        return final

    def read(self, token: str) -> dict[str, bytes] | None:
        """The files of the token's autosave, or None when there is none. Raises AutosaveError for a damaged one."""
        path = self.path(token)
        try:
            size = path.stat().st_size
            if size > MAX_FILE_BYTES:
                raise AutosaveError(f"{path.name} is {size:,} bytes, more than an autosave can be.")
            data = path.read_bytes()
        except (FileNotFoundError, NotADirectoryError):  # no autosave, or no folder to hold one
            return None
        except OSError as exc:
            raise AutosaveError(f"Cannot read {path.name}: {exc.strerror or exc}") from exc
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                infos = archive.infolist()
                if sum(info.file_size for info in infos) > MAX_FILE_BYTES:
                    raise AutosaveError(f"{path.name} unpacks to more than an autosave can be.")
                return {info.filename: archive.read(info) for info in infos if not info.is_dir()}
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, NotImplementedError, RuntimeError,
                ValueError) as exc:
            raise AutosaveError(f"{path.name} is damaged or truncated ({exc}).") from exc

    def discard(self, token: str) -> None:
        try:
            self.path(token).unlink(missing_ok=True)
        except OSError:
            pass  # a read-only folder: the bounds and the idle rule will try again

    def tokens(self) -> list[str]:
        """The tokens that have an autosave, newest first."""
        return [path.name[: -len(SUFFIX)] for path, _ in self._files()]

    def sweep(self) -> int:
        """Delete dead temporary files, autosaves older than the idle rule, then the oldest beyond the bounds.
        Returns how many autosaves were deleted."""
        with self._lock:
            return self._sweep(keep=None)

    # --- inside the lock -------------------------------------------------------------------------------------

    def _files(self) -> list[tuple[Path, os.stat_result]]:
        """(path, stat) of every autosave, newest first."""
        found = []
        try:
            entries = list(self.folder.iterdir())
        except OSError:
            return []
        for path in entries:
            if path.suffix != SUFFIX or not is_token(path.name[: -len(SUFFIX)]):
                continue
            try:
                found.append((path, path.stat()))
            except OSError:
                continue
        return sorted(found, key=lambda item: item[1].st_mtime, reverse=True)

    def _sweep(self, keep: Path | None) -> int:
        now = self.clock()
        try:
            for temp in self.folder.glob(f".*{TEMP_SUFFIX}"):
                try:
                    if now - temp.stat().st_mtime > STALE_TEMP_S:
                        temp.unlink(missing_ok=True)
                except OSError:
                    continue
        except OSError:
            return 0
        deleted, count, total = 0, 0, 0
        for path, info in self._files():
            count += 1
            total += info.st_size
            too_old = now - info.st_mtime > self.max_age_s
            too_many = count > self.max_runs or total > self.max_bytes
            if path != keep and (too_old or too_many):
                try:
                    path.unlink(missing_ok=True)
                    deleted += 1
                except OSError:
                    pass
                count -= 1
                total -= info.st_size
        return deleted


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable (best effort: not every file system opens folders)."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


_STORE: AutosaveStore | None = None
_STORE_LOCK = threading.Lock()


def store() -> AutosaveStore:
    """The server's store, with the bounds in force now. Made on first use (and when AIGC_AUTOSAVE_DIR names
    another folder), and then swept: files left from before a restart that the idle rule has expired go."""
    global _STORE
    config = read_config()
    with _STORE_LOCK:
        if _STORE is None or _STORE.folder != config.folder:
            _STORE = AutosaveStore(config.folder)
            fresh = True
        else:
            fresh = False
        _STORE.max_runs, _STORE.max_bytes = config.max_runs, int(config.max_mb * 2**20)
        _STORE.max_age_s = limits.current().idle_minutes * 60
        if fresh:
            _STORE.sweep()
        return _STORE


def every_s() -> float:
    """Seconds of training between two autosaves of a run."""
    return read_config().every_s
