"""The app's colours: the Okabe–Ito palette, given roles, and the colour scales of its heatmaps. Pure (no Streamlit).

Okabe & Ito (2008), "Color Universal Design": eight colours that stay apart for people with the common forms of
colour-vision deficiency. tests/test_palette.py checks every set of colours drawn together under simulated
deuteranopia and protanopia (aigc_core.colour_vision) and shows the previous colours failing the same check.

Roles keep the teaching meaning across pages: D blue and G vermillion; real blue and generated orange (the
playground's D heatmap runs from an orange tint, "generated", through grey, "cannot tell", to a blue tint, "real").
"""

from __future__ import annotations

BLACK = "#000000"
ORANGE = "#E69F00"
SKY_BLUE = "#56B4E9"
BLUISH_GREEN = "#009E73"
YELLOW = "#F0E442"
BLUE = "#0072B2"
VERMILLION = "#D55E00"
REDDISH_PURPLE = "#CC79A7"
OKABE_ITO = (BLACK, ORANGE, SKY_BLUE, BLUISH_GREEN, YELLOW, BLUE, VERMILLION, REDDISH_PURPLE)

GREY = "#8C8C8C"  # context, never a series of its own: the data under samples, reference rules, a warm-up
INK = "#3C3C3C"  # thin structure drawn over data (G's manifold grid)
FRAME = "#BBBBBB"  # the edge of a plane

# Roles. D and G: the two players; REAL and FAKE: data and what G (or a sampler) makes.
D, G = BLUE, VERMILLION
REAL, FAKE = BLUE, ORANGE
GRADIENT = BLACK  # G's gradient arrows on the plane, drawn over both point colours and the heatmap
# Series of a chart in this order: the first two are the "pair" colours, all five stay apart under deuteranopia
# and protanopia (yellow is left out: too light on white for a thin line).
CATEGORICAL = (BLUE, VERMILLION, SKY_BLUE, BLUISH_GREEN, BLACK)
# Many classes at once (the ring of 8's classes): all eight; the marks are large enough and grouped in space.
CLASSES = (BLUE, ORANGE, BLUISH_GREEN, VERMILLION, SKY_BLUE, REDDISH_PURPLE, BLACK, YELLOW)

# Heatmaps. Sequential: cividis (Nuñez, Anderton & Renslow 2018, made for colour-vision deficiency). Diverging
# (D's verdict): orange tint (generated) - light grey (0.5, cannot tell) - blue tint (real).
SEQUENTIAL_PLOTLY = "Cividis"
SEQUENTIAL_VEGA = "cividis"


def tint(colour: str, amount: float) -> str:
    """`colour` mixed with white: amount 1 = the colour, 0 = white (in sRGB, as the designers' tints are)."""
    digits = colour.lstrip("#")
    channels = [int(digits[i : i + 2], 16) for i in (0, 2, 4)]
    return "#" + "".join(f"{round(255 - (255 - c) * amount):02x}" for c in channels)


VERDICT_SCALE = (tint(FAKE, 0.4), "#f2f2f2", tint(REAL, 0.45))  # D's output: 0 = generated, 0.5, 1 = real
# Ten digit classes (the latent map): more classes than any colour-blind-safe palette keeps apart, so the eight
# Okabe–Ito colours, grey and a light blue; the map's tooltip names each point's digit.
DIGITS = (*CLASSES, GREY, tint(BLUE, 0.4))
