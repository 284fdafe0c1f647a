"""Mermaid sources of the GAN and VAE training loops, with a highlighted phase and live values.

The GAN loop is the alternating game of Goodfellow et al., "Generative Adversarial Nets" (2014), Algorithm 1:
k discriminator steps (ascend log D(x) + log(1 - D(G(z)))), then one generator step, with gradients that
reach G only by flowing back through D. The phase-by-phase walk-through follows GAN Lab (Kahng et al.,
"GAN Lab: Understanding Complex Deep Generative Models using Interactive Visual Experimentation", 2018).
The VAE loop is Kingma & Welling, "Auto-Encoding Variational Bayes" (2014): encode x to (mu, log sigma^2),
reparameterise z = mu + sigma * eps, decode to x_hat, minimise reconstruction + KL (the negative ELBO).

Only text is produced here; the app renders it offline with the vendored Mermaid. Every label is written as
a quoted string with Mermaid entity codes (#quot; and friends), so translated labels (Chinese, brackets,
quotes, "=") cannot break the syntax. Phase titles and captions are English; the UI translates them by key.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from .errors import ConfigError


@dataclass(frozen=True)
class Phase:
    """One step of the walk-through: the node ids and edge indices (in definition order) to highlight."""

    key: str
    title: str
    caption: str
    nodes: tuple[str, ...]
    edges: tuple[int, ...] = ()


@dataclass(frozen=True)
class _Node:
    id: str
    kind: str  # base class when not highlighted: "dataNode" | "netNode" | "lossNode"
    shape: tuple[str, str]  # Mermaid brackets around the quoted label


@dataclass(frozen=True)
class _Edge:
    source: str
    target: str
    dashed: bool = False  # dashed = a gradient flowing backwards
    label: str | None = None  # key into the label mapping


_DATA, _NET, _LOSS = ("(", ")"), ("[", "]"), ("{{", "}}")  # brackets: data rounded, networks boxes, losses hexagons

_CLASS_DEFS = (
    "classDef dataNode fill:#e3f2fd,stroke:#1e88e5,color:#0d1b2a",
    "classDef netNode fill:#ede7f6,stroke:#5e35b1,color:#1a1033",
    "classDef lossNode fill:#fff8e1,stroke:#f9a825,color:#2b2100",
    "classDef active fill:#ffca28,stroke:#e65100,stroke-width:3px,color:#000000",
)
_FORWARD_STYLE = "stroke:#607d8b,stroke-width:1.5px"
_GRADIENT_STYLE = "stroke:#c62828,stroke-width:1.5px"
_ACTIVE_EDGE_STYLE = "stroke:#e65100,stroke-width:4px"


# --- GAN --------------------------------------------------------------------------------------------------

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
    }
)

_GAN_NODES = (
    _Node("noise", "dataNode", _DATA),
    _Node("generator", "netNode", _NET),
    _Node("fake", "dataNode", _DATA),
    _Node("real", "dataNode", _DATA),
    _Node("discriminator", "netNode", _NET),
    _Node("d_loss", "lossNode", _LOSS),
    _Node("g_loss", "lossNode", _LOSS),
)

_GAN_EDGES = (
    _Edge("noise", "generator"),  # 0
    _Edge("generator", "fake"),  # 1
    _Edge("fake", "discriminator"),  # 2
    _Edge("real", "discriminator"),  # 3
    _Edge("discriminator", "d_loss"),  # 4: D(x), D(G(z))
    _Edge("discriminator", "g_loss"),  # 5: D(G(z))
    _Edge("d_loss", "discriminator", dashed=True, label="grad_d"),  # 6
    _Edge("g_loss", "discriminator", dashed=True),  # 7: passes through D (frozen) ...
    _Edge("discriminator", "generator", dashed=True, label="grad_g"),  # 8: ... into G
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
) -> str:
    """Mermaid `flowchart LR` of the GAN loop.

    phase: a GAN_PHASES key whose nodes and edges are highlighted (None: nothing highlighted).
    values: live numbers, shown with 3 significant digits (NaN as "NaN"): "d_real" -> "D(x)=0.83" and
        "d_fake" -> "D(G(z))=0.21" on the edges into the losses, "d_loss" / "g_loss" in the loss nodes,
        "grad_d" / "grad_g" (gradient norms) on the dashed gradient edges into D and G. Other keys are
        ignored, so a trainer's stats record can be passed as it is.
    labels: translated texts for GAN_LABEL_KEYS (missing keys keep the English default).
    """
    text = _merge_labels(labels, GAN_LABEL_KEYS)
    v = _format_values(values)
    node_text = dict(text)
    for key in ("d_loss", "g_loss"):
        if key in v:
            node_text[key] = f"{text[key]} = {v[key]}"
    edge_text: dict[int, str] = {}
    d_real = f"D(x)={v['d_real']}" if "d_real" in v else None
    d_fake = f"D(G(z))={v['d_fake']}" if "d_fake" in v else None
    edge_text[4] = ", ".join(part for part in (d_real, d_fake) if part)
    edge_text[5] = d_fake or ""
    edge_text[6] = _join(text["grad_d"], f"‖∇‖={v['grad_d']}" if "grad_d" in v else None)
    edge_text[8] = _join(text["grad_g"], f"‖∇‖={v['grad_g']}" if "grad_g" in v else None)
    return _render(_GAN_NODES, _GAN_EDGES, node_text, edge_text, _find_phase(GAN_PHASES, phase))


# --- VAE --------------------------------------------------------------------------------------------------

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
    }
)

_VAE_NODES = (
    _Node("image", "dataNode", _DATA),
    _Node("encoder", "netNode", _NET),
    _Node("mu", "dataNode", _DATA),
    _Node("logvar", "dataNode", _DATA),
    _Node("eps", "dataNode", _DATA),
    _Node("code", "dataNode", _DATA),
    _Node("decoder", "netNode", _NET),
    _Node("x_hat", "dataNode", _DATA),
    _Node("recon", "lossNode", _LOSS),
    _Node("kl", "lossNode", _LOSS),
    _Node("loss", "lossNode", _LOSS),
)

_VAE_EDGES = (
    _Edge("image", "encoder"),  # 0
    _Edge("encoder", "mu"),  # 1
    _Edge("encoder", "logvar"),  # 2
    _Edge("mu", "code"),  # 3
    _Edge("logvar", "code"),  # 4
    _Edge("eps", "code"),  # 5
    _Edge("code", "decoder"),  # 6
    _Edge("decoder", "x_hat"),  # 7
    _Edge("x_hat", "recon"),  # 8
    _Edge("image", "recon"),  # 9: compared with the input
    _Edge("mu", "kl"),  # 10
    _Edge("logvar", "kl"),  # 11
    _Edge("recon", "loss"),  # 12
    _Edge("kl", "loss"),  # 13
    _Edge("loss", "decoder", dashed=True, label="grad"),  # 14
    _Edge("loss", "encoder", dashed=True, label="grad"),  # 15: through z, thanks to the reparameterisation
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
) -> str:
    """Mermaid `flowchart LR` of the VAE loop.

    values: "recon", "kl", "loss" are shown in their loss nodes (3 significant digits; NaN as "NaN");
    other keys are ignored. labels: translated texts for VAE_LABEL_KEYS. phase: a VAE_PHASES key or None.
    """
    text = _merge_labels(labels, VAE_LABEL_KEYS)
    v = _format_values(values)
    node_text = dict(text)
    for key in ("recon", "kl", "loss"):
        if key in v:
            node_text[key] = f"{text[key]} = {v[key]}"
    edge_text = {14: text["grad"], 15: text["grad"]}
    return _render(_VAE_NODES, _VAE_EDGES, node_text, edge_text, _find_phase(VAE_PHASES, phase))


# --- shared -----------------------------------------------------------------------------------------------


def phase_index(phases: Sequence[Phase], key: str) -> int:
    """Position of the phase with this key (0-based); ConfigError if there is none."""
    for index, phase in enumerate(phases):
        if phase.key == key:
            return index
    raise ConfigError(f"Unknown phase {key!r}; choose one of {', '.join(p.key for p in phases)}.")


def _find_phase(phases: Sequence[Phase], key: str | None) -> Phase | None:
    return None if key is None else phases[phase_index(phases, key)]


def _merge_labels(labels: Mapping[str, str] | None, defaults: Mapping[str, str]) -> dict[str, str]:
    # Unknown keys are an error: a typo in a locale file should fail a test, not vanish silently.
    unknown = sorted(set(labels or {}) - set(defaults))
    if unknown:
        raise ConfigError(f"Unknown diagram label keys: {', '.join(unknown)}.")
    return {**defaults, **(labels or {})}


def format_value(value: float) -> str:
    """3 significant digits; NaN as "NaN", infinities as "∞" / "-∞"."""
    value = float(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "∞" if value > 0 else "-∞"
    return f"{value:.3g}"


def _format_values(values: Mapping[str, float] | None) -> dict[str, str]:
    return {key: format_value(value) for key, value in (values or {}).items()}


def _join(*parts: str | None) -> str:
    return " · ".join(part for part in parts if part)


# Characters that could end a quoted label or be read as markup, as Mermaid entity codes.
_ESCAPES = str.maketrans(
    {
        '"': "#quot;",
        "#": "#35;",
        "&": "#amp;",
        "<": "#lt;",
        ">": "#gt;",
        "`": "#96;",
        "|": "#124;",
        "\n": " ",
        "\r": " ",
        "\t": " ",
    }
)


def escape_label(text: str) -> str:
    """A label as a quoted Mermaid string: quotes, '#', '&', '<', '>', '`', '|' become entity codes."""
    return '"' + str(text).translate(_ESCAPES) + '"'


def _render(
    nodes: Sequence[_Node],
    edges: Sequence[_Edge],
    node_text: Mapping[str, str],
    edge_text: Mapping[int, str],
    phase: Phase | None,
) -> str:
    active_nodes = set(phase.nodes) if phase else set()
    active_edges = set(phase.edges) if phase else set()
    lines = ["flowchart LR"]
    for node in nodes:
        left, right = node.shape
        lines.append(f"  {node.id}{left}{escape_label(node_text[node.id])}{right}")
    for index, edge in enumerate(edges):  # Mermaid numbers edges in this order (for linkStyle)
        arrow = "-.->" if edge.dashed else "-->"
        label = edge_text.get(index, "")
        lines.append(f"  {edge.source} {arrow}|{escape_label(label)}| {edge.target}" if label
                     else f"  {edge.source} {arrow} {edge.target}")
    lines.extend(f"  {definition}" for definition in _CLASS_DEFS)
    # Every node and edge gets exactly one style, so the result never depends on Mermaid's precedence rules.
    by_class: dict[str, list[str]] = {}
    for node in nodes:
        by_class.setdefault("active" if node.id in active_nodes else node.kind, []).append(node.id)
    lines.extend(f"  class {','.join(ids)} {name}" for name, ids in by_class.items())
    by_style: dict[str, list[str]] = {}
    for index, edge in enumerate(edges):
        style = _ACTIVE_EDGE_STYLE if index in active_edges else _GRADIENT_STYLE if edge.dashed else _FORWARD_STYLE
        by_style.setdefault(style, []).append(str(index))
    lines.extend(f"  linkStyle {','.join(indices)} {style}" for style, indices in by_style.items())
    return "\n".join(lines) + "\n"
