"""Small configs and helpers shared by the trainer tests (their fixtures are in tests/conftest.py)."""

import torch

from aigc_core.factory import build_trainer
from aigc_core.gan_trainer import GANTrainConfig, GANTrainer
from aigc_core.mnist import ImageSource
from aigc_core.models.classifier import ClassifierConfig
from aigc_core.models.gan import ARTICLE_GAN, DCGANConfig, MLPGANConfig
from aigc_core.models.vae import VAEMLPConfig
from aigc_core.optim import OptimizerConfig

SMALL_MLP_GAN = MLPGANConfig(z_dim=16, g_hidden=(32, 64), d_hidden=(32,), slope=0.2, g_batchnorm=True)
SMALL_DCGAN = DCGANConfig(z_dim=8, width=4)
SMALL_DEEP_DCGAN = DCGANConfig(z_dim=8, width=4, deep=True)
SMALL_MBSTD_DCGAN = DCGANConfig(z_dim=8, width=4, deep=True, minibatch_std=True)  # the dcgan preset's shape
SMALL_VAE = VAEMLPConfig(z_dim=4, hidden=(32,))
SMALL_CLASSIFIER = ClassifierConfig(width=4, features=16)
SGD_HUGE = OptimizerConfig(kind="sgd", lr=1e3, beta1=0.0)  # diverges within a few steps for every GAN loss tried


def gan_trainer(source, model_config=ARTICLE_GAN, **overrides) -> GANTrainer:
    config = GANTrainConfig(**{"batch_size": 8, **overrides})
    return build_trainer(model_config, config, source=source)  # type: ignore[return-value]


def no_seconds(stats) -> dict:
    record = stats.as_dict()
    assert record.pop("seconds") >= 0
    return record


def params(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in module.named_parameters()}


def state(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def finite(module: torch.nn.Module) -> bool:
    return all(bool(torch.isfinite(t).all()) for t in module.state_dict().values() if t.is_floating_point())


class NaNAfter:
    """A batch source that turns into NaN after `good` batches (until `heal()` is called)."""

    def __init__(self, source: ImageSource, good: int) -> None:
        self.source, self.left, self.poisoned = source, good, True

    def heal(self) -> None:
        self.poisoned = False

    def batch(self, size: int, generator: torch.Generator) -> torch.Tensor:
        out = self.source.batch(size, generator)
        self.left -= 1
        return out if self.left >= 0 or not self.poisoned else torch.full_like(out, float("nan"))
