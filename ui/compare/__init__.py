"""The "Which generator?" page: GAN, VAE and diffusion side by side (side_by_side.py) and the race (race*.py)."""
