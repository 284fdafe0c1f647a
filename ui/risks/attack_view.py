"""What the Membership inference tab draws: the signal's histograms for members and non-members, the ROC curve, and
the sentence that reads the numbers. Pure: no Streamlit; labels come in through a `ui.catalog.Translator`."""

from __future__ import annotations

import numpy as np

from aigc_core.membership import MembershipResult, tpr_at_fpr
from ui.catalog import Translator

MEMBER_COLOUR, NONMEMBER_COLOUR = "#0072B2", "#E69F00"  # Okabe–Ito blue and orange: apart for every colour vision
BINS = 40


def histogram_spec(result: MembershipResult, tr: Translator) -> dict:
    """Two overlaid histograms of the attack signal, as shares of each group (the groups differ in size)."""
    member, other = tr("risks.membership.group_member"), tr("risks.membership.group_nonmember")
    scores = np.concatenate([result.members, result.nonmembers])
    low, high = np.quantile(scores, [0.005, 0.995])  # a few extreme scores would squash the rest into one bar
    edges = np.linspace(low, high if high > low else low + 1.0, BINS + 1)
    rows = []
    for label, values in ((member, result.members), (other, result.nonmembers)):
        counts, _ = np.histogram(np.clip(values, edges[0], edges[-1]), bins=edges)
        rows += [{"from": float(a), "to": float(b), "share": float(c / len(values)), "group": label}
                 for a, b, c in zip(edges[:-1], edges[1:], counts)]
    return {
        "data": {"values": rows}, "height": 240,
        "mark": {"type": "bar", "opacity": 0.55, "binSpacing": 0},
        "encoding": {
            "x": {"field": "from", "type": "quantitative", "bin": {"binned": True},
                  "title": tr(f"risks.membership.signal_{result.family}")},
            "x2": {"field": "to"},
            "y": {"field": "share", "type": "quantitative", "stack": None, "title": tr("risks.membership.axis_share"),
                  "axis": {"format": "%"}},
            "color": {"field": "group", "type": "nominal", "title": None,
                      "scale": {"domain": [member, other], "range": [MEMBER_COLOUR, NONMEMBER_COLOUR]},
                      "legend": {"orient": "top"}},
            "tooltip": [{"field": "group"}, {"field": "from", "format": ".3g"}, {"field": "share", "format": ".1%"}],
        },
    }


def roc_spec(result: MembershipResult, tr: Translator) -> dict:
    """The ROC curve (true-positive rate against false-positive rate) and the diagonal of guessing."""
    step = max(1, len(result.roc.fpr) // 400)  # a few hundred points draw the same curve
    keep = np.unique(np.concatenate([np.arange(0, len(result.roc.fpr), step), [len(result.roc.fpr) - 1]]))
    rows = [{"fpr": float(result.roc.fpr[i]), "tpr": float(result.roc.tpr[i])} for i in keep]
    axis = {"type": "quantitative", "scale": {"domain": [0, 1]}}
    return {
        "height": 240,
        "layer": [
            {"data": {"values": [{"fpr": 0.0, "tpr": 0.0}, {"fpr": 1.0, "tpr": 1.0}]},
             "mark": {"type": "line", "strokeDash": [4, 4], "color": "#888888"},
             "encoding": {"x": {"field": "fpr", **axis}, "y": {"field": "tpr", **axis}}},
            {"data": {"values": rows}, "mark": {"type": "line", "color": MEMBER_COLOUR, "strokeWidth": 2.5},
             "encoding": {"x": {"field": "fpr", **axis, "title": tr("risks.membership.axis_fpr")},
                          "y": {"field": "tpr", **axis, "title": tr("risks.membership.axis_tpr")},
                          "tooltip": [{"field": "fpr", "format": ".1%"}, {"field": "tpr", "format": ".1%"}]}},
        ],
    }


def verdict(result: MembershipResult, tr: Translator, *, members_trained_on: int) -> str:
    """One sentence from the measured numbers: how often a member outscores a non-member, and what that means."""
    numbers = {"auc": result.auc, "percent": 100 * result.auc, "tpr": 100 * tpr_at_fpr(result.roc, 0.01),
               "n": members_trained_on}
    if result.auc >= 0.75:
        key = "verdict_leaks"
    elif result.auc >= 0.6:
        key = "verdict_some"
    elif result.auc > 0.4:
        key = "verdict_guessing"
    else:
        key = "verdict_reversed"
    return tr(f"risks.membership.{key}", **numbers)
