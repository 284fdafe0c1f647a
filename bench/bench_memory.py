"""Server memory with 1, 5 and 20 browser sessions training at once (headless Chromium, 127.0.0.1 only).

For each N a fresh server is started (so the figures do not carry over), its resident memory (RSS, from /proc) is
read after Home has loaded once (the baseline: torch, Streamlit and the shared pretrained models), then N browser
contexts (N separate sessions) open the Train page and press Start. After `--seconds` of training the RSS is read
again and each session's step counter is checked (a session that never got to train is reported, not hidden).
Reported: RSS idle, RSS with N training, and the increase per session. Per-session caps are raised for the bench
(`AIGC_MAX_TRAININGS`), so all N can train.

Bounded: every wait has a timeout; the whole bench stops after `--budget` seconds per N.

    .venv/bin/python bench/bench_memory.py                  # N = 1, 5, 20; 30 s of training each
    .venv/bin/python bench/bench_memory.py --quick          # N = 1, 2; 8 s
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import machine, result_path, write_result  # noqa: E402
from browserlib import block_foreign, chromium, streamlit_server, wait_for_app  # noqa: E402

VIEWPORT = {"width": 1200, "height": 1400}
START = ".st-key-train_btn_start button"


def _step(page) -> int:
    text = page.locator('[data-testid="stMetricValue"]').first.inner_text(timeout=30_000)
    digits = re.sub(r"\D", "", text)
    return int(digits) if digits else 0


def measure(browser, sessions: int, seconds: float, budget: float) -> dict:
    deadline = time.monotonic() + budget
    env = {"AIGC_MAX_TRAININGS": str(max(sessions, 1) + 5)}
    with streamlit_server(env=env) as server:
        contexts, pages = [], []
        try:
            warm = browser.new_context(viewport=VIEWPORT)
            block_foreign(warm)
            contexts.append(warm)
            home = warm.new_page()
            home.goto(server.url)
            wait_for_app(home)
            home.wait_for_timeout(1000)
            idle_mb = server.rss_mb()
            for index in range(sessions):
                context = browser.new_context(viewport=VIEWPORT)
                block_foreign(context)
                contexts.append(context)
                page = context.new_page()
                page.goto(f"{server.url}/train?seed={index}")
                pages.append(page)
            started = 0
            for page in pages:
                remaining = max(1_000, (deadline - time.monotonic()) * 1000)
                wait_for_app(page, timeout_ms=remaining)
                page.locator(START).first.click(timeout=remaining)  # a button with help is drawn twice (one hidden)
                started += 1
            t0 = time.monotonic()
            peak = server.rss_mb()
            while time.monotonic() - t0 < seconds and time.monotonic() < deadline:
                time.sleep(1.0)
                peak = max(peak, server.rss_mb())
            steps = []
            for page in pages:
                try:
                    steps.append(_step(page))
                except Exception:
                    steps.append(-1)
            training_mb = server.rss_mb()
            return {
                "sessions": sessions, "started": started, "trained": sum(s > 0 for s in steps), "steps": steps,
                "idle_mb": round(idle_mb, 1), "training_mb": round(training_mb, 1), "peak_mb": round(peak, 1),
                "per_session_mb": round((peak - idle_mb) / max(sessions, 1), 1),
            }
        finally:
            for context in contexts:
                context.close()


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--sessions", default="1,5,20")
    parser.add_argument("--seconds", type=float, default=30.0, help="training time once all have started")
    parser.add_argument("--budget", type=float, default=600.0, help="hard limit per N (s)")
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    if args.quick:
        args.sessions, args.seconds, args.budget = "1,2", 8.0, 300.0
    counts = [int(x) for x in args.sessions.split(",")]
    rows = []
    load_before = machine()["load_average"]
    with chromium() as browser:
        for n in counts:
            row = measure(browser, n, args.seconds, args.budget)
            rows.append(row)
            print(f"  {n:>3} sessions: {row['trained']}/{n} trained; server RSS idle {row['idle_mb']:.0f} MB, "
                  f"peak {row['peak_mb']:.0f} MB while training (+{row['per_session_mb']:.0f} MB per session)",
                  flush=True)
    figures = {"rows": rows, "seconds": args.seconds, "load_before": load_before,
               "load_after": machine()["load_average"]}
    write_result(result_path("memory", args.json), "memory", figures, quick=args.quick)
    return figures


if __name__ == "__main__":
    main()
