"""Time to quality, as curves: what a model reaches after t seconds of training, next to a plain baseline.

VAE (MLP, z = 20): test loss in nats per image (negative ELBO over the 10,000 test images; lower is better) against
training seconds; goal <= 103.5 within 60 s. A plain loop (784-400-20, Adam 1e-3, batch 128, constant learning
rate, as in pytorch/examples) is measured in the same run.
GAN: classifier score of 10,000 samples (aigc_core.evaluation.evaluate_gan; higher is better) against training
seconds; goal >= 6.0 within 120 s for the app's best GAN preset, next to a plain DCGAN and a plain MLP GAN (the same
architectures with Adam 2e-4 and nothing else: no EMA, no label smoothing, no schedule).
Diffusion: classifier score of 256 samples (25 guided DDIM steps, w = 2, labels 0-9 in turn; a denoiser's sample
costs 25 double network passes, and the plain full-resolution U-Net takes about 17 s per 64, so more samples per
evaluation would take longer than the training) against training seconds;
goal >= 5.0 within 300 s for the live preset (`diffusion_live`), next to the plain recipe the diffusion issue
measured (a full-resolution 32-channel U-Net, T = 400, batch 64, Adam 1e-3, EMA 0.995).

The clock. The development machine has 2 cores shared with other people's long trainings (a load average of 10-20
is common), so wall seconds there measure the neighbours more than the recipe. By default the clock is this
process's CPU seconds with one torch thread: what the run takes on one idle core, whatever the neighbours do, and a
stricter budget than 2 idle cores. `--clock wall --threads 2` gives the literal figure on a quiet machine.
Only training is clocked; each evaluation runs with the clock stopped.

Schedules "over the time budget": a recipe whose cosine decay should end with the budget trains its first 5% of
the budget at constant rate, measures its steps per clock-second, then sets `schedule_steps` so that the decay
ends when the budget does (`fit_schedule`).

    .venv/bin/python bench/bench_quality.py                   # both, full budgets (about 8 min of clock)
    .venv/bin/python bench/bench_quality.py --quick           # smoke test: tiny budgets, 1,000-sample scores
    .venv/bin/python bench/bench_quality.py --only vae --clock wall --threads 2
    .venv/bin/python bench/bench_quality.py --only diffusion
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import CLOCKS, machine, result_path, write_result  # noqa: E402

import torch  # noqa: E402

from aigc_core import evaluation  # noqa: E402
from aigc_core.factory import Trainer, build_trainer  # noqa: E402
from aigc_core.diffusion_trainer import DiffusionTrainConfig, evaluate_diffusion  # noqa: E402
from aigc_core.gan_trainer import GANTrainConfig, GANTrainer  # noqa: E402
from aigc_core.models.gan import DCGANConfig, MLPGANConfig  # noqa: E402
from aigc_core.models.unet import UNetConfig  # noqa: E402
from aigc_core.models.vae import VAEMLPConfig  # noqa: E402
from aigc_core.optim import OptimizerConfig  # noqa: E402
from aigc_core.presets import get_preset  # noqa: E402
from aigc_core.slicing import run_slice  # noqa: E402
from aigc_core.vae_trainer import VAETrainConfig  # noqa: E402

SLICE_S = 0.25  # wall seconds per run_slice call (the app's path); the clock is read around each slice
WARMUP_FRACTION = 0.05  # fit_schedule measures the rate over this share of the budget


@dataclass(frozen=True)
class Recipe:
    label: str  # what the tables and the chart call it
    model_config: Any
    train_config: Any
    role: str  # "baseline" or "preset"
    fit_schedule: bool = False  # re-fit schedule_steps so the cosine decay ends with the time budget
    note: str = ""

    @classmethod
    def from_preset(cls, name: str, *, label: str | None = None, fit_schedule: bool = False) -> "Recipe":
        preset = get_preset(name)
        return cls(label or name, preset.model_config, preset.train_config, "preset", fit_schedule, preset.summary)


def _adam(lr: float, beta1: float = 0.5) -> OptimizerConfig:
    return OptimizerConfig(kind="adam", lr=lr, beta1=beta1, beta2=0.999)


PLAIN_VAE = Recipe(
    "plain VAE loop", VAEMLPConfig(z_dim=20, hidden=(400,)), VAETrainConfig(batch_size=128, optim=_adam(1e-3, 0.9)),
    "baseline", note="784-400-20, Adam 1e-3, batch 128, constant lr (pytorch/examples vae)",
)
PLAIN_DCGAN = Recipe(
    "plain DCGAN", DCGANConfig(z_dim=64, width=32),
    GANTrainConfig(loss="non_saturating", batch_size=64, g_optim=_adam(2e-4), d_optim=_adam(2e-4)),
    "baseline", note="the compact DCGAN (gan_fast's networks); Adam 2e-4, batch 64; no EMA, no smoothing",
)
PLAIN_MLP_GAN = Recipe(
    "plain MLP GAN", MLPGANConfig(z_dim=64, g_hidden=(256, 512), d_hidden=(512, 256), slope=0.2, g_batchnorm=True),
    GANTrainConfig(loss="non_saturating", batch_size=64, g_optim=_adam(2e-4), d_optim=_adam(2e-4)),
    "baseline", note="the mid-size MLP GAN; Adam 2e-4, batch 64; no EMA, no smoothing",
)


PLAIN_DIFFUSION = Recipe(
    "plain DDPM U-Net", UNetConfig(channels=(32, 64), patch=1, timesteps=400),
    DiffusionTrainConfig(batch_size=64, optim=_adam(1e-3, 0.9), ema=0.995), "baseline",
    note="full-resolution U-Net (32 and 64 channels at 28 and 14 px), cosine schedule, T = 400; batch 64, Adam 1e-3",
)
DIFFUSION_SAMPLES = 256  # per evaluation; --quick (1,000 GAN samples) scores 62
DIFFUSION_SAMPLING = {"steps": 25, "guidance": 2.0}


def default_recipes() -> dict[str, list[Recipe]]:
    return {
        "vae": [PLAIN_VAE, Recipe.from_preset("vae_mlp_fast", fit_schedule=True)],
        "gan": [PLAIN_MLP_GAN, PLAIN_DCGAN, Recipe.from_preset("gan_fast")],
        "diffusion": [PLAIN_DIFFUSION, Recipe.from_preset("diffusion_live")],
    }


TASKS = {
    # family: (budget s, quick budget s, evaluations per curve, goal, "lower"/"higher" is better, metric name)
    "vae": (60.0, 4.0, 6, 103.5, "lower", "test loss (nats/image)"),
    "gan": (120.0, 6.0, 6, 6.0, "higher", "classifier score"),
    "diffusion": (300.0, 6.0, 6, 5.0, "higher", "classifier score"),
}


def fit_schedule(trainer: Trainer, steps_per_second: float, budget: float) -> int:
    """Set the trainer's cosine schedule to end when the budget does (at the measured rate); returns its steps."""
    total = max(trainer.iteration + 1, int(round(steps_per_second * budget)))
    trainer.update_config(replace(trainer.config, schedule_steps=total))
    return total


def evaluator(family: str, samples: int) -> Callable[[Trainer], float]:
    if family == "vae":
        def vae_loss(trainer: Trainer) -> float:
            value = evaluation.vae_test_loss(trainer.model)["test_loss_nats"]
            trainer.model.train()  # vae_test_loss leaves eval mode on
            return value
        return vae_loss
    classifier = evaluation.load_classifier()
    if family == "diffusion":
        def diffusion_score(trainer: Trainer) -> float:
            count = min(samples // 16, DIFFUSION_SAMPLES)
            result = evaluate_diffusion(trainer.sampling_model(), classifier, samples=count, **DIFFUSION_SAMPLING)
            return result["classifier_score"]
        return diffusion_score

    def gan_score(trainer: Trainer) -> float:
        assert isinstance(trainer, GANTrainer)
        result = evaluation.evaluate_gan(trainer.model, classifier, samples=samples,
                                         generator=trainer.sampling_generator())
        return result["classifier_score"]
    return gan_score


def train_curve(recipe: Recipe, family: str, budget: float, evaluations: int, evaluate: Callable[[Trainer], float],
                clock: Callable[[], float], seed: int = 0) -> dict:
    """Train `recipe` for `budget` clock-seconds; evaluate at evenly spaced times (clock stopped)."""
    train_config = replace(recipe.train_config, seed=seed)
    if recipe.fit_schedule:
        train_config = replace(train_config, schedule_steps=0)  # constant until the rate is known
    trainer = build_trainer(recipe.model_config, train_config)
    params = sum(p.numel() for p in trainer.model.parameters())
    marks = [budget * (i + 1) / evaluations for i in range(evaluations)]
    points: list[dict] = []
    trained = wall = 0.0
    schedule_steps = None
    started = time.perf_counter()
    while marks:
        wall_start, clock_start = time.perf_counter(), clock()
        run_slice(trainer, min(SLICE_S, max(marks[0] - trained, 0.01)))
        trained += clock() - clock_start
        wall += time.perf_counter() - wall_start
        if recipe.fit_schedule and schedule_steps is None and trained >= WARMUP_FRACTION * budget:
            schedule_steps = fit_schedule(trainer, trainer.iteration / trained, budget)
        if trained >= marks[0]:
            marks.pop(0)
            value = evaluate(trainer)
            points.append({"seconds": round(trained, 2), "wall": round(wall, 2), "steps": trainer.iteration,
                           "value": round(value, 4)})
            print(f"    {recipe.label:<22} {trained:6.1f} s  {trainer.iteration:6d} steps  {value:8.3f}", flush=True)
    return {"label": recipe.label, "role": recipe.role, "note": recipe.note, "params": params,
            "schedule_steps": schedule_steps, "points": points, "bench_wall_s": round(time.perf_counter() - started, 1)}


def first_reaching(points: list[dict], goal: float, better: str) -> float | None:
    for p in points:
        if (p["value"] <= goal) if better == "lower" else (p["value"] >= goal):
            return p["seconds"]
    return None


def run_task(family: str, recipes: list[Recipe], *, quick: bool, clock_name: str, samples: int) -> dict:
    budget, quick_budget, evaluations, goal, better, metric = TASKS[family]
    budget = quick_budget if quick else budget
    evaluations = 2 if quick else evaluations
    evaluate = evaluator(family, samples)
    print(f"\n{family.upper()}: {metric} after up to {budget:g} s of training ({clock_name} clock); goal "
          f"{'<=' if better == 'lower' else '>='} {goal:g}", flush=True)
    curves = [train_curve(r, family, budget, evaluations, evaluate, CLOCKS[clock_name]) for r in recipes]
    for curve in curves:
        final = curve["points"][-1]
        curve["final"] = final["value"]
        curve["time_to_goal"] = first_reaching(curve["points"], goal, better)
    baseline = next((c for c in curves if c["role"] == "baseline"), None)
    rows = []
    for curve in curves:
        rows.append({
            "recipe": curve["label"], "role": curve["role"], "params": curve["params"],
            "steps": curve["points"][-1]["steps"], "seconds": curve["points"][-1]["seconds"],
            "value": curve["final"], "time_to_goal_s": curve["time_to_goal"],
            "meets_goal": curve["time_to_goal"] is not None,
            "vs_baseline": None if baseline is None else round(curve["final"] - baseline["final"], 3),
        })
    return {"budget_s": budget, "goal": goal, "better": better, "metric": metric, "curves": curves, "rows": rows}


def print_table(name: str, task: dict) -> None:
    print(f"\n{name}: {task['metric']} at {task['budget_s']:g} s (goal {task['goal']:g})")
    print(f"  {'recipe':<22} {'role':<9} {'params':>9} {'steps':>7} {'value':>9} {'time to goal':>13}")
    for row in task["rows"]:
        ttg = "—" if row["time_to_goal_s"] is None else f"{row['time_to_goal_s']:.0f} s"
        print(f"  {row['recipe']:<22} {row['role']:<9} {row['params']:>9,} {row['steps']:>7,} {row['value']:>9.3f} "
              f"{ttg:>13}")


def main(argv: list[str] | None = None, recipes: dict[str, list[Recipe]] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="tiny budgets and 1,000-sample scores (smoke test)")
    parser.add_argument("--only", choices=sorted(TASKS), help="run one task")
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="cpu")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1: see the module docstring)")
    parser.add_argument("--samples", type=int, default=None, help="GAN samples per score (default 10,000)")
    parser.add_argument("--json", default=None, help="write the figures here (run_all.py sets $BENCH_JSON)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    samples = args.samples or (1000 if args.quick else 10_000)
    recipes = recipes or default_recipes()
    families = [args.only] if args.only else list(TASKS)
    figures: dict[str, Any] = {"clock": args.clock, "threads": args.threads, "gan_samples": samples,
                               "load_before": machine()["load_average"]}
    for family in families:
        figures[family] = run_task(family, recipes[family], quick=args.quick, clock_name=args.clock, samples=samples)
    figures["load_after"] = machine()["load_average"]
    for family in families:
        print_table(family.upper(), figures[family])
    write_result(result_path("quality", args.json), "quality", figures, quick=args.quick)
    return figures


if __name__ == "__main__":
    main()
