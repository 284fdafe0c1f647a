"""Step-wise GAN training: one call to `step()` = k discriminator updates + one generator update.

`step_d()` and `step_g()` are exposed on their own for the step-by-step teaching mode (as in GAN Lab), and each is
made of six public phase methods (begin_* -> generate_fake -> discriminate -> compute_loss -> compute_gradients ->
apply_update) that the slow-motion mode (`aigc_core.slowmo`) calls one at a time. Every call returns a `GANStats`
record of plain floats; nothing is printed or drawn here. A class-conditional GAN (`GAN.conditional`) trains on
labelled batches: D scores each real digit with its own label and each fake with the label G was asked for.
"""

import copy
import functools
import math
import time
from dataclasses import asdict, dataclass, field
from typing import ClassVar, Protocol

import torch

from . import losses, seeds
from .errors import ConfigError
from .guard import DivergenceGuard
from .models.conditional import check_labels, cycle_labels, row_labels
from .models.gan import GAN, MinibatchStd
from .optim import OptimizerConfig, apply_settings, build_optimizer, clip_and_measure, cosine_lr

FIXED_NOISE_SIZE = 64
GRID_COLUMNS = 8
CONDITIONAL_COLUMNS = 6  # a conditional model's progress grid: one row per class, this many samples each
MAX_BATCH = 4096
MAX_D_STEPS = 50  # k, D updates per G update: beyond this a live run barely moves G


class BatchSource(Protocol):
    def batch(self, size: int, generator: torch.Generator) -> torch.Tensor: ...


@dataclass(frozen=True)
class GANTrainConfig:
    loss: losses.GANLoss = "non_saturating"
    batch_size: int = 64
    d_steps: int = 1  # k discriminator updates per generator update
    g_optim: OptimizerConfig = field(default_factory=lambda: OptimizerConfig(lr=2e-4))
    d_optim: OptimizerConfig = field(default_factory=lambda: OptimizerConfig(lr=2e-4))
    clip_grad_norm: float = 0.0  # 0 = off
    label_smoothing: float = 0.0  # one-sided: real targets become 1 - s
    weight_clip: float = 0.01  # WGAN critic weight clipping
    gp_weight: float = 10.0  # WGAN-GP λ
    r1_gamma: float = 0.0  # R1: D's loss gets γ/2·E‖∇ₓD(x)‖² on real images (Mescheder et al. 2018); 0 = off
    r1_every: int = 1  # lazy R1 (Karras et al. 2020): only every n-th D update, with γ·n, for ~1/n of the cost
    ema: float = 0.0  # decay of an exponential moving average of G's weights used for samples; 0 = off
    schedule_steps: int = 0  # cosine learning-rate decay over this many iterations; 0 = constant
    seed: int = 0

    def validate(self) -> None:
        if self.loss not in losses.GAN_LOSSES:
            raise ConfigError(f"Unknown loss {self.loss!r}; choose one of {', '.join(losses.GAN_LOSSES)}.")
        if not 2 <= self.batch_size <= MAX_BATCH:
            raise ConfigError(f"Batch size must be between 2 and {MAX_BATCH}; got {self.batch_size}.")
        if not 1 <= self.d_steps <= MAX_D_STEPS:
            raise ConfigError(f"k (D steps per G step) must be between 1 and {MAX_D_STEPS}; got {self.d_steps}.")
        self.g_optim.validate("Generator")
        self.d_optim.validate("Discriminator")
        if not (0 <= self.label_smoothing <= 0.5):
            raise ConfigError(f"Label smoothing must be in [0, 0.5]; got {self.label_smoothing}.")
        if not (math.isfinite(self.clip_grad_norm) and self.clip_grad_norm >= 0):
            raise ConfigError(f"Gradient clipping must be ≥ 0 (0 = off); got {self.clip_grad_norm}.")
        if not 0 <= self.ema < 1:
            raise ConfigError(f"EMA decay must be in [0, 1); got {self.ema}.")
        if not (math.isfinite(self.r1_gamma) and 0 <= self.r1_gamma <= 1000):
            raise ConfigError(f"The R1 weight γ must be between 0 and 1000 (0 = off); got {self.r1_gamma}.")
        if not 1 <= self.r1_every <= 64:
            raise ConfigError(f"R1 every n D updates: n must be between 1 and 64; got {self.r1_every}.")


@dataclass(frozen=True)
class GANStats:
    step: int  # generator updates so far
    d_updates: int
    phase: str  # "d", "g" or "both"
    d_loss: float
    g_loss: float
    d_real: float  # mean D(x): a probability for minimax / non-saturating, a raw score otherwise
    d_fake: float  # mean D(G(z))
    grad_norm_d: float
    grad_norm_g: float
    seconds: float

    def as_dict(self) -> dict:
        return asdict(self)


_NAN = float("nan")


@dataclass
class UpdatePass:
    """The tensors of one D or G update, filled in phase by phase (slow motion shows them between phases)."""

    network: str  # "d" or "g": which network this pass updates
    start: float  # perf_counter() at phase 1
    # G's record reports D(G(z)); a whole iteration reports D's own view of it instead, so step() skips this.
    measure_d_fake: bool = True
    r1: bool = False  # whether this D update carries the R1 penalty (decided once, at phase 1)
    z: torch.Tensor | None = None  # (B, z_dim)
    y_real: torch.Tensor | None = None  # (B,) the real batch's labels (conditional GAN, D's update only)
    y_fake: torch.Tensor | None = None  # (B,) the labels G is asked to draw (conditional GAN)
    real: torch.Tensor | None = None  # (B, ...) real batch (D's update only)
    fake: torch.Tensor | None = None  # G(z), (B, ...)
    scores: torch.Tensor | None = None  # D's raw scores on cat([real, fake]) when it scored both in one pass
    real_scores: torch.Tensor | None = None  # D(x), raw scores (B, 1)
    fake_scores: torch.Tensor | None = None  # D(G(z)), raw scores (B, 1)
    loss: torch.Tensor | None = None
    loss_value: float = _NAN
    grad_norm: float = _NAN  # before clipping
    parameters: list[torch.nn.Parameter] = field(default_factory=list)


class GANTrainer:
    family: ClassVar[str] = "gan"  # which model family it trains (what pages and evaluations branch on)

    def __init__(
        self,
        model: GAN,
        source: BatchSource,
        config: GANTrainConfig = GANTrainConfig(),
        *,
        device: torch.device | str = "cpu",
    ) -> None:
        config.validate()
        self.device = torch.device(device)
        self.model = model.to(self.device)
        self.source = source
        self.config = config
        self.rng = torch.Generator().manual_seed(config.seed)
        self.conditional = model.conditional
        if self.conditional and not hasattr(source, "batch_with_labels"):
            raise ConfigError("A class-conditional GAN needs labelled data (a source with batch_with_labels).")
        grid = model.num_classes * CONDITIONAL_COLUMNS if self.conditional else FIXED_NOISE_SIZE
        self.grid_columns = CONDITIONAL_COLUMNS if self.conditional else GRID_COLUMNS
        self.fixed_z = model.sample_noise(grid, seeds.generator(config.seed, "fixed_noise"), self.device)
        # One row per digit, so the grid reads as "this row was asked for a 7".
        self.fixed_labels = row_labels(model.num_classes, CONDITIONAL_COLUMNS, self.device) if self.conditional else None
        self.optimizers = {
            "g": build_optimizer(model.generator.parameters(), config.g_optim),
            "d": build_optimizer(model.discriminator.parameters(), config.d_optim),
        }
        # Walking the module tree for .parameters() costs ~0.2 ms a step on the article's small GAN; the parameter
        # objects never change (a rollback loads state in place), so the lists are built once.
        self._parameters = {"g": list(model.generator.parameters()), "d": list(model.discriminator.parameters())}
        self.ema_generator: torch.nn.Module | None = None
        self._ema_pairs: tuple[list, list, list, list] = ([], [], [], [])
        if config.ema > 0:
            self._start_ema()
        # Minibatch-std layers look across samples: a joint [real; fake] pass is only fair if no group straddles both.
        self._mbstd_layers = [m for m in model.discriminator.modules() if isinstance(m, MinibatchStd)]
        self.iteration = 0
        self.d_updates = 0
        self.last = GANStats(0, 0, "both", _NAN, _NAN, _NAN, _NAN, _NAN, _NAN, 0.0)
        # The EMA generator is rolled back with the model: it has averaged in the blown-up weights too.
        extras = {"ema_generator": self.ema_generator} if self.ema_generator is not None else {}
        self.guard = DivergenceGuard(self.model, self.optimizers, extras=extras, owner=self,
                                     counters=("iteration", "d_updates"))

    # -- configuration -------------------------------------------------------------------------
    def update_config(self, config: GANTrainConfig) -> None:
        """Apply new hyperparameters from the next step; optimizer state survives unless its kind changes."""
        config.validate()
        for name, new, old in (("g", config.g_optim, self.config.g_optim), ("d", config.d_optim, self.config.d_optim)):
            if new.kind != old.kind:
                network = self.model.generator if name == "g" else self.model.discriminator
                self.optimizers[name] = build_optimizer(network.parameters(), new)
            else:
                apply_settings(self.optimizers[name], new)
        if config.ema > 0 and self.ema_generator is None:
            self._start_ema()
            self.guard.extras["ema_generator"] = self.ema_generator
        self.config = config

    def _start_ema(self) -> None:
        """The EMA copy of G starts from G's current weights."""
        generator = self.model.generator
        self.ema_generator = copy.deepcopy(generator).requires_grad_(False)
        self._ema_pairs = (list(self.ema_generator.parameters()), self._parameters["g"],
                           list(self.ema_generator.buffers()), list(generator.buffers()))

    # -- one update of each network, phase by phase -------------------------------------------
    # step_d() and step_g() are each six small phases: sample z -> G(z) -> D scores -> loss -> gradients ->
    # update. Slow motion (aigc_core.slowmo) calls the same phase methods one at a time, so the math exists once.
    def _lr(self, optim: OptimizerConfig) -> float:
        return cosine_lr(optim.lr, self.iteration, self.config.schedule_steps)

    def begin_d(self) -> "UpdatePass":
        """Phase 1 (D): draw a real batch x and noise z."""
        cfg, model = self.config, self.model
        start = time.perf_counter()
        if self.conditional:
            real, y_real = self.source.batch_with_labels(cfg.batch_size, self.rng)  # type: ignore[attr-defined]
            y_real = y_real.to(self.device)
            z = model.sample_noise(cfg.batch_size, self.rng, self.device)
            # WGAN-GP scores mixes of real and fake under one label each: the fakes are drawn for the real labels,
            # so each mix is of two images of the same digit. The other losses draw the fakes' labels freely.
            y_fake = y_real if cfg.loss == "wgan_gp" else self._draw_labels(cfg.batch_size)
            return UpdatePass("d", start, z=z, real=real.to(self.device), r1=self._r1_due(), y_real=y_real,
                              y_fake=y_fake)
        real = self.source.batch(cfg.batch_size, self.rng).to(self.device)
        z = model.sample_noise(cfg.batch_size, self.rng, self.device)
        return UpdatePass("d", start, z=z, real=real, r1=self._r1_due())

    def begin_g(self) -> "UpdatePass":
        """Phase 1 (G): draw noise z (and, for a conditional GAN, the labels to draw)."""
        start = time.perf_counter()
        z = self.model.sample_noise(self.config.batch_size, self.rng, self.device)
        y = self._draw_labels(self.config.batch_size) if self.conditional else None
        return UpdatePass("g", start, z=z, y_fake=y)

    def _draw_labels(self, n: int) -> torch.Tensor:
        """Labels for G, uniform over the classes, from the trainer's seeded stream."""
        return torch.randint(0, self.model.num_classes, (n,), generator=self.rng).to(self.device)

    def _g(self, z: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
        return self.model.generator(z) if y is None else self.model.generator(z, y)

    def _d(self, x: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
        return self.model.discriminator(x) if y is None else self.model.discriminator(x, y)

    def generate_fake(self, p: "UpdatePass") -> None:
        """Phase 2: G(z). For D's update G is fixed, so no graph is kept through it."""
        if p.network == "d":
            with torch.no_grad():
                p.fake = self._g(p.z, p.y_fake)
        else:
            p.fake = self._g(p.z, p.y_fake)

    def discriminate(self, p: "UpdatePass") -> None:
        """Phase 3: D's scores on real and fake (D's update) or on fake only (G's update)."""
        discriminator = self.model.discriminator
        if p.network == "d":
            if p.r1:
                p.real.requires_grad_(True)  # R1 needs ∇ₓD(x) on the real half
            if self._joint_pass_is_fair(len(p.real)):
                labels = None if p.y_real is None else torch.cat([p.y_real, p.y_fake])
                p.scores = self._d(torch.cat([p.real, p.fake]), labels)  # one pass over (2B, ...)
                p.real_scores, p.fake_scores = p.scores[: len(p.real)], p.scores[len(p.real) :]
            else:
                p.real_scores, p.fake_scores = self._d(p.real, p.y_real), self._d(p.fake, p.y_fake)
            return
        # Gradients will flow through D into G, but D is not updated: build the graph without D's weights.
        discriminator.requires_grad_(False)
        try:
            p.fake_scores = self._d(p.fake, p.y_fake)
        finally:
            discriminator.requires_grad_(True)

    def _joint_pass_is_fair(self, half: int) -> bool:
        """Whether D may score real and fake in one pass: nothing in D mixes samples across the two halves."""
        return not self._mbstd_layers or all(layer.keeps_halves_apart(half) for layer in self._mbstd_layers)

    def compute_loss(self, p: "UpdatePass") -> None:
        """Phase 4: the loss of the network being updated (refuses a non-finite value)."""
        cfg = self.config
        if p.network == "d":
            loss = losses.discriminator_loss(cfg.loss, p.real_scores, p.fake_scores, label_smoothing=cfg.label_smoothing)
            if cfg.loss == "wgan_gp":
                # A conditional D is penalised where it scores the mixes, under their (shared) labels.
                critic = self.model.discriminator if p.y_real is None else functools.partial(self._d, y=p.y_real)
                loss = loss + cfg.gp_weight * losses.gradient_penalty(critic, p.real, p.fake, self.rng)
            if p.r1:
                loss = loss + 0.5 * cfg.r1_gamma * cfg.r1_every * losses.r1_penalty(p.real_scores, p.real)
            what = "the discriminator loss"
        else:
            loss = losses.generator_loss(cfg.loss, p.fake_scores)
            what = "the generator loss"
        p.loss = loss
        p.loss_value = loss.item()
        self.guard.check_loss(p.loss_value, what, self.iteration)

    def compute_gradients(self, p: "UpdatePass") -> None:
        """Phase 5: backpropagate, then clip (or just measure) the gradient norm; refuses non-finite gradients."""
        optimizer = self.optimizers[p.network]
        optimizer.zero_grad(set_to_none=True)
        p.loss.backward()
        p.parameters = self._parameters[p.network]
        max_norm = self.config.clip_grad_norm if self.config.clip_grad_norm > 0 else math.inf
        p.grad_norm = clip_and_measure(p.parameters, max_norm)
        what = "discriminator" if p.network == "d" else "generator"
        self.guard.check(p.grad_norm, f"the {what} gradient norm", self.iteration)

    def apply_update(self, p: "UpdatePass") -> GANStats:
        """Phase 6: the optimizer step (plus WGAN weight clipping / EMA and bookkeeping); returns the stats."""
        cfg = self.config
        optimizer = self.optimizers[p.network]
        if cfg.schedule_steps > 0:
            optim_config = cfg.g_optim if p.network == "g" else cfg.d_optim
            apply_settings(optimizer, optim_config, lr=self._lr(optim_config))
        optimizer.step()
        if p.network == "d":
            if cfg.loss == "wgan":
                with torch.no_grad():
                    torch._foreach_clamp_min_(p.parameters, -cfg.weight_clip)
                    torch._foreach_clamp_max_(p.parameters, cfg.weight_clip)
            self.d_updates += 1
            with torch.no_grad():  # both means from one tensor: each op costs more than its math here
                scores = p.scores if p.scores is not None else torch.cat([p.real_scores, p.fake_scores])
                d_real, d_fake = losses.discriminator_probability(cfg.loss, scores).view(2, -1).mean(1).tolist()
            if cfg.loss in losses.LOGIT_LOSSES:  # only these report probabilities that can say D has won
                self.guard.observe_discriminator(d_real, d_fake, self.iteration)
            last = self.last  # built field by field: dataclasses.replace cost tens of µs a call inside a step
            self.last = GANStats(
                self.iteration, self.d_updates, "d", p.loss_value, last.g_loss, d_real, d_fake, p.grad_norm,
                last.grad_norm_g, time.perf_counter() - p.start,
            )
            return self.last
        self.iteration += 1
        self._update_ema()
        self.guard.maybe_take(self.iteration)
        d_fake = self.last.d_fake
        if p.measure_d_fake:
            with torch.no_grad():
                d_fake = float(losses.discriminator_probability(cfg.loss, p.fake_scores).mean())
        last = self.last
        self.last = GANStats(
            self.iteration, self.d_updates, "g", last.d_loss, p.loss_value, last.d_real, d_fake, last.grad_norm_d,
            p.grad_norm, time.perf_counter() - p.start,
        )
        return self.last

    def _run(self, p: "UpdatePass") -> GANStats:
        self.generate_fake(p)
        self.discriminate(p)
        self.compute_loss(p)
        self.compute_gradients(p)
        return self.apply_update(p)

    def step_d(self) -> GANStats:
        """One discriminator update."""
        return self._run(self.begin_d())

    def step_g(self) -> GANStats:
        """One generator update (ends an iteration)."""
        return self._run(self.begin_g())

    def finish_iteration(self, d_stats: GANStats, g_stats: GANStats, start: float) -> GANStats:
        """The record of a whole iteration. D(G(z)) is reported as D saw it during its own update, so D(x) and
        D(G(z)) are comparable."""
        g = g_stats
        self.last = GANStats(g.step, g.d_updates, "both", g.d_loss, g.g_loss, g.d_real, d_stats.d_fake, g.grad_norm_d,
                             g.grad_norm_g, time.perf_counter() - start)
        return self.last

    def step(self) -> GANStats:
        """One iteration: k D updates, then one G update."""
        start = time.perf_counter()
        for _ in range(self.config.d_steps):
            d_stats = self.step_d()
        g_pass = self.begin_g()
        g_pass.measure_d_fake = False
        return self.finish_iteration(d_stats, self._run(g_pass), start)

    def _r1_due(self) -> bool:
        """Whether the D update under way carries the R1 penalty (counted in D updates, so k > 1 is covered)."""
        return self.config.r1_gamma > 0 and self.d_updates % self.config.r1_every == 0

    # -- sampling ------------------------------------------------------------------------------
    @torch.no_grad()
    def _update_ema(self) -> None:
        if self.ema_generator is None or self.config.ema <= 0:
            return
        ema_params, live_params, ema_buffers, live_buffers = self._ema_pairs
        torch._foreach_lerp_(ema_params, live_params, 1.0 - self.config.ema)
        if ema_buffers:
            torch._foreach_copy_(ema_buffers, live_buffers)

    def sampling_generator(self) -> torch.nn.Module:
        return self.ema_generator if self.ema_generator is not None else self.model.generator

    def sample(self, z: torch.Tensor | None = None, labels: torch.Tensor | None = None) -> torch.Tensor:
        """G(z) on the CPU (fixed noise by default), in eval mode, without touching training state. A conditional
        G draws `labels` (default: the grid's rows with the fixed noise, else 0-9 in turn)."""
        if self.conditional and labels is None:
            labels = self.fixed_labels if z is None else cycle_labels(len(z), self.model.num_classes)
        z = self.fixed_z if z is None else z
        if labels is not None:
            if not self.conditional:
                raise ConfigError("This GAN is unconditional; it takes no class labels.")
            check_labels(labels, self.model.num_classes, len(z))
        return generate(self.sampling_generator(), z, self.device, labels)


def generate(
    generator: torch.nn.Module, z: torch.Tensor, device: torch.device | str = "cpu", labels: torch.Tensor | None = None
) -> torch.Tensor:
    """Run a generator (with labels, if conditional) in eval mode under inference_mode; CPU output; mode restored."""
    was_training = generator.training
    generator.eval()
    try:
        with torch.inference_mode():
            out = generator(z.to(device)) if labels is None else generator(z.to(device), labels.to(device))
    finally:
        generator.train(was_training)
    return out.float().cpu()
