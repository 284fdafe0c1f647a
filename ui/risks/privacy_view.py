"""What the Differential privacy tab draws: the sweep's ε against quality, DP's effect on the membership AUC, and the
live run's ε and loss as training goes. Pure: no Streamlit; labels come in through a `ui.catalog.Translator`."""

from __future__ import annotations

import json
import math
from pathlib import Path

from aigc_core.evaluation import PRETRAINED_DIR
from aigc_core.privacy import DPStats
from ui.catalog import Translator

SWEEP_FILE = PRETRAINED_DIR / "privacy_sweep.json"
SWEEP_COMMAND = "python -m aigc_core privacy-sweep --threads 1 --out pretrained/privacy_sweep.json"
DP_COLOUR, BASE_COLOUR = "#0072B2", "#D55E00"


def read_sweep(path: Path = SWEEP_FILE) -> dict | None:
    """The sweep's JSON, or None when the file is missing or unreadable (the tab then shows the command)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and {"quality", "membership"} <= data.keys() else None


def _sigma_label(sigma: float | None, tr: Translator) -> str:
    return tr("risks.privacy.baseline") if sigma is None else f"σ = {sigma:g}"


def rows(sweep: dict, tr: Translator) -> list[dict]:
    """One row per noise level (and the baseline): σ, ε, test ELBO, accuracy, membership AUC."""
    by_sigma: dict = {}
    for part, field, key in (("quality", "test_elbo", "elbo"), ("classifier", "test_accuracy", "accuracy"),
                             ("membership", "auc", "auc"), ("membership", "epsilon", "epsilon_subset")):
        for run in sweep.get(part, {}).get("runs", []):
            row = by_sigma.setdefault(run["noise_multiplier"], {"sigma": run["noise_multiplier"]})
            row[key] = run.get(field)
            if part == "quality":
                row["epsilon"] = run.get("epsilon")
    out = []
    for sigma, row in by_sigma.items():
        out.append({
            tr("risks.privacy.col_run"): _sigma_label(sigma, tr),
            tr("risks.privacy.col_epsilon"): _eps_text(row.get("epsilon")),
            tr("risks.privacy.col_elbo"): row.get("elbo"),
            tr("risks.privacy.col_accuracy"): None if row.get("accuracy") is None else f"{100 * row['accuracy']:.1f}%",
            tr("risks.privacy.col_epsilon_subset"): _eps_text(row.get("epsilon_subset")),
            tr("risks.privacy.col_auc"): row.get("auc"),
        })
    return out


def _eps_text(value: float | None) -> str:
    return "∞" if value is None else f"{value:.3g}"


def quality_spec(sweep: dict, tr: Translator) -> dict:
    """Test ELBO against ε (log axis) for the DP runs; the non-private baseline as a dashed line (ε = ∞)."""
    runs = sweep["quality"]["runs"]
    points = [{"epsilon": r["epsilon"], "elbo": r["test_elbo"], "run": _sigma_label(r["noise_multiplier"], tr)}
              for r in runs if r["epsilon"] is not None]
    base = [{"elbo": r["test_elbo"], "run": tr("risks.privacy.baseline")} for r in runs if r["epsilon"] is None]
    layers: list[dict] = [{
        "data": {"values": points}, "mark": {"type": "line", "point": {"size": 80, "filled": True}, "color": DP_COLOUR},
        "encoding": {"x": {"field": "epsilon", "type": "quantitative", "scale": {"type": "log"},
                           "title": tr("risks.privacy.axis_epsilon", delta=sweep.get("delta", 1e-5))},
                     "y": {"field": "elbo", "type": "quantitative", "scale": {"zero": False},
                           "title": tr("risks.privacy.axis_elbo")},
                     "tooltip": [{"field": "run"}, {"field": "epsilon", "format": ".3g"},
                                 {"field": "elbo", "format": ".1f"}]},
    }, {
        "data": {"values": points}, "mark": {"type": "text", "dy": -12, "fontSize": 12},
        "encoding": {"x": {"field": "epsilon", "type": "quantitative"}, "y": {"field": "elbo", "type": "quantitative"},
                     "text": {"field": "run"}},
    }]
    if base:
        layers.append({"data": {"values": base}, "mark": {"type": "rule", "strokeDash": [6, 4], "color": BASE_COLOUR},
                       "encoding": {"y": {"field": "elbo", "type": "quantitative"},
                                    "tooltip": [{"field": "run"}, {"field": "elbo", "format": ".1f"}]}})
        layers.append({"data": {"values": base}, "mark": {"type": "text", "align": "left", "dy": -8, "x": 4,
                                                          "color": BASE_COLOUR},
                       "encoding": {"y": {"field": "elbo", "type": "quantitative"}, "text": {"field": "run"}}})
    return {"height": 260, "layer": layers}


def auc_spec(sweep: dict, tr: Translator) -> dict:
    """The membership AUC of the 100-digit model at each noise level, with the 0.5 line of guessing."""
    values = [{"run": _sigma_label(r["noise_multiplier"], tr), "auc": r["auc"], "epsilon": _eps_text(r["epsilon"]),
               "private": r["epsilon"] is not None} for r in sweep["membership"]["runs"]]
    order = [v["run"] for v in values]
    return {
        "height": 240,
        "layer": [
            {"data": {"values": values}, "mark": {"type": "bar"},
             "encoding": {"x": {"field": "run", "type": "nominal", "sort": order, "title": None, "axis": {"labelAngle": 0}},
                          "y": {"field": "auc", "type": "quantitative", "scale": {"domain": [0, 1]},
                                "title": tr("risks.privacy.axis_auc")},
                          "color": {"field": "private", "type": "nominal", "legend": None,
                                    "scale": {"domain": [True, False], "range": [DP_COLOUR, BASE_COLOUR]}},
                          "tooltip": [{"field": "run"}, {"field": "auc", "format": ".3f"}, {"field": "epsilon"}]}},
            {"data": {"values": [{"y": 0.5}]}, "mark": {"type": "rule", "strokeDash": [4, 4], "color": "#888888"},
             "encoding": {"y": {"field": "y", "type": "quantitative"}}},
        ],
    }


def sweep_sentence(sweep: dict, tr: Translator) -> str:
    """What the sweep found, read from its numbers: the baseline against the strongest-noise run."""
    quality = sweep["quality"]["runs"]
    base = next((r for r in quality if r["epsilon"] is None), None)
    private = [r for r in quality if r["epsilon"] is not None]
    members = sweep["membership"]["runs"]
    base_auc = next((r["auc"] for r in members if r["epsilon"] is None), None)
    if base is None or not private or base_auc is None:
        return ""
    best = min(private, key=lambda r: r["epsilon"])
    dp_auc = next((r["auc"] for r in members if r["noise_multiplier"] == best["noise_multiplier"]), math.nan)
    return tr("risks.privacy.sweep_sentence", sigma=best["noise_multiplier"], epsilon=best["epsilon"],
              delta=sweep.get("delta", 1e-5), elbo=best["test_elbo"], base_elbo=base["test_elbo"],
              cost=base["test_elbo"] - best["test_elbo"], base_auc=base_auc, dp_auc=dp_auc,
              n=sweep["membership"]["subset"])


def live_specs(history: list[DPStats], tr: Translator, *, delta: float) -> tuple[dict, dict]:
    """The live run: ε and the training loss against the step (two charts, side by side on the page)."""
    values = [{"step": s.step, "epsilon": s.epsilon if math.isfinite(s.epsilon) else None,
               "loss": s.loss if math.isfinite(s.loss) else None} for s in history]
    step = {"field": "step", "type": "quantitative", "title": tr("risks.privacy.axis_step")}

    def panel(field: str, title: str, colour: str) -> dict:
        return {"data": {"values": values}, "height": 200, "mark": {"type": "line", "color": colour},
                "encoding": {"x": step, "y": {"field": field, "type": "quantitative", "title": title,
                                                 "scale": {"zero": False}}}}

    return (panel("epsilon", tr("risks.privacy.axis_epsilon_live", delta=delta), DP_COLOUR),
            panel("loss", tr("risks.privacy.axis_loss"), BASE_COLOUR))
