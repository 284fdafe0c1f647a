"""Throughput of live training on the Train page against the bare trainer loop, in the same run.

"live" is the page's own path, called as it is (no patching): `ui.train.run.train_slice`
(`aigc_core.slicing.run_slice(trainer, slice)` on the page's thread policy, recording every step) followed by the
redraw work of the live fragment (`ui.train.view.redraw_data`: fixed-noise sample grid, snapshot, chart data and
Plotly figures, the diagram source, in English) plus the serialisation it sends (the grid as an inline PNG, the figures' JSON as
st.plotly_chart makes it). "bare" is `trainer.step()` in a loop. The two alternate in rounds so that
background load hits both alike; each round starts from the same trainer state kind (a warm trainer).

Not counted: the browser's drawing (on another core or machine) and the quick quality estimate (every 20 s of
training, about 1% of the time).

    .venv/bin/python bench/bench_live.py                   # gan_mlp_live, 0.3 s slices
    .venv/bin/python bench/bench_live.py --threads 1            # one torch thread (a busy, shared machine)
    .venv/bin/python bench/bench_live.py --preset vae_mlp_z20 --slice 0.5
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import plotly.io  # noqa: E402
import torch  # noqa: E402

from aigc_core.factory import trainer_from_preset  # noqa: E402
from aigc_core.mnist import load_mnist, to_tensor  # noqa: E402
from aigc_core.presets import get_preset  # noqa: E402
from ui.catalog import load_translator  # noqa: E402
from ui.train import run as train_run, view  # noqa: E402
from ui.train.run import DEFAULT_SLICE, Settings, TrainRun, train_slice, training_threads  # noqa: E402

ENGLISH = load_translator("en")
ONE_THREAD_RULE = True  # the page's thread policy; False when --threads sets an explicit count


def _run(preset_name: str, seed: int) -> TrainRun:
    preset = get_preset(preset_name)
    trainer = trainer_from_preset(preset, seed=seed)
    family = trainer.family
    settings = Settings(family, preset_name, "scratch", preset.model_config, trainer.config)
    run = TrainRun(settings=settings, trainer=trainer, origin="scratch", history=train_run.new_history(family),
                   running=True)
    if family == "vae":
        run.recon_input = to_tensor(load_mnist("test").images[:8], "unit")
    return run


def bare(run: TrainRun, seconds: float) -> tuple[int, float]:
    trainer, steps = run.trainer, 0
    start = time.perf_counter()
    with training_threads(ONE_THREAD_RULE):  # the page's thread policy: the ratio measures slicing and redraws
        while time.perf_counter() - start < seconds:
            run.history.append(trainer.step())  # the page records every step too
            steps += 1
    return steps, time.perf_counter() - start


def redraw(run: TrainRun) -> None:
    with training_threads(ONE_THREAD_RULE):
        data = view.redraw_data(run, ENGLISH)
    view.image_html(data.grid, "samples")  # the inline PNG the page sends
    if data.recon is not None:
        view.image_html(data.recon, "reconstructions")
    for figure in [*data.figures, *([data.quality] if data.quality is not None else [])]:
        plotly.io.to_json(figure.to_dict(), validate=False)  # what st.plotly_chart sends


def sliced(run: TrainRun, seconds: float, slice_seconds: float) -> tuple[int, float, float, int]:
    steps, redraw_time, slices = 0, 0.0, 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        before = run.trainer.iteration
        train_slice(run, slice_seconds, one_thread_rule=ONE_THREAD_RULE)  # as the page: records every step
        steps += run.trainer.iteration - before
        mark = time.perf_counter()
        redraw(run)
        redraw_time += time.perf_counter() - mark
        slices += 1
    return steps, time.perf_counter() - start, redraw_time, slices


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="gan_mlp_live")
    parser.add_argument("--slice", type=float, default=DEFAULT_SLICE, help="seconds per slice (default: the page's)")
    parser.add_argument("--seconds", type=float, default=1.5, help="seconds per measurement (short: fine interleaving)")
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--threads", type=int, default=0,
                        help="torch threads for both (0: the page's policy, one thread on a machine with <= 2 cores)")
    args = parser.parse_args()
    global ONE_THREAD_RULE
    if args.threads:
        torch.set_num_threads(args.threads)
        ONE_THREAD_RULE = False  # an explicit count wins over the page's policy

    run_bare, run_live = _run(args.preset, 0), _run(args.preset, 0)
    for run in (run_bare, run_live):  # warm-up: allocator, data, first figures
        bare(run, 1.0)
        redraw(run)
    with training_threads(ONE_THREAD_RULE):
        threads = torch.get_num_threads()
    print(f"preset {args.preset}, slice {args.slice} s, {args.rounds} rounds of {args.seconds} s each, "
          f"torch threads while training {threads}")
    totals = {"bare": [0, 0.0], "live": [0, 0.0]}
    redraw_total, slices_total, ratios = 0.0, 0, []
    for round_index in range(args.rounds):
        steps, wall = bare(run_bare, args.seconds)
        totals["bare"][0] += steps
        totals["bare"][1] += wall
        live_steps, live_wall, redraw_time, slices = sliced(run_live, args.seconds, args.slice)
        slices_total += slices
        totals["live"][0] += live_steps
        totals["live"][1] += live_wall
        redraw_total += redraw_time
        ratios.append(live_steps / live_wall / (steps / wall))
        print(f"  round {round_index + 1}: bare {steps / wall:7.1f} steps/s   live {live_steps / live_wall:7.1f} steps/s"
              f"   ratio {live_steps / live_wall / (steps / wall):.3f}")
    bare_rate = totals["bare"][0] / totals["bare"][1]
    live_rate = totals["live"][0] / totals["live"][1]
    redraws = max(1, slices_total)
    print(f"bare loop:        {bare_rate:7.1f} steps/s")
    print(f"live (page path): {live_rate:7.1f} steps/s   (redraw work {1000 * redraw_total / redraws:.0f} ms per slice)")
    print(f"ratio live/bare:  {live_rate / bare_rate:.3f} overall, {statistics.median(ratios):.3f} median of rounds"
          "   (goal >= 0.90; the median resists load spikes from other processes)")


if __name__ == "__main__":
    main()
