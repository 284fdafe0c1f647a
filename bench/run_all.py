"""Run every bench, then write bench/RESULTS.md (tables, date, machine) and bench/results.png (the charts).

    .venv/bin/python bench/run_all.py            # everything, full length (about an hour on a busy 2-core machine)
    .venv/bin/python bench/run_all.py --quick    # smoke test: every bench, tiny budgets (a few minutes)
    .venv/bin/python bench/run_all.py --only quality memory
    .venv/bin/python bench/run_all.py --report   # only rewrite RESULTS.md and results.png from bench/results/
    .venv/bin/python bench/run_all.py --report --merge-quality q.json   # first add a bench_quality --only run

Each `bench/bench_<name>.py` runs in its own process, one after the other (never two at once: they would time each
other), with ``BENCH_JSON=bench/results/<name>.json``; a bench that writes no JSON still gets its printed output
(bench/results/<name>.log) quoted in RESULTS.md. A bench that fails or times out is reported as such and the others
still run. Every figure is a ratio or a median measured side by side within one bench's run.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import RESULTS_DIR, ROOT, machine  # noqa: E402
from chart import BarPanel, LinePanel, Series, render  # noqa: E402

BENCH_DIR = ROOT / "bench"
RESULTS_MD = BENCH_DIR / "RESULTS.md"
RESULTS_PNG = BENCH_DIR / "results.png"

# Arguments per bench (the name is bench_<name>.py). Benches not listed get `--quick` in quick mode when their
# source mentions it, and no arguments otherwise.
FULL_ARGS: dict[str, list[str]] = {
    "trainers": ["--threads", "1"],
    "latent": ["--browser"],
    "playground": ["--browser"],
    "playground_diffusion": ["--browser"],
}
QUICK_ARGS: dict[str, list[str]] = {
    "trainers": ["--threads", "1", "--seconds", "1"],
    "live": ["--seconds", "0.5", "--rounds", "2"],
    "playground": ["--seconds", "1"],
    "latent": ["--repeats", "10"],
}
TIMEOUT_S = {"quick": 900, "full": 3600}


def discover() -> list[str]:
    return sorted(p.stem.removeprefix("bench_") for p in BENCH_DIR.glob("bench_*.py"))


def arguments(name: str, quick: bool) -> list[str]:
    table = QUICK_ARGS if quick else FULL_ARGS
    if name in table:
        return table[name]
    source = (BENCH_DIR / f"bench_{name}.py").read_text()
    return ["--quick"] if quick and "--quick" in source else []


def run_bench(name: str, quick: bool) -> dict[str, Any]:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    json_path, log_path = RESULTS_DIR / f"{name}.json", RESULTS_DIR / f"{name}.log"
    json_path.unlink(missing_ok=True)
    command = [sys.executable, str(BENCH_DIR / f"bench_{name}.py"), *arguments(name, quick)]
    print(f"\n=== bench_{name}.py {' '.join(command[2:])}", flush=True)
    start = time.monotonic()
    timeout = TIMEOUT_S["quick" if quick else "full"]
    with log_path.open("w") as log:
        try:
            process = subprocess.run(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, timeout=timeout,
                                     env={**os.environ, "BENCH_JSON": str(json_path), "PYTHONUNBUFFERED": "1"})
            status = "ok" if process.returncode == 0 else f"failed (exit code {process.returncode})"
        except subprocess.TimeoutExpired:
            status = f"timed out after {timeout} s"
    seconds = time.monotonic() - start
    output = log_path.read_text(errors="replace")
    print(output[-3000:], flush=True)
    print(f"--- bench_{name}.py: {status} in {seconds:.0f} s", flush=True)
    shown = ["bench/" + Path(command[1]).name, *command[2:]]
    record = {"bench": name, "status": status, "seconds": round(seconds, 1), "command": " ".join(shown),
              "quick": quick}
    if json_path.is_file():
        record["figures"] = json.loads(json_path.read_text())
    return record


# --- RESULTS.md ----------------------------------------------------------------------------------------------------


def _cell(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.3g}" if abs(value) < 100 else f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, list):
        return ", ".join(_cell(v) for v in value)
    return str(value).replace("|", "\\|").replace("\n", " ")


def table(rows: list[dict], columns: list[str] | None = None, headers: list[str] | None = None) -> str:
    if not rows:
        return "_no rows_\n"
    columns = columns or [k for k in rows[0] if not isinstance(rows[0][k], (dict, list)) or k == "steps"]
    headers = headers or columns
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    for row in rows:
        lines.append("| " + " | ".join(_cell(row.get(c)) for c in columns) + " |")
    return "\n".join(lines) + "\n"


def section_quality(figures: dict) -> str:
    out = []
    clock = figures.get("clock", "cpu")
    threads = figures.get("threads", 1)
    out.append(
        f"Clock: **{clock}** seconds of training ({threads} torch thread(s)); evaluations run with the clock stopped. "
        + ("CPU seconds with one thread are what the run takes on one idle core whatever the neighbours do: a "
           "stricter budget than the goal's 2 cores. " if clock == "cpu" else "")
        + f"Load average {_cell(figures.get('load_before'))} before, {_cell(figures.get('load_after'))} after.\n"
    )
    for family, title in (("vae", "VAE (MLP, z = 20): test loss"), ("gan", "GAN: classifier score"),
                          ("diffusion", "Diffusion (class-conditional U-Net): classifier score")):
        task = figures.get(family)
        if not task:
            continue
        sign = "≤" if task["better"] == "lower" else "≥"
        # A task run on its own (`bench_quality.py --only <family>`, merged in by `merge_quality_task`) says when.
        when = f"; run on its own on {task['date'][:16].replace('T', ' ')}" if task.get("date") else ""
        out.append(f"\n**{title}** after {task['budget_s']:g} s (goal {sign} {task['goal']:g}{when})\n\n")
        out.append(table(task["rows"], ["recipe", "role", "params", "steps", "value", "time_to_goal_s", "meets_goal",
                                        "vs_baseline"],
                         ["recipe", "role", "parameters", "steps", task["metric"], "time to goal (s)", "goal met",
                          "vs first baseline"]))
        notes = [f"- *{c['label']}*: {c['note']}" for c in task["curves"] if c.get("note")]
        if notes:
            out.append("\n" + "\n".join(notes) + "\n")
        points = ["| recipe | " + " | ".join(f"{p['seconds']:.0f} s" for p in task["curves"][0]["points"]) + " |",
                  "|---|" + "---|" * len(task["curves"][0]["points"])]
        for curve in task["curves"]:
            points.append(f"| {curve['label']} | " + " | ".join(f"{p['value']:.2f}" for p in curve["points"]) + " |")
        out.append("\nThe curves (value at each evaluation):\n\n" + "\n".join(points) + "\n")
    return "".join(out)


def section_browser(figures: dict) -> str:
    cold = figures.get("cold_start", {})
    return (f"Cold start, launch → Home usable in Chromium: **median {cold.get('median_usable_s', float('nan')):.1f} s**"
            f" over {len(cold.get('runs', []))} fresh servers (server healthy after "
            f"{cold.get('median_health_s', float('nan')):.1f} s; {cold.get('median_browser_s', float('nan')):.1f} s "
            f"in the browser). Load average {_cell(figures.get('load_before'))}.\n\n" + table(cold.get("runs", [])))


def section_memory(figures: dict) -> str:
    rows = figures.get("rows", [])
    text = table(rows, ["sessions", "started", "trained", "idle_mb", "peak_mb", "training_mb", "per_session_mb"],
                 ["sessions", "started", "trained (step > 0)", "RSS idle (MB)", "RSS peak (MB)", "RSS at end (MB)",
                  "increase per session (MB)"])
    if len(rows) >= 2:
        first, last = rows[0], rows[-1]
        marginal = (last["peak_mb"] - first["peak_mb"]) / max(last["sessions"] - first["sessions"], 1)
        text += (f"\nMarginal cost of one more training session: **{marginal:.0f} MB** (from {first['sessions']} to "
                 f"{last['sessions']} sessions); the first session also loads what all sessions share.\n")
    return text + f"\n{figures.get('seconds', 0):g} s of training once all sessions had started.\n"


def section_generic(figures: dict) -> str:
    """Any other bench's JSON: scalars as a list, lists of flat dicts as tables."""
    out = []
    skip = {"bench", "date", "quick", "machine"}
    scalars = {k: v for k, v in figures.items() if k not in skip and not isinstance(v, (dict, list))}
    if scalars:
        out.append("\n".join(f"- {k}: {_cell(v)}" for k, v in scalars.items()) + "\n")
    for key, value in figures.items():
        if key in skip:
            continue
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            out.append(f"\n{key}:\n\n" + table(value))
        elif isinstance(value, dict) and value and all(isinstance(v, dict) for v in value.values()):
            rows = [{"": name, **{k: v for k, v in row.items() if not isinstance(v, (dict, list))}}
                    for name, row in value.items()]
            out.append(f"\n{key}:\n\n" + table(rows))
        elif isinstance(value, dict):
            flat = {k: v for k, v in value.items() if not isinstance(v, (dict, list))}
            if flat:
                out.append(f"\n{key}: " + ", ".join(f"{k} {_cell(v)}" for k, v in flat.items()) + "\n")
    return "".join(out) or "_no figures_\n"


SECTIONS = {"quality": ("Time to quality", section_quality), "browser": ("Cold start", section_browser),
            "memory": ("Server memory with N sessions training", section_memory)}
TITLES = {"trainers": "Trainer vs bare PyTorch loop (and MLP FLOP/s)", "live": "Live in-app throughput vs bare trainer",
          "latent": "Latent Explorer: slider → new image", "playground": "2-D playground throughput",
          "playground_diffusion": "2-D playground, diffusion mode: quality in 60 s against the GAN, redraws",
          "animation": "The training as an animated GIF: seconds and MB for 100 frames"}


def write_report(records: list[dict], quick: bool, started: str) -> str:
    info = machine()
    lines = [
        "# Bench results",
        "",
        f"Written by `bench/run_all.py{' --quick' if quick else ''}` on {started} (UTC).",
        "",
        f"Machine: {info['cpu']}, {info['cores']} cores, torch {info['torch']}, Python {info['python']}; "
        f"load average at the end {_cell(info['load_average'])} (the machine is shared with other people's "
        "trainings, so every figure is a ratio or a median of measurements taken side by side in one run).",
        "",
    ]
    if quick:
        lines += ["> **Quick mode**: tiny budgets to check that every bench runs. These figures mean nothing; run "
                  "`python bench/run_all.py` for the real ones.", ""]
    lines += ["![bench charts](results.png)", "", "| bench | status | seconds | command |", "|---|---|---|---|"]
    for r in records:
        lines.append(f"| {r['bench']} | {r['status']} | {r['seconds']:.0f} | `{r['command']}` |")
    for r in records:
        title, render_section = SECTIONS.get(r["bench"], (TITLES.get(r["bench"], r["bench"]), section_generic))
        lines += ["", f"## {title}", ""]
        if "figures" in r:
            lines.append(render_section(r["figures"]))
        else:
            log = (RESULTS_DIR / f"{r['bench']}.log")
            tail = log.read_text(errors="replace").strip().splitlines()[-25:] if log.is_file() else []
            lines += ["Printed output (this bench writes no JSON):", "", "```", *tail, "```"]
    text = "\n".join(lines).rstrip() + "\n"
    RESULTS_MD.write_text(text)
    return text


# --- results.png ---------------------------------------------------------------------------------------------------


def chart_panels(records: list[dict]) -> list:
    panels: list = []
    by_name = {r["bench"]: r.get("figures") for r in records if r.get("figures")}
    quality = by_name.get("quality") or {}
    for family, title, y_label in (("vae", "VAE z=20: test loss vs training time", "nats / image (lower is better)"),
                                   ("gan", "GAN: classifier score vs training time", "classifier score (higher is better)"),
                                   ("diffusion", "Diffusion: classifier score vs training time",
                                    "classifier score (higher is better)")):
        task = quality.get(family)
        if task:
            series = [Series(c["label"], [0.0] + [p["seconds"] for p in c["points"]],
                             [None] + [p["value"] for p in c["points"]]) for c in task["curves"]]
            panels.append(LinePanel(title, f"seconds of training ({quality.get('clock', 'cpu')} clock)", y_label,
                                    series, goal=task["goal"]))
    memory = by_name.get("memory")
    if memory and memory.get("rows"):
        rows = memory["rows"]
        panels.append(BarPanel("Server RSS with N sessions training", "MB",
                               [f"{r['sessions']} session{'s' if r['sessions'] > 1 else ''}" for r in rows],
                               [r["peak_mb"] for r in rows], value_format="{:.0f}"))
    latent = by_name.get("latent")
    if latent and isinstance(latent.get("server"), dict):
        rows = {k: v for k, v in latent["server"].items() if isinstance(v, dict) and "cpu_median_ms" in v}
        if rows:
            panels.append(BarPanel("Latent slider: server work per move (median)", "CPU milliseconds",
                                   [k.replace(" ", "\n", 1) for k in rows], [v["cpu_median_ms"] for v in rows.values()],
                                   value_format="{:.1f}"))
    browser = by_name.get("browser")
    if browser and browser.get("cold_start"):
        cold = browser["cold_start"]
        panels.append(BarPanel("Cold start (median)", "seconds", ["server\nhealthy", "Home usable\nin browser"],
                               [cold.get("median_health_s"), cold.get("median_usable_s")], value_format="{:.1f} s"))
    return panels


def write_chart(records: list[dict], started: str) -> None:
    panels = chart_panels(records)
    if panels:
        render(panels, str(RESULTS_PNG), heading=f"AIGC Lab benches, {started} UTC")


def merge_quality_task(path: Path) -> list[str]:
    """Put the task(s) of a `bench_quality.py --only <family> --json <path>` run into results/quality.json, each
    stamped with that run's date and load, so that one long family can be measured again without the others."""
    run = json.loads(path.read_text())
    target = RESULTS_DIR / "quality.json"
    families = ("vae", "gan", "diffusion")
    figures = (json.loads(target.read_text()) if target.is_file()
               else {key: value for key, value in run.items() if key not in families})
    if target.is_file() and (run.get("clock"), run.get("threads")) != (figures.get("clock"), figures.get("threads")):
        raise SystemExit(f"{path} was measured on another clock than {target}: run it with the same --clock/--threads")
    merged = [family for family in families if family in run]
    for family in merged:
        figures[family] = {**run[family], "date": run["date"], "load_before": run.get("load_before"),
                           "load_after": run.get("load_after")}
    target.write_text(json.dumps(figures, indent=2) + "\n")
    return merged


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="tiny budgets: check that everything runs")
    parser.add_argument("--only", nargs="*", default=None, help="bench names (e.g. quality memory)")
    parser.add_argument("--skip", nargs="*", default=[], help="bench names to leave out")
    parser.add_argument("--report", action="store_true", help="only rewrite RESULTS.md / results.png from results/")
    parser.add_argument("--merge-quality", type=Path, default=None, metavar="JSON",
                        help="first merge a `bench_quality.py --only <family> --json JSON` run into results/quality.json")
    args = parser.parse_args(argv)
    if args.merge_quality:
        print(f"merged {', '.join(merge_quality_task(args.merge_quality))} into {RESULTS_DIR / 'quality.json'}")
    names = [n for n in (args.only or discover()) if n not in args.skip]
    started = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M")
    if args.report:
        records = []
        for name in names:
            path = RESULTS_DIR / f"{name}.json"
            record = {"bench": name, "status": "ok (earlier run)", "seconds": 0.0, "command": f"bench/bench_{name}.py",
                      "quick": False}
            if path.is_file():
                record["figures"] = json.loads(path.read_text())
                record["quick"] = bool(record["figures"].get("quick"))
            records.append(record)
        quick = any(r["quick"] for r in records)
    else:
        records = [run_bench(name, args.quick) for name in names]
        quick = args.quick
    write_report(records, quick, started)
    write_chart(records, started)
    print(f"\nwrote {RESULTS_MD.relative_to(ROOT)} and {RESULTS_PNG.relative_to(ROOT)}")
    return 0 if all(r["status"].startswith("ok") for r in records) else 1


if __name__ == "__main__":
    sys.exit(main())
