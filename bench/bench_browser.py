"""Cold start in headless Chromium against a local server (127.0.0.1 only), launched the way users launch it.

From launching the app (`python -m ui.server.launch`, what scripts/run.sh runs) to the Home page usable in the
browser: connected, its script finished, and the pretrained sample grid drawn (an <img> that has loaded). Also
reported: launch -> the server's health check answers, browser navigation -> usable, and then the first visit of
each page: from the click on its menu link to its script finished with its title shown (clicked one after another,
the first `--dwell` seconds after Home is usable: 0, the default, is the worst case, no time to look at Home). Median over `--starts` fresh servers, with the
load average recorded (the machine is shared). `--launch streamlit` measures plain `streamlit run app.py`;
`--launch both` alternates the two, start by start, so both see the same load. The latent slider's latency in the
browser is bench/bench_latent.py --browser.

    .venv/bin/python bench/bench_browser.py                  # 3 cold starts
    .venv/bin/python bench/bench_browser.py --quick          # 1 cold start
    .venv/bin/python bench/bench_browser.py --launch both    # 3 of each, alternating
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import machine, median, result_path, write_result  # noqa: E402
from browserlib import (  # noqa: E402
    LAUNCH,
    MENU_LINKS,
    block_foreign,
    chromium,
    streamlit_server,
    wait_for_app,
)

VIEWPORT = {"width": 1400, "height": 1600}
TIMEOUT_MS = 180_000
IMAGE_READY = """() => [...document.querySelectorAll('[data-testid="stMain"] img')]
    .some((img) => img.complete && img.naturalWidth > 0)"""
MAIN_TITLE = """() => document.querySelector('[data-testid="stMain"] h1')?.innerText.trim() ?? ''"""
TITLE_CHANGED = """(previous) => {
    const title = document.querySelector('[data-testid="stMain"] h1')?.innerText.trim();
    return Boolean(title) && title !== previous;
}"""


def first_visits(page) -> dict[str, float]:
    """Seconds from a click on each menu link after Home (in menu order) to that page idle with its title shown."""
    links = page.locator(MENU_LINKS)
    seconds = {}
    for index in range(1, links.count()):  # 0 is Home, already shown
        previous = page.evaluate(MAIN_TITLE)
        clicked = time.monotonic()
        links.nth(index).click()
        page.wait_for_function(TITLE_CHANGED, arg=previous, timeout=TIMEOUT_MS)
        wait_for_app(page, timeout_ms=TIMEOUT_MS)
        seconds[page.evaluate(MAIN_TITLE)] = round(time.monotonic() - clicked, 2)
    return seconds


def cold_start(browser, launch: str, visits: bool, dwell_s: float = 0.0) -> dict:
    context = browser.new_context(viewport=VIEWPORT, locale="en-US")
    block_foreign(context)
    page = context.new_page()
    try:
        with streamlit_server(launch=launch) as server:
            navigate = time.monotonic()
            page.goto(server.url)
            wait_for_app(page)
            page.wait_for_function(IMAGE_READY, timeout=TIMEOUT_MS)
            usable = time.monotonic()
            time.sleep(dwell_s)  # a reader looking at Home before clicking
            return {"launch": launch, "health_s": round(server.healthy_after, 2),
                    "usable_s": round(usable - server.started, 2), "browser_s": round(usable - navigate, 2),
                    "first_visit_s": first_visits(page) if visits else {}}
    finally:
        context.close()


def summary(starts: list[dict]) -> dict:
    pages = sorted({title for start in starts for title in start["first_visit_s"]})
    visits = {title: median([s["first_visit_s"][title] for s in starts if title in s["first_visit_s"]])
              for title in pages}
    return {"runs": starts, "median_usable_s": median([s["usable_s"] for s in starts]),
            "median_health_s": median([s["health_s"] for s in starts]),
            "median_browser_s": median([s["browser_s"] for s in starts]),
            "median_first_visit_s": visits, "slowest_first_visit_s": max(visits.values(), default=None)}


def report(launch: str, cold: dict) -> None:
    print(f"{launch}: cold start (launch -> Home usable): median {cold['median_usable_s']:.1f} s over "
          f"{len(cold['runs'])} (server healthy {cold['median_health_s']:.1f} s, "
          f"{cold['median_browser_s']:.1f} s in the browser)")
    for title, seconds in cold["median_first_visit_s"].items():
        print(f"  first visit after Home, median: {seconds:.1f} s  {title}")


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--starts", type=int, default=3)
    parser.add_argument("--launch", choices=[*LAUNCH, "both"], default="launcher")
    parser.add_argument("--no-visits", action="store_true", help="cold start only, no first visit of each page")
    parser.add_argument("--dwell", type=float, default=0.0, help="seconds on Home before the first click")
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    if args.quick:
        args.starts = 1
    launches = list(LAUNCH) if args.launch == "both" else [args.launch]
    load_before = machine()["load_average"]
    starts: dict[str, list[dict]] = {launch: [] for launch in launches}
    with chromium() as browser:
        for index in range(args.starts):
            for launch in launches:  # alternating, so that both see the same load
                start = cold_start(browser, launch, visits=not args.no_visits, dwell_s=args.dwell)
                starts[launch].append(start)
                print(f"  {launch} cold start {index + 1}: server healthy {start['health_s']:.1f} s, Home usable "
                      f"{start['usable_s']:.1f} s after launch ({start['browser_s']:.1f} s in the browser); first "
                      f"visits {', '.join(f'{s:.1f}' for s in start['first_visit_s'].values()) or '-'} s", flush=True)
    figures = {"cold_start": summary(starts[launches[0]]),
               **{f"cold_start_{launch}": summary(starts[launch]) for launch in launches[1:]},
               "dwell_s": args.dwell, "load_before": load_before, "load_after": machine()["load_average"]}
    for launch in launches:
        report(launch, summary(starts[launch]))
    print(f"load average before {load_before}, after {figures['load_after']}")
    write_result(result_path("browser", args.json), "browser", figures, quick=args.quick)
    return figures


if __name__ == "__main__":
    main()
