"""The diffusion training loop as a Mermaid diagram: Ho et al., "Denoising Diffusion Probabilistic Models" (2020),
Algorithm 1. Take a clean x_0, pick a noise level t uniformly from 1 … T and a noise ε ~ N(0, I), jump straight to
x_t = √ᾱ_t·x_0 + √(1 − ᾱ_t)·ε (the forward process in closed form), ask the denoiser to predict ε from (x_t, t) and
the label y (replaced by ∅ with probability p_uncond, so that one network also learns the unconditional model that
classifier-free guidance needs: Ho & Salimans, 2022), and descend ‖ε − ε̂‖². Phase titles and captions are
English; the UI translates them by key.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from .render import DATA, LOSS, NET, Edge, Node, Phase, find_phase, format_values, join, merge_labels, render

DIFFUSION_LABEL_KEYS: Mapping[str, str] = MappingProxyType(
    {
        "x0": "clean image x₀",
        "label": "label y (or ∅)",
        "t": "noise level t ~ U{1…T}",
        "eps": "noise ε ~ N(0, I)",
        "xt": "noisy image x_t",
        "denoiser": "Denoiser ε_θ(x_t, t, y)",
        "eps_hat": "predicted noise ε̂",
        "loss": "loss ‖ε − ε̂‖²",
        "add_noise": "x_t = √ᾱ_t·x₀ + √(1−ᾱ_t)·ε",
        "grad": "gradient",
    }
)

_NODES = (
    Node("x0", "dataNode", DATA),
    Node("label", "dataNode", DATA),
    Node("t", "dataNode", DATA),
    Node("eps", "dataNode", DATA),
    Node("xt", "dataNode", DATA),
    Node("denoiser", "netNode", NET),
    Node("eps_hat", "dataNode", DATA),
    Node("loss", "lossNode", LOSS),
)

_EDGES = (
    Edge("x0", "xt", label="add_noise"),  # 0
    Edge("t", "xt"),  # 1
    Edge("eps", "xt"),  # 2
    Edge("xt", "denoiser"),  # 3
    Edge("t", "denoiser"),  # 4
    Edge("label", "denoiser"),  # 5
    Edge("denoiser", "eps_hat"),  # 6
    Edge("eps_hat", "loss"),  # 7
    Edge("eps", "loss"),  # 8: the prediction is compared with the noise that was really added
    Edge("loss", "denoiser", dashed=True, label="grad"),  # 9
)

DIFFUSION_PHASES: tuple[Phase, ...] = (
    Phase("data", "Take real images",
          "Start from a batch of clean images x₀ and their labels y. Now and then a label is replaced by ∅ "
          "(\"no label\"), so the same network also learns to denoise without one.",
          ("x0", "label")),
    Phase("add_noise", "Add noise at a random level",
          "For each image pick a noise level t between 1 and T and a noise ε, and jump straight to the noisy "
          "x_t = √ᾱ_t·x₀ + √(1−ᾱ_t)·ε: no need to add noise T times, the forward process has a closed form.",
          ("x0", "t", "eps", "xt"), (0, 1, 2)),
    Phase("predict", "Predict the noise",
          "The denoiser sees only x_t, the level t and the label y, and guesses which noise ε̂ was added.",
          ("xt", "t", "label", "denoiser", "eps_hat"), (3, 4, 5, 6)),
    Phase("loss", "Compare with the real noise",
          "The loss is the squared difference between the predicted and the real noise: the \"simple\" loss that "
          "Ho et al. derived from the ELBO.",
          ("eps_hat", "eps", "loss"), (7, 8)),
    Phase("update", "Update the denoiser",
          "One backward pass sends the loss's gradient into the denoiser and the optimizer moves its weights. "
          "To make an image, the trained denoiser then removes noise step by step, from pure noise x_T to x₀.",
          ("loss", "denoiser"), (9,)),
)


def diffusion_diagram(
    *,
    phase: str | None = None,
    values: Mapping[str, float] | None = None,
    labels: Mapping[str, str] | None = None,
) -> str:
    """Mermaid `flowchart LR` of the diffusion training loop.

    values: "loss" is shown in the loss node and "grad" (the gradient norm) on the dashed gradient edge
    (3 significant digits; NaN as "NaN"); other keys are ignored. labels: translated texts for
    DIFFUSION_LABEL_KEYS (missing keys keep the English default). phase: a DIFFUSION_PHASES key or None.
    """
    text = merge_labels(labels, DIFFUSION_LABEL_KEYS)
    v = format_values(values)
    node_text = {key: text[key] for key in (node.id for node in _NODES)}
    if "loss" in v:
        node_text["loss"] = f"{text['loss']} = {v['loss']}"
    edge_text = {0: text["add_noise"], 9: join(text["grad"], f"‖∇‖={v['grad']}" if "grad" in v else None)}
    return render(_NODES, _EDGES, node_text, edge_text, find_phase(DIFFUSION_PHASES, phase))
