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


def describe_device(device: torch.device) -> str:
    """A short human description, e.g. 'CUDA GPU (NVIDIA H200)' or 'CPU (2 threads)'."""
    if device.type == "cuda":
        return f"CUDA GPU ({torch.cuda.get_device_name(device)})"
    if device.type == "mps":
        return "Apple GPU (MPS)"
    return f"CPU ({torch.get_num_threads()} threads)"
