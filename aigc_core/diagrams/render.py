"""The Mermaid renderer shared by the training-loop diagrams: nodes, edges, a highlighted phase, live values.

Only text is produced here; the app renders it offline with the vendored Mermaid. Every label is written as
a quoted string with Mermaid entity codes (#quot; and friends), so translated labels (Chinese, brackets,
quotes, "=") cannot break the syntax.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .. import palette
from ..errors import ConfigError


@dataclass(frozen=True)
class Phase:
    """One step of the walk-through: the node ids and edge indices (in definition order) to highlight."""

    key: str
    title: str
    caption: str
    nodes: tuple[str, ...]
    edges: tuple[int, ...] = ()


@dataclass(frozen=True)
class Node:
    id: str
    kind: str  # base class when not highlighted: "dataNode" | "netNode" | "lossNode"
    shape: tuple[str, str]  # Mermaid brackets around the quoted label


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    dashed: bool = False  # dashed = a gradient flowing backwards
    label: str | None = None  # key into the label mapping


DATA, NET, LOSS = ("(", ")"), ("[", "]"), ("{{", "}}")  # brackets: data rounded, networks boxes, losses hexagons

# Okabe–Ito colours (aigc_core.palette): data blue, networks bluish green, losses orange, each also told apart by
# its shape; the highlighted phase is yellow with a thick black border, so it shows without telling hues apart.
# Gradients flow back in vermillion and dashed; the highlighted edge is thick and black.
_CLASS_DEFS = (
    f"classDef dataNode fill:{palette.tint(palette.BLUE, 0.12)},stroke:{palette.BLUE},color:#0d1b2a",
    f"classDef netNode fill:{palette.tint(palette.BLUISH_GREEN, 0.12)},stroke:{palette.BLUISH_GREEN},color:#0b211a",
    f"classDef lossNode fill:{palette.tint(palette.ORANGE, 0.15)},stroke:{palette.ORANGE},color:#2b2100",
    f"classDef active fill:{palette.YELLOW},stroke:{palette.BLACK},stroke-width:3px,color:#000000",
)
_FORWARD_STYLE = f"stroke:{palette.GREY},stroke-width:1.5px"
_GRADIENT_STYLE = f"stroke:{palette.VERMILLION},stroke-width:1.5px"
_ACTIVE_EDGE_STYLE = f"stroke:{palette.BLACK},stroke-width:4px"


def with_label_input(
    nodes: tuple[Node, ...], edges: tuple[Edge, ...], phase: Phase | None, targets: Mapping[str, int]
) -> tuple[tuple[Node, ...], tuple[Edge, ...], Phase | None]:
    """A class-conditional variant of a loop diagram: a data node "label" with an edge into each network of
    `targets` (network node id -> the index of the edge whose highlight the label's edge shares, e.g. z -> G).
    The new edges come after the existing ones, so existing edge indices (and the phases) keep their meaning."""
    new_edges = tuple(Edge("label", network) for network in targets)
    first = len(edges)
    if phase is not None:
        lit = [first + i for i, partner in enumerate(targets.values()) if partner in phase.edges]
        if lit:
            phase = Phase(phase.key, phase.title, phase.caption, (*phase.nodes, "label"), (*phase.edges, *lit))
    return (*nodes, Node("label", "dataNode", DATA)), (*edges, *new_edges), phase


def phase_index(phases: Sequence[Phase], key: str) -> int:
    """Position of the phase with this key (0-based); ConfigError if there is none."""
    for index, phase in enumerate(phases):
        if phase.key == key:
            return index
    raise ConfigError(f"Unknown phase {key!r}; choose one of {', '.join(p.key for p in phases)}.")


def find_phase(phases: Sequence[Phase], key: str | None) -> Phase | None:
    return None if key is None else phases[phase_index(phases, key)]


def merge_labels(labels: Mapping[str, str] | None, defaults: Mapping[str, str]) -> dict[str, str]:
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


def format_values(values: Mapping[str, float] | None) -> dict[str, str]:
    return {key: format_value(value) for key, value in (values or {}).items()}


def join(*parts: str | None) -> str:
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


def render(
    nodes: Sequence[Node],
    edges: Sequence[Edge],
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
