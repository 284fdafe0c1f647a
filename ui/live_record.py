"""What a Train-page run remembers of its steps: the history records, the images seen (the epoch shown) and what a
divergence rollback undoes. Plain bookkeeping on a `ui.live.LiveRun`, with no Streamlit calls, so that a redraw
interrupted by the next rerun has lost nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aigc_core.errors import TrainingDiverged

if TYPE_CHECKING:
    from ui.live import LiveRun


def record_steps(run: LiveRun, records: list, action: str) -> None:
    """Add step records to the history (before any Streamlit call, so an interrupted redraw loses nothing)."""
    if not records:
        return
    forget_rolled_back(run)
    run.history.extend(records)
    cfg = run.trainer.config
    if run.family == "gan":
        per_record = cfg.batch_size * (cfg.d_steps if action == "both" else 1 if action == "d" else 0)
    else:
        per_record = cfg.batch_size
    run.images_seen += per_record * len(records)
    run.last_action = action


def note_divergence(run: LiveRun, exc: TrainingDiverged) -> None:
    """Pause the run and keep the message. The trainer went back to an earlier step: the diverged tail stays on
    the charts while the run is paused (that is the lesson) and is forgotten by the next steps recorded."""
    run.running = False
    run.diverged = str(exc)
    if exc.restored_step is not None:
        run.rolled_back_to = exc.restored_step
        run.rolled_back_updates = run.trainer.d_updates if run.family == "gan" else None
        run.images_seen = max(0, run.images_seen - images_undone(run))


def images_undone(run: LiveRun) -> int:
    """Images counted for the updates a rollback undid: the epoch shown is that of the weights the trainer holds.
    A D update (GAN) or a step (VAE) each saw one batch; the trainer's counters are those of the restored weights."""
    last = run.history.last()
    if last is None:
        return 0
    trainer = run.trainer
    if run.family == "gan":
        undone = int(last["d_updates"]) - trainer.d_updates
    else:
        undone = int(last["step"]) - trainer.iteration
    return max(0, undone) * trainer.config.batch_size


def forget_rolled_back(run: LiveRun) -> None:
    """The records after the step the trainer went back to are being redone: drop the old ones."""
    if run.rolled_back_to is None:
        return
    step, run.rolled_back_to = run.rolled_back_to, None
    updates, run.rolled_back_updates = run.rolled_back_updates, None
    if updates is None:
        run.history.drop_after(step)
    else:  # a D update made after the snapshot carries the snapshot's step: count D updates instead
        run.history.drop_after(updates, column="d_updates")
    run.quality.drop_after(step)
    run.snapshots.drop_after(step)
