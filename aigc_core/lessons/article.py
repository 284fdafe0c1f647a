"""The source article's GAN, trained with its bugs fixed, and a measurement for each bug of its sample code."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from .. import losses, pixels, seeds
from ..errors import ConfigError
from ..mnist import load_mnist, to_tensor
from ..models.gan import ARTICLE_GAN, GAN
from ..presets import get_preset
from .base import Lesson, _article_trainer, _gan_record, _last_mean, _sample_strip



@dataclass(frozen=True)
class ArticleLoop:
    """Arithmetic of the article's loop `for epoch in range(epochs): for _ in range(batch_size)`."""

    epochs: int = 50
    batch_size: int = 64
    train_images: int = 60_000

    @property
    def updates_as_written(self) -> int:
        return self.epochs * self.batch_size

    @property
    def epochs_as_written(self) -> float:
        return self.updates_as_written * self.batch_size / self.train_images

    @property
    def updates_intended(self) -> int:
        return self.epochs * math.ceil(self.train_images / self.batch_size)


def article_bug_numbers(seed: int = 0) -> dict[str, float]:
    """One measurement per bug of the article's sample code, each made on our own networks.

    - range: real images scaled to [0, 1] while G ends in tanh: the share of fresh fakes with a negative
      pixel (a rule "any negative pixel -> fake" then separates them from every real image perfectly).
    - tape: fakes made outside the gradient tape (Keras predict()) carry no gradient back to G: G's gradient
      norm with detached fakes is exactly 0, against the norm with the fakes kept in the graph.
    - dense: a Dense(128) layer on an unflattened (28, 28, 1) image acts on the last axis of size 1: it sees
      one pixel at a time (256 weights) instead of the whole image (100,480 weights).
    - sigmoid: sigmoid + BCE on probabilities clipped to [1e-7, 1 - 1e-7] (as Keras does) has zero gradient once
      D is sure (score -20), while BCE on the raw score still pushes with gradient ~ -1.
    - loop: updates run by the article's loop vs the 50 epochs it intended.
    """
    model = GAN(ARTICLE_GAN, seed=seed)
    z = model.sample_noise(256, seeds.generator(seed, "article_samples"))
    with torch.inference_mode():
        fakes = model.generator(z)  # (256, 1, 28, 28) in [-1, 1]
    real = to_tensor(load_mnist("test").images[:256], "unit")
    rule_real_ok = float((real.flatten(1).min(dim=1).values >= 0).double().mean())
    rule_fake_caught = float((fakes.flatten(1).min(dim=1).values < 0).double().mean())

    def g_norm(detach: bool) -> float:
        parameters = list(model.generator.parameters())
        with torch.enable_grad():
            images = model.generator(z)
            if detach:
                images = images.detach()  # what predict() outside the tape amounts to
            loss = losses.generator_loss("non_saturating", model.discriminator(images))
            grads = torch.autograd.grad(loss, parameters, allow_unused=True)
        return math.sqrt(sum(float(g.pow(2).sum()) for g in grads if g is not None))

    score = torch.tensor([-20.0], requires_grad=True)
    clipped = torch.sigmoid(score).clamp(1e-7, 1 - 1e-7)
    (grad_clipped,) = torch.autograd.grad(-torch.log(clipped).sum(), score)  # G wants D(G(z)) = 1
    score2 = torch.tensor([-20.0], requires_grad=True)
    (grad_logits,) = torch.autograd.grad(F.softplus(-score2).sum(), score2)
    loop = ArticleLoop()
    return {
        "fake_negative_share": rule_fake_caught,
        "real_nonnegative_share": rule_real_ok,
        "rule_accuracy": (rule_real_ok + rule_fake_caught) / 2,
        "g_grad_norm_detached": g_norm(True),
        "g_grad_norm_in_graph": g_norm(False),
        "dense_unflattened_weights": 1 * 128 + 128,
        "dense_flattened_weights": 784 * 128 + 128,
        "sigmoid_bce_grad": float(grad_clipped),
        "logit_bce_grad": float(grad_logits),
        "loop_updates_as_written": loop.updates_as_written,
        "loop_epochs_as_written": loop.epochs_as_written,
        "loop_updates_intended": loop.updates_intended,
    }


ARTICLE_BUGS: tuple[str, ...] = ("range", "dense", "arguments", "tape", "loop", "decoder", "sigmoid")


def mean_brightness(images01: torch.Tensor) -> float:
    """Mean pixel value in [0, 1]: about 0.13 for MNIST (mostly black background), about 0.5 for a fresh G's grey."""
    return float(images01.double().mean())


class ArticleGAN(Lesson):
    """The article's network trained live with its bugs fixed; sample strips every `snapshot_every` steps.

    Progress is measured by how MNIST-like the pixels are (`mean_brightness` of 256 fixed-noise samples against
    the real test digits): an untrained G draws mid-grey noise, MNIST is mostly black background. The classifier
    score is no help this early, because the classifier puts noisy blobs into one class whatever they look like.
    """

    key = "article_gan"
    VARIANTS = ("gan_seed_mlp", "gan_seed_mlp_as_given")

    def __init__(
        self, *, steps: int = 3000, preset: str = "gan_seed_mlp", snapshot_every: int = 500, seed: int = 0,
    ) -> None:
        if preset not in self.VARIANTS:
            raise ConfigError(f"The article lesson trains one of {', '.join(self.VARIANTS)}, not {preset!r}.")
        self.steps, self.snapshot_every, self.preset = steps, snapshot_every, preset
        self.trainer = _article_trainer(get_preset(preset).train_config, seed=seed)
        self.probe_z = self.trainer.model.sample_noise(256, seeds.generator(seed, "article_probe"))
        self.real_brightness = mean_brightness(to_tensor(load_mnist("test").images[:1000], "unit"))
        self.snapshots: list[tuple[int, torch.Tensor]] = []
        super().__init__(total=steps + 1)

    def _snapshot(self) -> None:
        step = self.trainer.iteration
        self.snapshots.append((step, _sample_strip(self.trainer)))
        fakes = pixels.signed_to_unit(self.trainer.sample(self.probe_z))
        self.records.append({"arm": "brightness", "step": step, "brightness": mean_brightness(fakes)})

    def _run(self) -> Iterator[None]:
        self.numbers["bugs"] = article_bug_numbers()
        self._snapshot()
        yield
        for step in range(1, self.steps + 1):
            self.records.append(_gan_record(self.preset, self.trainer.step()))
            if step % self.snapshot_every == 0 or step == self.steps:
                self._snapshot()
            yield
        self.samples["end"] = _sample_strip(self.trainer)
        shares = [r["brightness"] for r in self.records if r["arm"] == "brightness"]
        d_fake = _last_mean(self.records, self.preset, "d_fake", 50)
        d_real = _last_mean(self.records, self.preset, "d_real", 50)
        real = self.real_brightness
        self.numbers.update(d_fake=d_fake, d_real=d_real, brightness_start=shares[0], brightness_end=shares[-1],
                            brightness_real=real)
        bugs = self.numbers["bugs"]
        self.numbers["shown"] = (
            # Neither side has won, and the samples moved at least a quarter of the way to MNIST's brightness.
            0.05 < d_fake < 0.95 and d_real < 0.999 and abs(shares[-1] - real) < 0.75 * abs(shares[0] - real)
            and bugs["g_grad_norm_detached"] == 0.0 < bugs["g_grad_norm_in_graph"]
            and bugs["sigmoid_bce_grad"] == 0.0 and bugs["rule_accuracy"] > 0.95
        )
