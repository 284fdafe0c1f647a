"""Slow motion for any `GANTrainer` (MNIST images or 2-D toy points): one iteration, phase by phase.

The panel walks the trainer with `aigc_core.slowmo.SlowMotion` (the trainer's own phase methods, so the weights
really change at the update phases), and shows for the phase just run: its number and translated caption, the
feedback-loop diagram with that phase lit up and live values on its edges, the real numbers it produced, and
the real / fake samples of the batch. The diagram updates in place (`ui.diagram.live_mermaid`): the highlight
moves from phase to phase without the picture blanking, and it draws correctly inside a hidden tab too.

Use it from any page::

    from ui.slowmo import slow_motion_panel
    record = slow_motion_panel(trainer, "train", on_iteration=history.append)

- ``key_prefix`` keeps widget keys and the session-state stepper apart (one panel per prefix and page).
- ``show_samples(record, real, fake)``: draw the samples your way (e.g. a scatter plot of 2-D points); ``real`` and
  ``fake`` are the latest tensors of this iteration (CPU, possibly None). The default draws MNIST-shaped
  tensors ``(N, 1, 28, 28)`` in [-1, 1] as image grids and ``(N, 2)`` points as a scatter plot.
- ``on_iteration(stats)`` is called with the iteration's `GANStats` when the walk completes one (record it like
  any other step); ``on_diverged(exc)`` when a phase raises `TrainingDiverged` (the panel also shows the error).
- Returns the `PhaseRecord` of the phase shown, or None before the first phase.

Other helpers: ``phase_title(key)`` / ``phase_caption(key)``, ``stepper(trainer, key_prefix)`` (the session's `SlowMotion`).
Nothing here calls ``.backward()``: all of that happens in ``aigc_core``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import plotly.graph_objects as go
import streamlit as st
import torch

from aigc_core import images, palette, pixels
from aigc_core.diagrams import format_value, gan_diagram
from aigc_core.errors import TrainingDiverged
from aigc_core.gan_trainer import GANStats, GANTrainer
from aigc_core.slowmo import PHASE_KEYS, PhaseRecord, SlowMotion
from ui.a11y.charts import chart_area, image, plotly_chart
from ui.i18n import t
from ui.labels import gan_labels
from ui.diagram import live_mermaid
from ui.text import plain

SampleView = Callable[[PhaseRecord | None, torch.Tensor | None, torch.Tensor | None], None]

# The order values are listed in, whatever phase produced them.
_VALUE_ORDER = ("batch", "z_dim", "z_mean", "z_std", "d_real", "d_fake", "d_loss", "g_loss", "grad_d", "grad_g",
                "step_d", "step_g", "lr")


def phase_title(key: str) -> str:
    return t(f"slowmo.phase.{key}.title")


def phase_caption(key: str) -> str:
    return t(f"slowmo.phase.{key}.caption")


def stepper(trainer: GANTrainer, key_prefix: str) -> SlowMotion:
    """This session's slow-motion stepper for `trainer` (a new one when the trainer was replaced)."""
    state_key = f"{key_prefix}_slowmo_stepper"
    current = st.session_state.get(state_key)
    if current is None or current.trainer is not trainer:
        current = SlowMotion(trainer)
        st.session_state[state_key] = current
    return current


def _format(key: str, value: float) -> str:
    if key in ("batch", "z_dim"):
        return f"{int(value)}"
    if key == "lr":
        return f"{value:.2g}"
    return format_value(value)


def default_samples(record: PhaseRecord | None, real: torch.Tensor | None, fake: torch.Tensor | None) -> None:
    """MNIST-shaped tensors as image grids, 2-D points as one scatter plot."""
    shown = [(x, label) for x, label in ((real, "real"), (fake, "fake")) if x is not None]
    if not shown:
        return
    if shown[0][0].ndim == 4:
        for x, label in shown:
            grid = images.make_grid(pixels.signed_to_unit(x), nrow=8)
            image(images.to_png_data_uri(images.upscale(grid, 3)), t(f"slowmo.{label}_samples"))
        return
    figure = go.Figure()
    for x, label in shown:
        figure.add_scatter(x=x[:, 0].tolist(), y=x[:, 1].tolist(), mode="markers", name=t(f"slowmo.{label}_points"),
                           marker={"size": 7, "color": palette.REAL if label == "real" else palette.FAKE})
    figure.update_layout(height=260, margin={"l": 10, "r": 10, "t": 10, "b": 10}, legend={"orientation": "h"})
    figure.update_yaxes(scaleanchor="x", scaleratio=1)
    with chart_area("slowmo_points"):
        plotly_chart(figure, title=", ".join(trace.name for trace in figure.data), config={"displayModeBar": False})


def _latest(slow: SlowMotion, attribute: str) -> torch.Tensor | None:
    for record in reversed(slow.history):
        value = getattr(record, attribute)
        if value is not None:
            return value
    return None


def phase_list(keys: Sequence[str], title: Callable[[str], str], history: Sequence[Any], current: Any,
               notes: Mapping[str, str] | None = None) -> str:
    """The walk's phases as a Markdown list: ▶ the one shown, ✓ those done in this walk, ○ those to come; `notes`
    adds an indented line under a phase (e.g. "repeated k times")."""
    done_keys = {record.key for record in history}
    lines = []
    for number, key in enumerate(keys, start=1):
        text = f"{number}. {title(key)}"
        if current is not None and key == current.key:
            lines.append(f"- ▶ **{text}**")
        elif key in done_keys:
            lines.append(f"- ✓ {text}")
        else:
            lines.append(f"- ○ {text}")
        if notes and key in notes:
            lines.append(f"  {notes[key]}")
    return "\n".join(lines)


def walk_controls(slow: Any, key_base: str, *, finish: Callable[[], Any], done: Callable[[Any], bool],
                  on_done: Callable[[Any], None] | None, on_diverged: Callable[[TrainingDiverged], None] | None,
                  finish_label: str = "slowmo.finish", finish_help: str = "slowmo.finish_help",
                  restart_help: str = "slowmo.restart_help") -> None:
    """Next phase / Finish / Start over for a walker (GAN or diffusion: `advance`, `reset`, `in_progress`, and its
    own `finish` and "step done" test), and what a click does; a divergence is shown and handed to `on_diverged`."""
    columns = st.columns(3)
    next_clicked = columns[0].button(t("slowmo.next"), help=t("slowmo.next_help"), type="primary",
                                     key=f"{key_base}_next", icon=":material/skip_next:", width="stretch")
    finish_clicked = columns[1].button(t(finish_label), help=t(finish_help), key=f"{key_base}_finish",
                                       icon=":material/fast_forward:", width="stretch")
    restart_clicked = columns[2].button(t("slowmo.restart"), help=t(restart_help), key=f"{key_base}_restart",
                                        icon=":material/restart_alt:", width="stretch", disabled=not slow.in_progress)
    try:
        if restart_clicked:
            slow.reset()
        elif next_clicked:
            record = slow.advance()
            if done(record) and on_done is not None:
                on_done(record.stats)
        elif finish_clicked:
            stats = finish()
            if on_done is not None:
                on_done(stats)
    except TrainingDiverged as exc:
        st.error(t("slowmo.diverged", message=plain(exc)), icon=":material/warning:")
        if on_diverged is not None:
            on_diverged(exc)


def value_metrics(values: Mapping[str, float], order: Sequence[str], label_prefix: str,
                  fmt: Callable[[str, float], str]) -> None:
    """A phase's numbers as metrics, two per row, in `order` (labels from `<label_prefix>.<key>`)."""
    st.markdown(f"**{t('slowmo.values_heading')}**")
    keys = [key for key in order if key in values]
    for row in range(0, len(keys), 2):
        for column, key in zip(st.columns(2), keys[row : row + 2]):
            column.metric(t(f"{label_prefix}.{key}"), fmt(key, values[key]))


def slow_motion_panel(
    trainer: GANTrainer,
    key_prefix: str,
    *,
    show_samples: SampleView | None = None,
    on_iteration: Callable[[GANStats], None] | None = None,
    on_diverged: Callable[[TrainingDiverged], None] | None = None,
    diagram_height: int | str = "content",
) -> PhaseRecord | None:
    """Draw the slow-motion panel for `trainer` and handle its buttons. See the module docstring."""
    slow = stepper(trainer, key_prefix)
    st.caption(t("slowmo.intro"))
    walk_controls(slow, f"{key_prefix}_slowmo", finish=slow.finish_iteration, done=lambda r: r.iteration_done,
                  on_done=on_iteration, on_diverged=on_diverged)

    current = slow.history[-1] if slow.history else None
    k = trainer.config.d_steps
    if current is None:
        st.info(t("slowmo.not_started"))
    else:
        st.markdown(f"#### {t('slowmo.phase_heading', number=current.number, total=len(PHASE_KEYS), title=phase_title(current.key))}")
        turn = t("slowmo.d_turn", round=current.d_round, k=k) if current.network == "d" else t("slowmo.g_turn")
        st.caption(turn)
        st.write(phase_caption(current.key))
        if current.iteration_done:
            st.success(t("slowmo.iteration_done", step=trainer.iteration))
        else:
            st.caption(t("slowmo.next_up", number=slow.next_number, title=phase_title(slow.next_key)))

    source = gan_diagram(phase=current.key if current else None, values=slow.diagram_values, labels=gan_labels(t),
                         conditional=getattr(trainer, "conditional", False))
    live_mermaid(source, key=f"{key_prefix}_slowmo_diagram", height=diagram_height)
    left, right = st.columns([2, 3])
    with left:
        if current is not None and current.values:
            value_metrics(current.values, _VALUE_ORDER, "slowmo.value", _format)
    with right:
        (show_samples or default_samples)(current, _latest(slow, "real"), _latest(slow, "fake"))
    with st.expander(t("slowmo.phases_heading"), expanded=False):
        notes = {"d_update": t("slowmo.repeat_d", k=k)} if k > 1 else None
        st.markdown(phase_list(PHASE_KEYS, phase_title, slow.history, current, notes))
    return current
