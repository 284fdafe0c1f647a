"""Time-sliced training: run steps for about `seconds`, then hand control back to the caller.

The live pages call this from a fragment that redraws between slices, so Pause responds within one
slice while the training loop itself stays a tight Python loop. The bench measures this exact path.
"""

import time
from typing import Any, Callable, Protocol


class Steppable(Protocol):
    def step(self) -> Any: ...


def run_slice(
    trainer: Steppable, seconds: float, max_steps: int | None = None, keep_going: Callable[[], bool] | None = None,
) -> list[Any]:
    """Call trainer.step() until `seconds` have passed (at least once), `max_steps` are done or `keep_going()`
    turns false. The last lets another thread stop a slice under way (a reloaded tab that adopted the run pauses
    it while the old tab's slice is still running), so a paused run takes at most one more step.

    Exceptions (e.g. TrainingDiverged) propagate; the records of the steps already taken are
    attached to the exception as `.records` so the caller can still plot them.
    """
    records: list[Any] = []
    deadline = time.perf_counter() + seconds
    try:
        while True:
            records.append(trainer.step())
            if max_steps is not None and len(records) >= max_steps:
                break
            if time.perf_counter() >= deadline:
                break
            if keep_going is not None and not keep_going():
                break
    except Exception as exc:
        exc.records = records  # type: ignore[attr-defined]
        raise
    return records
