"""The app's colours stay apart for colour-blind viewers: every set of colours drawn together for different things,
seen through a simulated deuteranopia and protanopia (Machado et al. 2009, severity 1.0), keeps each pair at least
MIN_DELTA_E apart (CIEDE2000). The previous colours fail the same check (a positive control: the check can fail).

Why 15: a CIEDE2000 of about 1-2 is the just-noticeable difference between two large patches side by side; thin
lines and small dots need several times more to be told apart at a glance (Stone, Szafir & Setlur 2014, "An
Engineering Model for Color Difference as a Function of Size"), and a legend is read across the chart, not side by
side. 15 leaves that margin, is met by the best five-colour Okabe-Ito set under both deficiencies (18.2), and is
far above what the old pairs reach (real green against fake orange on the Train page: 4.3 under protanopia).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from aigc_core import palette
from aigc_core.colour_vision import delta_e_2000, hex_to_rgb, seen_difference, simulate, simulate_image

MIN_DELTA_E = 15.0
DEFICIENCIES = ("deuteranopia", "protanopia")


def clashes(sets: dict[str, tuple[str, ...]], deficiency: str | None) -> list[tuple[str, str, str, float]]:
    """(set, colour, colour, ΔE) for every pair in a set that falls below MIN_DELTA_E."""
    found = []
    for name, colours in sets.items():
        for a, b in itertools.combinations(dict.fromkeys(c.upper() for c in colours), 2):
            distance = seen_difference(a, b, deficiency)  # type: ignore[arg-type]
            if distance < MIN_DELTA_E:
                found.append((name, a, b, round(distance, 1)))
    return found


def current_sets() -> dict[str, tuple[str, ...]]:
    """The colours each chart, plane or diagram draws together, read from the modules that draw them."""
    from aigc_core.diagrams import render
    from ui.concepts.view import PAIR
    from ui.lessons import diffusion_view as lesson_diffusion
    from ui.lessons import view as lessons
    from ui.playground import diffusion_view as pg_diffusion
    from ui.playground import view as pg
    from ui.slowmo_diffusion import _POINTS
    from ui.train import charts

    def styles(lines: tuple[str, ...] | list[str], key: str) -> tuple[str, ...]:
        return tuple(part.split(":")[1] for line in lines for part in line.replace(" ", ",").split(",")
                     if part.startswith(f"{key}:"))

    return {
        "train: D and G": (charts.D_COLOUR, charts.G_COLOUR),
        "train: D(x) real, D(G(z)) fake, the 0.5 line": (charts.REAL_COLOUR, charts.FAKE_COLOUR, palette.GREY),
        "playground plane": (pg.REAL_COLOR, pg.FAKE_COLOR, pg.ARROW_COLOR, pg.MANIFOLD_COLOR),
        "playground heatmap ends": (pg.HEAT_RANGE[0], pg.HEAT_RANGE[2]),
        "playground heatmap, generated side": (pg.HEAT_RANGE[0], pg.HEAT_RANGE[1]),
        "playground heatmap, real side": (pg.HEAT_RANGE[1], pg.HEAT_RANGE[2]),
        "real points on D's 'real'": (pg.REAL_COLOR, pg.HEAT_RANGE[2]),
        "generated points on D's 'generated'": (pg.FAKE_COLOR, pg.HEAT_RANGE[0]),
        "playground losses": (pg.CURVE_COLORS["d_loss"], pg.CURVE_COLORS["g_loss"]),
        "playground KL and JS": (pg.CURVE_COLORS["kl"], pg.CURVE_COLORS["js"]),
        "diffusion plane": (pg.REAL_COLOR, pg.FAKE_COLOR, pg_diffusion.FORWARD_COLOR, pg_diffusion.PARTICLE_COLOR,
                            pg_diffusion.ARROW_COLOR),
        "diffusion slow motion": tuple(colour for _, colour in _POINTS.values()),
        "lessons: arms": tuple(lessons.COLOURS.values()),
        "lessons: beta sweep": lessons.BETA_COLOURS,
        "diffusion lessons: arms and data": (*lesson_diffusion.ARM_COLOURS.values(), lesson_diffusion.DATA_COLOUR),
        "concepts: two curves": tuple(PAIR),
        "diagram nodes (strokes)": styles(render._CLASS_DEFS, "stroke"),
        "diagram edges": styles([render._FORWARD_STYLE, render._GRADIENT_STYLE, render._ACTIVE_EDGE_STYLE], "stroke"),
    }


# The colours before this palette (commit becf8d5), drawn together in the same places.
OLD_SETS = {
    "train: D and G": ("#1e88e5", "#e65100"),
    "train: D(x) real, D(G(z)) fake": ("#2e7d32", "#e65100"),
    "playground plane": ("#1a9850", "#8e44ad", "#d35400", "#3c3c3c"),
    "playground heatmap ends": ("#b07cc6", "#8fd1a8"),
    "diffusion plane": ("#1a9850", "#8e44ad", "#4a90c2", "#c0392b", "#d35400"),
    "lessons: beta sweep": ("#1e88e5", "#43a047", "#fb8c00", "#e53935", "#6a1b9a"),
    "diagram edges": ("#607d8b", "#c62828", "#e65100"),
}


@pytest.mark.parametrize("deficiency", [None, *DEFICIENCIES])
def test_colours_drawn_together_stay_apart(deficiency: str | None) -> None:
    assert clashes(current_sets(), deficiency) == []


# What the check flags in the old colours, by deficiency (normal vision told all of these apart).
OLD_FAILURES = {
    "deuteranopia": {"lessons: beta sweep", "playground plane", "diagram edges"},  # e.g. green #43a047 / red #e53935: 5.2
    "protanopia": {"train: D(x) real, D(G(z)) fake", "lessons: beta sweep", "diagram edges"},  # #2e7d32 / #e65100: 4.3
}


@pytest.mark.parametrize("deficiency", DEFICIENCIES)
def test_the_old_colours_fail_the_same_check(deficiency: str) -> None:
    """The positive control: the check catches what the app drew before (so the test above can fail)."""
    failing = {name for name, *_ in clashes(OLD_SETS, deficiency)}
    assert OLD_FAILURES[deficiency] <= failing
    assert not {name for name, *_ in clashes(OLD_SETS, None)} & OLD_FAILURES[deficiency]


def test_every_role_is_an_okabe_ito_colour() -> None:
    for role in (palette.D, palette.G, palette.REAL, palette.FAKE, palette.GRADIENT, *palette.CATEGORICAL,
                 *palette.CLASSES):
        assert role in palette.OKABE_ITO


# -- the colour science, against published numbers --------------------------------------------------------------

# Sharma, Wu & Dalal (2005), supplementary test data: (Lab 1, Lab 2, CIEDE2000), pairs 1, 2, 7, 17, 18, 24.
SHARMA = [
    ((50.0, 2.6772, -79.7751), (50.0, 0.0, -82.7485), 2.0425),
    ((50.0, 3.1571, -77.2803), (50.0, 0.0, -82.7485), 2.8615),
    ((50.0, 0.0, 0.0), (50.0, -1.0, 2.0), 2.3669),
    ((50.0, 2.5, 0.0), (73.0, 25.0, -18.0), 27.1492),
    ((50.0, 2.5, 0.0), (61.0, -5.0, 29.0), 22.8977),
    ((60.2574, -34.0099, 36.2677), (60.4626, -34.1751, 39.4387), 1.2644),
]


@pytest.mark.parametrize(("lab1", "lab2", "expected"), SHARMA)
def test_ciede2000_matches_sharma(lab1: tuple, lab2: tuple, expected: float) -> None:
    assert float(delta_e_2000(np.array(lab1), np.array(lab2))) == pytest.approx(expected, abs=1e-4)
    assert float(delta_e_2000(np.array(lab2), np.array(lab1))) == pytest.approx(expected, abs=1e-4)


@pytest.mark.parametrize("deficiency", DEFICIENCIES)
def test_simulation_keeps_greys_and_merges_red_and_green(deficiency: str) -> None:
    """Machado's matrices keep white, black and greys (each row sums to 1) and make red and green hard to tell."""
    greys = np.array([[0.0] * 3, [0.5] * 3, [1.0] * 3])
    assert np.allclose(simulate(greys, deficiency), greys, atol=2e-3)  # type: ignore[arg-type]
    assert seen_difference("#e53935", "#43a047", deficiency) < seen_difference("#e53935", "#43a047") / 3  # type: ignore[arg-type]


def test_simulate_image_keeps_alpha_and_shape() -> None:
    picture = np.zeros((2, 3, 4), np.uint8)
    picture[..., :3] = (hex_to_rgb(palette.ORANGE) * 255).astype(np.uint8)
    picture[..., 3] = 200
    seen = simulate_image(picture, "deuteranopia")
    assert seen.shape == picture.shape and (seen[..., 3] == 200).all()
    assert not np.array_equal(seen[..., :3], picture[..., :3])
