"""Reader for the IDX format used by MNIST (LeCun et al.), gzip-compressed or raw.

Header: two zero bytes, a type code (0x08 = uint8), the number of dimensions, then one big-endian
uint32 per dimension. The payload must hold exactly prod(dims) values; anything else is an error.
"""

import gzip
import math
import os
import struct
import zlib
from pathlib import Path

import numpy as np

from .errors import DataError

_UBYTE = 0x08
_MAX_ITEMS = 500_000_000  # refuse absurd headers before allocating


def _read_bytes(path: Path) -> bytes:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError(f"Cannot read {path.name}: {exc.strerror or exc}") from exc
    if raw[:2] == b"\x1f\x8b":  # gzip magic
        try:
            return gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:  # zlib.error: corrupt deflate data
            raise DataError(f"{path.name} is a damaged or truncated gzip file ({exc}).") from exc
    return raw


def parse_idx(data: bytes, name: str = "IDX data") -> np.ndarray:
    """Parse IDX bytes into a uint8 array shaped as the header says."""
    if len(data) < 4:
        raise DataError(f"{name} is too short to be an IDX file ({len(data)} bytes).")
    zero, type_code, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or ndim == 0 or ndim > 4:
        raise DataError(f"{name} is not an IDX file (bad magic number 0x{data[:4].hex()}).")
    if type_code != _UBYTE:
        raise DataError(f"{name} holds IDX type 0x{type_code:02x}; only unsigned bytes (0x08) are supported.")
    header_len = 4 + 4 * ndim
    if len(data) < header_len:
        raise DataError(f"{name} is truncated inside its header.")
    dims = struct.unpack(f">{ndim}I", data[4:header_len])
    count = math.prod(dims)  # Python ints: np.prod in int64 overflows on absurd headers
    if count > _MAX_ITEMS:
        raise DataError(f"{name} claims an implausible size {dims}.")
    payload = len(data) - header_len
    if payload != count:
        raise DataError(
            f"{name}: the header says {dims} = {count:,} values but the file holds {payload:,} "
            f"({'truncated' if payload < count else 'trailing data'})."
        )
    return np.frombuffer(data, dtype=np.uint8, offset=header_len).reshape(dims)


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (.gz or raw) with strict checks; raises DataError with a readable message."""
    path = Path(path)
    return parse_idx(_read_bytes(path), name=path.name)
