"""The Responsible AIGC subcommands of `python -m aigc_core`: `train-detector` (the Real-or-fake game's detector,
aigc_core.detector) and `privacy-sweep` (DP-SGD at several noise levels, aigc_core.privacy_sweep)."""

import argparse
import json
import shlex
import sys
import time
from dataclasses import replace
from pathlib import Path

import torch

from . import detector, evaluation
from .checkpoints import load_checkpoint, save_checkpoint
from .cli_args import SEED, Progress, add_max_params, whole
from .detector import DETECTOR_MODELS, MAX_PER_MODEL, DetectorTrainConfig
from .device import describe_device
from .errors import ConfigError
from .mnist import load_mnist


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


def add_risk_commands(sub: argparse._SubParsersAction) -> None:
    """The two subcommands, added to `python -m aigc_core`'s parser."""
    detect = sub.add_parser("train-detector", help="train the real-or-generated detector on shipped generators")
    detect.add_argument("--out", required=True, help="output checkpoint folder")
    detect.add_argument("--models", default=",".join(DETECTOR_MODELS),
                        help="checkpoints whose samples it learns to spot, comma-separated (default: %(default)s)")
    detect.add_argument("--pretrained", default=str(evaluation.PRETRAINED_DIR), help="folder holding those checkpoints")
    detect.add_argument("--per-model", type=whole(1, MAX_PER_MODEL), default=DetectorTrainConfig.per_model,
                        help="generated training digits per model (real ones: as many in all)")
    detect.add_argument("--held-out", type=whole(1, MAX_PER_MODEL), default=DetectorTrainConfig.held_out,
                        help="held-out generated digits per model, and real test digits, for the accuracies")
    detect.add_argument("--steps", type=whole(1, 10**6), default=DetectorTrainConfig.steps)
    detect.add_argument("--seed", type=SEED, default=0)
    detect.add_argument("--threads", type=whole(0, 1024), default=0, help="torch CPU threads (0 = default)")
    detect.add_argument("--dry-run", action="store_true", help="8 samples per model, 3 steps (used by the tests)")
    add_max_params(detect)
    detect.set_defaults(func=cmd_train_detector)

    sweep = sub.add_parser("privacy-sweep", help="DP-SGD at several noise levels: ε, test ELBO, accuracy, membership AUC")
    sweep.add_argument("--out", required=True, help="output JSON file (the Differential privacy tab reads "
                                                     "pretrained/privacy_sweep.json)")
    sweep.add_argument("--seed", type=SEED, default=0)
    sweep.add_argument("--threads", type=whole(0, 1024), default=0, help="torch CPU threads (0 = default)")
    sweep.add_argument("--quick", action="store_true", help="a few steps per run (used by the tests)")
    sweep.set_defaults(func=cmd_privacy_sweep)
