"""How fast the Latent Explorer answers a slider move: server-side work per model, and slider → new image in a browser.

Server side (always): the work of one slider move on the Sliders & map tab, outside Streamlit:
  - "decode": one code through the decoder / generator, the 28x28 picture enlarged 8x and encoded as PNG
    (`aigc_core.explorer.decode` + `images.make_grid` + `upscale` + `to_png_bytes`, what ui.latent.panels does);
  - "with map" (VAEs): the same plus the map of 3,000 encoded test digits with the marker, as the fragment redraws
    it on each move (`ui.latent.panels.map_spec`, the points as Arrow and the spec as JSON, as Streamlit sends them).
  Reported per model as the median and 95th percentile over many repetitions, in CPU milliseconds of this
  process (one torch thread: what one idle core would take, whatever else the shared machine runs) and in wall
  milliseconds. Target: decode ≤ 30 ms for the MLP models.

Browser (--browser): starts `streamlit run app.py`, opens the Latent Explorer in Debian's Chromium (Playwright) and
moves the z1 slider of the 2-D VAE with the keyboard (End / Home alternately, so every move changes the picture).
Each latency runs from the key press to the moment the new image's src is in the page, measured inside the page
(performance.now() on keydown and in a MutationObserver). Target: median ≤ 300 ms.

    .venv/bin/python bench/bench_latent.py                 # server side, every available model
    .venv/bin/python bench/bench_latent.py --browser --moves 30
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchlib import ROOT, machine, median, percentile, result_path, write_result  # noqa: E402

MODELS = ("vae_mlp_z2", "vae_mlp_z20", "gan_seed_mlp", "gan_mlp", "dcgan")
MLP_MODELS = ("vae_mlp_z2", "vae_mlp_z20", "gan_seed_mlp", "gan_mlp")


def server_side(repeats: int) -> dict[str, dict[str, float]]:
    import json

    import pyarrow as pa
    import torch

    # Imported here, not at the top: the browser half of this bench needs none of torch, the models or MNIST.
    from aigc_core import explorer, images
    from aigc_core.checkpoints import load_checkpoint
    from aigc_core.evaluation import PRETRAINED_DIR
    from aigc_core.mnist import load_mnist
    from aigc_core.models.vae import VAE
    from ui.latent.view import IMAGE_SCALE, MAP_POINTS, map_points, map_spec

    test = load_mnist("test")
    results: dict[str, dict[str, float]] = {}
    for name in MODELS:
        folder = PRETRAINED_DIR / name
        if not (folder / "config.json").is_file():
            continue
        model = load_checkpoint(folder).model.eval().requires_grad_(False)
        encoded = explorer.encode_dataset(model, test.images, test.labels) if isinstance(model, VAE) else None

        def slider_move(z: torch.Tensor) -> bytes:
            picture = images.make_grid(explorer.decode(model, z[None]), nrow=1, padding=0)
            return images.to_png_bytes(images.upscale(picture, IMAGE_SCALE))

        points = map_points(encoded, MAP_POINTS) if encoded is not None else None

        def with_map(z: torch.Tensor) -> tuple[bytes, bytes, str]:
            # The page's own spec, plus what Streamlit does with it: the points to Arrow, the spec to JSON.
            here = encoded.to_plane(z)[0]
            spec = map_spec([(float(here[0]), float(here[1]), "current z", "black", "cross")], "z1", "z2", "digit")
            table = pa.Table.from_pandas(points)
            sink = pa.BufferOutputStream()
            with pa.ipc.new_stream(sink, table.schema) as writer:
                writer.write_table(table)
            return slider_move(z), sink.getvalue().to_pybytes(), json.dumps(spec)

        rng = torch.Generator().manual_seed(1)
        for label, work in (("decode", slider_move), ("with map", with_map)):
            if label == "with map" and encoded is None:
                continue
            work(model.sample_noise(1, rng)[0])  # warm-up
            cpu, wall = [], []
            for _ in range(repeats if label == "decode" else max(10, repeats // 10)):
                z = model.sample_noise(1, rng)[0]
                c0, w0 = time.process_time(), time.perf_counter()
                work(z)
                cpu.append(1000 * (time.process_time() - c0))
                wall.append(1000 * (time.perf_counter() - w0))
            results[f"{name} {label}"] = {
                "cpu_median_ms": median(cpu), "cpu_p95_ms": percentile(cpu, 95),
                "wall_median_ms": median(wall), "wall_p95_ms": percentile(wall, 95),
            }
    return results


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def browser(moves: int) -> list[float]:
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    if executable is None:
        raise SystemExit("chromium is not installed (apt-get install chromium)")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port), "--server.headless", "true",
         "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    try:
        for _ in range(240):
            try:
                urllib.request.urlopen(f"{url}/_stcore/health", timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=executable, headless=True,
                                                  args=["--headless", "--no-sandbox", "--disable-gpu"])
            page = chromium.new_page(viewport={"width": 1400, "height": 1400})
            page.set_default_timeout(120_000)
            page.goto(url)  # the home page first: the app's router is then in place for every page
            page.wait_for_selector('[data-testid="stApp"]')
            page.goto(f"{url}/latent")
            page.locator(".st-key-lat_image img").wait_for()
            page.locator(".st-key-lat_dim_pretrained_vae_mlp_z2_0 input[type='range']").wait_for()
            time.sleep(2)
            page.evaluate("""() => {
                window.__pressed = null; window.__changed = null;
                document.addEventListener('keydown', () => { window.__pressed = performance.now(); }, true);
                const box = document.querySelector('.st-key-lat_image');
                new MutationObserver(() => {
                    const img = box.querySelector('img');
                    if (img && img.src !== window.__lastSrc) { window.__lastSrc = img.src; window.__changed = performance.now(); }
                }).observe(box, {subtree: true, childList: true, attributes: true, attributeFilter: ['src']});
                window.__lastSrc = box.querySelector('img').src;
            }""")
            thumb = page.locator(".st-key-lat_dim_pretrained_vae_mlp_z2_0 input[type='range']")
            thumb.focus()
            latencies = []
            for move in range(moves):
                page.evaluate("() => { window.__changed = null; }")
                page.keyboard.press("End" if move % 2 == 0 else "Home")
                page.wait_for_function("() => window.__changed !== null")
                latencies.append(page.evaluate("() => window.__changed - window.__pressed"))
                page.wait_for_function("""() => document.querySelector('[data-testid="stApp"]')
                                                  .dataset.testScriptState === 'notRunning'""")
                time.sleep(0.2)
            chromium.close()
        return latencies
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=200, help="slider moves timed per model (server side)")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (1: comparable CPU time)")
    parser.add_argument("--browser", action="store_true", help="also measure slider -> new image in Chromium")
    parser.add_argument("--moves", type=int, default=30, help="slider moves in the browser")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    figures: dict = {"server": server_side(args.repeats)}
    print(f"machine: {machine()}")
    print(f"{'server side, one slider move':34s} {'CPU median':>11s} {'CPU p95':>9s} {'wall median':>12s} {'wall p95':>9s}")
    for label, row in figures["server"].items():
        print(f"{label:34s} {row['cpu_median_ms']:9.2f} ms {row['cpu_p95_ms']:6.2f} ms"
              f" {row['wall_median_ms']:10.2f} ms {row['wall_p95_ms']:6.2f} ms")
    worst = max((row["cpu_median_ms"] for label, row in figures["server"].items()
                 if label.endswith("decode") and label.split()[0] in MLP_MODELS), default=float("nan"))
    print(f"slowest MLP decode (CPU median): {worst:.2f} ms (target ≤ 30 ms)")
    if args.browser:
        latencies = browser(args.moves)
        figures["browser_ms"] = {"median": median(latencies), "p95": percentile(latencies, 95), "moves": len(latencies),
                                 "all": [round(x, 1) for x in latencies]}
        print(f"browser, slider change -> new image ({len(latencies)} moves): median {median(latencies):.0f} ms, "
              f"p95 {percentile(latencies, 95):.0f} ms (target median ≤ 300 ms)")
    write_result(result_path("latent", args.json), "latent", figures)


if __name__ == "__main__":
    main()
