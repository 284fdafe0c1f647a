"""Command line: `python -m aigc_core {presets,train,sample,evaluate,train-detector,privacy-sweep}`.

    python -m aigc_core train --model gan_mlp --steps 20000 --seed 0 --out pretrained/gan_mlp
    python -m aigc_core train --model toy_gan --data moons --seed 0 --out pretrained/toy_moons
    python -m aigc_core train --model diffusion --save-every 1000 --resume --out runs/ddpm   # again after a stop
    python -m aigc_core sample pretrained/gan_mlp --out grid.png
    python -m aigc_core evaluate pretrained/gan_mlp --json
    python -m aigc_core privacy-sweep --out pretrained/privacy_sweep.json   # DP: ε, test ELBO, membership AUC
    python -m aigc_core train-detector --seed 0 --threads 1 --out pretrained/detector

Bad arguments, bad files and refused models end in one line, `error: ...`, and exit code 2, never a traceback:
numbers are range-checked by argparse, and AigcError / OSError from the work itself are caught in `main`.
"""

import argparse
import json
import shlex
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path

import torch

from . import evaluation, pixels
from .checkpoints import Checkpoint, load_checkpoint, save_checkpoint
from .cli_args import SEED, Progress, add_max_params, whole
from .cli_risks import add_risk_commands
from .device import describe_device, pick_device
from .diffusion import MAX_GUIDANCE, SAMPLERS
from .diffusion_trainer import DiffusionTrainer, evaluate_diffusion
from .diffusion_trainer import generate as denoise
from .errors import AigcError, ConfigError
from .factory import build_trainer
from .finite import require_finite_samples
from .gan_trainer import GANTrainer, generate
from .models.classifier import Classifier
from .models.gan import GAN, ToyGANConfig
from .models.unet import UNet
from .models.vae import VAE
from .presets import PRESETS, Preset, get_preset
from .toy2d import TOY_DISTRIBUTIONS
from .train_state import has_training_state, load_training_state, read_training_state, save_training_state


def _note(stats: object) -> str:
    fields = asdict(stats)  # type: ignore[call-overload]
    keys = [k for k in ("d_loss", "g_loss", "loss", "recon", "kl", "accuracy") if k in fields]
    return " ".join(f"{k}={fields[k]:.3f}" for k in keys)


def _metrics_for(model: torch.nn.Module, samples: int = 10_000, sampling: dict | None = None) -> dict:
    """`sampling`: a denoiser's sampler options (sampler, steps, eta, guidance); the evaluation's defaults if None."""
    if isinstance(model, UNet):  # 2-D toy denoisers have no image metrics
        return evaluate_diffusion(model, evaluation.load_classifier(), samples=samples, **(sampling or {}))
    if isinstance(model, Classifier):
        return {"accuracy": evaluation.classifier_accuracy(model)}
    if isinstance(model, VAE):
        samples_metrics = evaluation.evaluate_vae_samples(model, evaluation.load_classifier(), samples=samples)
        return {**evaluation.vae_test_loss(model), **samples_metrics}
    if isinstance(model, GAN) and not isinstance(model.config, ToyGANConfig):  # 2-D toy GANs have no image metrics
        return evaluation.evaluate_gan(model, evaluation.load_classifier(), samples=samples)
    return {}


def cmd_train(args: argparse.Namespace) -> int:
    preset = get_preset(args.model)
    data = _data_for(preset, args.data)
    steps = args.steps if args.steps is not None else preset.steps
    if args.dry_run:
        steps = min(steps, 3)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = pick_device(args.device)
    train_config = replace(preset.train_config, seed=args.seed)
    if hasattr(train_config, "schedule_steps") and train_config.schedule_steps and not args.dry_run:
        train_config = replace(train_config, schedule_steps=steps)  # the schedule spans the run
    trainer = build_trainer(preset.model_config, train_config, data=data, device=device)
    out = Path(args.out)
    keep_state = bool(args.save_every or args.resume)  # the training state only where a run may be continued
    wall_before = _resume(args, out, trainer, preset, data, train_config) if args.resume else 0.0
    on_data = f" on {data}" if data != preset.data else ""
    print(f"Training {preset.name} ({preset.summary}){on_data} for {steps} steps on {describe_device(device)}",
          file=sys.stderr)
    progress = Progress(steps, first=trainer.iteration)
    start = time.perf_counter()
    stats = getattr(trainer, "last", None) if trainer.iteration else None

    def save(done: int) -> dict:
        provenance = {
            "preset": preset.name,
            "data": data,
            "steps": done,
            "seed": args.seed,
            "command": "python -m aigc_core " + " ".join(shlex.quote(a) for a in sys.argv[1:]),
            "wall_seconds": round(wall_before + time.perf_counter() - start, 1),
            "device": describe_device(device),
            "torch": torch.__version__,
        }
        _save_model(out, trainer, train_config, provenance)
        if keep_state:  # after the checkpoint: a resumed run never has a newer state than its checkpoint
            save_training_state(out, trainer, preset=preset.name, data=data, train_config=_jsonable(train_config),
                                extra={"wall_seconds": provenance["wall_seconds"]})
        return provenance

    for done in range(trainer.iteration + 1, steps + 1):
        stats = trainer.step()
        progress.update(done, _note(stats), force=done == steps)
        if args.eval_every and done % args.eval_every == 0 and isinstance(trainer, GANTrainer) and preset.data == "mnist":
            quick = evaluation.evaluate_gan(
                trainer.model, evaluation.load_classifier(), samples=2000, generator=trainer.sampling_generator()
            )
            accuracy = f" accuracy {quick['conditional_accuracy']:.3f}" if "conditional_accuracy" in quick else ""
            print(f"\n  step {done}: score {quick['classifier_score']:.2f} fid {quick['fid']:.2f}{accuracy} "
                  f"counts {quick['class_counts']}", file=sys.stderr)
        if args.save_every and done % args.save_every == 0 and done < steps:
            save(done)
    progress.close()
    provenance = save(trainer.iteration)
    wall = time.perf_counter() - start
    if not args.no_eval and not args.dry_run and preset.data == "mnist":
        metrics = _metrics_for(load_checkpoint(out).model)
        provenance["metrics"] = metrics
        _save_model(out, trainer, train_config, provenance)
        print(json.dumps(metrics), file=sys.stderr)
    print(f"Saved {out} after {trainer.iteration} steps in {wall:.1f} s; last stats: {_note(stats) if stats else '-'}",
          file=sys.stderr)
    return 0


def _save_model(out: Path, trainer: object, train_config: object, provenance: dict) -> None:
    """The checkpoint folder: a denoiser is saved as its EMA weights, the ones that draw the samples (a GAN keeps
    both, see checkpoints)."""
    sampling_generator = trainer.sampling_generator() if isinstance(trainer, GANTrainer) else None
    saved = trainer.sampling_model() if isinstance(trainer, DiffusionTrainer) else trainer.model  # type: ignore[attr-defined]
    was_training = saved.training
    saved.eval()
    try:
        save_checkpoint(out, saved, sampling_generator=sampling_generator, train_config=_jsonable(train_config),
                        provenance=provenance)
    finally:
        saved.train(was_training)  # the run may go on after a periodic save


def _resume(args: argparse.Namespace, out: Path, trainer: object, preset: Preset, data: str,
            train_config: object) -> float:
    """Load `out`'s training state into `trainer` if there is one; the wall seconds it had already trained."""
    if not has_training_state(out):
        print(f"No training state in {out} yet: starting at step 0", file=sys.stderr)
        return 0.0
    state = read_training_state(out)
    mine = {"preset": preset.name, "data": data, "train_config": _jsonable(train_config)}
    differs = [key for key, value in mine.items() if state.get(key) != value]
    if differs:
        raise ConfigError(f"{out} holds a run with a different {' and '.join(differs)}; resume it with the command "
                          "that started it (same --model, --data, --seed and --steps), or choose another --out.")
    load_training_state(out, trainer, state)
    print(f"Resuming {out} at step {trainer.iteration}", file=sys.stderr)  # type: ignore[attr-defined]
    wall = state.get("wall_seconds", 0.0)
    return float(wall) if isinstance(wall, (int, float)) else 0.0


def _data_for(preset: Preset, data: str | None) -> str:
    """The data set to train on: the preset's, or `--data` (a 2-D distribution, for the toy presets only)."""
    if data is None or data == preset.data:
        return preset.data
    if preset.data not in TOY_DISTRIBUTIONS:
        raise ConfigError(f"--data applies to the 2-D toy presets only; {preset.name} trains on {preset.data}.")
    return data


def _jsonable(config: object) -> dict:
    return json.loads(json.dumps(asdict(config)))  # type: ignore[call-overload]


def _load(args: argparse.Namespace) -> Checkpoint:
    return load_checkpoint(args.checkpoint, max_params=args.max_params)


def cmd_sample(args: argparse.Namespace) -> int:
    from . import images  # Pillow is only needed here

    checkpoint = _load(args)
    model = checkpoint.model
    rng = torch.Generator().manual_seed(args.seed)
    labels = _requested_labels(model, args.n, args.digit)
    if isinstance(model, GAN):
        out = generate(model.generator, model.sample_noise(args.n, rng), labels=labels)
        if out.dim() == 2:
            raise AigcError("This is a 2-D toy GAN; open it in the Playground page instead.")
        pictures = pixels.signed_to_unit(out)
    elif isinstance(model, VAE):
        with torch.inference_mode():
            pictures = torch.sigmoid(model.decode(model.sample_noise(args.n, rng), labels))
    elif isinstance(model, UNet):  # digits 0-9 in turn for a class-conditional model
        pictures = pixels.signed_to_unit(denoise(model, model.sample_noise(args.n, rng), labels, generator=rng,
                                                 **_sampling(args)))
    else:
        raise AigcError("Only GAN, VAE and U-Net diffusion checkpoints can draw samples.")
    require_finite_samples(pictures, what=f"The {args.n} samples")  # a PNG of NaNs would be black, silently
    nrow = max(1, int(round(args.n**0.5)))
    Path(args.out).write_bytes(images.to_png_bytes(images.upscale(images.make_grid(pictures, nrow), args.scale)))
    print(f"Wrote {args.out} ({args.n} samples, seed {args.seed})", file=sys.stderr)
    return 0


def _requested_labels(model: torch.nn.Module, n: int, digit: int | None) -> torch.Tensor | None:
    """The labels a class-conditional model is asked for: `digit` n times, else 0-9 in turn; None if unconditional
    (asking an unconditional model for a digit is an error, not a silent ignore)."""
    classes = model.config.num_classes if isinstance(model, UNet) else getattr(model, "num_classes", 0)
    if not classes:
        if digit is not None:
            raise ConfigError("This model is unconditional: it cannot be asked for a digit (drop --digit).")
        return None
    return torch.full((n,), digit) if digit is not None else torch.arange(n) % classes


def cmd_evaluate(args: argparse.Namespace) -> int:
    model = _load(args).model
    result = _metrics_for(model, samples=args.samples, sampling=_sampling(args))
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key}: {value}")
    return 0


def cmd_presets(_: argparse.Namespace) -> int:
    for preset in PRESETS.values():
        print(f"{preset.name:24s} {preset.family:10s} {preset.data:8s} {preset.steps:6d} steps  {preset.summary}")
    return 0


MAX_SAMPLES = 10_000  # a 100 x 100 grid; larger is a typo, and `--n 100000000` would need gigabytes


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m aigc_core", description="AIGC Lab: train and evaluate GANs, VAEs and diffusion models.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("presets", help="list the named recipes").set_defaults(func=cmd_presets)

    train = sub.add_parser("train", help="train a preset and save a checkpoint folder")
    train.add_argument("--model", required=True, choices=sorted(PRESETS), help="preset name")
    train.add_argument("--data", choices=TOY_DISTRIBUTIONS, default=None,
                       help="toy presets: the 2-D distribution to train on (default: the preset's)")
    train.add_argument("--steps", type=whole(1, 10**9), default=None, help="training steps (default: the preset's)")
    train.add_argument("--seed", type=SEED, default=0)
    train.add_argument("--out", required=True, help="output checkpoint folder")
    train.add_argument("--device", default="auto", help="auto, cpu, cuda or mps")
    train.add_argument("--threads", type=whole(0, 1024), default=0, help="torch CPU threads (0 = default)")
    train.add_argument("--eval-every", type=whole(0, 10**9), default=0,
                       help="GANs: print a quick score every N steps")
    train.add_argument("--no-eval", action="store_true", help="skip the final evaluation")
    train.add_argument("--dry-run", action="store_true", help="3 steps, no evaluation (used by the tests)")
    train.add_argument("--save-every", type=whole(0, 10**9), default=0, metavar="N",
                       help="every N steps, save the checkpoint and the whole training state (optimizer, random "
                            "stream, counters: safetensors + JSON) in --out, atomically (0 = only at the end)")
    train.add_argument("--resume", action="store_true",
                       help="continue from the training state in --out (bit for bit, to --steps in all); run the "
                            "same command again after a stop, e.g. to train in pieces; starts at 0 if there is none")
    train.set_defaults(func=cmd_train)

    sample = sub.add_parser("sample", help="write a PNG grid of samples")
    sample.add_argument("checkpoint")
    sample.add_argument("--out", default="samples.png")
    sample.add_argument("--n", type=whole(1, MAX_SAMPLES), default=64, help=f"samples (1 to {MAX_SAMPLES:,})")
    sample.add_argument("--seed", type=SEED, default=0)
    sample.add_argument("--scale", type=whole(1, 16), default=2, help="pixels per MNIST pixel (1 to 16)")
    sample.add_argument("--digit", type=whole(0, 9), default=None,
                        help="a class-conditional model draws only this digit (0-9); default: the digits in turn")
    add_max_params(sample)
    _add_sampling(sample)
    sample.set_defaults(func=cmd_sample)

    evaluate = sub.add_parser("evaluate", help="print metrics of a checkpoint")
    evaluate.add_argument("checkpoint")
    evaluate.add_argument("--json", action="store_true", help="print one JSON object")
    evaluate.add_argument("--samples", type=whole(2, 100_000), default=10_000,
                          help="GANs: samples drawn for the metrics (2 to 100,000)")
    add_max_params(evaluate)
    _add_sampling(evaluate)
    evaluate.add_argument("--unconditional", action="store_true",
                          help="diffusion: ask a class-conditional model for no class (the null label), so no guidance")
    evaluate.set_defaults(func=cmd_evaluate)

    add_risk_commands(sub)
    return parser


def _add_sampling(parser: argparse.ArgumentParser) -> None:
    """A diffusion checkpoint's sampler options (ignored for other models)."""
    parser.add_argument("--sampler", choices=SAMPLERS, default="ddim", help="diffusion: ddim or ddpm (ancestral)")
    parser.add_argument("--sample-steps", type=whole(1, 4000), default=25, help="diffusion: denoising steps (≤ T)")
    parser.add_argument("--eta", type=float, default=0.0, help="diffusion: DDIM's η in [0, 1] (0 = deterministic)")
    parser.add_argument("--guidance", type=float, default=2.0,
                        help=f"diffusion: classifier-free guidance w in [0, {MAX_GUIDANCE:g}] (0 = none)")


def _sampling(args: argparse.Namespace) -> dict:
    options = {"sampler": args.sampler, "steps": args.sample_steps, "eta": args.eta, "guidance": args.guidance}
    return {**options, "unconditional": True} if getattr(args, "unconditional", False) else options


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except AigcError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # e.g. --out in a folder that does not exist, a disk full, no permission
        where = f" ({exc.filename})" if exc.filename else ""
        print(f"error: {exc.strerror or exc}{where}", file=sys.stderr)
        return 2
