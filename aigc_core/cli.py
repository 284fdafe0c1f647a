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
from typing import Callable, TextIO

import torch

from . import detector, evaluation, pixels
from .checkpoints import Checkpoint, load_checkpoint, save_checkpoint
from .detector import DETECTOR_MODELS, MAX_PER_MODEL, DetectorTrainConfig
from .device import describe_device, pick_device
from .diffusion import MAX_GUIDANCE, SAMPLERS
from .diffusion_trainer import DiffusionTrainer, evaluate_diffusion
from .diffusion_trainer import generate as denoise
from .errors import AigcError, ConfigError
from .factory import build_trainer
from .finite import require_finite_samples
from .gan_trainer import GANTrainer, generate
from .mnist import load_mnist
from .models.classifier import Classifier
from .models.gan import GAN, ToyGANConfig
from .models.size import DEFAULT_MAX_PARAMS
from .models.unet import UNet
from .models.vae import VAE
from .presets import PRESETS, Preset, get_preset
from .toy2d import TOY_DISTRIBUTIONS
from .train_state import has_training_state, load_training_state, read_training_state, save_training_state


class Progress:
    """A one-line progress bar with rate and ETA, redrawn at most every 0.5 s (stderr)."""

    def __init__(self, total: int, stream: TextIO = sys.stderr, width: int = 28, first: int = 0) -> None:
        self.total, self.stream, self.width, self.first = total, stream, width, first  # first: steps done before
        self.start = self._last = time.perf_counter()

    def update(self, done: int, note: str = "", force: bool = False) -> None:
        now = time.perf_counter()
        if not force and now - self._last < 0.5:
            return
        self._last = now
        elapsed = now - self.start
        rate = (done - self.first) / elapsed if elapsed > 0 else 0.0
        eta = (self.total - done) / rate if rate > 0 else float("inf")
        filled = int(self.width * done / max(self.total, 1))
        bar = "#" * filled + "." * (self.width - filled)
        self.stream.write(
            f"\r[{bar}] {done}/{self.total} {rate:6.1f} it/s elapsed {_clock(elapsed)} ETA {_clock(eta)} {note}   "
        )
        self.stream.flush()

    def close(self) -> None:
        self.stream.write("\n")
        self.stream.flush()


def _clock(seconds: float) -> str:
    if seconds == float("inf"):
        return "--:--"
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes:d}:{secs:02d}"


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
        return evaluation.vae_test_loss(model)
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
            print(f"\n  step {done}: score {quick['classifier_score']:.2f} fid {quick['fid']:.2f} "
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
    if isinstance(model, GAN):
        out = generate(model.generator, model.sample_noise(args.n, rng))
        if out.dim() == 2:
            raise AigcError("This is a 2-D toy GAN; open it in the Playground page instead.")
        pictures = pixels.signed_to_unit(out)
    elif isinstance(model, VAE):
        with torch.inference_mode():
            pictures = torch.sigmoid(model.decode(model.sample_noise(args.n, rng)))
    elif isinstance(model, UNet):  # digits 0-9 in turn for a class-conditional model
        labels = torch.arange(args.n) % model.config.num_classes if model.config.num_classes else None
        pictures = pixels.signed_to_unit(denoise(model, model.sample_noise(args.n, rng), labels, generator=rng,
                                                 **_sampling(args)))
    else:
        raise AigcError("Only GAN, VAE and U-Net diffusion checkpoints can draw samples.")
    require_finite_samples(pictures, what=f"The {args.n} samples")  # a PNG of NaNs would be black, silently
    nrow = max(1, int(round(args.n**0.5)))
    Path(args.out).write_bytes(images.to_png_bytes(images.upscale(images.make_grid(pictures, nrow), args.scale)))
    print(f"Wrote {args.out} ({args.n} samples, seed {args.seed})", file=sys.stderr)
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    model = _load(args).model
    result = _metrics_for(model, samples=args.samples, sampling=_sampling(args))
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key}: {value}")
    return 0


def cmd_train_detector(args: argparse.Namespace) -> int:
    """The real-or-generated detector of the Real-or-fake game, trained on samples of shipped generators; its
    held-out accuracy per model goes into config.json's provenance (aigc_core.detector)."""
    if args.threads:
        torch.set_num_threads(args.threads)
    names = [name.strip() for name in args.models.split(",") if name.strip()]
    if not names or len(set(names)) != len(names):
        raise ConfigError(f"--models takes distinct checkpoint names separated by commas; got {args.models!r}.")
    models, sources = {}, {}
    for name in names:
        checkpoint = load_checkpoint(Path(args.pretrained) / name, max_params=args.max_params)
        if checkpoint.family not in ("gan", "vae", "diffusion"):
            raise ConfigError(f"{name} is a {checkpoint.family} checkpoint; the detector learns from GANs, VAEs and "
                              "diffusion models.")
        models[name] = checkpoint.model.eval()
        sources[name] = checkpoint.provenance.get("created", "")
    config = detector.DetectorTrainConfig(per_model=args.per_model, held_out=args.held_out, steps=args.steps,
                                          seed=args.seed)
    if args.dry_run:
        config = replace(config, per_model=8, held_out=8, steps=3)
    print(f"Training the detector on {', '.join(names)} ({config.per_model} samples each, {config.steps} steps)",
          file=sys.stderr)
    progress = Progress(config.steps)
    start = time.perf_counter()
    real_train, real_test = (torch.from_numpy(load_mnist(split).images.copy()) for split in ("train", "test"))
    trained, metrics = detector.train_detector(
        real_train, models, config, real_test,
        on_step=lambda stats: progress.update(stats.step, f"loss={stats.loss:.3f} accuracy={stats.accuracy:.3f}",
                                              force=stats.step == config.steps))
    progress.close()
    provenance = {
        "data": "mnist train (real) + samples of " + ", ".join(names),
        "models": sources,  # each generator's own `created` stamp: which weights the accuracies are about
        "steps": config.steps,
        "seed": args.seed,
        "command": "python -m aigc_core " + " ".join(shlex.quote(a) for a in sys.argv[1:]),
        "wall_seconds": round(time.perf_counter() - start, 1),
        "device": describe_device(torch.device("cpu")),
        "torch": torch.__version__,
        "metrics": metrics,
    }
    save_checkpoint(Path(args.out), trained, train_config=detector.config_dict(config), provenance=provenance)
    print(json.dumps(metrics), file=sys.stderr)
    print(f"Saved {args.out} in {provenance['wall_seconds']:.1f} s", file=sys.stderr)
    return 0


def cmd_privacy_sweep(args: argparse.Namespace) -> int:
    from . import privacy_sweep  # Opacus is only needed here

    if args.threads:
        torch.set_num_threads(args.threads)
    sizes = privacy_sweep.QUICK if args.quick else privacy_sweep.SweepSizes()
    progress = Progress(1)

    def show(stage: str, done: int, total: int) -> None:
        progress.total = total
        progress.update(done, stage, force=done == total)

    result = privacy_sweep.run_sweep(sizes=sizes, seed=args.seed, progress=show)
    progress.close()
    result["command"] = (f"python -m aigc_core privacy-sweep --seed {args.seed} --threads {args.threads}"
                         f"{' --quick' if args.quick else ''} --out {shlex.quote(args.out)}")
    out = Path(args.out)
    out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(f"Wrote {out} in {result['wall_seconds']} s", file=sys.stderr)
    return 0


def cmd_presets(_: argparse.Namespace) -> int:
    for preset in PRESETS.values():
        print(f"{preset.name:24s} {preset.family:10s} {preset.data:8s} {preset.steps:6d} steps  {preset.summary}")
    return 0


def _whole(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: a whole number in [low, high], else a usage error (exit 2) that says the range."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be from {low:,} to {high:,}, not {value:,}")
        return value

    parse.__name__ = "whole number"  # what argparse calls the type in its messages
    return parse


MAX_SAMPLES = 10_000  # a 100 x 100 grid; larger is a typo, and `--n 100000000` would need gigabytes
SEED = _whole(0, 2**63 - 1)


def _add_max_params(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--max-params", type=_whole(1, 10**12), default=DEFAULT_MAX_PARAMS,
                        help=f"refuse a checkpoint whose config has more parameters (default {DEFAULT_MAX_PARAMS:,}); "
                             "checked from config.json before anything is built")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m aigc_core", description="AIGC Lab: train and evaluate GANs/VAEs.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("presets", help="list the named recipes").set_defaults(func=cmd_presets)

    train = sub.add_parser("train", help="train a preset and save a checkpoint folder")
    train.add_argument("--model", required=True, choices=sorted(PRESETS), help="preset name")
    train.add_argument("--data", choices=TOY_DISTRIBUTIONS, default=None,
                       help="toy presets: the 2-D distribution to train on (default: the preset's)")
    train.add_argument("--steps", type=_whole(1, 10**9), default=None, help="training steps (default: the preset's)")
    train.add_argument("--seed", type=SEED, default=0)
    train.add_argument("--out", required=True, help="output checkpoint folder")
    train.add_argument("--device", default="auto", help="auto, cpu, cuda or mps")
    train.add_argument("--threads", type=_whole(0, 1024), default=0, help="torch CPU threads (0 = default)")
    train.add_argument("--eval-every", type=_whole(0, 10**9), default=0,
                       help="GANs: print a quick score every N steps")
    train.add_argument("--no-eval", action="store_true", help="skip the final evaluation")
    train.add_argument("--dry-run", action="store_true", help="3 steps, no evaluation (used by the tests)")
    train.add_argument("--save-every", type=_whole(0, 10**9), default=0, metavar="N",
                       help="every N steps, save the checkpoint and the whole training state (optimizer, random "
                            "stream, counters: safetensors + JSON) in --out, atomically (0 = only at the end)")
    train.add_argument("--resume", action="store_true",
                       help="continue from the training state in --out (bit for bit, to --steps in all); run the "
                            "same command again after a stop, e.g. to train in pieces; starts at 0 if there is none")
    train.set_defaults(func=cmd_train)

    sample = sub.add_parser("sample", help="write a PNG grid of samples")
    sample.add_argument("checkpoint")
    sample.add_argument("--out", default="samples.png")
    sample.add_argument("--n", type=_whole(1, MAX_SAMPLES), default=64, help=f"samples (1 to {MAX_SAMPLES:,})")
    sample.add_argument("--seed", type=SEED, default=0)
    sample.add_argument("--scale", type=_whole(1, 16), default=2, help="pixels per MNIST pixel (1 to 16)")
    _add_max_params(sample)
    _add_sampling(sample)
    sample.set_defaults(func=cmd_sample)

    evaluate = sub.add_parser("evaluate", help="print metrics of a checkpoint")
    evaluate.add_argument("checkpoint")
    evaluate.add_argument("--json", action="store_true", help="print one JSON object")
    evaluate.add_argument("--samples", type=_whole(2, 100_000), default=10_000,
                          help="GANs: samples drawn for the metrics (2 to 100,000)")
    _add_max_params(evaluate)
    _add_sampling(evaluate)
    evaluate.set_defaults(func=cmd_evaluate)

    detect = sub.add_parser("train-detector", help="train the real-or-generated detector on shipped generators")
    detect.add_argument("--out", required=True, help="output checkpoint folder")
    detect.add_argument("--models", default=",".join(DETECTOR_MODELS),
                        help="checkpoints whose samples it learns to spot, comma-separated (default: %(default)s)")
    detect.add_argument("--pretrained", default=str(evaluation.PRETRAINED_DIR), help="folder holding those checkpoints")
    detect.add_argument("--per-model", type=_whole(1, MAX_PER_MODEL), default=DetectorTrainConfig.per_model,
                        help="generated training digits per model (real ones: as many in all)")
    detect.add_argument("--held-out", type=_whole(1, MAX_PER_MODEL), default=DetectorTrainConfig.held_out,
                        help="held-out generated digits per model, and real test digits, for the accuracies")
    detect.add_argument("--steps", type=_whole(1, 10**6), default=DetectorTrainConfig.steps)
    detect.add_argument("--seed", type=SEED, default=0)
    detect.add_argument("--threads", type=_whole(0, 1024), default=0, help="torch CPU threads (0 = default)")
    detect.add_argument("--dry-run", action="store_true", help="8 samples per model, 3 steps (used by the tests)")
    _add_max_params(detect)
    detect.set_defaults(func=cmd_train_detector)

    sweep = sub.add_parser("privacy-sweep", help="DP-SGD at several noise levels: ε, test ELBO, accuracy, membership AUC")
    sweep.add_argument("--out", required=True, help="output JSON file (the Differential privacy tab reads "
                                                     "pretrained/privacy_sweep.json)")
    sweep.add_argument("--seed", type=SEED, default=0)
    sweep.add_argument("--threads", type=_whole(0, 1024), default=0, help="torch CPU threads (0 = default)")
    sweep.add_argument("--quick", action="store_true", help="a few steps per run (used by the tests)")
    sweep.set_defaults(func=cmd_privacy_sweep)
    return parser


def _add_sampling(parser: argparse.ArgumentParser) -> None:
    """A diffusion checkpoint's sampler options (ignored for other models)."""
    parser.add_argument("--sampler", choices=SAMPLERS, default="ddim", help="diffusion: ddim or ddpm (ancestral)")
    parser.add_argument("--sample-steps", type=_whole(1, 4000), default=25, help="diffusion: denoising steps (≤ T)")
    parser.add_argument("--eta", type=float, default=0.0, help="diffusion: DDIM's η in [0, 1] (0 = deterministic)")
    parser.add_argument("--guidance", type=float, default=2.0,
                        help=f"diffusion: classifier-free guidance w in [0, {MAX_GUIDANCE:g}] (0 = none)")


def _sampling(args: argparse.Namespace) -> dict:
    return {"sampler": args.sampler, "steps": args.sample_steps, "eta": args.eta, "guidance": args.guidance}


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
