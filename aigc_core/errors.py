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
    """A loss or gradient became NaN/inf; the trainer has restored the last finite weights."""
