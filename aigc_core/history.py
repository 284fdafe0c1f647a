"""What a live run remembers: per-step metrics (column-wise, chart-sized on demand) and a thinning timeline of
sample-grid snapshots. Plain NumPy; the Train page keeps one of each in session state.

Charts must stay cheap however long a run gets (90 steps/s for ten minutes is 54,000 records), so
`MetricHistory.downsampled(max_points)` averages consecutive records into at most `max_points` bins
(NaN-aware: a bin's mean ignores NaN entries; a bin of NaN only stays NaN). The CSV keeps every record.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, is_dataclass
from typing import Any, TypeVar

import numpy as np

T = TypeVar("T")


def _as_mapping(record: Any) -> Mapping[str, Any]:
    """A record's fields; a tuple field (e.g. a diffusion step's loss by noise level) becomes `name_0`, `name_1`, …"""
    if isinstance(record, Mapping):
        fields = record
    elif is_dataclass(record):
        fields = asdict(record)
    else:
        raise TypeError(f"expected a mapping or a dataclass record, got {type(record).__name__}")
    if not any(isinstance(value, (tuple, list)) for value in fields.values()):
        return fields
    flat: dict[str, Any] = {}
    for name, value in fields.items():
        if isinstance(value, (tuple, list)):
            flat.update({f"{name}_{i}": item for i, item in enumerate(value)})
        else:
            flat[name] = value
    return flat


class MetricHistory:
    """Numeric columns grown in place (amortised doubling), plus optional text columns (e.g. "phase")."""

    def __init__(self, numeric: Sequence[str], text: Sequence[str] = ()) -> None:
        self.numeric = tuple(numeric)
        self.text = tuple(text)
        self._data = np.full((len(self.numeric), 256), np.nan)
        self._text: dict[str, list[str]] = {name: [] for name in self.text}
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def append(self, record: Any) -> None:
        self.extend([record])

    def extend(self, records: Iterable[Any]) -> None:
        rows = [_as_mapping(r) for r in records]
        if not rows:
            return
        needed = self._size + len(rows)
        if needed > self._data.shape[1]:
            grown = np.full((len(self.numeric), max(needed, 2 * self._data.shape[1])), np.nan)
            grown[:, : self._size] = self._data[:, : self._size]
            self._data = grown
        block = np.array([[float(row.get(name, math.nan)) for name in self.numeric] for row in rows]).T
        self._data[:, self._size : needed] = block
        for name in self.text:
            self._text[name].extend(str(row.get(name, "")) for row in rows)
        self._size = needed

    def drop_after(self, step: float, column: str = "step") -> int:
        """Forget the records whose `column` is above `step` (a trainer rolled back after a divergence and will
        redo those steps); returns how many were dropped. Records are in step order, so the tail goes."""
        values = self._data[self.numeric.index(column), : self._size]
        if not self._size or values[-1] <= step:  # the usual case, checked before every slice: nothing to drop
            return 0
        later = np.flatnonzero(values > step)
        if not later.size:
            return 0
        keep = int(later[0])
        dropped = self._size - keep
        self._data[:, keep : self._size] = np.nan
        for name in self.text:
            del self._text[name][keep:]
        self._size = keep
        return dropped

    def column(self, name: str) -> np.ndarray:
        """A read-only view of one numeric column (length len(self))."""
        view = self._data[self.numeric.index(name), : self._size]
        view.flags.writeable = False
        return view

    def last(self) -> dict[str, Any] | None:
        if not self._size:
            return None
        row: dict[str, Any] = {name: float(self._data[i, self._size - 1]) for i, name in enumerate(self.numeric)}
        row.update({name: values[-1] for name, values in self._text.items()})
        return row

    def downsampled(self, max_points: int = 600) -> dict[str, np.ndarray]:
        """Every numeric column averaged over bins of consecutive records, at most `max_points` values each.

        Bins are `ceil(n / max_points)` records wide; the last may be shorter. With n <= max_points the
        columns are returned as they are (copies).
        """
        if max_points < 1:
            raise ValueError("max_points must be at least 1")
        data = self._data[:, : self._size]
        n = self._size
        width = max(1, math.ceil(n / max_points))
        if width == 1:
            return {name: data[i].copy() for i, name in enumerate(self.numeric)}
        bins = math.ceil(n / width)
        padded = np.full((len(self.numeric), bins * width), np.nan)
        padded[:, :n] = data
        blocks = padded.reshape(len(self.numeric), bins, width)
        finite = ~np.isnan(blocks)
        counts = finite.sum(axis=2)
        sums = np.where(finite, blocks, 0.0).sum(axis=2)
        with np.errstate(invalid="ignore", divide="ignore"):
            means = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
        return {name: means[i] for i, name in enumerate(self.numeric)}

    def to_csv(self) -> bytes:
        """Every record, one row each, with a header; UTF-8."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow([*self.numeric, *self.text])
        data = self._data[:, : self._size]
        for row in range(self._size):
            numbers = [_csv_number(v) for v in data[:, row]]
            writer.writerow([*numbers, *(self._text[name][row] for name in self.text)])
        return buffer.getvalue().encode("utf-8")


def _csv_number(value: float) -> str:
    if math.isnan(value):
        return ""
    if value == int(value) and abs(value) < 2**53:
        return str(int(value))
    return repr(float(value))


def thin_evenly(items: Sequence[T]) -> list[T]:
    """Every other item, always keeping the first and the last: the same span with about half the items."""
    if len(items) <= 2:
        return list(items)
    return [items[0], *items[1:-1][1::2], items[-1]]


class SnapshotTimeline:
    """Snapshots (step, picture) taken at least `every` steps apart (the live page checks between slices); when
    `capacity` is reached, every other one is dropped (the first and the newest stay) and the interval becomes the
    kept ones' spacing, at least doubled, so a long run keeps an evenly spaced history of its whole span in bounded
    memory (the Train page's History tab and GIF, the playground's GIF)."""

    def __init__(self, every: int = 100, capacity: int = 120) -> None:
        if every < 1 or capacity < 2:
            raise ValueError("every must be >= 1 and capacity >= 2")
        self.every = every
        self.capacity = capacity
        self.items: list[tuple[int, Any]] = []

    def __len__(self) -> int:
        return len(self.items)

    def due(self, step: int) -> bool:
        """Whether a snapshot at `step` should be taken (the first one always is)."""
        if not self.items:
            return True
        return step >= self.items[-1][0] + self.every

    def add(self, step: int, picture: Any) -> None:
        if self.items and step <= self.items[-1][0]:
            self.items[-1] = (step, picture)  # the same step again (e.g. after a reload): keep the newest
            return
        self.items.append((step, picture))
        if len(self.items) > self.capacity:
            first = self.items[0]
            self.items = thin_evenly(self.items)
            # The next snapshots follow at the spacing the kept ones now have: when a live slice spans more steps
            # than `every`, doubling `every` alone would fill the newest half twice as densely as the oldest.
            spacing = math.ceil((self.items[-1][0] - first[0]) / (len(self.items) - 1))
            self.every = max(self.every * 2, spacing)

    def drop_after(self, step: int) -> None:
        """Forget the snapshots taken after `step` (the trainer went back to it after a divergence)."""
        self.items = [item for item in self.items if item[0] <= step]

    def steps(self) -> list[int]:
        return [step for step, _ in self.items]
