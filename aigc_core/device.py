"""Choose the compute device once, at the edge, and pass it down; say what it is; run small work on one CPU thread."""

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import torch

_threads_lock = threading.Lock()
_threads_users = 0
_threads_before = 0


def pick_device(prefer: str = "auto") -> torch.device:
    """CUDA if present, then Apple MPS, else CPU. `prefer` may force "cpu", "cuda" or "mps"."""
    if prefer != "auto":
        return torch.device(prefer)
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def device_parts(device: torch.device) -> tuple[str, str]:
    """(kind, detail): ("cuda", the GPU's name), ("mps", "") or ("cpu", torch's thread count outside `one_thread`
    blocks). The one place that reads what a device is; the CLI describes it in English, the app in the page's
    language."""
    if device.type == "cuda":
        return "cuda", torch.cuda.get_device_name(device)
    if device.type == "mps":
        return "mps", ""
    return "cpu", str(cpu_threads())


def describe_device(device: torch.device) -> str:
    """A short human description, e.g. 'CUDA GPU (NVIDIA H200)' or 'CPU (2 threads)'."""
    kind, detail = device_parts(device)
    return {"cuda": f"CUDA GPU ({detail})", "mps": "Apple GPU (MPS)", "cpu": f"CPU ({detail} threads)"}[kind]


def cpu_threads() -> int:
    """torch's CPU thread count as configured: inside a `one_thread()` block (another session's training slice,
    the launcher's warm-up) the count from before it, so the device line does not flicker to "1 thread"."""
    with _threads_lock:
        return _threads_before if _threads_users else torch.get_num_threads()


@contextmanager
def one_thread() -> Iterator[None]:
    """Run torch on one intra-op CPU thread inside the block.

    Small networks and batches (the playground's 256 x 64, a page's sample grid) gain nothing from splitting an op
    across threads, and on a busy machine every split waits for a second core: on our shared 2-core machine one
    playground step took 0.13 s with 1 thread and 6 s with 2 (bench/bench_playground.py prints both). torch's thread
    count is process-wide, so concurrent users are counted and the count they found is restored when the last one
    leaves; other work in the same process runs on one thread meanwhile (for the length of a slice).
    """
    global _threads_users, _threads_before
    with _threads_lock:
        if _threads_users == 0:
            _threads_before = torch.get_num_threads()
            if _threads_before != 1:
                torch.set_num_threads(1)
        _threads_users += 1
    try:
        yield
    finally:
        with _threads_lock:
            _threads_users -= 1
            if _threads_users == 0 and torch.get_num_threads() != _threads_before:
                torch.set_num_threads(_threads_before)
