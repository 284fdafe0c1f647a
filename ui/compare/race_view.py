"""What the race tabs draw: quality against the race clock (one curve per family), the 2-D samples over the data, the
progress line and the conclusion, each sentence filled in from the race's measurements (`Race.verdict`). Pure: no
Streamlit; labels come in through a `ui.catalog.Translator`."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from aigc_core import palette
from aigc_core.race import Race, Verdict
from aigc_core.race_toy import ToyRace
from ui.catalog import Translator
from ui.text import plain

# One colour per family, from the palette's checked series colours (all five stay apart with colour blindness):
# G's vermillion for the GAN.
FAMILY_COLOURS: Mapping[str, str] = {"gan": palette.VERMILLION, "vae": palette.BLUE, "diffusion": palette.BLUISH_GREEN}
FAMILY_SHAPES: Mapping[str, str] = {"gan": "triangle-up", "vae": "square", "diffusion": "circle"}
REAL_COLOUR = palette.GREY  # the data under the 2-D samples: context, not a series


def family_name(family: str, tr: Translator) -> str:
    return tr(f"race.family.{family}")


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def curve_spec(race: Race, tr: Translator, *, field: str, title: str, log: bool = False,
               goal: float | None = None, height: int = 280) -> dict:
    """`field` of every measurement against the race clock, one line per family, the goal as a dashed rule."""
    names = [family_name(f, tr) for f in race.lanes]
    time_title, value_title = tr("race.axis_time"), title
    values = [{"race_s": round(m.race_s, 2), "family": family_name(m.family, tr), "value": _finite(m.values.get(field)),
               "steps": m.steps} for m in race.measurements if field in m.values]
    y_scale: dict = {"type": "log"} if log else {"zero": False}
    layers: list[dict] = [{
        "data": {"values": values},
        "mark": {"type": "line", "point": {"filled": True, "size": 70}, "strokeWidth": 2.5},
        "encoding": {
            "x": {"field": "race_s", "type": "quantitative", "title": time_title,
                  "scale": {"domain": [0, round(race.budget_s, 1)]}},
            "y": {"field": "value", "type": "quantitative", "title": value_title, "scale": y_scale},
            "color": {"field": "family", "type": "nominal", "title": None,
                      "scale": {"domain": names, "range": [FAMILY_COLOURS[f] for f in race.lanes]},
                      "legend": {"orient": "top"}},
            # A shape too: points that lie on top of each other (all at a score of 1 early on) stay apart, and the
            # families do not rest on colour alone.
            "shape": {"field": "family", "type": "nominal", "title": None,
                      "scale": {"domain": names, "range": [FAMILY_SHAPES[f] for f in race.lanes]}},
            "tooltip": [{"field": "family", "title": tr("race.col_family")},
                        {"field": "race_s", "title": time_title, "format": ".0f"},
                        {"field": "value", "title": value_title, "format": ".3g"},
                        {"field": "steps", "title": tr("race.col_steps")}],
        },
    }]
    if goal is not None:
        layers.append({"data": {"values": [{"goal": goal}]},
                       "mark": {"type": "rule", "strokeDash": [6, 4], "color": palette.GREY},
                       "encoding": {"y": {"field": "goal", "type": "quantitative"}}})
    return {"height": height, "layer": layers}


def scatter_spec(race: ToyRace, family: str, tr: Translator) -> dict:
    """One family's last measured samples (its colour) over the real points (grey), on the playground's plane."""
    real = [{"x": float(x), "y": float(y), "kind": tr("race.toy_real")} for x, y in np.asarray(race.real)]
    points = race.points.get(family)
    fake = [] if points is None else [{"x": float(x), "y": float(y), "kind": family_name(family, tr)}
                                      for x, y in np.asarray(points) if math.isfinite(x) and math.isfinite(y)]
    axis = {"type": "quantitative", "title": None, "scale": {"domain": [-3.5, 3.5], "clamp": True}}
    return {
        "height": 300,
        "data": {"values": fake + real},
        "mark": {"type": "circle", "size": 14, "opacity": 0.7},
        "encoding": {
            "x": {"field": "x", **axis}, "y": {"field": "y", **axis},
            "color": {"field": "kind", "type": "nominal", "title": None, "legend": {"orient": "top"},
                      "scale": {"domain": [family_name(family, tr), tr("race.toy_real")],
                                "range": [FAMILY_COLOURS[family], REAL_COLOUR]}},
        },
    }


def progress_text(race: Race, tr: Translator) -> str:
    left = max(0.0, race.budget_s - race.race_s)
    text = tr("race.progress", done=race.race_s, budget=race.budget_s, left=left, eval=race.eval_s)
    return text + " " + tr("race.measuring_now") if race.measuring else text


def share_text(share: float) -> str:
    return f"{100 * share:.1f}%"


def conclusion(verdict: Verdict, tr: Translator, *, prefix: str) -> list[str]:
    """The race's outcome in sentences, each filled in from the measurements: the winner and its best value, when
    each family first passed the goal (or that it never did), who left the race and why, the compute shares, the
    time spent measuring. `prefix`: "race.mnist" or "race.toy" (the wording of the metric)."""
    sentences = []
    lanes = len(verdict.results)
    if verdict.winner is not None:
        best = verdict.result(verdict.winner)
        sentences.append(tr(f"{prefix}.winner", family=family_name(verdict.winner, tr), value=best.best,
                            at=best.best_at_s, race=verdict.race_s, each=verdict.race_s / lanes))
    for r in verdict.results:
        name = family_name(r.family, tr)
        if r.reached_goal_at_s is not None:
            sentences.append(tr(f"{prefix}.reached", family=name, goal=verdict.goal, at=r.reached_goal_at_s,
                                steps=r.steps))
        elif r.best is not None:
            sentences.append(tr(f"{prefix}.never", family=name, goal=verdict.goal, best=r.best, steps=r.steps))
        if r.error is not None:
            sentences.append(tr("race.left", family=name, message=plain(r.error)))
    if verdict.first_to_goal is not None:
        first = verdict.result(verdict.first_to_goal)
        sentences.append(tr(f"{prefix}.first", family=family_name(first.family, tr), goal=verdict.goal,
                            at=first.reached_goal_at_s))
    shares = tr("race.list_separator").join(f"{family_name(r.family, tr)} {share_text(r.share)}"
                                             for r in verdict.results)
    sentences.append(tr("race.shares_sentence", shares=shares, eval=verdict.eval_s))
    return sentences
