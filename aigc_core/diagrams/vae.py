"""The VAE training loop as a Mermaid diagram: Kingma & Welling, "Auto-Encoding Variational Bayes" (2014):
encode x to (mu, log sigma^2), reparameterise z = mu + sigma * eps, decode to x_hat, minimise reconstruction + KL
(the negative ELBO). Phase titles and captions are English; the UI translates them by key.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from .render import (
    DATA, LOSS, NET, Edge, Node, Phase, find_phase, format_values, merge_labels, render, with_label_input,
)


VAE_LABEL_KEYS: Mapping[str, str] = MappingProxyType(
    {
        "image": "image x",
        "encoder": "Encoder q(z|x)",
        "mu": "mean μ",
        "logvar": "log-variance log σ²",
        "eps": "noise ε ~ N(0, I)",
        "code": "code z = μ + σ·ε",
        "decoder": "Decoder p(x|z)",
        "x_hat": "reconstruction x̂",
        "recon": "reconstruction loss",
        "kl": "KL to N(0, I)",
        "loss": "loss = reconstruction + KL",
        "grad": "gradient",
        "label": "digit label y",  # a conditional VAE only
    }
)

_VAE_NODES = (
    Node("image", "dataNode", DATA),
    Node("encoder", "netNode", NET),
    Node("mu", "dataNode", DATA),
    Node("logvar", "dataNode", DATA),
    Node("eps", "dataNode", DATA),
    Node("code", "dataNode", DATA),
    Node("decoder", "netNode", NET),
    Node("x_hat", "dataNode", DATA),
    Node("recon", "lossNode", LOSS),
    Node("kl", "lossNode", LOSS),
    Node("loss", "lossNode", LOSS),
)

_VAE_EDGES = (
    Edge("image", "encoder"),  # 0
    Edge("encoder", "mu"),  # 1
    Edge("encoder", "logvar"),  # 2
    Edge("mu", "code"),  # 3
    Edge("logvar", "code"),  # 4
    Edge("eps", "code"),  # 5
    Edge("code", "decoder"),  # 6
    Edge("decoder", "x_hat"),  # 7
    Edge("x_hat", "recon"),  # 8
    Edge("image", "recon"),  # 9: compared with the input
    Edge("mu", "kl"),  # 10
    Edge("logvar", "kl"),  # 11
    Edge("recon", "loss"),  # 12
    Edge("kl", "loss"),  # 13
    Edge("loss", "decoder", dashed=True, label="grad"),  # 14
    Edge("loss", "encoder", dashed=True, label="grad"),  # 15: through z, thanks to the reparameterisation
)

VAE_PHASES: tuple[Phase, ...] = (
    Phase("input", "Take real images",
          "Start from a batch of real images x.",
          ("image",)),
    Phase("encode", "Encode",
          "The encoder maps each x to a Gaussian over latent codes, described by a mean μ and a log-variance "
          "log σ².",
          ("image", "encoder", "mu", "logvar"), (0, 1, 2)),
    Phase("reparameterise", "Reparameterise",
          "Sample z = μ + σ·ε with ε from a standard normal. Written this way the randomness sits in ε, so "
          "gradients can still flow to μ and σ.",
          ("mu", "logvar", "eps", "code"), (3, 4, 5)),
    Phase("decode", "Decode",
          "The decoder turns z back into an image x̂, a probability for each pixel.",
          ("code", "decoder", "x_hat"), (6, 7)),
    Phase("reconstruction", "Reconstruction loss",
          "Compare x̂ with x pixel by pixel: how much of the image survived the trip through the code z.",
          ("image", "x_hat", "recon"), (8, 9)),
    Phase("kl", "KL divergence",
          "Measure how far each N(μ, σ²) is from the prior N(0, I). This keeps the codes close together, so "
          "that decoding random z from the prior gives sensible images.",
          ("mu", "logvar", "kl"), (10, 11)),
    Phase("update", "Update",
          "The loss is reconstruction plus KL (the negative ELBO). One backward pass sends gradients to the "
          "decoder and, through z, to the encoder; the optimizer updates both together.",
          ("recon", "kl", "loss", "decoder", "encoder"), (12, 13, 14, 15)),
)


def vae_diagram(
    *,
    phase: str | None = None,
    values: Mapping[str, float] | None = None,
    labels: Mapping[str, str] | None = None,
    conditional: bool = False,
) -> str:
    """Mermaid `flowchart LR` of the VAE loop.

    values: "recon", "kl", "loss" are shown in their loss nodes (3 significant digits; NaN as "NaN");
    other keys are ignored. labels: translated texts for VAE_LABEL_KEYS. phase: a VAE_PHASES key or None.
    conditional: a conditional VAE: the label y goes into the encoder (beside x) and the decoder (beside z).
    """
    text = merge_labels(labels, VAE_LABEL_KEYS)
    v = format_values(values)
    node_text = dict(text)
    for key in ("recon", "kl", "loss"):
        if key in v:
            node_text[key] = f"{text[key]} = {v[key]}"
    edge_text = {14: text["grad"], 15: text["grad"]}
    nodes, edges, lit = _VAE_NODES, _VAE_EDGES, find_phase(VAE_PHASES, phase)
    if conditional:
        nodes, edges, lit = with_label_input(nodes, edges, lit, {"encoder": 0, "decoder": 6})
    return render(nodes, edges, node_text, edge_text, lit)
