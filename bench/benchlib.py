"""Small helpers the bench scripts share: where results go, what machine they ran on, and a clock.

Every bench prints its figures and, when `bench/run_all.py` runs it, also writes one JSON object to the path in the
environment variable ``BENCH_JSON`` (or to ``--json PATH``). `write_result` does that; a script run by hand without
either simply prints.

The machine this project is developed on has 2 cores shared with other people's long trainings, so every figure is
a ratio or a median of measurements taken side by side in one run, and each result records the load average it
was measured under.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS_DIR = ROOT / "bench" / "results"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def machine() -> dict[str, Any]:
    """What the figures were measured on (CPU model, cores, torch threads, load average)."""
    import torch

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def result_path(default_name: str, explicit: str | None = None) -> Path | None:
    """Where to write this bench's JSON: --json, else $BENCH_JSON, else nowhere (printing only)."""
    if explicit:
        return Path(explicit)
    env = os.environ.get("BENCH_JSON")
    return Path(env) if env else None


def write_result(path: Path | None, name: str, figures: dict[str, Any], *, quick: bool = False) -> None:
    """Write {"bench", "date", "quick", "machine", **figures} as JSON (if a path is set)."""
    if path is None:
        return
    payload = {
        "bench": name,
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "quick": quick,
        "machine": machine(),
        **figures,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False, default=_jsonable) + "\n")


def _jsonable(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, float) and value != value:
        return None
    return str(value)


CLOCKS: dict[str, Callable[[], float]] = {
    # Process CPU seconds: with one torch thread this is what the run would take on one idle core, whatever
    # else the shared machine is doing. Wall seconds: the literal figure, honest only on a quiet machine.
    "cpu": time.process_time,
    "wall": time.perf_counter,
}


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) with linear interpolation, as numpy's default."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)
