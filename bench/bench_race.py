"""The race's fairness (issue 20): a headless MNIST race through aigc_core/race.py, as the "Which generator?" page
runs it, and each family's share of the compute.

    .venv/bin/python bench/bench_race.py                   # 60 s of race clock, unconditional presets
    .venv/bin/python bench/bench_race.py --conditional     # cgan_live, cvae_live, diffusion_live
    .venv/bin/python bench/bench_race.py --threads 1       # torch on one thread (the page's rule on <= 2 cores)
    .venv/bin/python bench/bench_race.py --quick           # a smoke run (bench/run_all.py --quick): 6 s, 32 samples

The race advances in slices of 0.5 s (`MnistRace.advance`, the page's slice), measuring every --every seconds of
race clock (classifier score and FID of --samples fixed-noise samples; measuring is off the clock and reported).
Prints per family: steps, seconds of compute, share, mean step time, the last measurement; then the goal as a
ratio: each family's share within 10 % of a third, i.e. max |3 * share - 1| <= 0.10.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import torch  # noqa: E402

from aigc_core.evaluation import load_classifier  # noqa: E402
from aigc_core.race import MnistRace, MnistRaceConfig  # noqa: E402
from benchlib import result_path, write_result  # noqa: E402

SLICE_S = 0.5  # the page's slice (ui/compare/race.py)
GOAL = 0.10  # each share within 10 % of an equal part


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60.0, help="the race's budget (race clock, all families)")
    parser.add_argument("--every", type=float, default=10.0, help="seconds of race clock between measurements")
    parser.add_argument("--samples", type=int, default=256, help="samples per measurement and family")
    parser.add_argument("--conditional", action="store_true", help="the class-conditional presets")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 6 s of race, 32 samples")
    parser.add_argument("--json", default=None, help="also write the figures as JSON here")
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.every, args.samples = 6.0, 3.0, 32
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    config = MnistRaceConfig(budget_s=args.seconds, conditional=args.conditional, seed=args.seed,
                             samples=args.samples, measure_every_s=args.every)
    race = MnistRace(config, load_classifier())
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s); race of {args.seconds:g} s, "
          f"presets {dict(config.presets())}, {args.samples} samples every {args.every:g} s", flush=True)
    start = time.perf_counter()
    while not race.done:
        race.advance(SLICE_S)
    wall = time.perf_counter() - start
    shares = race.shares()
    families = {}
    print(f"\n{'family':<10} {'steps':>7} {'compute s':>10} {'share':>7} {'ms/step':>8} {'score':>6} {'FID':>7}")
    for family, lane in race.lanes.items():
        last = race.history(family)[-1].values if race.history(family) else {}
        ms = 1000 * lane.seconds / lane.steps if lane.steps else float("nan")
        families[family] = {"steps": lane.steps, "compute_s": round(lane.seconds, 3), "share": round(shares[family], 4),
                            "ms_per_step": round(ms, 2), "classifier_score": last.get("classifier_score"),
                            "fid": last.get("fid"), "error": lane.error}
        print(f"{family:<10} {lane.steps:7,d} {lane.seconds:10.2f} {100 * shares[family]:6.1f}% {ms:8.1f} "
              f"{last.get('classifier_score', float('nan')):6.2f} {last.get('fid', float('nan')):7.1f}"
              + (f"  left the race: {lane.error}" if lane.error else ""))
    equal = 1 / len(race.lanes)
    deviation = max(abs(share / equal - 1) for share in shares.values())
    verdict = race.verdict()
    print(f"\nrace clock {race.race_s:.1f} s, measuring {race.eval_s:.1f} s ({len(race.measurements)} measurements), "
          f"wall {wall:.1f} s; best score: {verdict.winner}")
    print(f"fairness: max |share / (1/{len(race.lanes)}) - 1| = {deviation:.3f} (goal <= {GOAL:.2f}): "
          f"{'met' if deviation <= GOAL else 'NOT met'}")
    write_result(result_path("race.json", args.json), "race", {
        "budget_s": args.seconds, "conditional": args.conditional, "samples": args.samples,
        "race_s": round(race.race_s, 2), "eval_s": round(race.eval_s, 2), "wall_s": round(wall, 2),
        "families": families, "max_share_deviation": round(deviation, 4), "goal": GOAL,
        "meets_goal": deviation <= GOAL, "winner": verdict.winner,
    }, quick=args.quick)


if __name__ == "__main__":
    main()
