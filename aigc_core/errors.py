"""The project's own exceptions: each carries a message a user can act on."""


class AigcError(Exception):
    """Base class: anything the app can show to a user as a plain message."""


class DataError(AigcError):
    """A data file or user-supplied data set is missing, truncated, corrupt or of the wrong kind."""


class ImageInputError(AigcError):
    """An uploaded image cannot be turned into a 28x28 digit."""


class CheckpointError(AigcError):
    """A checkpoint folder or file cannot be loaded safely."""


class ConfigError(AigcError):
    """A hyperparameter or configuration value is out of range."""


class TrainingDiverged(AigcError):
    """Training went wrong beyond repair and the trainer has restored the last good weights.

    `kind` says how: "non_finite" (a loss or gradient became NaN/inf), "explosion" (a finite loss far beyond any
    healthy run's) or "saturation" (D won outright for many updates). `step` is the step that diverged;
    `restored_step` the step whose weights (and step counters) the trainer went back to, or None when the failed
    update was simply not applied.
    """

    KINDS = ("non_finite", "explosion", "saturation")

    def __init__(self, message: str, step: int | None = None, restored_step: int | None = None,
                 kind: str = "non_finite") -> None:
        super().__init__(message)
        self.step = step
        self.restored_step = restored_step
        self.kind = kind if kind in self.KINDS else "non_finite"


class NonFiniteOutput(AigcError):
    """A model produced NaN or infinite values; they are never shown as pictures nor written to a file."""
