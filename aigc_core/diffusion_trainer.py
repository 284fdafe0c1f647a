"""Step-wise diffusion training (DDPM, Ho et al., 2020): one call to `step()` = one gradient step on the simple loss
E_{t, x_0, ε} ‖target - net(x_t, t, y)‖² with t ~ U{1, …, T}, x_t = √ᾱ_t x_0 + √(1 - ᾱ_t) ε, and the target ε
(or v, Salimans & Ho 2022) as the model's config says. For a class-conditional model each label is replaced by the
null label ∅ with probability `label_dropout`, so the one network learns both ε(x_t, c) and ε(x_t, ∅) that
classifier-free guidance combines (Ho & Salimans, 2022). Samples come from an exponential moving average of the
weights, drawn with DDIM (Song et al., 2021) or ancestral DDPM steps (`aigc_core.diffusion`).
`step()` is made of five public phase methods, one per key of `diagrams.DIFFUSION_PHASES` (begin_step -> add_noise
-> predict -> compute_loss -> apply_update) that the slow-motion mode (`aigc_core.slowmo_diffusion`) calls one at a time.
"""

import copy
import math
import time
from dataclasses import asdict, dataclass
from typing import ClassVar

import torch

from . import diffusion as dm
from . import seeds
from .errors import ConfigError
from .gan_trainer import CONDITIONAL_COLUMNS, GRID_COLUMNS, MAX_BATCH, BatchSource
from .guard import DivergenceGuard
from .models.conditional import row_labels
from .models.unet import Denoiser
from .optim import OptimizerConfig, apply_settings, build_optimizer, clip_and_measure, cosine_lr

FIXED_NOISE_SIZE = 64
T_BUCKETS = 4  # the stats report the loss in each quarter of [1, T]: small t (fine detail) … large t (layout)


@dataclass(frozen=True)
class DiffusionTrainConfig:
    batch_size: int = 128
    optim: OptimizerConfig = OptimizerConfig(kind="adam", lr=1e-3, beta1=0.9, beta2=0.999)
    label_dropout: float = 0.1  # p_uncond: how often a label is replaced by ∅ (Ho & Salimans use 0.1-0.2)
    ema: float = 0.999  # decay of the weight EMA used for samples (Ho et al.: 0.9999 over 800k steps); 0 = off
    clip_grad_norm: float = 1.0  # Ho et al. clip at 1; 0 = off
    schedule_steps: int = 0  # cosine learning-rate decay over this many steps; 0 = constant
    # How `sample()` draws unless told otherwise (evaluations record what they used):
    sampler: dm.Sampler = "ddim"
    sample_steps: int = 25
    eta: float = 0.0  # DDIM's η: 0 deterministic, 1 as DDPM
    guidance: float = 2.0  # classifier-free guidance w (conditional models; ignored otherwise)
    seed: int = 0

    def validate(self) -> None:
        if isinstance(self.batch_size, bool) or not isinstance(self.batch_size, int) or not 2 <= self.batch_size <= MAX_BATCH:
            raise ConfigError(f"Batch size must be between 2 and {MAX_BATCH}; got {self.batch_size!r}.")
        self.optim.validate("Denoiser")
        if not (math.isfinite(self.label_dropout) and 0 <= self.label_dropout < 1):
            raise ConfigError(f"Label dropout must be in [0, 1); got {self.label_dropout}.")
        if not (math.isfinite(self.ema) and 0 <= self.ema < 1):
            raise ConfigError(f"EMA decay must be in [0, 1); got {self.ema}.")
        if not (math.isfinite(self.clip_grad_norm) and self.clip_grad_norm >= 0):
            raise ConfigError(f"Gradient clipping must be ≥ 0 (0 = off); got {self.clip_grad_norm}.")
        if isinstance(self.schedule_steps, bool) or not isinstance(self.schedule_steps, int) or self.schedule_steps < 0:
            raise ConfigError(f"The learning-rate schedule length must be a whole number ≥ 0; got {self.schedule_steps!r}.")
        if self.sampler not in dm.SAMPLERS:
            raise ConfigError(f"Unknown sampler {self.sampler!r}; choose one of {', '.join(dm.SAMPLERS)}.")
        if isinstance(self.sample_steps, bool) or not isinstance(self.sample_steps, int) or not (
            1 <= self.sample_steps <= dm.MAX_TIMESTEPS
        ):
            raise ConfigError(f"Sampling steps must be a whole number from 1 to T; got {self.sample_steps!r}.")
        dm.check_eta(self.eta)
        dm.check_guidance(self.guidance)


@dataclass(frozen=True)
class DiffusionStats:
    step: int
    loss: float  # the simple loss of this batch (mean squared error per element)
    loss_by_t: tuple[float, ...]  # mean loss of the batch's samples in each of T_BUCKETS equal ranges of t; NaN if none
    grad_norm: float  # before clipping
    seconds: float

    def as_dict(self) -> dict:
        return asdict(self)


_NAN = float("nan")


@dataclass
class DiffusionPass:
    """The tensors of one training step, filled in phase by phase (slow motion shows them between phases)."""

    start: float  # perf_counter() at the data phase
    x0: torch.Tensor | None = None  # (B, ...) clean data on the device
    y: torch.Tensor | None = None  # (B,) labels after dropout (∅ = null_label); None for an unconditional model
    t: torch.Tensor | None = None  # (B,) noise levels in 1 … T, on the CPU
    noise: torch.Tensor | None = None  # ε, (B, ...)
    x_t: torch.Tensor | None = None  # (B, ...)
    output: torch.Tensor | None = None  # the network's ε̂ (or v̂), (B, ...)
    per_sample: torch.Tensor | None = None  # (B,) the simple loss of each sample
    loss: torch.Tensor | None = None
    loss_value: float = _NAN
    grad_norm: float = _NAN  # before clipping


class DiffusionTrainer:
    family: ClassVar[str] = "diffusion"  # which model family it trains (what pages and evaluations branch on)

    def __init__(
        self,
        model: Denoiser,
        source: BatchSource,
        config: DiffusionTrainConfig = DiffusionTrainConfig(),
        *,
        device: torch.device | str = "cpu",
    ) -> None:
        config.validate()
        self.schedule = dm.schedule_for(model.config)
        dm.check_steps(self.schedule, config.sample_steps)
        self.device = torch.device(device)
        self.model = model.to(self.device)
        # Images in [-1, 1] (ImageSource "signed"), or 2-D points; a conditional model's source also has
        # batch_with_labels(size, generator) -> (x, labels).
        if self.conditional_model(model) and not hasattr(source, "batch_with_labels"):
            raise ConfigError("A class-conditional denoiser needs labelled data (a source with batch_with_labels).")
        self.source = source
        self.config = config
        self.prediction: dm.Prediction = model.config.prediction  # type: ignore[assignment]
        self.conditional = self.conditional_model(model)
        self.rng = torch.Generator().manual_seed(config.seed)
        fixed = seeds.generator(config.seed, "fixed_noise")
        # A conditional model's progress grid has one row per class (CONDITIONAL_COLUMNS samples each), as the
        # conditional GAN's and VAE's do; an unconditional one's is 8 x 8.
        classes = model.config.num_classes
        grid = classes * CONDITIONAL_COLUMNS if self.conditional else FIXED_NOISE_SIZE
        self.grid_columns = CONDITIONAL_COLUMNS if self.conditional else GRID_COLUMNS
        self.fixed_noise = model.sample_noise(grid, fixed, self.device)  # x_T of the progress grid
        # The sampler's own noise (DDPM, or DDIM with η > 0) continues the same stream, so every call draws alike.
        self._sampling_state = fixed.get_state()
        self.fixed_labels = row_labels(classes, CONDITIONAL_COLUMNS, self.device) if self.conditional else None
        self.optimizers = {"denoiser": build_optimizer(model.parameters(), config.optim)}
        self._parameters = list(model.parameters())
        self.ema_model: Denoiser | None = None
        self._ema_pairs: tuple[list, list] = ([], [])
        if config.ema > 0:
            self._start_ema()
        self.iteration = 0
        nan = float("nan")
        self.last = DiffusionStats(0, nan, (nan,) * T_BUCKETS, nan, 0.0)
        extras = {"ema_model": self.ema_model} if self.ema_model is not None else {}
        self.guard = DivergenceGuard(self.model, self.optimizers, extras=extras, owner=self, counters=("iteration",))

    @staticmethod
    def conditional_model(model: Denoiser) -> bool:
        return model.config.num_classes > 0

    # -- configuration ---------------------------------------------------------------------------------------------
    def update_config(self, config: DiffusionTrainConfig) -> None:
        """Apply new hyperparameters from the next step; optimizer state survives unless its kind changes."""
        config.validate()
        dm.check_steps(self.schedule, config.sample_steps)
        if config.optim.kind != self.config.optim.kind:
            self.optimizers["denoiser"] = build_optimizer(self._parameters, config.optim)
        else:
            apply_settings(self.optimizers["denoiser"], config.optim)
        if config.ema > 0 and self.ema_model is None:
            self._start_ema()
            self.guard.extras["ema_model"] = self.ema_model
        self.config = config

    def _start_ema(self) -> None:
        self.ema_model = copy.deepcopy(self.model).requires_grad_(False)
        self._ema_pairs = (list(self.ema_model.parameters()), self._parameters)

    def default_labels(self, n: int) -> torch.Tensor | None:
        """0, 1, …, K-1, 0, 1, … for a conditional model (None for an unconditional one), on the trainer's device."""
        if not self.conditional:
            return None
        return (torch.arange(n) % self.model.config.num_classes).to(self.device)

    # -- one step, phase by phase --------------------------------------------------------------------------------
    # step() is five phases, one per key of diagrams.DIFFUSION_PHASES: data -> add_noise -> predict -> loss ->
    # update. Slow motion (aigc_core.slowmo_diffusion) calls the same methods one at a time, so the math exists once.
    def begin_step(self) -> "DiffusionPass":
        """Phase "data": a batch x_0 and its labels y, each label replaced by ∅ with probability p_uncond."""
        b, start = self.config.batch_size, time.perf_counter()
        if self.conditional:
            x0, y = self.source.batch_with_labels(b, self.rng)  # type: ignore[attr-defined]
            drop = torch.rand(b, generator=self.rng) < self.config.label_dropout  # (B,) which labels become ∅
            y = torch.where(drop.to(y.device), self.model.null_label, y).to(self.device)
        else:
            x0, y = self.source.batch(b, self.rng), None
        return DiffusionPass(start, x0=x0.to(self.device), y=y)

    def add_noise(self, p: "DiffusionPass") -> None:
        """Phase "add_noise": t ~ U{1, …, T} and ε ~ N(0, I) per sample, and x_t = √ᾱ_t x_0 + √(1 - ᾱ_t) ε."""
        p.t = torch.randint(1, self.schedule.T + 1, (len(p.x0),), generator=self.rng)  # (B,) on the CPU
        p.noise = torch.randn(p.x0.shape, generator=self.rng).to(self.device)  # ε
        p.x_t = dm.q_sample(self.schedule, p.x0, p.t, p.noise)

    def predict(self, p: "DiffusionPass") -> None:
        """Phase "predict": the network's output on (x_t, t, y): ε̂, or v̂ for a v-prediction model."""
        p.output = self.model(p.x_t, p.t.to(self.device), p.y)

    def compute_loss(self, p: "DiffusionPass") -> None:
        """Phase "loss": the simple loss per sample and its mean; refuses a non-finite value."""
        target = dm.training_target(self.schedule, self.prediction, p.x0, p.t, p.noise)
        p.per_sample = dm.simple_loss_per_sample(p.output, target)
        p.loss = p.per_sample.mean()
        p.loss_value = p.loss.item()
        self.guard.check(p.loss_value, "the diffusion loss", self.iteration)

    def apply_update(self, p: "DiffusionPass") -> DiffusionStats:
        """Phase "update": backpropagate, clip (or measure) the gradient norm, step the optimizer, update the EMA and
        the guard's snapshot; returns the step's stats. Refuses a non-finite gradient before it reaches the weights."""
        cfg = self.config
        optimizer = self.optimizers["denoiser"]
        optimizer.zero_grad(set_to_none=True)
        p.loss.backward()
        max_norm = cfg.clip_grad_norm if cfg.clip_grad_norm > 0 else math.inf
        p.grad_norm = clip_and_measure(self._parameters, max_norm)
        self.guard.check(p.grad_norm, "the gradient norm", self.iteration)
        if cfg.schedule_steps > 0:
            apply_settings(optimizer, cfg.optim, lr=cosine_lr(cfg.optim.lr, self.iteration, cfg.schedule_steps))
        optimizer.step()
        self.iteration += 1
        self._update_ema()
        self.guard.maybe_take(self.iteration)
        self.last = DiffusionStats(self.iteration, p.loss_value, _loss_by_t(p.per_sample, p.t, self.schedule.T),
                                   p.grad_norm, time.perf_counter() - p.start)
        return self.last

    def step(self) -> DiffusionStats:
        """One training step: the five phases in order."""
        p = self.begin_step()
        self.add_noise(p)
        self.predict(p)
        self.compute_loss(p)
        return self.apply_update(p)

    @torch.no_grad()
    def _update_ema(self) -> None:
        if self.ema_model is not None and self.config.ema > 0:
            torch._foreach_lerp_(self._ema_pairs[0], self._ema_pairs[1], 1.0 - self.config.ema)

    # -- sampling ------------------------------------------------------------------------------------------------------
    def sampling_model(self) -> Denoiser:
        """The network samples come from: the EMA copy when there is one."""
        return self.ema_model if self.ema_model is not None else self.model

    def sampling_generator(self) -> torch.Generator:
        """A fresh generator for the sampler's own noise, in the same state at every call."""
        generator = torch.Generator()
        generator.set_state(self._sampling_state)
        return generator

    def sample(
        self,
        noise: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        *,
        sampler: dm.Sampler | None = None,
        steps: int | None = None,
        eta: float | None = None,
        guidance: float | None = None,
    ) -> torch.Tensor:
        """Samples on the CPU, in the data's range: images in [-1, 1] (as the GAN's; `pixels.signed_to_unit` for
        display), or 2-D points. From x_T = the fixed noise and `default_labels` unless given; the sampler options
        default to the config's. Training state is not touched."""
        cfg = self.config
        x_T = self.fixed_noise if noise is None else noise.to(self.device)  # noqa: N806
        if labels is None and self.conditional:
            labels = self.fixed_labels if noise is None else self.default_labels(len(x_T))
        return generate(
            self.sampling_model(), x_T, labels,
            sampler=cfg.sampler if sampler is None else sampler,
            steps=cfg.sample_steps if steps is None else steps,
            eta=cfg.eta if eta is None else eta,
            guidance=cfg.guidance if guidance is None else guidance,
            generator=self.sampling_generator(),
        )


def _loss_by_t(per_sample: torch.Tensor, t: torch.Tensor, T: int) -> tuple[float, ...]:  # noqa: N803
    """Mean of per_sample (B,) over the samples whose t falls in each of T_BUCKETS equal ranges of [1, T]."""
    bucket = (t - 1) * T_BUCKETS // T  # (B,) in 0 … T_BUCKETS - 1
    sums = torch.zeros(T_BUCKETS, dtype=torch.float64).index_add_(0, bucket, per_sample.detach().cpu().double())
    counts = torch.bincount(bucket, minlength=T_BUCKETS)
    return tuple((sums / counts).tolist())  # 0 / 0 = NaN where no sample fell


def generate(
    model: Denoiser,
    x_T: torch.Tensor,  # noqa: N803
    labels: torch.Tensor | None = None,
    *,
    sampler: dm.Sampler = "ddim",
    steps: int = 25,
    eta: float = 0.0,
    guidance: float = 0.0,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """x_0 (CPU, float) from x_T (B, ...) with the process the model's config names. Labels (B,) for a conditional
    model (None: unconditional, ∅); `guidance` is ignored without labels. Images come back in [-1, 1]."""
    schedule = dm.schedule_for(model.config)
    if labels is None:
        guidance = 0.0
    elif model.config.num_classes == 0:
        raise ConfigError("This model is unconditional; it takes no class labels.")
    elif labels.numel() and (int(labels.min()) < 0 or int(labels.max()) > model.null_label):
        raise ConfigError(f"Class labels must lie in 0 … {model.null_label} (the null label); got {labels.tolist()[:8]}.")
    device = next(model.parameters()).device
    out = dm.sample(model, schedule, x_T.to(device), prediction=model.config.prediction, sampler=sampler, steps=steps,
                    eta=eta, y=None if labels is None else labels.to(device), guidance=guidance,
                    null_label=model.null_label, generator=generator, clip_denoised=model.clip_denoised)
    return out.float().cpu()


def evaluate_diffusion(
    model: Denoiser,
    classifier: torch.nn.Module,
    *,
    samples: int = 10_000,
    seed: int = 0,
    sampler: dm.Sampler = "ddim",
    steps: int = 25,
    eta: float = 0.0,
    guidance: float = 2.0,
    batch: int = 500,
    unconditional: bool = False,
) -> dict:
    """Classifier score, FID and class counts (`evaluation.score_images`) of `samples` images, labels 0-9 in turn
    for a conditional model; with the sampler settings used and the wall seconds per 64 samples. `unconditional`:
    a conditional model asked for no class (the null label ∅ its label dropout trained), so no guidance either."""
    from . import evaluation, pixels  # evaluation loads the classifier and MNIST; only evaluations need it

    if samples < 2:
        raise ConfigError(f"An evaluation needs at least 2 samples; got {samples}.")
    generator = torch.Generator().manual_seed(seed)
    x_T = model.sample_noise(samples, generator)  # noqa: N806
    conditional = model.config.num_classes > 0 and not unconditional
    labels = torch.arange(samples) % model.config.num_classes if conditional else None
    # What the sampler is given: the asked digits, ∅ for a conditional model asked for none, nothing otherwise.
    given = labels if conditional or model.config.num_classes == 0 else torch.full((samples,), model.null_label)
    images, seconds = [], 0.0
    for i in range(0, samples, batch):
        start = time.perf_counter()
        out = generate(model, x_T[i:i + batch], None if given is None else given[i:i + batch], sampler=sampler,
                       steps=steps, eta=eta, guidance=guidance if conditional else 0.0, generator=generator)
        seconds += time.perf_counter() - start
        images.append(pixels.signed_to_unit(out))
    result = evaluation.score_images(torch.cat(images), classifier, labels)
    result.update(
        sampler=sampler, steps=steps, eta=eta, guidance=guidance if conditional else 0.0, unconditional=not conditional,
        seconds_per_64=round(seconds * 64 / samples, 4), threads=torch.get_num_threads(),
        real_test_classifier_score=evaluation.real_reference(classifier)["test_classifier_score"],
    )
    return result
