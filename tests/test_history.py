"""MetricHistory (bin means checked against a direct NumPy computation) and SnapshotTimeline thinning."""

import csv
import io
import math

import numpy as np
import pytest

from aigc_core.gan_trainer import GANStats
from aigc_core.history import MetricHistory, SnapshotTimeline


def _filled(n: int) -> MetricHistory:
    history = MetricHistory(["step", "loss"], text=["phase"])
    history.extend({"step": i, "loss": float(i) * 0.5, "phase": "both"} for i in range(n))
    return history


def test_append_grows_and_keeps_order():
    history = _filled(1000)
    assert len(history) == 1000
    np.testing.assert_array_equal(history.column("step"), np.arange(1000))
    assert history.last() == {"step": 999.0, "loss": 499.5, "phase": "both"}
    with pytest.raises(ValueError):
        history.column("step")[0] = 5  # read-only view


def test_dataclass_records_and_missing_fields_are_nan():
    history = MetricHistory(["step", "d_loss", "not_there"], text=["phase"])
    history.append(GANStats(3, 3, "both", 0.7, 1.2, 0.6, 0.4, 2.0, 3.0, 0.01))
    row = history.last()
    assert row["step"] == 3 and row["d_loss"] == 0.7 and math.isnan(row["not_there"]) and row["phase"] == "both"


def test_tuple_fields_become_numbered_columns():
    """A diffusion step reports its loss in each quarter of the noise levels: one column per quarter."""
    from aigc_core.diffusion_trainer import DiffusionStats

    history = MetricHistory(["step", "loss", "loss_by_t_0", "loss_by_t_3"])
    history.append(DiffusionStats(5, 0.2, (0.9, 0.5, 0.3, 0.1), 1.5, 0.01))
    history.append({"step": 6, "loss": 0.1, "loss_by_t": [0.8, math.nan, 0.2, 0.05]})
    np.testing.assert_array_equal(history.column("loss_by_t_0"), [0.9, 0.8])
    np.testing.assert_array_equal(history.column("loss_by_t_3"), [0.1, 0.05])


def test_downsampled_is_the_mean_of_each_bin():
    history = _filled(1003)
    small = history.downsampled(100)
    width = math.ceil(1003 / 100)  # 11
    loss = np.arange(1003) * 0.5
    expected = [loss[i : i + width].mean() for i in range(0, 1003, width)]
    assert len(small["loss"]) == len(expected) <= 100
    np.testing.assert_allclose(small["loss"], expected)
    assert len(history.downsampled(5000)["loss"]) == 1003


def test_downsampled_ignores_nan_unless_the_whole_bin_is_nan():
    history = MetricHistory(["x"])
    history.extend({"x": v} for v in [1.0, math.nan, 3.0, math.nan, math.nan, math.nan])
    np.testing.assert_allclose(history.downsampled(2)["x"], [2.0, math.nan])


def test_csv_has_every_record():
    history = _filled(5)
    rows = list(csv.reader(io.StringIO(history.to_csv().decode())))
    assert rows[0] == ["step", "loss", "phase"]
    assert rows[1:] == [[str(i), repr(i * 0.5) if i % 2 else str(i // 2), "both"] for i in range(5)]


def test_snapshots_thin_out_evenly():
    timeline = SnapshotTimeline(every=10, capacity=4)
    for step in range(0, 200, 5):
        if timeline.due(step):
            timeline.add(step, f"picture {step}")
    assert len(timeline) <= 4
    steps = timeline.steps()
    assert steps[0] == 0 and steps == sorted(steps)
    gaps = np.diff(steps)
    assert gaps.min() >= 10 and timeline.every > 10


def test_drop_after_forgets_the_rolled_back_tail():
    """After a divergence the trainer goes back to step 40: the records (and snapshots) after it are to be redone."""
    history = _filled(100)
    assert history.drop_after(99) == 0 and len(history) == 100
    assert history.drop_after(40) == 59
    assert len(history) == 41 and history.last() == {"step": 40.0, "loss": 20.0, "phase": "both"}
    history.extend({"step": 41 + i, "loss": -1.0, "phase": "g"} for i in range(3))  # the redone steps follow on
    np.testing.assert_array_equal(history.column("step"), np.arange(44))
    rows = list(csv.reader(io.StringIO(history.to_csv().decode())))
    assert len(rows) == 45 and rows[-1] == ["43", "-1", "g"]
    assert history.downsampled(10)["step"].max() < 44

    timeline = SnapshotTimeline(every=10)
    for step in range(0, 100, 10):
        timeline.add(step, step)
    timeline.drop_after(40)
    assert timeline.steps() == [0, 10, 20, 30, 40] and timeline.due(50) and not timeline.due(45)
