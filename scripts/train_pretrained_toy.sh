#!/usr/bin/env bash
# Re-create the small 2-D GAN checkpoints in pretrained/toy_<distribution>/ that the Playground's "Start from a
# pretrained model" toggle loads. Each line is the exact command whose output is committed; config.json in each
# folder records it again, with the seed, steps and wall time. One CPU thread: these networks are tiny, and a
# single thread is both the fastest and bit-for-bit repeatable.
# The ring and the grid get more iterations: covering 8 / 25 separate modes takes longer than fitting a curve.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
$PY -m aigc_core train --model toy_gan --data ring --steps 10000 --seed 0 --threads 1 --out pretrained/toy_ring
$PY -m aigc_core train --model toy_gan --data grid --steps 10000 --seed 0 --threads 1 --out pretrained/toy_grid
$PY -m aigc_core train --model toy_gan --data line --seed 0 --threads 1 --out pretrained/toy_line
$PY -m aigc_core train --model toy_gan --data moons --seed 0 --threads 1 --out pretrained/toy_moons
$PY -m aigc_core train --model toy_gan --data spiral --seed 0 --threads 1 --out pretrained/toy_spiral
$PY -m aigc_core train --model toy_gan --data regions --seed 0 --threads 1 --out pretrained/toy_regions
