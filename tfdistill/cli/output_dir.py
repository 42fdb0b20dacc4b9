"""Checks on a script's `--output_dir`, made before any training starts.

A script may write only a folder that is new, empty, or tfdistill's own (its marker file, see
`tfdistill.utils.ownership`); an earlier finished output is replaced only with `--overwrite`,
and never when the folder is (or holds) one of the command's inputs. The check also takes the
folder's write lock, held until the script ends, so two runs never write one folder.
"""

import os
import tempfile

from absl import flags

from tfdistill.utils import ownership

# Flags that name a script's input files or folders (the data flags and the model flags).
INPUT_FLAGS = ("train_file", "validation_file", "test_file", "data_dir", "teacher", "student", "model",
               "tokenizer", "base_model", "student_init")


def define_overwrite_flag():
    """Defines `--overwrite` (off): replace an earlier tfdistill output at `--output_dir`."""
    flags.DEFINE_bool("overwrite", False, "Replace an earlier tfdistill output at --output_dir "
                      "(folders tfdistill did not write are never replaced).")


def input_paths(values):
    """Returns `{--flag: path}` for every input-path flag the script defines and was given."""
    return {f"--{name}": values[name].value for name in INPUT_FLAGS
            if name in values and values[name].value and values[name].value not in ("self", "none")}


def check_output_dir(path, inputs=None, overwrite=False):
    """Refuses an output folder that cannot be written or holds what must not be replaced, and
    takes its write lock for the rest of this process.

    Args:
        path: str, the folder a script will (re)write.
        inputs: optional dict `{flag: path}` of the command's inputs (see `input_paths`).
        overwrite: bool, whether an earlier finished tfdistill output may be replaced.

    Returns:
        str, the absolute path.

    Raises:
        OutputConflictError (a ValueError): `path` (or a parent) is a file, holds files tfdistill
            did not write, is a finished output and `overwrite` is off, is or contains an input,
            or another process is writing it.
        PermissionError: the folder (or its nearest existing parent) is not writable.

    Example:
    >>> check_output_dir("runs/student", {"--teacher": "runs/teacher"})  # doctest: +SKIP
    '/work/runs/student'
    """
    path = os.path.abspath(path)
    ownership.check_not_an_input(path, inputs or {})
    ownership.check_replaceable(path, overwrite, what="--output_dir")
    existing = path
    while not os.path.isdir(existing):
        existing = os.path.dirname(existing)
        if os.path.exists(existing) and not os.path.isdir(existing):
            raise ValueError(f"--output_dir {path} cannot be created: {existing} is a file, not a folder. "
                             "Choose a path whose parents are folders.")
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as error:
        raise PermissionError(f"--output_dir {path} is not writable ({error.strerror} in {existing}); "
                              "choose a folder you can write.") from None
    ownership.acquire_lock(path, what="--output_dir")
    return path

