"""Cold start in headless Chromium against a local server (127.0.0.1 only).

From launching `streamlit run app.py` to the Home page usable in the browser: connected, its script finished, and
the pretrained sample grid drawn (an <img> that has loaded). Also reported: launch -> the server's health check
answers, and browser navigation -> usable. Median over `--starts` fresh servers, with the load average recorded
(the machine is shared). The latent slider's latency in the browser is bench/bench_latent.py --browser.

    .venv/bin/python bench/bench_browser.py            # 3 cold starts
    .venv/bin/python bench/bench_browser.py --quick    # 1 cold start
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import machine, median, result_path, write_result  # noqa: E402
from browserlib import block_foreign, chromium, streamlit_server, wait_for_app  # noqa: E402

VIEWPORT = {"width": 1400, "height": 1600}
IMAGE_READY = """() => [...document.querySelectorAll('[data-testid="stMain"] img')]
    .some((img) => img.complete && img.naturalWidth > 0)"""


def cold_start(browser) -> dict:
    context = browser.new_context(viewport=VIEWPORT)
    block_foreign(context)
    page = context.new_page()
    try:
        with streamlit_server() as server:
            navigate = time.monotonic()
            page.goto(server.url)
            wait_for_app(page)
            page.wait_for_function(IMAGE_READY, timeout=180_000)
            usable = time.monotonic()
            return {"health_s": round(server.healthy_after, 2), "usable_s": round(usable - server.started, 2),
                    "browser_s": round(usable - navigate, 2)}
    finally:
        context.close()


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--starts", type=int, default=3)
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    if args.quick:
        args.starts = 1
    load_before = machine()["load_average"]
    with chromium() as browser:
        starts = []
        for index in range(args.starts):
            starts.append(cold_start(browser))
            print(f"  cold start {index + 1}: server healthy {starts[-1]['health_s']:.1f} s, Home usable "
                  f"{starts[-1]['usable_s']:.1f} s after launch ({starts[-1]['browser_s']:.1f} s in the browser)",
                  flush=True)
    figures = {
        "cold_start": {"runs": starts, "median_usable_s": median([s["usable_s"] for s in starts]),
                       "median_health_s": median([s["health_s"] for s in starts]),
                       "median_browser_s": median([s["browser_s"] for s in starts])},
        "load_before": load_before, "load_after": machine()["load_average"],
    }
    cold = figures["cold_start"]
    print(f"cold start (launch -> Home usable): median {cold['median_usable_s']:.1f} s over {len(starts)} "
          f"(server healthy {cold['median_health_s']:.1f} s)")
    write_result(result_path("browser", args.json), "browser", figures, quick=args.quick)
    return figures


if __name__ == "__main__":
    main()
