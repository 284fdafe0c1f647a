"""Playground, diffusion mode against the GAN: quality within a wall-clock budget, and the cost of a redraw.

    .venv/bin/python bench/bench_playground_diffusion.py                    # ring, 60 s each, one thread
    .venv/bin/python bench/bench_playground_diffusion.py --seconds 30 --data grid
    .venv/bin/python bench/bench_playground_diffusion.py --browser          # also: redraws/s in Chromium
    .venv/bin/python bench/bench_playground_diffusion.py --quick            # a smoke run (bench/run_all.py --quick)

"quality": the playground's GAN (`PlaygroundSettings()`) and its denoiser (`PlaygroundSettings(family="diffusion")`,
           the `toy_diffusion` recipe) each train for --seconds of wall-clock time inside `playground.one_thread()`,
           as the page trains, one after the other. Every --every seconds of training the clock stops and the page's
           own view is computed (`compute_view` / `compute_diffusion_view`: 2,048 samples from fixed noise, KL and JS
           of 40 x 40 grid histograms, mode coverage), so both are judged by the same metric functions.
"page"   : one live redraw of diffusion mode on the server as the page plays: a slice (at most --redraw-every steps
           or DIFFUSION_SLICE_SECONDS), the view (the sampler run for the shown samples and particles and one pool
           block, the field at t, the forward process), the Vega-Lite chart and its serialisation, back to back.
"browser": (--browser) the page in Chromium, playing in diffusion mode (`?family=diffusion`), with
           bench_playground.py's measurement (the iteration counter read every 15 ms).
Prints figures, not a pass/fail. The goal (diffusion issue): on the ring, 8 of 8 modes and a lower KL than the
playground GAN within 60 s on 2 cores, at >= 5 redraws/s in Chromium.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402
from streamlit import dataframe_util  # noqa: E402

from aigc_core import playground as pg  # noqa: E402
from aigc_core.factory import toy_source  # noqa: E402
from aigc_core.slicing import run_slice  # noqa: E402
from ui.catalog import load_translator  # noqa: E402
from ui.playground.diffusion_view import DIFFUSION_LAYERS, DIFFUSION_SLICE_SECONDS, build_diffusion_chart  # noqa: E402

ENGLISH = load_translator("en")


def _view(trainer, settings: pg.PlaygroundSettings, real: torch.Tensor):
    if settings.family == "diffusion":
        return pg.compute_diffusion_view(trainer, data=settings.data, real_shown=real,
                                         noise=pg.diffusion_noise(settings.seed), t=1, field=False, forward=False)
    return pg.compute_view(trainer, data=settings.data, real_shown=real, noise=pg.view_noise(trainer.model, 0),
                           heatmap=False, manifold=False, gradients=False)


def quality(settings: pg.PlaygroundSettings, seconds: float, every: float
            ) -> list[tuple[float, int, float, float, str]]:
    """(training seconds, iterations, KL, JS, modes) every `every` seconds of training (views off the clock)."""
    source = toy_source(settings.data)
    real = pg.shown_real(source, settings.seed)
    rows = []
    with pg.one_thread():
        trainer = pg.build_trainer(settings, source)
        trained, mark = 0.0, every
        while trained < seconds:
            start = time.perf_counter()
            run_slice(trainer, min(0.25, mark - trained))
            trained += time.perf_counter() - start
            if trained >= mark:
                view = _view(trainer, settings, real)
                modes = "—" if view.coverage is None else f"{view.coverage.covered}/{view.coverage.total}"
                rows.append((trained, trainer.iteration, view.kl, view.js, modes))
                mark += every
    return rows


def page(settings: pg.PlaygroundSettings, seconds: float, redraw_every: int) -> dict[str, float]:
    source = toy_source(settings.data)
    trainer = pg.build_trainer(settings, source)
    real, noise = pg.shown_real(source, 0), pg.diffusion_noise(0)
    history = pg.History()
    layers = set(DIFFUSION_LAYERS)
    parts: dict[str, list[float]] = {"train": [], "view": [], "chart": [], "serialise": []}
    start, steps, frame, size, pool = time.perf_counter(), 0, 0, 0, None
    while time.perf_counter() - start < seconds:
        t0 = time.perf_counter()
        with pg.one_thread():
            records = run_slice(trainer, DIFFUSION_SLICE_SECONDS, redraw_every)
            t1 = time.perf_counter()
            view = pg.compute_diffusion_view(trainer, data=settings.data, real_shown=real, noise=noise, t=50,
                                             pool=pool, frame=frame)
            pool = view.samples
        history.record(trainer.iteration, float("nan"), float("nan"), view.kl, view.js,
                       loss=pg.mean_loss(records, trainer.last))
        t2 = time.perf_counter()
        frame += 1
        spec = build_diffusion_chart(ENGLISH, view, history, layers, frame=frame)
        t3 = time.perf_counter()
        tables = spec.pop("datasets").values()  # as st.vega_lite_chart sends them: Arrow IPC bytes + JSON
        size = sum(len(dataframe_util.convert_anything_to_arrow_bytes(table)) for table in tables)
        size += len(json.dumps(spec))
        t4 = time.perf_counter()
        for name, value in zip(parts, (t1 - t0, t2 - t1, t3 - t2, t4 - t3)):
            parts[name].append(value)
        steps += len(records)
    elapsed = time.perf_counter() - start
    result = {"steps_per_s": steps / elapsed, "redraws_per_s": frame / elapsed, "kb": size / 1024}
    result.update({f"{name}_ms": 1000 * statistics.median(values) for name, values in parts.items()})
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="ring")
    parser.add_argument("--seconds", type=float, default=60.0, help="training time of each model")
    parser.add_argument("--every", type=float, default=10.0, help="seconds of training between two evaluations")
    parser.add_argument("--page-seconds", type=float, default=6.0, help="length of the redraw measurement")
    parser.add_argument("--redraw-every", type=int, default=50, help="N: iterations per redraw (the page's default)")
    parser.add_argument("--browser", action="store_true", help="also measure the page in headless Chromium")
    parser.add_argument("--browser-seconds", type=float, default=8.0)
    parser.add_argument("--browser-runs", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="a smoke run: 6 s per model, 2 s of redraws")
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.every, args.page_seconds = 6.0, 3.0, 2.0
    gan = replace(pg.PlaygroundSettings(), data=args.data)
    diffusion = replace(gan, family="diffusion")
    model, train = pg.TOY_DIFFUSION.model_config, pg.TOY_DIFFUSION.train_config
    print(f"torch {torch.__version__}; data {args.data}; one thread; GAN {gan.hidden_layers}x{gan.width} "
          f"{gan.loss}, batch {gan.batch_size}; denoiser {model.layers}x{model.width}, T {model.timesteps} "
          f"{model.schedule}, batch {train.batch_size}, lr {train.optim.lr:g}, EMA {train.ema}, "
          f"{train.sample_steps} DDIM steps")
    results = {}
    for name, settings in (("GAN", gan), ("diffusion", diffusion)):
        results[name] = quality(settings, args.seconds, args.every)
        for seconds, iteration, kl, js, modes in results[name]:
            print(f"{name:9s} {seconds:5.1f} s  {iteration:7,d} it  KL {kl:6.3f}  JS {js:5.3f}  modes {modes}")
    (_, _, gan_kl, _, gan_modes), (_, _, dn_kl, _, dn_modes) = results["GAN"][-1], results["diffusion"][-1]
    print(f"after {args.seconds:g} s: GAN KL {gan_kl:.3f} ({gan_modes} modes), diffusion KL {dn_kl:.3f} "
          f"({dn_modes} modes); KL ratio diffusion / GAN = {dn_kl / gan_kl:.2f}")
    r = page(diffusion, args.page_seconds, args.redraw_every)
    print(f"page (diffusion)  : {r['steps_per_s']:7.1f} steps/s, {r['redraws_per_s']:.1f} redraws/s; per redraw "
          f"(median): train {r['train_ms']:.0f} ms, view {r['view_ms']:.0f} ms, chart {r['chart_ms']:.0f} ms, "
          f"serialise {r['serialise_ms']:.0f} ms ({r['kb']:.0f} KB)")
    if args.browser:
        from bench_playground import in_browser

        b = in_browser(args.browser_seconds, args.browser_runs, query="family=diffusion")
        print(f"browser (Chromium): {b['steps_per_s']:7.1f} steps/s, {b['redraws_per_s']:.1f} redraws/s (median of "
              f"{b['runs']} runs of {args.browser_seconds:g} s; server and browser share the cores)")
    print("goal (diffusion issue): 8/8 modes and a lower KL than the GAN within 60 s; >= 5 redraws/s in Chromium")


if __name__ == "__main__":
    main()
