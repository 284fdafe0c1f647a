#!/usr/bin/env bash
# Re-create every MNIST checkpoint in pretrained/ on the CPU. Each line is the exact command whose output is
# committed; config.json in each folder records it again, with the seed, steps, wall time and metrics.
# One thread per job: the shipped weights were trained two jobs at a time on a 2-core machine (dcgan: alone,
# on both cores; thread count can change the last bits of a convolution, so it is part of the command).
# The classifier comes first: the GAN metrics (and --eval-every) use it.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
$PY -m aigc_core train --model classifier --seed 0 --threads 1 --out pretrained/classifier
$PY -m aigc_core train --model vae_mlp_z20 --seed 0 --threads 1 --out pretrained/vae_mlp_z20
$PY -m aigc_core train --model vae_mlp_z2 --seed 0 --threads 1 --out pretrained/vae_mlp_z2
$PY -m aigc_core train --model gan_seed_mlp --seed 0 --threads 1 --eval-every 2000 --out pretrained/gan_seed_mlp
$PY -m aigc_core train --model gan_mlp --seed 0 --threads 1 --eval-every 2000 --out pretrained/gan_mlp
$PY -m aigc_core train --model dcgan --seed 0 --threads 2 --steps 100000 --eval-every 25000 --out pretrained/dcgan
# "Draw me a 7": the class-conditional GAN and VAE (trained two at a time, one thread each).
$PY -m aigc_core train --model cgan --seed 0 --threads 1 --eval-every 5000 --out pretrained/cgan
$PY -m aigc_core train --model cvae --seed 0 --threads 1 --eval-every 5000 --out pretrained/cvae
# The diffusion model: 60,000 steps on both cores (about 2.7 h alone on 2 cores). It saves its whole training state
# every 500 steps, so it can run in pieces: the same line again continues where it stopped.
$PY -m aigc_core train --model diffusion --seed 0 --threads 2 --save-every 500 --resume --out pretrained/ddpm
# The Real-or-fake detector learns from the generators above, so it comes last (about 2 minutes on a busy CPU).
$PY -m aigc_core train-detector --seed 0 --threads 1 --out pretrained/detector
# The Differential privacy tab's measured sweep: DP-SGD at σ = 0.5, 1, 2 and without DP (about 6 minutes on 2 cores).
$PY -m aigc_core privacy-sweep --threads 1 --out pretrained/privacy_sweep.json
