"""Concepts & Math, last section: the risks of generative models (copying, membership inference, differential
privacy, detection) in formulas, each next to the live number this app has for it. Only numbers that exist are
shown: the detector's held-out accuracies from pretrained/detector/config.json; the other risks link to their tab
of the Responsible AIGC page (pages/risks.py), where they are measured."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from ui.i18n import t
from ui.resources import try_pretrained

DETECTOR = "detector"


def detector_metrics() -> dict:
    """The held-out figures `python -m aigc_core train-detector` stored; {} without a detector."""
    checkpoint, _error = try_pretrained(DETECTOR)
    return dict(checkpoint.provenance.get("metrics", {})) if checkpoint is not None else {}


def risks_section() -> None:
    st.header(t("concepts.risks.heading"))
    st.markdown(t("concepts.risks.intro"))

    st.subheader(t("concepts.risks.copy_heading"))
    st.latex(r"d_\text{NN}(x) = \min_{x_i \in \mathcal{D}_\text{train}} \lVert x - x_i \rVert_2")
    st.markdown(t("concepts.risks.copy_text"))

    st.subheader(t("concepts.risks.mia_heading"))
    st.latex(r"\widehat{\text{member}}(x) = \mathbb{1}\big[s(x) > \tau\big], \qquad "
             r"\mathrm{AUC} = \Pr\big[s(x_\text{member}) > s(x_\text{non-member})\big]")
    st.markdown(t("concepts.risks.mia_text"))

    st.subheader(t("concepts.risks.dp_heading"))
    st.latex(r"\Pr[M(D) \in S] \;\le\; e^{\varepsilon}\,\Pr[M(D') \in S] + \delta"
             r"\quad \text{for all } D, D' \text{ differing in one example, all } S")
    st.markdown(t("concepts.risks.dp_text"))
    st.latex(r"\tilde g = \frac{1}{B}\Big(\sum_{i=1}^{B} g_i \min\big(1, \tfrac{C}{\lVert g_i \rVert}\big)"
             r" + \mathcal{N}(0, \sigma^2 C^2 I)\Big), \qquad \mathrm{TPR} \le e^{\varepsilon}\,\mathrm{FPR} + \delta")
    st.markdown(t("concepts.risks.dp_attack"))

    st.subheader(t("concepts.risks.detect_heading"))
    st.latex(r"\text{balanced accuracy} = \tfrac{1}{2}\big(\Pr[\text{real judged real}]"
             r" + \Pr[\text{generated judged generated}]\big)")
    st.markdown(t("concepts.risks.detect_text"))
    metrics = detector_metrics()
    per_model = metrics.get("per_model", {})
    if per_model:
        st.dataframe(pd.DataFrame([{
            t("concepts.risks.col_model"): name,
            t("concepts.risks.col_caught"): f"{100 * figures['caught']:.1f}%",
            t("concepts.risks.col_accuracy"): f"{100 * figures['accuracy']:.1f}%",
        } for name, figures in per_model.items()]), hide_index=True)
        hardest = min(per_model, key=lambda n: per_model[n]["accuracy"])
        st.markdown(t("concepts.risks.detect_live", n=metrics.get("held_out", 0), real=100 * metrics["real_correct"],
                      hardest=hardest, accuracy=100 * per_model[hardest]["accuracy"]))
    else:
        st.info(t("concepts.risks.no_detector"))
    st.markdown(t("concepts.risks.detect_after"))
