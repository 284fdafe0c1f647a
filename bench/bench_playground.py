"""Playground throughput: training + redrawing as the page does it, against the bare trainer, in the same run.

    .venv/bin/python bench/bench_playground.py                  # ring, 6 s per measurement
    .venv/bin/python bench/bench_playground.py --threads 1 --redraw-every 50 --compare
    .venv/bin/python bench/bench_playground.py --browser        # also: the page itself, in headless Chromium

"bare"  : GANTrainer.step() in a loop (the page's model and settings: `PlaygroundSettings()` defaults), once with
          torch's thread count as it is and once inside `playground.one_thread()`, as the page trains.
"page"  : what one live redraw of pages/playground.py costs on the server: `run_slice` (at most N iterations or
          0.25 s), the frame (`playground.compute_view`: D heatmap 40x40, G manifold, gradient arrows, KL/JS,
          mode coverage), the history row, the Vega-Lite chart (spec + Arrow datasets) and its serialisation as
          st.vega_lite_chart does it; training and the frame inside `one_thread()`, as on the page. Frames follow
          each other back to back, as within one timed fragment run of the page (up to FRAGMENT_SECONDS); the
          Streamlit rerun between two such runs (one every 2 s) is not in this figure, the browser one has it.
"browser": (--browser) `streamlit run app.py` and Debian's Chromium on the same machine, the page playing on the
          ring: a script in the page reads the iteration counter every 15 ms; each change is a redraw the user saw.
          The median of --browser-runs runs of --browser-seconds each. Server and browser share the two cores here;
          in a classroom the browser has a laptop of its own.
Prints figures (steps/s, redraws/s, milliseconds per part), not a pass/fail. The goal in issue 5 is >= 5 redraws/s
while training >= 200 steps/s on 2 CPU cores.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import json  # noqa: E402

import torch  # noqa: E402
from streamlit import dataframe_util  # noqa: E402

from aigc_core import playground as pg  # noqa: E402
from aigc_core.factory import toy_source  # noqa: E402
from aigc_core.slicing import run_slice  # noqa: E402
from ui.catalog import load_translator  # noqa: E402
from ui.playground.view import LAYERS, SLICE_SECONDS, build_chart  # noqa: E402

ENGLISH = load_translator("en")


def bare(settings: pg.PlaygroundSettings, seconds: float) -> float:
    trainer = pg.build_trainer(settings, toy_source(settings.data))
    for _ in range(20):  # warm-up
        trainer.step()
    start, steps = time.perf_counter(), 0
    while time.perf_counter() - start < seconds:
        trainer.step()
        steps += 1
    return steps / (time.perf_counter() - start)


def page(settings: list[pg.PlaygroundSettings], seconds: float, redraw_every: int) -> dict[str, float]:
    source = toy_source(settings[0].data)
    if len(settings) == 2:
        runner = pg.build_pair(settings[0], settings[1], source)
        trainers = list(runner.trainers)
    else:
        runner = pg.build_trainer(settings[0], source)
        trainers = [runner]
    real = pg.shown_real(source, 0)
    noise = pg.view_noise(trainers[0].model, 0)
    histories = [pg.History() for _ in trainers]
    layers = set(LAYERS)
    parts: dict[str, list[float]] = {"train": [], "view": [], "chart": [], "serialise": []}
    start, steps, redraws, size = time.perf_counter(), 0, 0, 0
    while time.perf_counter() - start < seconds:
        t0 = time.perf_counter()
        with pg.one_thread():
            records = run_slice(runner, SLICE_SECONDS, redraw_every)
            t1 = time.perf_counter()
            views = [pg.compute_view(tr, data=settings[0].data, real_shown=real, noise=noise) for tr in trainers]
        for index, (trainer, history, view) in enumerate(zip(trainers, histories, views)):
            rows = [r[index] for r in records] if len(trainers) == 2 else records
            history.record(trainer.iteration, *pg.mean_losses(rows, trainer.last), view.kl, view.js)
        t2 = time.perf_counter()
        spec = build_chart(ENGLISH, views, histories, layers, run_labels=("A", "B")[: len(views)])
        t3 = time.perf_counter()
        # As st.vega_lite_chart sends it: each dataset as Arrow IPC bytes, the rest as JSON.
        tables = spec.pop("datasets").values()
        size = sum(len(dataframe_util.convert_anything_to_arrow_bytes(table)) for table in tables)
        size += len(json.dumps(spec))
        t4 = time.perf_counter()
        for name, value in zip(parts, (t1 - t0, t2 - t1, t3 - t2, t4 - t3)):
            parts[name].append(value)
        steps += len(records)
        redraws += 1
    elapsed = time.perf_counter() - start
    result = {"steps_per_s": steps / elapsed, "redraws_per_s": redraws / elapsed, "kb": size / 1024}
    result.update({f"{name}_ms": 1000 * statistics.median(values) for name, values in parts.items()})
    return result


# In the page: remember (time, iteration counter text) each time the counter changes.
WATCH_COUNTER = """() => {
    window.__redraws = []; let last = null;
    setInterval(() => {
        const value = document.querySelector('[data-testid="stMetric"] [data-testid="stMetricValue"]');
        const text = value && value.innerText;
        if (text && text !== last) { last = text; window.__redraws.push([performance.now(), text]); }
    }, 15);
}"""


def in_browser(seconds: float, runs: int, query: str = "") -> dict[str, float]:
    """Redraws/s and iterations/s the user sees in Chromium (medians over `runs` fresh page loads); `query` is a
    set-up for the page's URL (e.g. "family=diffusion", as bench_playground_diffusion.py measures)."""
    from benchlib import median
    from browserlib import block_foreign, chromium, streamlit_server, wait_for_app

    redraw_rates, step_rates = [], []
    with streamlit_server() as server, chromium() as browser:
        for _ in range(runs):
            context = browser.new_context(viewport={"width": 1366, "height": 900})
            block_foreign(context)
            page = context.new_page()
            page.goto(server.url)  # Home first: a fresh server serves deep links after st.navigation
            wait_for_app(page)
            page.goto(f"{server.url}/playground" + (f"?{query}" if query else ""))
            wait_for_app(page)
            page.locator('[data-testid="stVegaLiteChart"] canvas').first.wait_for()
            page.evaluate(WATCH_COUNTER)
            page.get_by_role("button", name="Play").click()
            page.wait_for_timeout(1000 * (seconds + 1))
            seen = [(ms, int(text.replace(",", ""))) for ms, text in page.evaluate("window.__redraws")
                    if text.replace(",", "").isdigit()]
            page.get_by_role("button", name="Pause").click()
            context.close()
            seen = [s for s in seen if s[1] > 0]  # from the first frame that trained
            if len(seen) < 3:
                raise RuntimeError(f"the page redrew only {len(seen)} times while playing")
            span = (seen[-1][0] - seen[0][0]) / 1000
            redraw_rates.append((len(seen) - 1) / span)
            step_rates.append((seen[-1][1] - seen[0][1]) / span)
    return {"redraws_per_s": median(redraw_rates), "steps_per_s": median(step_rates), "runs": runs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="ring")
    parser.add_argument("--seconds", type=float, default=6.0, help="length of each measurement")
    parser.add_argument("--redraw-every", type=int, default=50, help="N: iterations per redraw (the page's default)")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0 = leave torch's default)")
    parser.add_argument("--compare", action="store_true", help="also measure two runs side by side")
    parser.add_argument("--browser", action="store_true", help="also measure the page in headless Chromium")
    parser.add_argument("--browser-seconds", type=float, default=8.0, help="length of each browser run")
    parser.add_argument("--browser-runs", type=int, default=3, help="browser runs (the median is printed)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    settings = replace(pg.PlaygroundSettings(), data=args.data)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; data {args.data}; model "
          f"{settings.hidden_layers}x{settings.width}, batch {settings.batch_size}, k {settings.d_steps}; "
          f"redraw every {args.redraw_every} iterations (slice <= {SLICE_SECONDS} s)")
    threads_rate = bare(settings, args.seconds)
    print(f"bare, {torch.get_num_threads()} thread(s)      : {threads_rate:8.1f} steps/s")
    with pg.one_thread():
        bare_rate = bare(settings, args.seconds)
    print(f"bare, one_thread()    : {bare_rate:8.1f} steps/s")
    runs = [("page (one run)", [settings])]
    if args.compare:
        runs.append(("page (side by side)", [settings, replace(settings, loss="minimax")]))
    for label, configs in runs:
        r = page(configs, args.seconds, args.redraw_every)
        print(f"{label:22s}: {r['steps_per_s']:8.1f} steps/s ({100 * r['steps_per_s'] / bare_rate:.0f}% of bare), "
              f"{r['redraws_per_s']:.1f} redraws/s; per redraw (median): train {r['train_ms']:.0f} ms, "
              f"frame {r['view_ms']:.0f} ms, chart {r['chart_ms']:.0f} ms, serialise {r['serialise_ms']:.0f} ms "
              f"({r['kb']:.0f} KB)")
    if args.browser:
        r = in_browser(args.browser_seconds, args.browser_runs)
        print(f"{'browser (Chromium)':22s}: {r['steps_per_s']:8.1f} steps/s ({100 * r['steps_per_s'] / bare_rate:.0f}% of "
              f"bare), {r['redraws_per_s']:.1f} redraws/s (median of {r['runs']} runs of {args.browser_seconds:g} s; "
              "server and browser share the cores)")
    print("goal (issue 5): >= 5 redraws/s while training >= 200 steps/s on 2 CPU cores")


if __name__ == "__main__":
    main()
