"""Reader for the IDX format used by MNIST (LeCun et al.), gzip-compressed or raw.

Header: two zero bytes, a type code (0x08 = uint8), the number of dimensions, then one big-endian
uint32 per dimension. The payload must hold exactly prod(dims) values; anything else is an error.
"""

import gzip
import io
import math
import os
import struct
import zlib
from pathlib import Path
from typing import BinaryIO

import numpy as np

from .errors import DataError

_UBYTE = 0x08
# Refuse absurd headers before reading a payload byte: the largest MNIST look-alike we know of (EMNIST digits,
# 240,000 images) holds 188 M values; MNIST's training images 47 M.
MAX_ITEMS = 200_000_000
_CHUNK = 1 << 20  # read (and inflate) this much at a time, so a lying file costs at most one chunk more


class _Stream:
    """Reads from a raw or gzip stream, turning the gzip module's many failures into one DataError."""

    def __init__(self, stream: BinaryIO, name: str, compressed: bool) -> None:
        self.stream, self.name, self.compressed = stream, name, compressed

    def read(self, n: int) -> bytes:
        try:
            return self.stream.read(n)
        except (OSError, EOFError, zlib.error) as exc:  # BadGzipFile is an OSError; zlib.error: corrupt deflate
            if self.compressed:
                raise DataError(f"{self.name} is a damaged or truncated gzip file ({exc}).") from exc
            raise DataError(f"Cannot read {self.name}: {getattr(exc, 'strerror', None) or exc}") from exc

    def read_up_to(self, n: int) -> bytearray:
        """At most n bytes, fewer only at the end of the stream; grows as data arrives (no allocation of n)."""
        out = bytearray()
        while len(out) < n:
            chunk = self.read(min(_CHUNK, n - len(out)))
            if not chunk:
                break
            out += chunk
        return out


def _parse(stream: _Stream, max_items: int) -> np.ndarray:
    name = stream.name
    head = stream.read_up_to(4)
    if len(head) < 4:
        raise DataError(f"{name} is too short to be an IDX file ({len(head)} bytes).")
    zero, type_code, ndim = struct.unpack(">HBB", head)
    if zero != 0 or ndim == 0 or ndim > 4:
        raise DataError(f"{name} is not an IDX file (bad magic number 0x{bytes(head).hex()}).")
    if type_code != _UBYTE:
        raise DataError(f"{name} holds IDX type 0x{type_code:02x}; only unsigned bytes (0x08) are supported.")
    raw_dims = stream.read_up_to(4 * ndim)
    if len(raw_dims) < 4 * ndim:
        raise DataError(f"{name} is truncated inside its header.")
    dims = struct.unpack(f">{ndim}I", raw_dims)
    count = math.prod(dims)  # Python ints: np.prod in int64 overflows on absurd headers
    if count > max_items:
        raise DataError(f"{name} claims an implausible size {dims}.")
    payload = stream.read_up_to(count)
    extra = stream.read_up_to(_CHUNK) if len(payload) == count else b""
    if len(payload) != count or extra:
        # Past one chunk of trailing data, stop: a gzip bomb with a small header costs one chunk, not gigabytes.
        more = bool(extra) and len(extra) == _CHUNK and bool(stream.read(1))
        held = f"{'more than ' if more else ''}{len(payload) + len(extra):,}"
        raise DataError(
            f"{name}: the header says {dims} = {count:,} values but the file holds {held} "
            f"({'truncated' if len(payload) < count else 'trailing data'})."
        )
    array = np.frombuffer(payload, dtype=np.uint8).reshape(dims)
    array.flags.writeable = False  # as before: the arrays are cached and shared
    return array


def parse_idx(data: bytes, name: str = "IDX data", *, max_items: int = MAX_ITEMS) -> np.ndarray:
    """Parse IDX bytes into a uint8 array shaped as the header says."""
    return _parse(_Stream(io.BytesIO(data), name, compressed=False), max_items)


def read_idx(path: str | os.PathLike, *, max_items: int = MAX_ITEMS) -> np.ndarray:
    """Read an IDX file (.gz or raw) with strict checks; raises DataError with a readable message.

    A .gz file is inflated as it is read, and only as far as its IDX header says it should go (plus one chunk to
    see trailing data): a bomb is refused after a megabyte, before it is inflated whole.
    """
    path = Path(path)
    try:
        with path.open("rb") as file:
            compressed = file.read(2) == b"\x1f\x8b"  # gzip magic
            file.seek(0)
            if compressed:
                with gzip.GzipFile(fileobj=file, mode="rb") as stream:
                    return _parse(_Stream(stream, path.name, compressed=True), max_items)
            return _parse(_Stream(file, path.name, compressed=False), max_items)
    except OSError as exc:  # open() itself: missing file, a directory, no permission
        raise DataError(f"Cannot read {path.name}: {exc.strerror or exc}") from exc
