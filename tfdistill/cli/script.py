"""What every script shares: turning a bad-input error into a message and exit status 2, and a
diverged training run into a message and exit status 3."""

import sys

from tfdistill.utils.errors import NonFiniteLossError

# Errors that mean "the input was wrong": reported as one line, no traceback.
INPUT_ERRORS = (ValueError, FileNotFoundError, PermissionError)


def run_or_exit(run, values, errors=INPUT_ERRORS):
    """Calls `run(values)`; on one of `errors` prints `error: <message>` to stderr and exits 2;
    on `NonFiniteLossError` (a NaN or infinite loss stopped training) it prints the same way and
    exits 3.

    Args:
        run: callable, the script's body.
        values: absl `FLAGS` (or any object `run` accepts).
        errors: tuple of exception types to report.

    Returns:
        what `run` returned.

    Example:
    >>> def main(argv):  # doctest: +SKIP
    ...     run_or_exit(run, FLAGS)
    """
    try:
        return run(values)
    except errors as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
    except NonFiniteLossError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(3)
