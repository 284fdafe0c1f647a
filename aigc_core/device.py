"""Choose the compute device once, at the edge, and pass it down."""

import torch


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
    """(kind, detail): ("cuda", the GPU's name), ("mps", "") or ("cpu", torch's thread count). The one place that
    reads what a device is; the CLI describes it in English, the app in the page's language."""
    if device.type == "cuda":
        return "cuda", torch.cuda.get_device_name(device)
    if device.type == "mps":
        return "mps", ""
    return "cpu", str(torch.get_num_threads())


def describe_device(device: torch.device) -> str:
    """A short human description, e.g. 'CUDA GPU (NVIDIA H200)' or 'CPU (2 threads)'."""
    kind, detail = device_parts(device)
    return {"cuda": f"CUDA GPU ({detail})", "mps": "Apple GPU (MPS)", "cpu": f"CPU ({detail} threads)"}[kind]
