"""Mermaid sources of the training loops (GAN, VAE, diffusion), with a highlighted phase and live values: one
module per loop, the shared renderer in `render`. Import from here: ``from aigc_core.diagrams import gan_diagram``.
"""

from .diffusion import DIFFUSION_LABEL_KEYS, DIFFUSION_PHASES, diffusion_diagram
from .gan import GAN_LABEL_KEYS, GAN_PHASES, gan_diagram
from .render import Phase, escape_label, format_value, phase_index
from .vae import VAE_LABEL_KEYS, VAE_PHASES, vae_diagram

__all__ = [
    "DIFFUSION_LABEL_KEYS", "DIFFUSION_PHASES", "GAN_LABEL_KEYS", "GAN_PHASES", "Phase", "VAE_LABEL_KEYS",
    "VAE_PHASES", "diffusion_diagram", "escape_label", "format_value", "gan_diagram", "phase_index", "vae_diagram",
]
