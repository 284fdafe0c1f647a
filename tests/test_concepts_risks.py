"""Concepts & Math, the risks section (ui/concepts/risks.py): the four risks' formulas, and the detector's held-out
accuracies read from pretrained/detector/config.json (no number written in by hand)."""

from __future__ import annotations

import json
from pathlib import Path

from streamlit.testing.v1 import AppTest

CONFIG = Path(__file__).resolve().parents[1] / "pretrained" / "detector" / "config.json"


def _section(lang: str = "en") -> AppTest:
    def script() -> None:
        from ui.concepts.risks import risks_section

        risks_section()

    at = AppTest.from_function(script, default_timeout=60)
    at.query_params["lang"] = lang
    return at.run()


def test_risks_section_shows_formulas_and_the_detectors_measured_accuracy():
    at = _section()
    assert not at.exception
    assert [h.value for h in at.subheader] == ["Copying (memorisation)", "Membership inference",
                                               "Differential privacy (ε, δ)", "Detection and misinformation"]
    assert any(r"e^{\varepsilon}" in latex.value for latex in at.latex)  # the (ε, δ) definition
    metrics = json.loads(CONFIG.read_text())["provenance"]["metrics"]["per_model"]
    hardest = min(metrics, key=lambda n: metrics[n]["accuracy"])
    text = " ".join(m.value for m in at.markdown)
    assert f"**{hardest}**: {100 * metrics[hardest]['accuracy']:.0f}% balanced accuracy" in text
    table = at.dataframe[0].value
    assert list(table["generator"]) == list(metrics)
    assert list(table["balanced accuracy"]) == [f"{100 * m['accuracy']:.1f}%" for m in metrics.values()]


def test_risks_section_in_chinese():
    at = _section("zh")
    assert not at.exception and at.header[0].value == "风险：复制、隐私与伪造"
