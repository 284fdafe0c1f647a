"""The GAN training loop as a Mermaid diagram: the alternating game of Goodfellow et al., "Generative
Adversarial Nets" (2014), Algorithm 1: k discriminator steps (ascend log D(x) + log(1 - D(G(z)))), then one
generator step, with gradients that reach G only by flowing back through D. The phase-by-phase walk-through follows
GAN Lab (Kahng et al., "GAN Lab: Understanding Complex Deep Generative Models using Interactive Visual
Experimentation", 2018). Phase titles and captions are English; the UI translates them by key.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from .render import (
    DATA, LOSS, NET, Edge, Node, Phase, find_phase, format_values, join, merge_labels, render, with_label_input,
)


GAN_LABEL_KEYS: Mapping[str, str] = MappingProxyType(
    {
        # node ids
        "noise": "noise z",
        "generator": "Generator G",
        "fake": "fake samples G(z)",
        "real": "real data x",
        "discriminator": "Discriminator D",
        "d_loss": "D loss",
        "g_loss": "G loss",
        # edge words (live values are appended)
        "grad_d": "gradient",
        "grad_g": "gradient through D",
        "label": "digit label y",  # a conditional GAN only
    }
)

_GAN_NODES = (
    Node("noise", "dataNode", DATA),
    Node("generator", "netNode", NET),
    Node("fake", "dataNode", DATA),
    Node("real", "dataNode", DATA),
    Node("discriminator", "netNode", NET),
    Node("d_loss", "lossNode", LOSS),
    Node("g_loss", "lossNode", LOSS),
)

_GAN_EDGES = (
    Edge("noise", "generator"),  # 0
    Edge("generator", "fake"),  # 1
    Edge("fake", "discriminator"),  # 2
    Edge("real", "discriminator"),  # 3
    Edge("discriminator", "d_loss"),  # 4: D(x), D(G(z))
    Edge("discriminator", "g_loss"),  # 5: D(G(z))
    Edge("d_loss", "discriminator", dashed=True, label="grad_d"),  # 6
    Edge("g_loss", "discriminator", dashed=True),  # 7: passes through D (frozen) ...
    Edge("discriminator", "generator", dashed=True, label="grad_g"),  # 8: ... into G
)

GAN_PHASES: tuple[Phase, ...] = (
    Phase("d_sample_z", "Sample noise",
          "Draw a batch of random vectors z from a standard normal distribution. They are the generator's raw "
          "material.",
          ("noise",)),
    Phase("d_generate", "Make fakes",
          "The generator turns each z into a fake sample G(z). During the discriminator's turn the fakes are "
          "plain inputs: no gradient will reach G.",
          ("noise", "generator", "fake"), (0, 1)),
    Phase("d_score", "Score real and fake",
          "The discriminator scores a batch of real data x and the batch of fakes. A score near 1 means "
          "\"looks real\".",
          ("real", "fake", "discriminator"), (2, 3)),
    Phase("d_loss", "Discriminator loss",
          "The D loss is low when D(x) is high on real data and D(G(z)) is low on fakes: it measures how well D "
          "tells them apart.",
          ("discriminator", "d_loss"), (4,)),
    Phase("d_gradients", "Gradients for D",
          "Backpropagation works out, for each of D's weights, which direction lowers the D loss.",
          ("d_loss", "discriminator"), (6,)),
    Phase("d_update", "Update D",
          "The optimizer moves D's weights one small step. These D phases may run several times before the "
          "generator's turn.",
          ("discriminator",)),
    Phase("g_sample_z", "Sample fresh noise",
          "The generator's turn starts with a new batch of random vectors z.",
          ("noise",)),
    Phase("g_generate", "Make fakes again",
          "G(z) makes new fakes, and this time the computation is recorded so that gradients can flow back "
          "into G.",
          ("noise", "generator", "fake"), (0, 1)),
    Phase("g_score", "D scores the fakes",
          "The discriminator scores only the fakes. It is frozen during G's turn: it judges but does not learn.",
          ("fake", "discriminator"), (2,)),
    Phase("g_loss", "Generator loss",
          "The G loss is low when the fakes fool D, that is when D(G(z)) is high.",
          ("discriminator", "g_loss"), (5,)),
    Phase("g_gradients", "Gradients through D into G",
          "Backpropagation carries the gradient of the G loss back through the frozen D and into G: D tells G "
          "which way to move each fake to look more real.",
          ("g_loss", "discriminator", "generator"), (7, 8)),
    Phase("g_update", "Update G",
          "The optimizer moves G's weights one small step. Then the loop starts again with D's turn.",
          ("generator",)),
)


def gan_diagram(
    *,
    phase: str | None = None,
    values: Mapping[str, float] | None = None,
    labels: Mapping[str, str] | None = None,
    conditional: bool = False,
) -> str:
    """Mermaid `flowchart LR` of the GAN loop.

    phase: a GAN_PHASES key whose nodes and edges are highlighted (None: nothing highlighted).
    values: live numbers, shown with 3 significant digits (NaN as "NaN"): "d_real" -> "D(x)=0.83" and
        "d_fake" -> "D(G(z))=0.21" on the edges into the losses, "d_loss" / "g_loss" in the loss nodes,
        "grad_d" / "grad_g" (gradient norms) on the dashed gradient edges into D and G. Other keys are
        ignored, so a trainer's stats record can be passed as it is.
    labels: translated texts for GAN_LABEL_KEYS (missing keys keep the English default).
    conditional: a class-conditional GAN: the label y goes into G (beside z) and into D (the projection), lit with
        z -> G and with the scoring edges.
    """
    text = merge_labels(labels, GAN_LABEL_KEYS)
    v = format_values(values)
    node_text = dict(text)
    for key in ("d_loss", "g_loss"):
        if key in v:
            node_text[key] = f"{text[key]} = {v[key]}"
    edge_text: dict[int, str] = {}
    d_real = f"D(x)={v['d_real']}" if "d_real" in v else None
    d_fake = f"D(G(z))={v['d_fake']}" if "d_fake" in v else None
    edge_text[4] = ", ".join(part for part in (d_real, d_fake) if part)
    edge_text[5] = d_fake or ""
    edge_text[6] = join(text["grad_d"], f"‖∇‖={v['grad_d']}" if "grad_d" in v else None)
    edge_text[8] = join(text["grad_g"], f"‖∇‖={v['grad_g']}" if "grad_g" in v else None)
    nodes, edges, lit = _GAN_NODES, _GAN_EDGES, find_phase(GAN_PHASES, phase)
    if conditional:
        nodes, edges, lit = with_label_input(nodes, edges, lit, {"generator": 0, "discriminator": 2})
    return render(nodes, edges, node_text, edge_text, lit)
