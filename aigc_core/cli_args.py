"""What every `python -m aigc_core` subcommand shares: argument types that say their range, and the progress bar."""

import argparse
import sys
import time
from typing import Callable, TextIO

from .models.size import DEFAULT_MAX_PARAMS


class Progress:
    """A one-line progress bar with rate and ETA, redrawn at most every 0.5 s (stderr)."""

    def __init__(self, total: int, stream: TextIO = sys.stderr, width: int = 28, first: int = 0) -> None:
        self.total, self.stream, self.width, self.first = total, stream, width, first  # first: steps done before
        self.start = self._last = time.perf_counter()

    def update(self, done: int, note: str = "", force: bool = False) -> None:
        now = time.perf_counter()
        if not force and now - self._last < 0.5:
            return
        self._last = now
        elapsed = now - self.start
        rate = (done - self.first) / elapsed if elapsed > 0 else 0.0
        eta = (self.total - done) / rate if rate > 0 else float("inf")
        filled = int(self.width * done / max(self.total, 1))
        bar = "#" * filled + "." * (self.width - filled)
        self.stream.write(
            f"\r[{bar}] {done}/{self.total} {rate:6.1f} it/s elapsed {clock(elapsed)} ETA {clock(eta)} {note}   "
        )
        self.stream.flush()

    def close(self) -> None:
        self.stream.write("\n")
        self.stream.flush()


def clock(seconds: float) -> str:
    if seconds == float("inf"):
        return "--:--"
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes:d}:{secs:02d}"


def whole(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: a whole number in [low, high], else a usage error (exit 2) that says the range."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be from {low:,} to {high:,}, not {value:,}")
        return value

    parse.__name__ = "whole number"  # what argparse calls the type in its messages
    return parse


SEED = whole(0, 2**63 - 1)


def add_max_params(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--max-params", type=whole(1, 10**12), default=DEFAULT_MAX_PARAMS,
                        help=f"refuse a checkpoint whose config has more parameters (default {DEFAULT_MAX_PARAMS:,}); "
                             "checked from config.json before anything is built")
