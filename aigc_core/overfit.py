"""The small-training-set experiment of membership inference: train a model on a few hundred MNIST digits for long
enough to overfit, then attack it (`membership.membership_attack`) with those digits as members and test digits as
non-members. Step-wise (`step()` like a trainer), so a page can run it in time slices with a progress bar.

The shipped models saw 60,000 digits each a few times; this one sees each of its 100 digits hundreds of times, which
is what makes a member stand out (Yeom et al., 2018: the attack's advantage grows with the generalisation gap).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, ClassVar, Literal, get_args

from .errors import ConfigError
from .factory import build_trainer
from .membership import MAX_SUBSET, MembershipResult, membership_attack, training_subset
from .mnist import Digits, ImageSource, load_mnist
from .presets import get_preset

OverfitFamily = Literal["vae", "gan"]
OVERFIT_FAMILIES: tuple[str, ...] = get_args(OverfitFamily)
PRESET_FOR: dict[str, str] = {"vae": "vae_mlp_fast", "gan": "gan_mlp_live"}  # fast MLP recipes, shipped elsewhere
MAX_STEPS = 20_000
# Steps that overfit 100 digits clearly (measured AUCs: docs/PRIVACY.md): a GAN's D needs longer than a VAE.
DEFAULT_STEPS: dict[str, int] = {"vae": 800, "gan": 1500}
MAX_NONMEMBERS = 10_000  # the test set


@dataclass(frozen=True)
class OverfitConfig:
    family: OverfitFamily = "vae"
    subset_size: int = 100  # training digits (the members)
    steps: int = 800  # each of the 100 digits seen ~250 times at batch 32
    batch_size: int = 32
    nonmembers: int = 1000  # test digits the attack is measured against
    seed: int = 0

    QUICK: ClassVar["OverfitConfig"]

    @classmethod
    def for_family(cls, family: str, **changes: Any) -> "OverfitConfig":
        """The default experiment for `family` (its DEFAULT_STEPS), with `changes` applied."""
        return cls(**{"family": family, "steps": DEFAULT_STEPS.get(family, cls.steps), **changes})

    def validate(self) -> None:
        if self.family not in OVERFIT_FAMILIES:
            raise ConfigError(f"The experiment trains a {' or '.join(OVERFIT_FAMILIES)}; got {self.family!r}.")
        if isinstance(self.subset_size, bool) or not isinstance(self.subset_size, int) or not (
            1 <= self.subset_size <= MAX_SUBSET
        ):
            empty = "it cannot be empty: " if self.subset_size == 0 else ""
            raise ConfigError(f"The training subset must hold 1 to {MAX_SUBSET:,} digits ({empty}at least one digit, "
                              f"at most all of MNIST's training set); got {self.subset_size!r}.")
        if not 1 <= self.steps <= MAX_STEPS:
            raise ConfigError(f"Steps must be from 1 to {MAX_STEPS:,}; got {self.steps!r}.")
        if not 1 <= self.nonmembers <= MAX_NONMEMBERS:
            raise ConfigError(f"Non-members must be 1 to {MAX_NONMEMBERS:,} test digits; got {self.nonmembers!r}.")


OverfitConfig.QUICK = OverfitConfig(steps=200, nonmembers=300)  # the tests' size: already clearly overfit


def nonmember_digits(count: int, seed: int = 0) -> Digits:
    """`count` test digits (seeded draw): digits no shipped or experimental model trained on."""
    return training_subset(load_mnist("test"), count, seed)[0]


class OverfitExperiment:
    """A fresh model of `PRESET_FOR[family]` trained on `subset_size` training digits; `result()` attacks it."""

    def __init__(self, config: OverfitConfig = OverfitConfig(), *, device: str = "cpu") -> None:
        config.validate()
        self.config = config
        self.members, self.member_rows = training_subset(load_mnist("train"), config.subset_size, config.seed)
        preset = get_preset(PRESET_FOR[config.family])
        train_config = replace(preset.train_config, seed=config.seed, batch_size=config.batch_size)
        if hasattr(train_config, "schedule_steps") and train_config.schedule_steps:
            train_config = replace(train_config, schedule_steps=config.steps)  # the decay spans this run
        pixel_range = "signed" if config.family == "gan" else "unit"
        source = ImageSource(self.members, pixel_range=pixel_range, device=device)
        self.trainer = build_trainer(preset.model_config, train_config, source=source, device=device)
        self.iteration = 0

    @property
    def remaining(self) -> int:
        return self.config.steps - self.iteration

    @property
    def done(self) -> bool:
        return self.remaining <= 0

    @property
    def progress(self) -> float:
        return min(1.0, self.iteration / self.config.steps)

    def step(self) -> Any:
        """One training step (the trainer's stats); a finished experiment refuses more."""
        if self.done:
            raise ConfigError("The experiment has finished its steps.")
        stats = self.trainer.step()
        self.iteration += 1
        return stats

    @property
    def model(self) -> Any:
        return self.trainer.model

    def result(self, nonmembers: Digits | None = None) -> MembershipResult:
        """The attack on the model as it is now: its members against `config.nonmembers` test digits."""
        others = nonmembers if nonmembers is not None else nonmember_digits(self.config.nonmembers, self.config.seed)
        model = self.trainer.model
        was_training = model.training
        model.eval()
        try:
            return membership_attack(model, self.members, others, seed=self.config.seed)
        finally:
            model.train(was_training)


def shipped_members(count: int, seed: int = 0) -> Digits:
    """`count` training digits (seeded draw) as the members of a shipped model, trained on all 60,000."""
    return training_subset(load_mnist("train"), count, seed)[0]

