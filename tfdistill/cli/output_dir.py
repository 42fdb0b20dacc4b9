"""Checks on a script's `--output_dir`, made before any training starts."""

import os
import tempfile

# Files whose presence marks a folder as an earlier tfdistill output that may be replaced
# (training_backup: the backup of a killed recipe run, see tfdistill/cli/resume.py).
OWN_MARKERS = ("metrics.json", "manifest.json", "config.json", "model_card.json", "pipeline.json", "report.json",
               "training_backup")


def check_output_dir(path):
    """Refuses an output folder that cannot be written or holds someone else's files.

    Args:
        path: str, the folder a script will (re)write.

    Returns:
        str, the absolute path.

    Raises:
        ValueError: `path` (or one of its parents) is a file, or an existing non-empty folder with
            no tfdistill output.
        PermissionError: the folder (or its nearest existing parent) is not writable.
    """
    path = os.path.abspath(path)
    if os.path.isfile(path):
        raise ValueError(f"--output_dir {path} is a file; pass a folder.")
    if os.path.isdir(path) and os.listdir(path) and not any(
            os.path.exists(os.path.join(path, marker)) for marker in OWN_MARKERS):
        raise ValueError(
            f"--output_dir {path} already holds files that tfdistill did not write "
            f"({sorted(os.listdir(path))[:5]}); choose an empty or new folder.")
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
    return path
