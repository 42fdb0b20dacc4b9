"""What every script shares: turning a bad-input error into a message and exit status 2, and a
fault (a diverged training run, a full disk) into a message and exit status 3."""

import errno
import re
import sys

from tfdistill.utils.errors import NonFiniteLossError

# Errors that mean "the input was wrong": reported as one line, no traceback.
INPUT_ERRORS = (ValueError, FileNotFoundError, PermissionError)

_DISK_FULL_ERRNOS = (errno.ENOSPC, errno.EDQUOT)
# Libraries that write for us wrap the OS error in their own exception and keep only its text:
# TensorFlow ("...; No space left on device [Op:SaveV2]"), h5py ("errno = 28, error message =
# 'No space left on device'"), safetensors ("I/O error: No space left on device (os error 28)").
_DISK_FULL_TEXT = re.compile(r"No space left on device|Disk quota exceeded|\bos error (28|122)\b")
# The flags naming where a script writes, for a message when the error names no file.
_OUTPUT_FLAGS = ("output_dir", "assets_dir", "json_output")
# Where such a text names the file: h5py's "filename = '...'", else the first absolute path.
_PATH_IN_TEXT = re.compile(r"filename = '([^']+)'|(?:^|[\s'\"=(])(/[^\s;,'\"\]\)]+)")


def run_or_exit(run, values, errors=INPUT_ERRORS):
    """Calls `run(values)`; on one of `errors` prints `error: <message>` to stderr and exits 2;
    on a fault it prints the same way and exits 3: `NonFiniteLossError` (a NaN or infinite loss
    stopped training) or a full disk (ENOSPC or a full quota, also when TensorFlow, h5py or
    safetensors report it). No traceback in either case.

    Args:
        run: callable, the script's body.
        values: absl `FLAGS` (or any object `run` accepts).
        errors: tuple of exception types to report.

    Returns:
        what `run` returned.

    Raises:
        SystemExit: with status 2 or 3, as above; other exceptions propagate.

    Example:
    >>> def main(argv):  # doctest: +SKIP
    ...     run_or_exit(run, FLAGS)
    """
    try:
        return run(values)
    except Exception as error:  # noqa: BLE001 (sorted below; anything else propagates)
        if is_disk_full(error):
            _exit(disk_full_message(error, values), 3)
        if isinstance(error, NonFiniteLossError):  # before `errors`: some include RuntimeError
            _exit(str(error), 3)
        if isinstance(error, errors):
            _exit(str(error), 2)
        raise


def parse_flags(argv):
    """absl's flag parser for `app.run(main, flags_parser=parse_flags)`: a flag value the flag
    refuses (`--epochs=two`, an enum's unknown choice) is bad input, so it exits 2, not absl's 1.

    Help flags (`--help`, `--helpfull`) exit as absl makes them.
    """
    from absl import flags

    try:
        return flags.FLAGS(argv)
    except flags.Error as error:
        print(f"FATAL Flags parsing error: {error}\nPass --helpshort or --helpfull to see help on flags.",
              file=sys.stderr)
        sys.exit(2)


def _exit(message, status):
    print(f"error: {message}", file=sys.stderr)
    sys.exit(status)


def _chain(error):
    """`error` and the exceptions it was raised from or while handling."""
    seen = []
    while error is not None and error not in seen:
        seen.append(error)
        error = error.__cause__ or error.__context__
    return seen


def is_disk_full(error):
    """Whether `error` (or one it came from) is a full disk or quota.

    Args:
        error: BaseException.

    Returns:
        bool.

    Example:
    >>> is_disk_full(OSError(28, "No space left on device"))
    True
    >>> is_disk_full(ValueError("bad flag"))
    False
    """
    for link in _chain(error):
        if isinstance(link, OSError) and link.errno in _DISK_FULL_ERRNOS:
            return True
        # Our own ValueErrors quote user input; only library errors are read for the OS text.
        if not isinstance(link, ValueError) and _DISK_FULL_TEXT.search(str(link)):
            return True
    return False


def disk_full_message(error, values=None):
    """The one-line report of a full disk: what was being written and the fix.

    Args:
        error: BaseException for which `is_disk_full` holds.
        values: optional absl `FLAGS`; when the error names no file (Python's own write errors
            do not), the script's output flag (`--output_dir`, ...) says where it was writing.

    Returns:
        str.

    Example:
    >>> disk_full_message(OSError(28, "No space left on device", "runs/x/model.tflite"))[:60]
    'The disk is full (No space left on device) while writing run'
    """
    path = _written_path(error)
    flag = next((name for name in _OUTPUT_FLAGS if getattr(values, name, None)), None)
    where = (f" while writing {path}" if path else
             f" while writing into --{flag}={getattr(values, flag)}" if flag else "")
    return (f"The disk is full (No space left on device){where}. Free space on that disk, or pass "
            "--output_dir on one with room, and run the same command again: outputs are written "
            "whole or not at all, and distill, prune, qat and the pipeline resume from their last "
            "finished epoch or stage.")


def _written_path(error):
    for link in _chain(error):
        if isinstance(link, OSError) and (link.filename2 or link.filename):
            return str(link.filename2 or link.filename)  # of two files, the second is written
        match = _PATH_IN_TEXT.search(str(link))
        if match and _DISK_FULL_TEXT.search(str(link)):
            return match.group(1) or match.group(2)
    return None
