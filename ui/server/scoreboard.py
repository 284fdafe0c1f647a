"""The class scoreboard of the Real-or-fake game (teacher mode): every session on the server adds its rounds under a
nickname, and everyone sees the top of the board.

Why a process-wide object: the board *is* what the sessions share, so it cannot live in one session's state. It
lives in `st.cache_resource` (one object per server process, made on first use, gone on a restart), which is the
place for shared state that Streamlit documents. Unlike the other cached resources (pretrained models, data), this
one changes, so it stays tiny and safe: nicknames and three counters each, at most `MAX_NAMES` of them (a flood of
new names is refused with a message, never stored), every read and write under one lock, and a teacher can wipe it.
Nothing personal is kept: no session id, address or time, only the nickname a student typed and their counts.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from dataclasses import dataclass
from typing import Literal

import streamlit as st

MAX_NAMES = 200  # nicknames on the board: a class or two; more is a flood
TOP = 20  # rows shown
NICK_MAX = 20  # characters in a nickname
# Letters and digits of any script (\w is Unicode-aware), spaces inside, and . _ - : no markup, no control characters.
_NICK = re.compile(r"\w[\w .\-]*")

NickProblem = Literal["empty", "too_long", "bad_chars"]
AddResult = Literal["added", "updated", "full"]


def check_nickname(raw: object) -> tuple[str | None, NickProblem | None]:
    """(the nickname as kept, None) or (None, what is wrong with it). Spaces are trimmed and runs of them
    collapsed; the text is NFC-normalised so the same name typed twice is the same entry."""
    text = " ".join(unicodedata.normalize("NFC", str(raw or "")).split())
    if not text:
        return None, "empty"
    if len(text) > NICK_MAX:
        return None, "too_long"
    if not _NICK.fullmatch(text):
        return None, "bad_chars"
    return text, None


@dataclass(frozen=True)
class Row:
    nickname: str
    rounds: int
    correct: int
    total: int

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0


class Scoreboard:
    """Nickname -> rounds played and tiles judged right. Thread-safe: every session on the server shares one."""

    def __init__(self, max_names: int = MAX_NAMES) -> None:
        self.max_names = max_names
        self._rows: dict[str, Row] = {}  # key: the nickname case-folded, so "Ada" and "ada" are one player
        self._lock = threading.Lock()

    def add(self, nickname: str, correct: int, total: int) -> AddResult:
        """Add one scored round; "full" (nothing stored) when the name is new and the board holds `max_names`."""
        name, problem = check_nickname(nickname)
        if problem is not None or name is None:
            raise ValueError(f"not a valid nickname: {problem}")
        if not 0 <= correct <= total:
            raise ValueError(f"a round scores 0 to {total} tiles, not {correct}")
        key = name.casefold()
        with self._lock:
            old = self._rows.get(key)
            if old is None and len(self._rows) >= self.max_names:
                return "full"
            rounds, right, seen = (old.rounds, old.correct, old.total) if old else (0, 0, 0)
            self._rows[key] = Row(old.nickname if old else name, rounds + 1, right + correct, seen + total)
            return "updated" if old else "added"

    def top(self, n: int = TOP) -> list[Row]:
        """The best `n` rows: accuracy first, then more tiles judged, then the name."""
        with self._lock:
            rows = list(self._rows.values())
        return sorted(rows, key=lambda r: (-r.accuracy, -r.total, r.nickname.casefold()))[:n]

    def reset(self) -> int:
        """Empty the board; returns how many names it held."""
        with self._lock:
            count = len(self._rows)
            self._rows.clear()
            return count

    def __len__(self) -> int:
        with self._lock:
            return len(self._rows)


@st.cache_resource(show_spinner=False)
def class_board() -> Scoreboard:
    """The server's one board (see the module docstring for why it is shared)."""
    return Scoreboard()
