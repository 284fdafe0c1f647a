"""Named recipes: a model config + a training config + a default length.

The CLI trains `pretrained/<name>` from these, and the Train page offers the same names, so the
README's commands and the app can never drift apart.
"""

from dataclasses import dataclass, replace
from typing import Any

from .classifier_trainer import ClassifierTrainConfig
from .diffusion_trainer import DiffusionTrainConfig
from .errors import ConfigError
from .gan_trainer import GANTrainConfig
from .models.classifier import ClassifierConfig
from .models.gan import ARTICLE_GAN, STRONG_MLP_GAN, DCGANConfig, MLPGANConfig, ToyGANConfig
from .models.unet import ToyDenoiserConfig, UNetConfig
from .models.vae import VAEConvConfig, VAEMLPConfig
from .optim import OptimizerConfig
from .vae_trainer import VAETrainConfig


@dataclass(frozen=True)
class Preset:
    name: str
    family: str  # "gan", "vae", "classifier"
    data: str  # "mnist" or a toy distribution name
    model_config: Any
    train_config: Any
    steps: int  # the length used for the shipped weights
    summary: str


def _adam(lr: float, beta1: float = 0.5, beta2: float = 0.999) -> OptimizerConfig:
    return OptimizerConfig(kind="adam", lr=lr, beta1=beta1, beta2=beta2)


# pretrained/dcgan: gan_fast's networks one stage deeper, with a minibatch-std channel and lazy R1 in D and a long
# EMA of G; each step was needed to pass a classifier score of 9.0. The experiments: see docs/PRETRAINED.md.
DCGAN_TRAIN = GANTrainConfig(
    loss="non_saturating", batch_size=32, g_optim=_adam(2e-4), d_optim=_adam(4e-4), label_smoothing=0.1, ema=0.9999,
    r1_gamma=1.0, r1_every=4,
)

PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        Preset(
            "classifier", "classifier", "mnist", ClassifierConfig(),
            ClassifierTrainConfig(batch_size=128, optim=_adam(2e-3, 0.9), max_shift=2, schedule_steps=3500),
            3500, "LeNet-style CNN with batch norm, random shifts, cosine schedule",
        ),
        Preset(
            "gan_seed_mlp", "gan", "mnist", ARTICLE_GAN,
            # The article's network and batch (64) with its bugs fixed, plus three training fixes, each needed
            # here: the non-saturating loss on logits (not sigmoid + BCE), D's lr raised to G's 2e-4 with
            # one-sided label smoothing 0.2 (without them D wins and G collapses to one blob), and an EMA of
            # G's weights for sampling (it removes most of the salt-and-pepper noise).
            GANTrainConfig(
                loss="non_saturating", batch_size=64, g_optim=_adam(2e-4), d_optim=_adam(2e-4),
                label_smoothing=0.2, ema=0.999,
            ),
            15000, "the source article's MLP GAN (z=100, 128-unit layers), bugs fixed",
        ),
        Preset(
            "gan_seed_mlp_as_given", "gan", "mnist", ARTICLE_GAN,
            # As close to the article's training as a correct program gets: saturating minimax loss.
            GANTrainConfig(loss="minimax", batch_size=64, g_optim=_adam(2e-4), d_optim=_adam(1e-4)),
            3000, "the article's MLP GAN with the saturating minimax loss (collapses)",
        ),
        Preset(
            "gan_mlp", "gan", "mnist", STRONG_MLP_GAN,
            GANTrainConfig(
                loss="non_saturating", batch_size=64, g_optim=_adam(2e-4), d_optim=_adam(2e-4),
                label_smoothing=0.1, ema=0.999,
            ),
            20000, "a wider MLP GAN (BatchNorm in G, label smoothing, EMA of G)",
        ),
        Preset(
            "dcgan", "gan", "mnist", DCGANConfig(z_dim=64, width=32, deep=True, minibatch_std=True), DCGAN_TRAIN,
            100000, "DCGAN-style conv GAN (Radford et al.), one stage deeper; minibatch std and lazy R1 in D, EMA of G",
        ),
        Preset(
            "vae_mlp_z20", "vae", "mnist", VAEMLPConfig(z_dim=20, hidden=(512, 256)),
            VAETrainConfig(batch_size=128, optim=_adam(1e-3, 0.9), schedule_steps=20000),
            20000, "MLP VAE 784-512-256-20, cosine schedule",
        ),
        Preset(
            "vae_mlp_z2", "vae", "mnist", VAEMLPConfig(z_dim=2, hidden=(512, 256)),
            VAETrainConfig(batch_size=128, optim=_adam(1e-3, 0.9), schedule_steps=12000),
            12000, "MLP VAE with a 2-D latent plane, for the manifold map",
        ),
        Preset(
            "vae_conv", "vae", "mnist", VAEConvConfig(z_dim=16, width=32),
            VAETrainConfig(batch_size=128, optim=_adam(1e-3, 0.9)),
            3000, "convolutional VAE",
        ),
        Preset(
            "toy_gan", "gan", "ring", ToyGANConfig(z_dim=2, hidden_layers=2, width=64),
            GANTrainConfig(loss="non_saturating", batch_size=256, g_optim=_adam(1e-3), d_optim=_adam(1e-3)),
            3000, "small MLP GAN for 2-D points",
        ),
    )
}

# The Train page samples from G's EMA. Its horizon, 1 / (1 - decay) steps, must stay short at a few steps per
# second: with a decay of 0.9999 (10,000 steps, some 20 minutes live) the grid would trail the network for a
# whole lesson. A recipe made for hours (or an uploaded checkpoint) keeps its decay on disk; live training caps it.
LIVE_EMA = 0.999


def live_train_config(config: Any) -> Any:
    """A preset's training config as the Train page uses it: a GAN's (or denoiser's) EMA decay capped at LIVE_EMA."""
    if isinstance(config, (GANTrainConfig, DiffusionTrainConfig)) and config.ema > LIVE_EMA:
        return replace(config, ema=LIVE_EMA)
    return config


# What the Train page offers for live training: fast enough to show progress within a minute on 2 cores.
LIVE_GAN_PRESETS = ("gan_mlp_live", "gan_seed_mlp", "dcgan", "gan_fast", "cgan_live")  # cgan_live: defined below
PRESETS["gan_mlp_live"] = Preset(
    "gan_mlp_live", "gan", "mnist", MLPGANConfig(z_dim=64, g_hidden=(256, 512), d_hidden=(512, 256), slope=0.2, g_batchnorm=True),
    GANTrainConfig(loss="non_saturating", batch_size=64, g_optim=_adam(2e-4), d_optim=_adam(2e-4), ema=0.99),
    5000, "a mid-size MLP GAN that shows digits within a minute on 2 CPU cores",
)


# Wall-clock recipes (issue 6, bench/bench_quality.py): the best quality within a fixed time on a 2-core CPU. Their
# cosine decay is sized for that time here (`steps`); the bench re-fits it to the machine's measured rate.
PRESETS["vae_mlp_fast"] = Preset(
    "vae_mlp_fast", "vae", "mnist", VAEMLPConfig(z_dim=20, hidden=(400,)),
    # A large step size is safe for this shallow VAE with Adam's beta2 at 0.99 (the second moment adapts within
    # ~100 steps instead of ~1,000), and the cosine decay to 5% settles the weights for the final figure.
    VAETrainConfig(batch_size=128, optim=OptimizerConfig(kind="adam", lr=5e-3, beta1=0.9, beta2=0.99),
                   schedule_steps=6000),
    6000, "MLP VAE 784-400-20 for a one-minute budget: Adam 5e-3 (beta2 0.99), cosine decay over the minute",
)
PRESETS["gan_fast"] = Preset(
    "gan_fast", "gan", "mnist", DCGANConfig(z_dim=64, width=32),
    # The compact DCGAN networks, tuned for two minutes on one core: a small batch for more updates per second, D at
    # twice G's rate (TTUR, Heusel et al., 2017) to stay ahead at that batch, and a short EMA of G to steady the
    # samples. What each was worth: see docs/PRETRAINED.md.
    GANTrainConfig(loss="non_saturating", batch_size=16, g_optim=_adam(2e-4), d_optim=_adam(4e-4), ema=0.99),
    7000, "DCGAN for a two-minute budget: batch 16, D at twice G's learning rate, EMA of G",
)


# Diffusion (DDPM / DDIM, aigc_core.diffusion): the compact U-Net, class-conditional so that samples can use
# classifier-free guidance. `diffusion` made pretrained/ddpm (docs/PRETRAINED.md); `diffusion_live` scores 5.7 after
# 200 CPU-seconds on one thread and 7.35 after 300 (bench/bench_quality.py); speed: bench/bench_diffusion.py.
LIVE_DIFFUSION_PRESETS = ("diffusion_live",)
PRESETS["diffusion"] = Preset(
    "diffusion", "diffusion", "mnist", UNetConfig(),
    DiffusionTrainConfig(batch_size=128, optim=_adam(1e-3, 0.9), ema=0.9995, schedule_steps=60000),
    60000, "class-conditional DDPM, compact U-Net (14x14 and 7x7 levels), sampled with 25 guided DDIM steps",
)
PRESETS["diffusion_live"] = Preset(
    "diffusion_live", "diffusion", "mnist", UNetConfig(),
    # 10 DDIM steps for the live grid: a whole sampler run per redraw, so fewer steps leave more time to train.
    DiffusionTrainConfig(batch_size=64, optim=_adam(2e-3, 0.9), ema=0.995, sample_steps=10),
    3000, "the same DDPM for live training: batch 64, a larger step size and a short EMA",
)
# The 2-D Playground's diffusion mode trains this live, and draws 2,048 samples with every redraw: width 64 makes
# that sampler run ~4x cheaper than 128 with the same 8/8 modes on the ring, 20 DDIM steps are the particles'
# animation, and lr 3e-3 halves the time to a settled KL. Figures against the playground GAN:
# bench/bench_playground_diffusion.py (bench/RESULTS.md).
PRESETS["toy_diffusion"] = Preset(
    "toy_diffusion", "diffusion", "ring", ToyDenoiserConfig(width=64),
    DiffusionTrainConfig(batch_size=256, optim=_adam(3e-3, 0.9), ema=0.99, sample_steps=20, guidance=0.0),
    3000, "MLP denoiser for 2-D points (3x64, T = 200, linear β), 20 DDIM steps",
)


# "Draw me a 7": class-conditional GAN and VAE (models.conditional). The shipped pair are the wide MLP GAN and the
# MLP VAE with the label fed in; the live pair are the Train page's fast recipes with the label fed in.
CONDITIONAL_MLP_GAN = replace(STRONG_MLP_GAN, num_classes=10)
PRESETS["cgan"] = Preset(
    "cgan", "gan", "mnist", CONDITIONAL_MLP_GAN,
    GANTrainConfig(
        loss="non_saturating", batch_size=64, g_optim=_adam(2e-4), d_optim=_adam(2e-4), label_smoothing=0.1,
        ema=0.999,
    ),
    20000, "class-conditional wide MLP GAN: label embedding into G, projection discriminator (Miyato & Koyama)",
)
# β = 2 weighs the KL term double: z can afford less information, so what the label already says (which digit)
# leaves z, and z keeps the handwriting. Measured (20k steps, 10k samples): β = 1 draws the asked digit 94.4 % of
# the time (score 9.19, FID 3.01; z = 8: 95.1 %), β = 2 97.4 % (score 9.58, FID 3.67).
PRESETS["cvae"] = Preset(
    "cvae", "vae", "mnist", VAEMLPConfig(z_dim=16, hidden=(512, 256), num_classes=10),
    VAETrainConfig(batch_size=128, optim=_adam(1e-3, 0.9), beta=2.0, schedule_steps=20000),
    20000, "conditional MLP VAE 784+10-512-256-16 (β = 2): one-hot label into encoder and decoder",
)
PRESETS["cgan_live"] = Preset(
    "cgan_live", "gan", "mnist", replace(PRESETS["gan_mlp_live"].model_config, num_classes=10),
    PRESETS["gan_mlp_live"].train_config,
    5000, "the mid-size live MLP GAN, class-conditional",
)
PRESETS["cvae_live"] = Preset(
    "cvae_live", "vae", "mnist", VAEMLPConfig(z_dim=16, hidden=(400,), num_classes=10),
    PRESETS["vae_mlp_fast"].train_config,
    6000, "the one-minute MLP VAE recipe, conditional",
)


# Recipes long enough to be trained in pieces: their command saves its whole state now and then and resumes from it.
RESUMABLE = ("diffusion",)


def train_command(preset: str, folder: str) -> str:
    """The command that makes pretrained/<folder> from a preset (scripts/train_pretrained.sh has each shipped
    folder's exact threads and evaluation arguments); a long recipe's command resumes where it stopped."""
    resume = " --save-every 500 --resume" if preset in RESUMABLE else ""
    return f"python -m aigc_core train --model {preset} --seed 0{resume} --out pretrained/{folder}"


def get_preset(name: str) -> Preset:
    if name not in PRESETS:
        raise ConfigError(f"Unknown preset {name!r}; choose one of {', '.join(sorted(PRESETS))}.")
    return PRESETS[name]
