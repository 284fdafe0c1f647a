"""AIGC Lab core: data, GAN/VAE models, losses, step-wise trainers, metrics and checkpoints.

Plain PyTorch + NumPy. Nothing here imports Streamlit; the pages are a view of this package.
"""

__version__ = "0.1.0"
