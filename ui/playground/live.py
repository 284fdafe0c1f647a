"""The playground's live view: a fragment that (while playing) trains one time slice and redraws the figure,
or runs the step a button asked for; the readouts under it; and the slow-motion panel (shared `ui.slowmo`).

While playing, the fragment reruns every RUN_EVERY seconds (`st.fragment(run_every=...)`), and one run draws
several frames: train a slice (at most `redraw every` iterations or SLICE_SECONDS), replace the chart and the
readouts in place, and again, for up to FRAGMENT_SECONDS. Each frame's deltas leave for the browser at
once, so the browser draws one frame while the server trains the next; one frame per fragment run left the server
idle while the browser drew, and the timer's round trip cost more than the training (1.7 redraws/s at 110
iterations/s in Chromium here, bench/bench_playground.py). A click on Pause or a step button preempts the run at
its next frame: Streamlit interrupts a fragment at any st call when a rerun is requested.

Diffusion mode draws the same way (`diffusion_view.build_diffusion_chart`), with a t slider over the chart for
the noise level of the field and the forward process; while playing, each frame also moves the particles one
sampler step further along their reverse trajectories (paused, or with reduced motion on (`ui.motion`), they rest
on the data with their whole trails).
"""

from __future__ import annotations

import math
import time

import streamlit as st

from aigc_core import playground as pg
from aigc_core.diagrams import gan_diagram
from aigc_core.errors import TrainingDiverged
from aigc_core.gan_trainer import GANStats
from aigc_core.slowmo import PhaseRecord
from ui.playground import run as state
from ui.a11y.charts import add_table, chart_area
from ui.i18n import t, translator
from ui.diagram import live_mermaid
from ui.playground.diffusion_view import (
    DIFFUSION_LAYERS, DIFFUSION_SLICE_SECONDS, build_diffusion_chart, diffusion_legend_markdown,
)
from ui.playground.view import LAYERS, SLICE_SECONDS, build_chart, curves_table, legend_markdown, points_table
from ui.labels import gan_labels
from ui.motion import reduced_motion
from ui.slowmo import slow_motion_panel
from ui.text import plain

RUN_EVERY = 0.1  # seconds between timer reruns while playing
FRAGMENT_SECONDS = 2.0  # frames drawn by one timer rerun while playing, back to back, for about this long
SLOWMO_PREFIX = "playground"
LOOP_EVERY = 2.0  # seconds between updates of the feedback-loop diagram while playing (a render costs ~75 ms)
_LOOP_KEY = "pg_loop_source"  # (time, Mermaid source) last shown


def _layers(diffusion: bool = False) -> set[str]:
    options, key = (DIFFUSION_LAYERS, "pg_dviews") if diffusion else (LAYERS, "pg_views")
    chosen = st.pills(t("playground.views_label"), options=options, selection_mode="multi", key=key,
                      default=list(options), format_func=lambda v: t(f"playground.layer.{v}"),
                      help=t("playground.views_help"))
    return set(chosen or [])


def _noise_level(run: state.PlaygroundRun) -> int:
    """The t slider of diffusion mode: the noise level of the field and the forward process."""
    T = run.trainers[0].schedule.T  # noqa: N806
    st.session_state.setdefault("pg_t", max(1, T // 4))
    st.session_state["pg_t"] = min(max(int(st.session_state["pg_t"]), 1), T)
    return int(st.slider(t("playground.t_label"), 1, T, key="pg_t", help=t("playground.t_help", T=T)))


def _views(run: state.PlaygroundRun, layers: set[str], noise_level: int = 1, playing: bool = False) -> list:
    if run.diffusion:  # while playing, a frame redraws part of the samples (pool: see compute_diffusion_view)
        view = pg.compute_diffusion_view(run.trainers[0], data=run.settings[0].data, real_shown=run.real_shown,
                                         noise=run.noise, t=noise_level, field="field" in layers,
                                         forward="forward" in layers, pool=run.samples if playing else None,
                                         frame=run.frame)
        run.samples = view.samples
        return [view]
    return [
        pg.compute_view(trainer, data=settings.data, real_shown=run.real_shown, noise=run.noise,
                        heatmap="heatmap" in layers, manifold="manifold" in layers, gradients="gradients" in layers)
        for trainer, settings in zip(run.trainers, run.settings)
    ]


def run_label(settings: pg.PlaygroundSettings, index: int) -> str:
    """"A · non-saturating, k = 1, Adam 0.001 / Adam 0.001" (G optimizer / D optimizer)."""
    return t("playground.run_label", run="AB"[index], loss=t(f"playground.loss.{settings.loss}"), k=settings.d_steps,
             g=f"{t(f'playground.optimizer.{settings.g_optimizer}')} {settings.g_lr:g}",
             d=f"{t(f'playground.optimizer.{settings.d_optimizer}')} {settings.d_lr:g}")


def _number(value: float) -> str:
    return "—" if value is None or not math.isfinite(value) else f"{value:.3f}"


def _modes(view: pg.PlaygroundView) -> str:
    return "—" if view.coverage is None else f"{view.coverage.covered} / {view.coverage.total}"


def readouts(run: state.PlaygroundRun, views: list[pg.PlaygroundView], slots: list | None = None) -> list:
    """Iteration, losses, D's means, KL, JS and mode coverage of each run. Returns the elements drawn; pass them
    back as `slots` to replace them in place (the next frame of the same fragment run)."""
    if run.diffusion:
        trainer, view, history = run.trainers[0], views[0], run.histories[0]
        cells = [
            (t("playground.metric.iteration"), f"{trainer.iteration:,}", t("playground.metric.steps_help")),
            (t("playground.metric.loss"), _number(history.loss[-1] if len(history) else trainer.last.loss),
             t("playground.metric.loss_help")),
            (t("playground.metric.kl"), _number(view.kl), t("playground.metric.kl_help")),
            (t("playground.metric.js"), _number(view.js), t("playground.metric.js_help")),
            (t("playground.metric.modes"), _modes(view), t("playground.metric.modes_help")),
        ]
        places = slots or st.columns(len(cells))
        return [place.metric(label, value, help=help_text) for place, (label, value, help_text) in zip(places, cells)]
    if not run.compare:
        trainer, view = run.trainers[0], views[0]
        last, history = trainer.last, run.histories[0]
        cells = [
            (t("playground.metric.iteration"), f"{trainer.iteration:,}", t("playground.metric.iteration_help",
                                                                             d=f"{trainer.d_updates:,}")),
            (t("playground.metric.d_loss"), _number(history.d_loss[-1] if len(history) else last.d_loss),
             t("playground.metric.d_loss_help")),
            (t("playground.metric.g_loss"), _number(history.g_loss[-1] if len(history) else last.g_loss),
             t("playground.metric.g_loss_help")),
            (t("playground.metric.kl"), _number(view.kl), t("playground.metric.kl_help")),
            (t("playground.metric.js"), _number(view.js), t("playground.metric.js_help")),
            (t("playground.metric.modes"), _modes(view), t("playground.metric.modes_help")),
        ]
        places = slots or st.columns(len(cells))
        return [place.metric(label, value, help=help_text) for place, (label, value, help_text) in zip(places, cells)]
    header = [t("playground.metric.run"), t("playground.metric.iteration"), t("playground.metric.d_loss"),
              t("playground.metric.g_loss"), t("playground.metric.kl"), t("playground.metric.js"),
              t("playground.metric.modes")]
    rows = []
    for index, (trainer, view, history) in enumerate(zip(run.trainers, views, run.histories)):
        d_loss = history.d_loss[-1] if len(history) else trainer.last.d_loss
        g_loss = history.g_loss[-1] if len(history) else trainer.last.g_loss
        rows.append([run_label(run.settings[index], index), f"{trainer.iteration:,}", _number(d_loss),
                     _number(g_loss), _number(view.kl), _number(view.js), _modes(view)])
    table = "| " + " | ".join(header) + " |\n|" + "---|" * len(header) + "\n"
    table += "\n".join("| " + " | ".join(row) + " |" for row in rows)
    return [(slots[0] if slots else st).markdown(table)]


def _train(run: state.PlaygroundRun, playing: bool) -> list[list[GANStats]] | None:
    """Run the step a button asked for, or one slice while playing. On divergence: pause, keep the message."""
    action = st.session_state.pop(state.ACTION_KEY, None)
    try:
        if action is not None:
            return run.act(action)
        if playing:
            seconds = DIFFUSION_SLICE_SECONDS if run.diffusion else SLICE_SECONDS
            return run.play(seconds, int(st.session_state.get("pg_redraw", 50)))
    except TrainingDiverged as exc:
        st.session_state[state.PLAYING_KEY] = False
        st.session_state[state.ERROR_KEY] = t("playground.diverged", message=plain(exc))
        st.rerun()  # a full rerun: stops the timer and shows the message above the toolbar
    return None


def _loop_source(run: state.PlaygroundRun, playing: bool) -> str:
    """The feedback-loop diagram with the first run's latest numbers. While playing it changes at most once per
    LOOP_EVERY seconds: redrawing a Mermaid diagram costs the browser more than the whole plane."""
    cached = st.session_state.get(_LOOP_KEY)
    now = time.monotonic()
    if playing and cached is not None and now - cached[0] < LOOP_EVERY:
        return cached[1]
    last = run.trainers[0].last
    values = {"d_real": last.d_real, "d_fake": last.d_fake, "d_loss": last.d_loss, "g_loss": last.g_loss,
              "grad_d": last.grad_norm_d, "grad_g": last.grad_norm_g}
    source = gan_diagram(values=values, labels=gan_labels(t))
    st.session_state[_LOOP_KEY] = (now, source)
    return source


def live_view() -> None:
    """The fragment body: train (if asked), compute the frame, draw it and the readouts; while playing, frames
    follow each other for up to FRAGMENT_SECONDS."""
    run: state.PlaygroundRun | None = state.current_run()
    if run is None:
        return
    playing = bool(st.session_state.get(state.PLAYING_KEY))
    layers = _layers(run.diffusion)
    noise_level = _noise_level(run) if run.diffusion else 1
    labels = [run_label(s, i) for i, s in enumerate(run.settings)] if run.compare else [""]
    # Later frames replace the first frame's elements through the handles their calls returned: an st.empty()
    # placeholder would blank the chart at the start of each run and make the browser build it anew.
    chart = cells = None
    started = time.perf_counter()
    while True:
        frame_start = time.perf_counter()
        with pg.one_thread():
            records = _train(run, playing)
            views = _views(run, layers, noise_level, playing)
        if records is not None or not len(run.histories[0]):
            state.record(run, records or [[] for _ in run.trainers], views)
        if run.diffusion:
            run.frame += 1 if playing else 0
            # Reduced motion: the particles rest on their samples with their whole trails, as when paused.
            animate = playing and not reduced_motion()
            spec = build_diffusion_chart(translator(), views[0], run.histories[0], layers,
                                         frame=run.frame if animate else None)
        else:
            spec = build_chart(translator(), views, run.histories, layers, run_labels=labels)
        if chart is None:
            chart = st.vega_lite_chart(spec, width="content", alt=t("a11y.playground_alt"))
            st.caption(diffusion_legend_markdown(translator()) if run.diffusion else legend_markdown(translator()))
        else:
            chart.vega_lite_chart(spec, width="content", alt=t("a11y.playground_alt"))
        cells = readouts(run, views, cells)
        now = time.perf_counter()
        if not playing or (now - started) + (now - frame_start) > FRAGMENT_SECONDS:  # would the next frame fit?
            break
    # The curves' text alternative (the plane's numbers are the readouts above: KL, JS, modes covered).
    with chart_area("pg_curves"):
        curves = ("loss", "kl", "js") if run.diffusion else ("d_loss", "g_loss", "kl", "js")
        add_table("", lambda: curves_table(translator(), run.histories, curves))
    if not run.diffusion:
        with st.expander(t("playground.loop_heading", run=t("playground.loop_run_a") if run.compare else "")):
            live_mermaid(_loop_source(run, playing), key="pg_loop")
    if playing:
        st.caption(t("playground.playing_caption", n=st.session_state.get("pg_redraw", 50)))


def live_fragment(playing: bool) -> None:
    """Draw the live view as a fragment; while playing it reruns on a timer."""
    st.fragment(live_view, run_every=RUN_EVERY if playing else None)()


# -- slow motion ----------------------------------------------------------------------------------------------


def abandon_slow_motion(run: state.PlaygroundRun | None) -> None:
    """Leaving slow motion mid-iteration: drop the half-done walk (nothing was applied before an update phase)."""
    if run is None:
        return
    slow = st.session_state.get(f"{SLOWMO_PREFIX}_slowmo_stepper")
    if slow is not None and slow.trainer is run.trainers[0] and slow.in_progress:
        slow.reset()


def slow_motion(run: state.PlaygroundRun) -> None:
    """The shared slow-motion panel on the first trainer; its samples are drawn on our plane."""
    layers = _layers()
    trainer = run.trainers[0]

    def plane(record: PhaseRecord | None, real, fake) -> None:
        view = _views(run, layers)[0]
        batch = {"real": real, "fake": fake} if (real is not None or fake is not None) else None
        spec = build_chart(translator(), [view], run.histories, layers, batch=batch, charts=False)
        with chart_area("pg_slowmo_plane"):
            st.vega_lite_chart(spec, width="content", alt=t("a11y.playground_plane_alt"))
            add_table("", lambda: points_table(translator(), view, batch))
            st.caption(legend_markdown(translator()))
            st.caption(t("playground.slowmo_batch_caption"))

    def on_iteration(stats: GANStats) -> None:
        state.record(run, [[stats]], _views(run, set())[:1])

    with pg.one_thread():
        slow_motion_panel(trainer, SLOWMO_PREFIX, show_samples=plane, on_iteration=on_iteration)
