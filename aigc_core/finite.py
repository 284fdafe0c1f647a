"""Refusing NaN and infinity at the edges: weights as they are loaded, samples before they are written or shown.

A NaN weight is data, not code, but nothing useful comes of it: every sample is NaN (a black PNG), and analyses
such as the Latent Explorer's PCA fail deep inside LAPACK. So a checkpoint with one is refused on load, naming
the tensor, and samples are checked before they leave the core. The trainers' own guard (`guard.py`) keeps
non-finite values out of the weights while training.
"""

from collections.abc import Mapping

import torch
from torch import nn

from .errors import AigcError, CheckpointError, NonFiniteOutput


def non_finite_tensors(state: Mapping[str, torch.Tensor] | nn.Module) -> list[str]:
    """Names of the floating-point tensors (weights and buffers) that hold a NaN or an infinity, in order."""
    if isinstance(state, nn.Module):
        state = state.state_dict()
    floats = {name: tensor for name, tensor in state.items() if tensor.is_floating_point()}
    # One check over all weights first: per tensor, a U-Net's hundred small ops each give up and retake the
    # interpreter lock, which costs a server that is busy in another thread (a first page run) tenths of a second.
    if not floats or all_finite(list(floats.values())):
        return []
    return [name for name, tensor in floats.items() if not bool(torch.isfinite(tensor).all())]


def all_finite(tensors: list[torch.Tensor]) -> bool:
    """Whether every value of every tensor is finite, in a few operations whatever the number of tensors."""
    by_dtype: dict[tuple[torch.dtype, torch.device], list[torch.Tensor]] = {}
    for tensor in tensors:
        by_dtype.setdefault((tensor.dtype, tensor.device), []).append(tensor.detach().reshape(-1))
    return all(bool(torch.isfinite(torch.cat(group)).all()) for group in by_dtype.values())


def require_finite_weights(
    state: Mapping[str, torch.Tensor] | nn.Module, *, what: str = "The checkpoint",
    error: type[AigcError] = CheckpointError,
) -> None:
    """Raise `error` (CheckpointError by default) when any weight or buffer is NaN or infinite."""
    bad = non_finite_tensors(state)
    if not bad:
        return
    tensor = (state.state_dict() if isinstance(state, nn.Module) else state)[bad[0]]
    nan = int(torch.isnan(tensor).sum())
    inf = int(torch.isinf(tensor).sum())
    more = f" (and {len(bad) - 1} more tensor{'s' if len(bad) > 2 else ''})" if len(bad) > 1 else ""
    raise error(
        f"{what} holds non-finite weights: {bad[0]!r} has {nan:,} NaN and {inf:,} infinite values{more}. "
        "Such a model only draws blank pictures; it was probably saved after its training diverged. "
        "Export it again from a run that had not diverged (the divergence guard keeps the last finite weights)."
    )


def require_finite_samples(samples: torch.Tensor, *, what: str = "The model's samples") -> torch.Tensor:
    """Return `samples` unchanged when all values are finite; otherwise raise NonFiniteOutput."""
    finite = torch.isfinite(samples)
    if bool(finite.all()):
        return samples
    bad = int((~finite).sum())
    raise NonFiniteOutput(
        f"{what} came out with {bad:,} NaN or infinite values out of {samples.numel():,}; they are neither shown "
        "nor saved. The model overflows on this input (or its weights are not finite), so it is unusable as it is."
    )
