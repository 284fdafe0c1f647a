"""The training as an animated GIF: seconds and megabytes for a film of N frames (default 100), the way the pages
make one (`aigc_core.animation.encode_gif`; the playground draws its planes first, `aigc_core.playground.raster`).

    .venv/bin/python bench/bench_animation.py               # 100 frames of each kind
    .venv/bin/python bench/bench_animation.py --frames 120

"train grids" : real MNIST 8 x 8 grids going from uniform noise to clean digits (an untrained model's samples
                to a trained one's), 242 x 242 px: what the Train page's History tab animates.
"noise grids" : every frame uniform noise, LZW's worst case (a denoiser's first samples look like this): shows
                the 5 MB bound at work (`encode_gif` thins the film until it fits: fewer frames, the same span).
"playground"  : the ring of 8 with a small GAN, a frame every 10 iterations: drawing the planes (heatmap,
                manifold, points, arrows) and encoding them, timed apart.
The issue's goal: about 100 frames in at most 5 MB, made in a few seconds. Prints figures, not a pass/fail.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402

from benchlib import machine, result_path, write_result  # noqa: E402
from aigc_core import animation, images  # noqa: E402
from aigc_core import playground as pg  # noqa: E402
from aigc_core.mnist import load_mnist  # noqa: E402
from aigc_core.playground.raster import PlaneColors, planes_picture  # noqa: E402
from aigc_core.toy2d import PointSource  # noqa: E402
from ui.playground import view  # noqa: E402  (pure: the live chart's colours)


def grids(n: int, noise_only: bool, seed: int = 0) -> list[np.ndarray]:
    test = load_mnist("test")
    rng = np.random.default_rng(seed)
    out = []
    for k in range(n):
        a = 0.0 if noise_only else k / max(n - 1, 1)
        real = torch.from_numpy(test.images[rng.choice(len(test), 64, replace=False)]).float() / 255
        noise = torch.from_numpy(rng.random((64, 28, 28))).float()
        out.append(images.make_grid((1 - a) * noise + a * real, nrow=8))
    return out


def playground_views(n: int) -> list[tuple]:
    source = PointSource.from_name("ring", n_pool=2048, seed=0)
    trainer = pg.build_trainer(pg.PlaygroundSettings(data="ring"), source)
    noise, real = pg.view_noise(trainer.model, 0), pg.shown_real(source, 0)
    views = []
    with pg.one_thread():
        for _ in range(n):
            views.append((pg.compute_view(trainer, data="ring", real_shown=real, noise=noise),))
            for _ in range(10):
                trainer.step()
    return views


def film(name: str, pictures: list[np.ndarray], label: str, draw_s: float = 0.0) -> dict:
    labels = [f"{label} {10 * i:,}" for i in range(len(pictures))]
    start = time.perf_counter()
    data = animation.encode_gif(pictures, labels)
    encode_s = time.perf_counter() - start
    kept = Image.open(io.BytesIO(data)).n_frames
    row = {"film": name, "frames_given": len(pictures), "frames_kept": kept, "draw_s": round(draw_s, 3),
           "encode_s": round(encode_s, 3), "total_s": round(draw_s + encode_s, 3), "mb": round(len(data) / 1e6, 3),
           "size_px": f"{Image.open(io.BytesIO(data)).size[0]}x{Image.open(io.BytesIO(data)).size[1]}"}
    print(f"{name:15s} {len(pictures):4d} frames -> {kept:4d} kept  draw {draw_s:5.2f} s  encode {encode_s:5.2f} s  "
          f"{len(data) / 1e6:5.2f} MB  {row['size_px']} px", flush=True)
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=100)
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    print(f"machine: {machine()}")
    rows = [film("train grids", grids(args.frames, noise_only=False), "step"),
            film("noise grids", grids(args.frames, noise_only=True), "step")]
    views = playground_views(args.frames)
    colors = PlaneColors(real=view.REAL_COLOR, fake=view.FAKE_COLOR, manifold=view.MANIFOLD_COLOR,
                         arrow=view.ARROW_COLOR, heat=tuple(view.HEAT_RANGE))
    start = time.perf_counter()
    planes = [planes_picture(v, colors) for v in views]
    rows.append(film("playground", planes, "iteration", time.perf_counter() - start))
    write_result(result_path("animation", args.json), "animation", {"rows": rows, "frames": args.frames})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
