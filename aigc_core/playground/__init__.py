"""The 2-D GAN playground: what GAN Lab (Kahng et al., "GAN Lab: Understanding Complex Deep Generative Models
using Interactive Visual Experimentation", IEEE VIS 2018) draws, computed from a `GANTrainer` on 2-D points.

- the discriminator heatmap: D's verdict on a grid of the plane (a probability for the logit losses);
- the generator manifold: a grid (or, for 1-D noise, a line) in noise space pushed through G;
- generator gradients: -dl/dG(z) on generated points, where l is the per-sample generator loss
  (L_G = mean_i l(G(z_i))), i.e. the direction in which the next G update wants each point to move;
- KL / JS divergences between real and generated grid histograms (`metrics.grid_kl_js`) and mode coverage
  (`metrics.mode_coverage`, the VEEGAN count) for the distributions that have modes;
- `PlaygroundSettings`: the page's knobs as one frozen record, split into what applies from the next step
  (`GANTrainer.update_config`) and what needs a fresh model (architecture, noise, data, seed);
- `TrainerPair`: two configurations trained side by side on the same data from the same initial weights;
- `one_thread()`: run these tiny networks on one CPU thread (see its docstring for why and what it costs);
- diffusion mode (`diffusion_views.py`): a denoiser's samples, the particles' reverse trajectories, its score
  field at a chosen noise level t, and the forward process blurring the data, with the same KL / JS and modes.

Everything here is plain PyTorch/NumPy; display functions run under `torch.inference_mode()`.
The views are in `views.py` (GAN) and `diffusion_views.py`, the training side in `training.py`; this package
exports them.
"""

from .diffusion_views import (
    compute_diffusion_view, DiffusionNoise, diffusion_noise, DiffusionView, FIELD_RESOLUTION, forward_process,
    PARTICLES, POOL_BLOCK, refreshed_rows, sample_with_trajectories, score_field, ScoreField, Trajectories,
)
from ..device import one_thread  # the tiny networks run on one CPU thread
from .training import (
    CUSTOM, FAMILIES, Family, TOY_DIFFUSION, MAX_D_STEPS, MAX_HIDDEN_LAYERS, MAX_WIDTH, OPTIMIZER_KINDS,
    PLAYGROUND_LOSSES, RESET_FIELDS, build_pair,
    build_trainer, candidate_grid, fresh_copy, History, live_changes, mean_loss, mean_losses,
    PlaygroundTrainer,
    PlaygroundSettings, points_digest, pretrained_name, reset_changes, spray, TrainerPair,
)
from .views import (
    ARROW_POINTS, FAKE_POINTS, HEATMAP_RESOLUTION, MANIFOLD_LINES, MANIFOLD_POINTS, MANIFOLD_POINTS_1D,
    PLANE_BOUNDS, SHOWN_POINTS, compute_view, Coverage, coverage, discriminator_heatmap, generator_gradients,
    generator_manifold, GeneratorGradients, Heatmap, Manifold, noise_extent, noise_lines, plane_grid,
    PlaygroundView, shown_real, view_noise, ViewNoise,
)

__all__ = [
    "DiffusionNoise", "DiffusionView", "FAMILIES", "TOY_DIFFUSION", "FIELD_RESOLUTION", "Family", "PARTICLES",
    "POOL_BLOCK", "PlaygroundTrainer",
    "ScoreField", "Trajectories", "compute_diffusion_view", "diffusion_noise", "forward_process",
    "mean_loss", "refreshed_rows", "sample_with_trajectories", "score_field",
    "ARROW_POINTS", "CUSTOM", "Coverage", "FAKE_POINTS", "GeneratorGradients", "HEATMAP_RESOLUTION", "Heatmap",
    "History", "MANIFOLD_LINES", "MANIFOLD_POINTS", "MANIFOLD_POINTS_1D", "MAX_D_STEPS", "MAX_HIDDEN_LAYERS", "MAX_WIDTH",
    "Manifold", "OPTIMIZER_KINDS", "PLANE_BOUNDS", "PLAYGROUND_LOSSES", "PlaygroundSettings", "PlaygroundView",
    "RESET_FIELDS", "SHOWN_POINTS", "TrainerPair", "ViewNoise", "build_pair", "build_trainer", "candidate_grid",
    "compute_view", "coverage", "discriminator_heatmap", "fresh_copy", "generator_gradients",
    "generator_manifold", "live_changes", "mean_losses", "noise_extent", "noise_lines", "one_thread",
    "plane_grid", "points_digest", "pretrained_name", "reset_changes", "shown_real", "spray", "view_noise",
]
