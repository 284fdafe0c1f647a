"""Conditional sampling ("draw me a 7"): milliseconds per 64 samples of one requested digit from each shipped
class-conditional model, beside its unconditional sibling, measured side by side in one run.

    .venv/bin/python bench/bench_conditional.py             # 2 threads, 30 timed draws each
    .venv/bin/python bench/bench_conditional.py --quick     # 5 timed draws each

Pairs: cgan vs gan_mlp (same G widths, plus a 16-value label embedding), cvae vs vae_mlp_z20 (MLP VAE, plus a
one-hot label), and the class-conditional ddpm (25 DDIM steps with classifier-free guidance, two passes of the
U-Net per step in one batch) vs the same model unguided (guidance 0, one pass). Goal: asking for a digit costs at
most 1.2x the unconditional draw for the GAN and the VAE (the label is a few inputs more), and the guided denoiser
at most 2.2x the unguided one (the two passes share one batched call). Missing folders are skipped and said so.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from benchlib import machine, median, result_path, write_result  # noqa: E402
from aigc_core.checkpoints import load_checkpoint  # noqa: E402
from aigc_core.diffusion_trainer import generate as denoise  # noqa: E402
from aigc_core.gan_trainer import generate  # noqa: E402
from aigc_core.models.gan import GAN  # noqa: E402

PRETRAINED = Path(__file__).resolve().parents[1] / "pretrained"
N = 64
GOALS = {"gan": 1.2, "vae": 1.2, "diffusion": 2.2}


def _draw(model: torch.nn.Module, labels: torch.Tensor | None, guidance: float = 2.0) -> None:
    z = model.sample_noise(N, torch.Generator().manual_seed(0))
    if isinstance(model, GAN):
        generate(model.generator, z, labels=labels)
    elif hasattr(model, "decode"):
        with torch.inference_mode():
            torch.sigmoid(model.decode(z, labels))
    else:
        denoise(model, z, labels, steps=25, guidance=guidance, generator=torch.Generator().manual_seed(0))


def _timed(draw, repeats: int) -> float:
    draw()  # warm-up: first-call allocations
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        draw()
        seconds.append(time.perf_counter() - start)
    return median(seconds) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    repeats = 5 if args.quick else 30
    sevens = torch.full((N,), 7)
    figures: dict[str, dict] = {}
    pairs = {"gan": ("cgan", "gan_mlp"), "vae": ("cvae", "vae_mlp_z20"), "diffusion": ("ddpm", "ddpm")}
    print(f"ms per {N} samples (median of {repeats}), {args.threads} threads")
    for family, (conditional, plain) in pairs.items():
        if not (PRETRAINED / conditional / "model.safetensors").exists() or not (PRETRAINED / plain).exists():
            print(f"{family:9s}: skipped (pretrained/{conditional} or pretrained/{plain} is missing)")
            continue
        cond_model = load_checkpoint(PRETRAINED / conditional).model.eval()
        plain_model = load_checkpoint(PRETRAINED / plain).model.eval()
        # The denoiser's baseline is itself unguided: the null label only, one pass per step.
        unconditional = (lambda: _draw(plain_model, torch.full((N,), 10), guidance=0.0)) if family == "diffusion" \
            else (lambda: _draw(plain_model, None))
        base_ms = _timed(unconditional, repeats)
        cond_ms = _timed(lambda: _draw(cond_model, sevens), repeats)
        ratio = cond_ms / base_ms
        goal = GOALS[family]
        figures[family] = {"conditional": conditional, "baseline": plain, "conditional_ms": round(cond_ms, 2),
                           "baseline_ms": round(base_ms, 2), "ratio": round(ratio, 3), "goal_ratio": goal,
                           "met": ratio <= goal}
        print(f"{family:9s}: {conditional} {cond_ms:8.2f} ms  vs {plain} {base_ms:8.2f} ms  ratio {ratio:.2f} "
              f"(goal <= {goal}) {'met' if ratio <= goal else 'NOT met'}")
    print(f"load average {machine()['load_average']}")
    write_result(result_path("conditional", args.json), "conditional", {"threads": args.threads, "samples": N,
                                                                         "repeats": repeats, "pairs": figures},
                 quick=args.quick)


if __name__ == "__main__":
    main()
