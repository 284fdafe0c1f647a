"""Diffusion speed: sampling time of 64 guided samples, and DiffusionTrainer.step() against a bare PyTorch loop.

    .venv/bin/python bench/bench_diffusion.py --threads 2      # the issue's figures (wall clock)
    .venv/bin/python bench/bench_diffusion.py --threads 1      # CPU-time clock: robust on a shared machine

1. Sampling: 64 samples with 25 DDIM steps and classifier-free guidance (w = 2), the goal ≤ 2 s on 2 cores. Four
   rows separate the levers: the shipped U-Net (`UNetConfig()`: the image folded to 14x14x4, levels at 14 and 7)
   with the conditional and unconditional passes batched into one call (as `aigc_core.diffusion` does) or run as
   two calls; and a plain full-resolution U-Net (`PLAIN`: 32 channels at 28x28, 0.51 M parameters), both ways.
   Each figure is the median of `--repeats` runs, all rows interleaved.
2. Training: `DiffusionTrainer.step()` against a hand-written loop of the same U-Net, batch, optimizer, gradient
   clipping, label dropout and EMA (no stats, no guard), in short alternating blocks as bench_trainers.py does;
   the 20th percentile of the block times per side, and their ratio (goal ≥ 0.95).
"""

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Callable

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import machine, result_path, write_result  # noqa: E402

from aigc_core import diffusion as dm  # noqa: E402
from aigc_core import pixels  # noqa: E402
from aigc_core.diffusion_trainer import DiffusionTrainConfig, DiffusionTrainer  # noqa: E402
from aigc_core.factory import mnist_source  # noqa: E402
from aigc_core.models.common import count_parameters  # noqa: E402
from aigc_core.models.unet import UNet, UNetConfig  # noqa: E402

PLAIN = UNetConfig(channels=(32, 32, 64), patch=1)  # the full-resolution baseline
SAMPLES, STEPS, GUIDANCE = 64, 25, 2.0


def sample_seconds(model: UNet, batched: bool) -> Callable[[], float]:
    """A closure timing one run of 64 guided DDIM samples (batched or two-call guidance)."""
    schedule = dm.schedule_for(model.config)
    x_T = model.sample_noise(SAMPLES, torch.Generator().manual_seed(0))  # noqa: N806
    y = torch.arange(SAMPLES) % 10
    null = torch.full_like(y, model.null_label)

    def two_calls(x: torch.Tensor, t: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        conditional, unconditional = model(x, t, labels), model(x, t, null)
        return torch.lerp(unconditional, conditional, 1.0 + GUIDANCE)

    def run() -> float:
        start = time.perf_counter()
        if batched:
            dm.sample(model, schedule, x_T, sampler="ddim", steps=STEPS, y=y, guidance=GUIDANCE,
                      null_label=model.null_label, clip_denoised=True)
        else:
            model.eval()
            sequence = dm.timesteps(schedule, STEPS)
            x = x_T
            with torch.inference_mode():
                for t, t_prev in zip(sequence[:-1], sequence[1:]):
                    out = two_calls(x, torch.full((SAMPLES,), t), y)
                    x = dm.ddim_step(schedule, out, t, x, t_prev=t_prev, clip_denoised=True).x_prev
        return time.perf_counter() - start

    return run


def bench_sampling(repeats: int) -> list[dict]:
    rows = [("compact U-Net, batched guidance", UNetConfig(), True), ("compact U-Net, two calls", UNetConfig(), False),
            ("plain 28x28 U-Net, batched guidance", PLAIN, True), ("plain 28x28 U-Net, two calls", PLAIN, False)]
    runs = []
    for label, config, batched in rows:
        model = UNet(config)
        runs.append((label, config, count_parameters(model), sample_seconds(model, batched)))
    for _, _, _, run in runs:
        run()  # warm-up
    times: dict[str, list[float]] = {label: [] for label, *_ in runs}
    for _ in range(repeats):
        for label, _, _, run in runs:
            times[label].append(run())
    return [{"label": label, "channels": list(config.channels), "patch": config.patch, "parameters": params,
             "seconds": statistics.median(times[label])} for label, config, params, _ in runs]


# --- training: trainer against a bare loop ---------------------------------------------------------------------


def bare_loop(config: UNetConfig, train: DiffusionTrainConfig) -> Callable[[], None]:
    """The same math as DiffusionTrainer.step(), written out: no stats record, no guard, no norm readout."""
    model = UNet(config, seed=train.seed)
    schedule = dm.schedule_for(config)
    alpha_bars = schedule.alpha_bars.float()
    optimizer = torch.optim.Adam(model.parameters(), lr=train.optim.lr, betas=(train.optim.beta1, train.optim.beta2),
                                 foreach=True)
    params = list(model.parameters())
    ema = [p.detach().clone() for p in params]
    source = mnist_source("signed")
    images, labels = source._images, source._labels
    rng = torch.Generator().manual_seed(train.seed)
    b = train.batch_size

    def step() -> None:
        index = torch.randint(len(images), (b,), generator=rng)
        x0 = pixels.uint8_to_signed(images.index_select(0, index))
        y = labels.index_select(0, index)
        y = torch.where(torch.rand(b, generator=rng) < train.label_dropout, model.null_label, y)
        t = torch.randint(1, schedule.T + 1, (b,), generator=rng)
        noise = torch.randn(x0.shape, generator=rng)
        a = alpha_bars[t].view(-1, 1, 1, 1)
        loss = (model(a.sqrt() * x0 + (1 - a).sqrt() * noise, t, y) - noise).pow(2).mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, train.clip_grad_norm, foreach=True)
        optimizer.step()
        with torch.no_grad():
            torch._foreach_lerp_(ema, params, 1.0 - train.ema)

    return step


def bench_training(seconds: float, block_seconds: float, clock: Callable[[], float]) -> dict:
    config, train = UNetConfig(), DiffusionTrainConfig()
    trainer = DiffusionTrainer(UNet(config, seed=train.seed), mnist_source("signed"), train)
    sides = {"trainer": trainer.step, "bare": bare_loop(config, train)}
    for _ in range(3):
        for step in sides.values():
            step()
    start = clock()
    sides["trainer"]()
    per_step = clock() - start
    steps = max(1, round(block_seconds / per_step))
    blocks = max(5, round(seconds / (2 * steps * per_step)))
    times: dict[str, list[float]] = {name: [] for name in sides}
    names = list(sides)
    for i in range(blocks):
        for name in names[i % 2:] + names[: i % 2]:  # alternate who goes first
            start = clock()
            for _ in range(steps):
                sides[name]()
            times[name].append((clock() - start) / steps)
    q = {name: sorted(values)[int(0.2 * (len(values) - 1))] for name, values in times.items()}
    paired = statistics.median(b / t for t, b in zip(times["trainer"], times["bare"]))
    return {"batch": train.batch_size, "trainer_steps_per_s": 1 / q["trainer"], "bare_steps_per_s": 1 / q["bare"],
            "ratio": q["bare"] / q["trainer"], "median_paired_ratio": paired, "blocks": blocks, "steps_per_block": steps,
            "loss_after": trainer.last.loss, "steps_done": trainer.iteration}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads (the issue's figure is at 2)")
    parser.add_argument("--repeats", type=int, default=5, help="timed sampling runs per row")
    parser.add_argument("--seconds", type=float, default=20.0, help="timed seconds of training, both sides together")
    parser.add_argument("--block", type=float, default=0.5, help="seconds per training block")
    parser.add_argument("--skip-training", action="store_true")
    parser.add_argument("--skip-sampling", action="store_true")
    parser.add_argument("--json", default=None, help="write the figures as JSON here")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    clock = time.thread_time if args.threads == 1 else time.perf_counter
    info = machine()
    print(f"torch {info['torch']}, {args.threads} thread(s), load average {info['load_average']}", flush=True)

    figures: dict = {}
    if not args.skip_sampling:
        print(f"\nSampling {SAMPLES} images, {STEPS} DDIM steps, guidance w = {GUIDANCE:g} (median of {args.repeats}):")
        sampling = bench_sampling(args.repeats)
        for row in sampling:
            print(f"  {row['label']:38s} {row['parameters'] / 1e6:5.2f} M params  {row['seconds']:6.2f} s", flush=True)
        ours, plain = sampling[0]["seconds"], sampling[3]["seconds"]
        print(f"  compact+batched vs plain+two calls: {plain / ours:.1f}x faster; goal ≤ 2 s: "
              f"{'ok' if ours <= 2.0 else 'MISSED'} ({ours:.2f} s)")
        figures.update(sampling=sampling, speedup_vs_plain=plain / ours)
    if not args.skip_training:
        clock_name = "thread CPU time" if clock is time.thread_time else "wall clock"
        print(f"\nTraining step, batch {DiffusionTrainConfig().batch_size}, ~{args.seconds:g} s ({clock_name}):")
        training = bench_training(args.seconds, args.block, clock)
        print(f"  DiffusionTrainer.step() {training['trainer_steps_per_s']:6.2f} it/s   bare loop "
              f"{training['bare_steps_per_s']:6.2f} it/s   ratio {training['ratio']:.3f} (median of "
              f"{training['blocks']} pairs {training['median_paired_ratio']:.3f}) "
              f"{'ok' if training['ratio'] >= 0.95 else 'BELOW 0.95'}")
        figures["training"] = training
    write_result(result_path("diffusion", args.json), "bench_diffusion", figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
