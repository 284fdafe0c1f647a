"""Slow motion for any `DiffusionTrainer` (MNIST images or 2-D toy points): one training step, phase by phase.

The diffusion counterpart of `ui.slowmo` (the GAN panel). It walks the trainer with
`aigc_core.slowmo_diffusion.DiffusionSlowMotion` (the trainer's own phase methods, so the weights really change at
the update phase), and shows for the phase just run: its number and translated caption, the training-loop diagram
(Ho et al., Algorithm 1) with that phase lit up and the loss and gradient norm on it, the real numbers it produced,
and a few samples of the batch as they go through the step: the clean x₀, the noisy x_t, and the denoiser's guess
x̂₀. The diagram updates in place (`ui.diagram.live_mermaid`).

    from ui.slowmo_diffusion import diffusion_slow_motion_panel
    record = diffusion_slow_motion_panel(trainer, "train", on_iteration=history.append)

- ``key_prefix`` keeps widget keys and the session-state stepper apart (one panel per prefix and page).
- ``on_iteration(stats)`` is called with the step's `DiffusionStats` when the walk completes one (record it like
  any other step); ``on_diverged(exc)`` when a phase raises `TrainingDiverged` (the panel also shows the error).
- Returns the `DiffusionPhaseRecord` of the phase shown, or None before the first phase.

Nothing here calls ``.backward()``: all of that happens in ``aigc_core``.
"""

from __future__ import annotations

from collections.abc import Callable

import plotly.graph_objects as go
import streamlit as st

from aigc_core import images, palette, pixels
from aigc_core.diagrams import diffusion_diagram, format_value
from aigc_core.diffusion_trainer import DiffusionStats, DiffusionTrainer
from aigc_core.errors import TrainingDiverged
from aigc_core.slowmo_diffusion import PHASE_KEYS, DiffusionPhaseRecord, DiffusionSlowMotion
from ui.diagram import live_mermaid
from ui.a11y.charts import chart_area, image, plotly_chart
from ui.i18n import t
from ui.labels import diffusion_labels
from ui.slowmo import phase_list, value_metrics, walk_controls

# The order values are listed in, whatever phase produced them.
_VALUE_ORDER = ("batch", "dropped", "t_min", "t_max", "t_mean", "T", "alpha_bar_min", "alpha_bar_max", "output_std",
                "x0_error", "loss", "grad", "step", "lr")
_WHOLE = frozenset({"batch", "dropped", "t_min", "t_max", "T"})
_POINTS = {"x0": ("x0_points", palette.REAL), "x_t": ("xt_points", palette.GREY), "x0_hat": ("x0_hat_points", palette.FAKE)}


def phase_title(key: str) -> str:
    return t(f"slowmo.diffusion_phase.{key}.title")


def phase_caption(key: str) -> str:
    return t(f"slowmo.diffusion_phase.{key}.caption")


def stepper(trainer: DiffusionTrainer, key_prefix: str) -> DiffusionSlowMotion:
    """This session's slow-motion stepper for `trainer` (a new one when the trainer was replaced). The state key is
    the GAN panel's (`ui.slowmo.stepper`), so a page that abandons a walk (Start, Reset) abandons either kind."""
    state_key = f"{key_prefix}_slowmo_stepper"
    current = st.session_state.get(state_key)
    if not isinstance(current, DiffusionSlowMotion) or current.trainer is not trainer:
        current = DiffusionSlowMotion(trainer)
        st.session_state[state_key] = current
    return current


def _format(key: str, value: float) -> str:
    if key in _WHOLE:
        return f"{int(value)}"
    if key == "t_mean":
        return f"{value:.0f}"
    if key == "lr":
        return f"{value:.2g}"
    return format_value(value)


def _labels_text(labels: tuple[int, ...] | None, null_label: int) -> str:
    if labels is None:
        return "—"
    return ", ".join("∅" if y == null_label else str(y) for y in labels)


def _show_previews(slow: DiffusionSlowMotion) -> None:
    """x₀, x_t and x̂₀ of the same few samples: image strips one above the other, or 2-D points on one plot."""
    shown = [(name, slow.latest(name)) for name in ("x0", "x_t", "x0_hat")]
    shown = [(name, x) for name, x in shown if x is not None]
    if not shown:
        return
    if shown[0][1].ndim == 4:
        t_values = slow.latest("t")
        captions = {
            "x0": t("slowmo.diffusion.x0_samples", labels=_labels_text(slow.latest("labels"),
                                                                       slow.trainer.model.null_label)),
            "x_t": t("slowmo.diffusion.xt_samples", t=", ".join(str(v) for v in t_values or ())),
            "x0_hat": t("slowmo.diffusion.x0_hat_samples"),
        }
        for name, x in shown:
            grid = images.make_grid(pixels.signed_to_unit(x.clamp(-1.0, 1.0)), nrow=len(x))
            image(images.to_png_data_uri(images.upscale(grid, 3)), captions[name])
        return
    figure = go.Figure()
    for name, x in shown:
        figure.add_scatter(x=x[:, 0].tolist(), y=x[:, 1].tolist(), mode="markers",
                           name=t(f"slowmo.diffusion.{_POINTS[name][0]}"), marker={"size": 8, "color": _POINTS[name][1]})
    figure.update_layout(height=260, margin={"l": 10, "r": 10, "t": 10, "b": 10}, legend={"orientation": "h"})
    figure.update_yaxes(scaleanchor="x", scaleratio=1)
    with chart_area("slowmo_diffusion_points"):
        plotly_chart(figure, title=", ".join(trace.name for trace in figure.data), config={"displayModeBar": False})


def diffusion_slow_motion_panel(
    trainer: DiffusionTrainer,
    key_prefix: str,
    *,
    on_iteration: Callable[[DiffusionStats], None] | None = None,
    on_diverged: Callable[[TrainingDiverged], None] | None = None,
    diagram_height: int | str = "content",
) -> DiffusionPhaseRecord | None:
    """Draw the diffusion slow-motion panel for `trainer` and handle its buttons. See the module docstring."""
    slow = stepper(trainer, key_prefix)
    st.caption(t("slowmo.diffusion.intro"))
    walk_controls(slow, f"{key_prefix}_dslowmo", finish=slow.finish_step, done=lambda r: r.step_done,
                  on_done=on_iteration, on_diverged=on_diverged, finish_label="slowmo.diffusion.finish",
                  finish_help="slowmo.diffusion.finish_help", restart_help="slowmo.diffusion.restart_help")

    current = slow.history[-1] if slow.history else None
    if current is None:
        st.info(t("slowmo.diffusion.not_started"))
    else:
        st.markdown(f"#### {t('slowmo.phase_heading', number=current.number, total=len(PHASE_KEYS), title=phase_title(current.key))}")
        st.write(phase_caption(current.key))
        if current.step_done:
            st.success(t("slowmo.diffusion.step_done", step=trainer.iteration))
        else:
            st.caption(t("slowmo.next_up", number=slow.next_number, title=phase_title(slow.next_key)))

    source = diffusion_diagram(phase=current.key if current else None, values=slow.diagram_values,
                               labels=diffusion_labels(t))
    live_mermaid(source, key=f"{key_prefix}_dslowmo_diagram", height=diagram_height)
    left, right = st.columns([2, 3])
    with left:
        if current is not None and current.values:
            value_metrics(current.values, _VALUE_ORDER, "slowmo.diffusion_value", _format)
    with right:
        _show_previews(slow)
    with st.expander(t("slowmo.diffusion.phases_heading"), expanded=False):
        st.markdown(phase_list(PHASE_KEYS, phase_title, slow.history, current))
    return current
