"""The failure gallery: small, seeded experiments that reproduce what goes wrong when training GANs and VAEs.

Each lesson is a `Lesson` with `step()` (one small unit of work, so `slicing.run_slice` can run it in time
slices), `progress`, `done`, a list of `records` (plain dicts, one per measured step, for the charts),
`samples` (image grids worth looking at) and `outcome()`: the numbers that show the effect and a verdict
`shown` saying whether this run showed it. The tests check each effect with small step counts.

- mode_collapse: G trained alone against a frozen D chases whatever D currently rates as most real, and
  the classes of its samples narrow to a few digits (Goodfellow, "NIPS 2016 Tutorial: Generative Adversarial
  Networks", sec. 5.1.1: the "Helvetica scenario"; Metz et al., "Unrolled GANs", 2017). Class histogram from
  the MNIST classifier.
- vanishing_gradient: once D rejects fakes confidently, the saturating minimax loss log(1 - D(G(z))) gives G
  almost no gradient while the non-saturating -log D(G(z)) gives a strong one (Goodfellow et al., 2014,
  sec. 3). Measured on the very same state, then both trained on with plain SGD for G (Adam would divide
  the tiny gradient by its own running size and hide much of the difference; the lesson says so).
- strong_discriminator: k = 5 D steps per G step with 10x D's learning rate: D wins outright
  (D(x) -> 1, D(G(z)) -> 0, D loss -> 0) and G's samples lag behind a balanced run.
- divergence: a learning rate of 1.0 with SGD overflows to inf within a few dozen steps; the trainer's
  divergence guard stops it, says so and restores the last finite weights. With Adam at 1.0 the numbers
  stay finite but training is wrecked all the same (G's tanh saturates and its gradient becomes exactly 0):
  a guard only catches NaN/inf.
- vae_beta: the beta-VAE objective recon + beta * KL (Higgins et al., 2017) for growing beta: sharp but
  prior-unlike codes at small beta, blurry reconstructions at larger beta, and posterior collapse (KL -> 0,
  no active dimensions, every reconstruction the same average digit) when beta is large (Bowman et al.,
  "Generating Sentences from a Continuous Space", 2016).
- article_gan: the source article's MLP GAN (ARTICLE_GAN) trained with its bugs fixed (preset
  gan_seed_mlp), plus a measurement for each bug of its sample code (see `article_bug_numbers`).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import torch
import torch.nn.functional as F

from . import losses, pixels
from .errors import ConfigError, TrainingDiverged
from .explorer import reconstruct
from .factory import build_trainer, mnist_source
from .gan_trainer import GANTrainConfig, GANTrainer
from .guard import all_finite
from .metrics import class_counts
from .mnist import load_mnist, to_tensor
from .models.classifier import Classifier
from .models.gan import ARTICLE_GAN, GAN, ToyGANConfig
from .models.vae import VAE, VAEMLPConfig
from .optim import OptimizerConfig
from .presets import get_preset
from .vae_trainer import VAETrainConfig

LESSONS: tuple[str, ...] = (
    "mode_collapse", "vanishing_gradient", "strong_discriminator", "divergence", "vae_beta", "article_gan",
)
SAMPLE_COUNT = 16  # images per sample strip


def _adam(lr: float, beta1: float = 0.5) -> OptimizerConfig:
    return OptimizerConfig(kind="adam", lr=lr, beta1=beta1, beta2=0.999)


def _last_mean(records: list[dict], arm: str, key: str, last: int) -> float:
    values = [r[key] for r in records if r["arm"] == arm and key in r][-last:]
    return sum(values) / len(values) if values else float("nan")


def _last_median(records: list[dict], arm: str, key: str, last: int) -> float:
    """Median of the last values: GAN losses spike now and then, and one spike should not decide a verdict."""
    values = sorted([r[key] for r in records if r["arm"] == arm and key in r][-last:])
    if not values:
        return float("nan")
    middle = len(values) // 2
    return values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2


def generator_gradient_norm(model: GAN, loss: losses.GANLoss, z: torch.Tensor) -> float:
    """‖∂ L_G / ∂ θ_G‖ for one batch of noise, without touching .grad or any optimizer (the state stays as it is)."""
    parameters = [p for p in model.generator.parameters() if p.requires_grad]
    if not parameters:
        raise ConfigError("This generator has no trainable parameters.")
    with torch.enable_grad():
        scores = model.discriminator(model.generator(z))
        grads = torch.autograd.grad(losses.generator_loss(loss, scores), parameters, allow_unused=True)
    squares = [g.detach().double().pow(2).sum() for g in grads if g is not None]
    return math.sqrt(float(sum(squares))) if squares else 0.0


def class_histogram(generator: torch.nn.Module, z: torch.Tensor, classifier: Classifier) -> list[int]:
    """How many of G(z) the classifier assigns to each digit (G in eval mode, restored afterwards)."""
    from .evaluation import classify, generator_images  # evaluation imports checkpoints; keep this import local

    probs, _ = classify(classifier, generator_images(generator, z))
    return class_counts(probs.argmax(dim=1))


def normalized_entropy(counts: list[int]) -> float:
    """Entropy of a histogram divided by log(number of bins): 1 = all classes equally common, 0 = one class."""
    total = sum(counts)
    if total == 0:
        return 0.0
    probs = [c / total for c in counts if c > 0]
    return max(0.0, -sum(p * math.log(p) for p in probs) / math.log(len(counts)))


class Lesson:
    """A resumable experiment: call step() until done (each call is one small unit of work)."""

    key = ""

    def __init__(self, total: int) -> None:
        self.total = total
        self.units = 0
        self.records: list[dict[str, Any]] = []
        self.samples: dict[str, torch.Tensor] = {}  # name -> images (N, 1, 28, 28) in [0, 1]
        self.numbers: dict[str, Any] = {}
        self.done = False
        self._script: Iterator[None] = self._run()

    def _run(self) -> Iterator[None]:  # pragma: no cover - every lesson overrides it
        raise NotImplementedError
        yield

    def step(self) -> None:
        """One unit of work (a training step of one arm, or one measurement). Does nothing once done."""
        if self.done:
            return
        try:
            next(self._script)
            self.units += 1
        except StopIteration:
            self.done = True

    @property
    def remaining(self) -> int:
        return 0 if self.done else max(1, self.total - self.units)

    @property
    def progress(self) -> float:
        return 1.0 if self.done else min(self.units / max(self.total, 1), 0.99)

    def run_to_end(self) -> "Lesson":
        while not self.done:
            self.step()
        return self

    def outcome(self) -> dict[str, Any]:
        return {**self.numbers, "shown": bool(self.numbers.get("shown", False))}


def _article_trainer(config: GANTrainConfig, *, model: GAN | None = None, seed: int = 0) -> GANTrainer:
    trainer = build_trainer(ARTICLE_GAN, replace(config, seed=seed), model=model)
    assert isinstance(trainer, GANTrainer)
    return trainer


def _gan_record(arm: str, stats: Any) -> dict[str, Any]:
    return {
        "arm": arm, "step": stats.step, "d_loss": stats.d_loss, "g_loss": stats.g_loss, "d_real": stats.d_real,
        "d_fake": stats.d_fake, "grad_norm_d": stats.grad_norm_d, "grad_norm_g": stats.grad_norm_g,
    }


def _sample_strip(trainer: GANTrainer) -> torch.Tensor:
    return pixels.signed_to_unit(trainer.sample(trainer.fixed_z[:SAMPLE_COUNT]))


# --- mode collapse ------------------------------------------------------------------------------------------


class ModeCollapse(Lesson):
    """G alone against a frozen D: its samples pile into a few classes.

    Starts from a copy of a trained GAN (the shared model is never touched), trains only G with a raised
    learning rate for `g_steps`, and measures the class histogram of `samples` fixed-noise samples every
    `measure_every` steps.
    """

    key = "mode_collapse"

    def __init__(
        self, gan: GAN, classifier: Classifier, *, g_steps: int = 300, g_lr: float = 1e-3, samples: int = 500,
        measure_every: int = 25, seed: int = 0,
    ) -> None:
        if not isinstance(gan, GAN) or isinstance(gan.config, ToyGANConfig):
            raise ConfigError("Mode collapse needs a GAN trained on images.")
        self.g_steps, self.measure_every = g_steps, measure_every
        self.classifier = classifier
        model = copy.deepcopy(gan).requires_grad_(True).train()
        config = GANTrainConfig(loss="non_saturating", batch_size=64, g_optim=_adam(g_lr), d_optim=_adam(2e-4), seed=seed)
        device = next(model.parameters()).device
        self.trainer = GANTrainer(model, mnist_source("signed", str(device)), config, device=device)
        self.z = model.sample_noise(samples, torch.Generator().manual_seed(seed + 1), device)
        super().__init__(total=g_steps)

    def _measure(self) -> dict[str, Any]:
        counts = class_histogram(self.trainer.sampling_generator(), self.z, self.classifier)
        total = max(sum(counts), 1)
        return {
            "arm": "generator_alone", "step": self.trainer.iteration, "counts": counts,
            "entropy": normalized_entropy(counts), "top_share": max(counts) / total,
            "classes_seen": sum(c >= 0.02 * total for c in counts),
        }

    def _run(self) -> Iterator[None]:
        before = self._measure()
        self.records.append(before)
        self.samples["before"] = _sample_strip(self.trainer)
        for step in range(1, self.g_steps + 1):
            stats = self.trainer.step_g()  # D is never updated: it is frozen at its trained state
            if step % self.measure_every == 0 or step == self.g_steps:
                record = self._measure()
                record.update(g_loss=stats.g_loss, d_fake=stats.d_fake)
                self.records.append(record)
            yield
        after = self.records[-1]
        self.samples["after"] = _sample_strip(self.trainer)
        self.numbers = {
            "counts_before": before["counts"], "counts_after": after["counts"],
            "entropy_before": before["entropy"], "entropy_after": after["entropy"],
            "top_share_before": before["top_share"], "top_share_after": after["top_share"],
            "classes_before": before["classes_seen"], "classes_after": after["classes_seen"],
            "top_class_after": int(max(range(10), key=after["counts"].__getitem__)),
        }
        # Collapse: the spread over classes drops a lot and one class takes (nearly) everything or twice its share.
        self.numbers["shown"] = (
            after["entropy"] <= 0.6 * before["entropy"]
            and after["top_share"] >= min(0.9, 2 * before["top_share"])
        )


# --- vanishing gradient ---------------------------------------------------------------------------------------


class VanishingGradient(Lesson):
    """Minimax vs non-saturating G loss from the same state where D confidently rejects the fakes."""

    key = "vanishing_gradient"
    ARMS = ("minimax", "non_saturating")

    def __init__(self, *, warmup: int = 100, steps: int = 300, g_sgd_lr: float = 0.05, seed: int = 0) -> None:
        self.warmup, self.steps = warmup, steps
        base = get_preset("gan_seed_mlp").train_config
        # Phase 1: a fresh article GAN whose D alone trains fast (lr 1e-3) until it rejects G's fakes.
        self.warm = _article_trainer(replace(base, d_optim=_adam(1e-3)), seed=seed)
        self.base = base
        self.g_sgd_lr = g_sgd_lr
        self.probe_z = self.warm.model.sample_noise(256, torch.Generator().manual_seed(seed + 2))
        self.arms: dict[str, GANTrainer] = {}
        super().__init__(total=warmup + 1 + 2 * steps)

    def _run(self) -> Iterator[None]:
        for _ in range(self.warmup):
            stats = self.warm.step_d()
            self.records.append({"arm": "warmup", "step": stats.d_updates, "d_real": stats.d_real, "d_fake": stats.d_fake})
            yield
        model = self.warm.model
        norms = {loss: generator_gradient_norm(model, loss, self.probe_z) for loss in self.ARMS}
        with torch.inference_mode():
            d_fake_start = float(torch.sigmoid(model.discriminator(model.generator(self.probe_z))).mean())
        self.samples["start"] = _sample_strip(self.warm)
        ratio = norms["non_saturating"] / max(norms["minimax"], 1e-12)
        # Known as soon as the warm-up ends, so the page can show them while the two arms train.
        self.numbers.update(d_fake_start=d_fake_start, grad_norm_minimax=norms["minimax"],
                            grad_norm_non_saturating=norms["non_saturating"], ratio=ratio)
        for loss in self.ARMS:
            config = replace(
                self.base, loss=loss, g_optim=OptimizerConfig(kind="sgd", lr=self.g_sgd_lr, beta1=0.5),
            )
            self.arms[loss] = _article_trainer(config, model=copy.deepcopy(model), seed=self.base.seed + 1)
        yield
        for _ in range(self.steps):
            for loss, trainer in self.arms.items():
                stats = trainer.step()
                self.records.append(_gan_record(loss, stats))
                yield
        for loss, trainer in self.arms.items():
            self.samples[loss] = _sample_strip(trainer)
        final = {loss: _last_mean(self.records, loss, "d_fake", 20) for loss in self.ARMS}
        self.numbers.update(
            d_fake_minimax=final["minimax"], d_fake_non_saturating=final["non_saturating"],
            shown=ratio >= 10 and final["non_saturating"] > 10 * final["minimax"],
        )


# --- D overpowering G -----------------------------------------------------------------------------------------


class StrongDiscriminator(Lesson):
    """Balanced (k = 1, equal learning rates) vs strong D (k = 5, D learning rate x10), same start."""

    key = "strong_discriminator"
    ARMS = ("balanced", "strong")

    def __init__(self, *, steps: int = 300, strong_k: int = 5, strong_lr: float = 2e-3, seed: int = 0) -> None:
        self.steps = steps
        base = replace(get_preset("gan_seed_mlp").train_config, d_optim=_adam(2e-4), g_optim=_adam(2e-4))
        self.settings = {
            "balanced": {"k": 1, "d_lr": 2e-4, "g_lr": 2e-4},
            "strong": {"k": strong_k, "d_lr": strong_lr, "g_lr": 2e-4},
        }
        self.arms = {
            "balanced": _article_trainer(base, seed=seed),
            "strong": _article_trainer(replace(base, d_steps=strong_k, d_optim=_adam(strong_lr)), seed=seed),
        }
        super().__init__(total=2 * steps)

    def _run(self) -> Iterator[None]:
        for _ in range(self.steps):
            for arm, trainer in self.arms.items():
                self.records.append(_gan_record(arm, trainer.step()))
                yield
        for arm, trainer in self.arms.items():
            self.samples[arm] = _sample_strip(trainer)
        window = max(10, self.steps // 6)
        numbers: dict[str, Any] = {}
        for arm in self.ARMS:
            for key in ("d_real", "d_fake", "d_loss", "g_loss"):
                numbers[f"{key}_{arm}"] = _last_median(self.records, arm, key, window)
        # D rejects the fakes and G's loss climbs, while the balanced pair keeps the contest open.
        numbers["shown"] = (
            numbers["d_fake_strong"] < 0.1 < 0.25 < numbers["d_fake_balanced"]
            and numbers["g_loss_strong"] > 2 * numbers["g_loss_balanced"]
            and numbers["d_loss_strong"] < numbers["d_loss_balanced"]
        )
        self.numbers = numbers


# --- divergence -------------------------------------------------------------------------------------------------


class Divergence(Lesson):
    """SGD at lr 1.0 until the divergence guard stops it; then Adam at lr 1.0, which stays finite but breaks."""

    key = "divergence"
    ARMS = ("sgd", "adam")

    def __init__(self, *, max_steps: int = 300, adam_steps: int = 150, lr: float = 1.0, seed: int = 0) -> None:
        self.max_steps, self.adam_steps, self.lr = max_steps, adam_steps, lr
        base = get_preset("gan_seed_mlp").train_config
        sgd = OptimizerConfig(kind="sgd", lr=lr, beta1=0.9)
        adam = OptimizerConfig(kind="adam", lr=lr, beta1=0.5)
        self.arms = {
            "sgd": _article_trainer(replace(base, g_optim=sgd, d_optim=sgd), seed=seed),
            "adam": _article_trainer(replace(base, g_optim=adam, d_optim=adam), seed=seed),
        }
        super().__init__(total=max_steps + adam_steps)

    def _run(self) -> Iterator[None]:
        trainer = self.arms["sgd"]
        diverged_at: int | None = None
        message = ""
        for _ in range(self.max_steps):
            try:
                self.records.append(_gan_record("sgd", trainer.step()))
            except TrainingDiverged as exc:
                diverged_at, message = trainer.iteration, str(exc)
                break
            yield
        self.units = self.max_steps  # the rest of this arm's budget is not needed
        weights_finite = all_finite(trainer.model)
        self.samples["sgd"] = _sample_strip(trainer)
        adam = self.arms["adam"]
        for _ in range(self.adam_steps):
            self.records.append(_gan_record("adam", adam.step()))
            yield
        self.samples["adam"] = _sample_strip(adam)
        sgd_records = [r for r in self.records if r["arm"] == "sgd"]
        self.numbers = {
            "diverged_at": diverged_at,
            "message": message,
            "weights_finite_after": weights_finite,
            "restored_to": trainer.guard.snapshot_step,
            "max_abs_loss_before": max((max(abs(r["d_loss"]), abs(r["g_loss"])) for r in sgd_records), default=0.0),
            "adam_g_loss": _last_median(self.records, "adam", "g_loss", 20),
            "adam_grad_norm_g": _last_median(self.records, "adam", "grad_norm_g", 20),
            "adam_d_fake": _last_median(self.records, "adam", "d_fake", 20),
            "adam_finite": all(math.isfinite(r["g_loss"]) for r in self.records if r["arm"] == "adam"),
        }
        self.numbers["shown"] = diverged_at is not None and weights_finite


# --- VAE: beta ------------------------------------------------------------------------------------------------------


class VAEBeta(Lesson):
    """Small VAEs trained side by side with growing beta; reconstructions, KL and active dimensions compared."""

    key = "vae_beta"

    def __init__(
        self, *, betas: tuple[float, ...] = (0.1, 1.0, 8.0, 40.0), steps: int = 300, z_dim: int = 8,
        hidden: tuple[int, ...] = (256,), eval_images: int = 500, seed: int = 0,
    ) -> None:
        if len(betas) < 2 or any(b < 0 for b in betas) or list(betas) != sorted(betas):
            raise ConfigError("Give at least two non-negative betas in increasing order.")
        self.betas, self.steps = betas, steps
        self.model_config = VAEMLPConfig(z_dim=z_dim, hidden=hidden)
        self.arms = {
            beta: build_trainer(
                self.model_config,
                VAETrainConfig(batch_size=128, optim=_adam(2e-3, 0.9), beta=beta, seed=seed),
            )
            for beta in betas
        }
        test = load_mnist("test")
        self.eval_x = to_tensor(test.images[:eval_images], "unit")
        self.show_x = self.eval_x[:SAMPLE_COUNT // 2]
        self.prior_z = torch.randn((SAMPLE_COUNT // 2, z_dim), generator=torch.Generator().manual_seed(seed + 3))
        super().__init__(total=len(betas) * steps)

    def _evaluate(self, beta: float) -> dict[str, float]:
        model = self.arms[beta].model
        with torch.inference_mode():
            mu, logvar = model.encode(self.eval_x)
            x_logits = model.decode(mu)
            recon_images = torch.sigmoid(x_logits)
            return {
                "recon": float(losses.reconstruction_loss(x_logits, self.eval_x)),
                "kl": float(losses.kl_divergence(mu, logvar)),
                "active": int((mu.var(dim=0) > 0.01).sum()),
                # How different the reconstructions of different digits are (0 = all the same picture).
                "spread": float(recon_images.flatten(1).std(dim=0).mean()),
            }

    def _run(self) -> Iterator[None]:
        for _ in range(self.steps):
            for beta, trainer in self.arms.items():
                stats = trainer.step()
                self.records.append({"arm": f"β={beta:g}", "beta": beta, "step": stats.step, "recon": stats.recon,
                                     "kl": stats.kl, "loss": stats.loss})
                yield
        self.samples["input"] = self.show_x
        results = {}
        for beta, trainer in self.arms.items():
            results[beta] = self._evaluate(beta)
            model = trainer.model
            with torch.inference_mode():
                prior = torch.sigmoid(model.decode(self.prior_z))
            self.samples[f"β={beta:g}"] = torch.cat([reconstruct(model, self.show_x), prior])
        kls = [results[b]["kl"] for b in self.betas]
        small, large = self.betas[0], self.betas[-1]
        one = min(self.betas, key=lambda b: abs(b - 1.0))
        self.numbers = {"per_beta": {f"{b:g}": results[b] for b in self.betas}, "real_spread": float(self.eval_x.flatten(1).std(dim=0).mean())}
        self.numbers["shown"] = (
            all(a > b for a, b in zip(kls, kls[1:]))
            and results[large]["active"] <= 1
            and results[large]["spread"] < 0.25 * results[one]["spread"]
            and results[one]["active"] >= 3
            and results[small]["recon"] < results[large]["recon"]
        )


# --- the article's GAN ----------------------------------------------------------------------------------------------


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
    z = model.sample_noise(256, torch.Generator().manual_seed(seed + 5))
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
        self.probe_z = self.trainer.model.sample_noise(256, torch.Generator().manual_seed(seed + 9))
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


def make_lesson(key: str, *, quick: bool = False, gan: GAN | None = None, classifier: Classifier | None = None,
                **overrides: Any) -> Lesson:
    """Build a lesson by key with the page's default sizes (`quick=True`: the small sizes the tests use)."""
    if key == "mode_collapse":
        if gan is None or classifier is None:
            raise ConfigError("The mode collapse lesson needs a trained GAN and the MNIST classifier.")
        sizes = {"g_steps": 150, "samples": 300} if quick else {}
        return ModeCollapse(gan, classifier, **{**sizes, **overrides})
    if key == "vanishing_gradient":
        sizes = {"warmup": 100, "steps": 120} if quick else {}
        return VanishingGradient(**{**sizes, **overrides})
    if key == "strong_discriminator":
        sizes = {"steps": 150} if quick else {}
        return StrongDiscriminator(**{**sizes, **overrides})
    if key == "divergence":
        return Divergence(**overrides)  # already quick: it stops at the divergence
    if key == "vae_beta":
        sizes = {"steps": 200} if quick else {}
        return VAEBeta(**{**sizes, **overrides})
    if key == "article_gan":
        sizes = {"steps": 1200, "snapshot_every": 400} if quick else {}
        return ArticleGAN(**{**sizes, **overrides})
    raise ConfigError(f"Unknown lesson {key!r}; choose one of {', '.join(LESSONS)}.")
