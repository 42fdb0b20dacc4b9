"""Errors a training run raises that scripts report as one line (kept free of heavy imports)."""


class NonFiniteLossError(RuntimeError):
    """A loss term became NaN or infinite; training stopped at that step.

    Args:
        message: str, names the term, the epoch and the step (both 1-based).
        term: str, the first non-finite term in the logs.
        epoch: int, 1-based epoch.
        step: int, 1-based step within the epoch.

    Example:
    >>> error = NonFiniteLossError("hidden_mse was NaN at epoch 2, step 17", "hidden_mse", 2, 17)
    >>> error.term, error.epoch, error.step
    ('hidden_mse', 2, 17)
    >>> raise error
    Traceback (most recent call last):
    ...
    tfdistill.utils.errors.NonFiniteLossError: hidden_mse was NaN at epoch 2, step 17
    """

    def __init__(self, message, term=None, epoch=None, step=None):
        super().__init__(message)
        self.term, self.epoch, self.step = term, epoch, step


class OutputConflictError(ValueError):
    """An output path cannot be written without destroying something: it holds files tfdistill
    did not write, an earlier output (without `overwrite`), one of the command's inputs, or
    another process is writing it. A `ValueError`, so scripts report it and exit with status 2.

    Example:
    >>> isinstance(OutputConflictError("--output_dir runs/x holds files tfdistill did not write"), ValueError)
    True
    """
