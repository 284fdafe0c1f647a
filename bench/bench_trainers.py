"""Trainer speed against a bare PyTorch loop of the same model, batch, optimizer and recipe, in the same run.

    .venv/bin/python bench/bench_trainers.py --threads 1      # CPU-time clock: robust on a shared machine
    .venv/bin/python bench/bench_trainers.py --threads 2      # wall clock (CPU time would count both threads)

For each trainer, `trainer.step()` and a hand-written loop (no stats, no guard, no gradient-norm measurement,
no dataclasses) run in many short alternating blocks of a few steps. The machine is shared and noisy, so the
table reports, per side, the 20th percentile of the block times (a block that another process slowed down
only ever gets slower, so a low percentile is the least disturbed estimate) and the ratio of the two, next to
the median of the per-pair ratios. The goal is trainer / bare >= 0.95. With one thread the clock is this
thread's CPU time (time.thread_time), which other processes competing for the cores do not inflate; with more
threads it is the wall clock.

For the GANs a third loop runs in the same rotation: the bare loop plus reading, with as few ops as it can, the
numbers the trainer's stats record must carry (losses, gradient norms, mean D(x) and D(G(z))). It is the floor
for any trainer that reports them, so trainer / (bare + stats) is the cost of the trainer's own machinery.

The bare loops do the same math as the trainers, so the ratio measures bookkeeping only: the same data path
(uint8 MNIST indexed by a seeded generator, converted per batch), D scored on cat([real, fake]), D frozen while
G updates, the same loss, label smoothing, EMA of G and cosine learning-rate schedule where the preset uses them.

Then: achieved FLOP/s of the MLP GAN training steps (matmul FLOPs counted analytically) against this machine's
dense fp32 matmul rate (torch.mm on large square matrices), as a percentage.
"""

import argparse
import math
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aigc_core import pixels  # noqa: E402
from aigc_core.classifier_trainer import random_shift  # noqa: E402
from aigc_core.factory import build_trainer, mnist_source  # noqa: E402
from aigc_core.models.registry import build_model  # noqa: E402
from aigc_core.optim import OptimizerConfig, cosine_lr  # noqa: E402
from aigc_core.presets import get_preset  # noqa: E402

BENCHED = {  # label -> preset
    "article GAN (gan_seed_mlp)": "gan_seed_mlp",
    "gan_mlp_live": "gan_mlp_live",
    "dcgan": "dcgan",
    "VAE MLP z20 (vae_mlp_z20)": "vae_mlp_z20",
    "classifier": "classifier",
}


def _optimizer(params, config: OptimizerConfig) -> torch.optim.Optimizer:
    """The optimizer a bare loop would write: torch.optim directly, same hyperparameters and foreach path."""
    if config.kind == "adam":
        return torch.optim.Adam(params, lr=config.lr, betas=(config.beta1, config.beta2), foreach=True)
    if config.kind == "sgd":
        return torch.optim.SGD(params, lr=config.lr, momentum=config.beta1, foreach=True)
    return torch.optim.RMSprop(params, lr=config.lr, alpha=config.beta2, momentum=config.beta1, foreach=True)


def _set_lr(optimizer: torch.optim.Optimizer, base: float, step: int, total: int) -> None:
    if total > 0:
        for group in optimizer.param_groups:
            group["lr"] = cosine_lr(base, step, total)


# --- bare loops: each returns a step() closure --------------------------------------------------------------


def _grad_norm(params: list[torch.Tensor]) -> float:
    return math.hypot(*(n.item() for n in torch._foreach_norm([p.grad for p in params])))


def bare_gan(preset, device: torch.device, record_stats: bool = False) -> Callable[[], None]:
    """The bare loop; with `record_stats` it also reads, with as few ops as it can, the numbers a GANStats record
    carries (both losses, both gradient norms, mean D(x) and D(G(z))): the floor for any trainer that reports them."""
    cfg = preset.train_config
    assert cfg.loss == "non_saturating" and cfg.d_steps == 1 and cfg.clip_grad_norm == 0
    model = build_model(preset.model_config, seed=cfg.seed).to(device)
    generator, discriminator = model.generator, model.discriminator
    opt_g, opt_d = _optimizer(generator.parameters(), cfg.g_optim), _optimizer(discriminator.parameters(), cfg.d_optim)
    ema = [p.detach().clone() for p in generator.parameters()] if cfg.ema > 0 else None
    images = mnist_source("signed", str(device))._images  # (N, 1, 28, 28) uint8, the trainer's own tensor
    rng = torch.Generator().manual_seed(cfg.seed)
    batch, z_dim, target = cfg.batch_size, model.z_dim, 1.0 - cfg.label_smoothing
    g_params, d_params = list(generator.parameters()), list(discriminator.parameters())
    state, stats = {"it": 0}, {}

    def step() -> None:
        it = state["it"]
        # D: real and fake scored in one pass
        index = torch.randint(len(images), (batch,), generator=rng).to(device)
        real = pixels.uint8_to_signed(images.index_select(0, index))
        z = torch.randn((batch, z_dim), generator=rng).to(device)
        with torch.no_grad():
            fake = generator(z)
        r1_due = cfg.r1_gamma > 0 and it % cfg.r1_every == 0  # lazy R1 (the dcgan preset), as the trainer does it
        real.requires_grad_(r1_due)
        scores = discriminator(torch.cat([real, fake]))
        real_s, fake_s = scores[:batch], scores[batch:]
        loss_d = (target * F.softplus(-real_s) + (1 - target) * F.softplus(real_s)).mean() + F.softplus(fake_s).mean()
        if r1_due:
            (grad,) = torch.autograd.grad(real_s.sum(), real, create_graph=True)
            loss_d = loss_d + 0.5 * cfg.r1_gamma * cfg.r1_every * grad.flatten(1).pow(2).sum(dim=1).mean()
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        if record_stats:
            stats["d"] = (loss_d.item(), _grad_norm(d_params),
                          *torch.sigmoid(scores.detach()).view(2, -1).mean(1).tolist())
        _set_lr(opt_d, cfg.d_optim.lr, it, cfg.schedule_steps)
        opt_d.step()
        # G: D frozen so no weight gradients are computed for it
        z = torch.randn((batch, z_dim), generator=rng).to(device)
        discriminator.requires_grad_(False)
        loss_g = F.softplus(-discriminator(generator(z))).mean()
        discriminator.requires_grad_(True)
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        if record_stats:
            stats["g"] = (loss_g.item(), _grad_norm(g_params))
        _set_lr(opt_g, cfg.g_optim.lr, it, cfg.schedule_steps)
        opt_g.step()
        if ema is not None:
            with torch.no_grad():
                torch._foreach_lerp_(ema, g_params, 1.0 - cfg.ema)
        state["it"] = it + 1

    return step


def bare_vae(preset, device: torch.device) -> Callable[[], None]:
    cfg = preset.train_config
    assert cfg.reconstruction == "bce" and cfg.clip_grad_norm == 0
    model = build_model(preset.model_config, seed=cfg.seed).to(device)
    optimizer = _optimizer(model.parameters(), cfg.optim)
    images = mnist_source("unit", str(device))._images
    rng = torch.Generator().manual_seed(cfg.seed)
    state = {"it": 0}

    def step() -> None:
        index = torch.randint(len(images), (cfg.batch_size,), generator=rng).to(device)
        x = pixels.uint8_to_unit(images.index_select(0, index))
        eps = torch.randn((cfg.batch_size, model.z_dim), generator=rng).to(device)
        x_logits, mu, logvar = model(x, eps)
        recon = F.binary_cross_entropy_with_logits(x_logits, x, reduction="sum") / cfg.batch_size
        kl = -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum() / cfg.batch_size
        loss = recon + cfg.beta * kl
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        _set_lr(optimizer, cfg.optim.lr, state["it"], cfg.schedule_steps)
        optimizer.step()
        state["it"] += 1

    return step


def bare_classifier(preset, device: torch.device) -> Callable[[], None]:
    cfg = preset.train_config
    model = build_model(preset.model_config, seed=cfg.seed).to(device)
    optimizer = _optimizer(model.parameters(), cfg.optim)
    source = mnist_source("unit", str(device))
    images, labels = source._images, source._labels
    rng = torch.Generator().manual_seed(cfg.seed)
    state = {"it": 0}

    def step() -> None:
        index = torch.randint(len(images), (cfg.batch_size,), generator=rng).to(device)
        x = random_shift(pixels.uint8_to_unit(images.index_select(0, index)), cfg.max_shift, rng)
        loss = F.cross_entropy(model(x), labels.index_select(0, index))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        _set_lr(optimizer, cfg.optim.lr, state["it"], cfg.schedule_steps)
        optimizer.step()
        state["it"] += 1

    return step


BARE = {"gan": bare_gan, "vae": bare_vae, "classifier": bare_classifier}


# --- timing ---------------------------------------------------------------------------------------------------


CLOCK: Callable[[], float] = time.perf_counter  # main() switches to time.thread_time for one thread


def _seconds_per_step(step: Callable[[], object], steps: int) -> float:
    start = CLOCK()
    for _ in range(steps):
        step()
    return (CLOCK() - start) / steps


@dataclass
class Result:
    label: str
    batch: int
    trainer: float  # steps/s from the 20th-percentile block time
    bare: float
    ratio: float  # trainer / bare at the 20th percentile
    median_ratio: float  # median over the paired blocks
    blocks: int
    with_stats: float | None = None  # steps/s of the bare loop that also reads the stats (GANs only)

    @property
    def stats_ratio(self) -> float | None:
        """trainer / (bare loop + stats): what the trainer's own machinery costs beyond reading the numbers."""
        return self.trainer / self.with_stats if self.with_stats else None


def _quantile(values: list[float], q: float) -> float:
    return sorted(values)[int(q * (len(values) - 1))]


def bench(label: str, preset_name: str, device: torch.device, seconds: float, block_seconds: float) -> Result:
    preset = get_preset(preset_name)
    sides: dict[str, Callable[[], object]] = {
        "trainer": build_trainer(preset.model_config, preset.train_config, data=preset.data, device=device).step,
        "bare": BARE[preset.family](preset, device),
    }
    if preset.family == "gan":
        sides["with_stats"] = bare_gan(preset, device, record_stats=True)
    for _ in range(5):  # warm-up (allocator, first-call dispatch)
        for step in sides.values():
            step()
    per_step = _seconds_per_step(sides["trainer"], 5)
    steps = max(2, round(block_seconds / per_step))
    blocks = max(5, round(seconds / (len(sides) * steps * per_step)))
    times: dict[str, list[float]] = {name: [] for name in sides}
    names = list(sides)
    for i in range(blocks):
        for name in names[i % len(names):] + names[: i % len(names)]:  # rotate who goes first
            times[name].append(_seconds_per_step(sides[name], steps))
    t, b = _quantile(times["trainer"], 0.2), _quantile(times["bare"], 0.2)
    paired = statistics.median(bt / tt for tt, bt in zip(times["trainer"], times["bare"]))
    with_stats = 1 / _quantile(times["with_stats"], 0.2) if "with_stats" in times else None
    return Result(label, preset.train_config.batch_size, 1 / t, 1 / b, b / t, paired, blocks, with_stats)


# --- FLOPs ------------------------------------------------------------------------------------------------------


def mlp_gan_step_flops(preset) -> int:
    """Matmul FLOPs of one GAN iteration (1 D update + 1 G update) for an MLP GAN; elementwise ops not counted.

    A Linear(n_in, n_out) on B rows costs 2·B·n_in·n_out for the forward pass, the same again for the gradient
    w.r.t. its input (when needed) and again for the gradient w.r.t. its weight (when the weight is trained).
    """
    config, b = preset.model_config, preset.train_config.batch_size
    g_layers = list(zip((config.z_dim, *config.g_hidden), (*config.g_hidden, 784)))
    d_layers = list(zip((784, *config.d_hidden), (*config.d_hidden, 1)))

    def mm(rows: int, layers) -> int:
        return sum(2 * rows * i * o for i, o in layers)

    d_update = (
        mm(b, g_layers)  # G(z) under no_grad
        + mm(2 * b, d_layers)  # D on cat([real, fake])
        + mm(2 * b, d_layers)  # dL/dW for every D layer
        + mm(2 * b, d_layers[1:])  # dL/d(input) for all but D's first layer (the images need no gradient)
    )
    g_update = (
        mm(b, g_layers) + mm(b, d_layers)  # forward through G and the frozen D
        + mm(b, d_layers)  # dL/d(input) through every D layer (no weight gradients: D is frozen)
        + mm(b, g_layers)  # dL/dW for every G layer
        + mm(b, g_layers[1:])  # dL/d(input) for all but G's first layer (z needs no gradient)
    )
    return d_update + g_update


def matmul_peak(n: int = 2048, repeats: int = 5) -> float:
    """Best observed dense fp32 torch.mm FLOP/s on n x n matrices (CPU)."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    torch.mm(a, b)
    best = math.inf
    for _ in range(repeats):
        start = CLOCK()
        torch.mm(a, b)
        best = min(best, CLOCK() - start)
    return 2 * n**3 / best


# --- main -------------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0 = torch's default)")
    parser.add_argument("--seconds", type=float, default=6.0, help="timed seconds per trainer (both sides together)")
    parser.add_argument("--block", type=float, default=0.03, help="seconds per timing block")
    parser.add_argument("--only", nargs="*", default=None, help="preset names to bench (default: all five)")
    args = parser.parse_args(argv)
    global CLOCK
    if args.threads:
        torch.set_num_threads(args.threads)
    if torch.get_num_threads() == 1:
        CLOCK = time.thread_time
    device = torch.device("cpu")
    clock = "thread CPU time" if CLOCK is time.thread_time else "wall clock"
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), {clock}, ~{args.seconds} s per trainer in "
          f"blocks of ~{args.block} s", flush=True)

    results = []
    for label, preset_name in BENCHED.items():
        if args.only and preset_name not in args.only:
            continue
        results.append(bench(label, preset_name, device, args.seconds, args.block))
        r = results[-1]
        print(f"  {r.label:28s} trainer {r.trainer:8.1f} it/s   bare {r.bare:8.1f} it/s   ratio {r.ratio:.3f} "
              f"(median of {r.blocks} pairs {r.median_ratio:.3f}) {'ok' if r.ratio >= 0.95 else 'BELOW 0.95'}",
              flush=True)
        if r.with_stats:
            print(f"  {'':28s} bare loop + the record's stats {r.with_stats:8.1f} it/s = {r.with_stats / r.bare:.3f} "
                  f"of bare; trainer / that {r.stats_ratio:.3f}", flush=True)

    print("\n| trainer | batch | trainer it/s | bare loop it/s | trainer / bare | median of paired blocks "
          "| bare + stats / bare | trainer / (bare + stats) |")
    print("|---|---|---|---|---|---|---|---|")
    for r in results:
        extra = f"{r.with_stats / r.bare:.3f} | {r.stats_ratio:.3f}" if r.with_stats else "— | —"
        print(f"| {r.label} | {r.batch} | {r.trainer:.1f} | {r.bare:.1f} | {r.ratio:.3f} | {r.median_ratio:.3f} "
              f"| {extra} |")

    peak = matmul_peak()
    print(f"\nDense fp32 torch.mm (2048x2048, best of 5, {torch.get_num_threads()} thread(s)): {peak / 1e9:.1f} GFLOP/s")
    for r in results:
        preset = get_preset(BENCHED[r.label])
        if preset.family == "gan" and type(preset.model_config).__name__ == "MLPGANConfig":
            flops = mlp_gan_step_flops(preset)
            achieved = flops * r.trainer
            print(f"  {r.label:28s} {flops / 1e6:7.1f} MFLOP/iteration x {r.trainer:.1f} it/s = "
                  f"{achieved / 1e9:6.2f} GFLOP/s = {100 * achieved / peak:5.1f}% of the matmul rate")
    return 0


if __name__ == "__main__":
    sys.exit(main())
