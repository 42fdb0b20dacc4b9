"""Resumable recipe runs: re-running a killed command resumes after its last finished epoch."""

import json
import os
import shutil

from tfdistill.pipeline.manifest import BACKUP_FOLDER, data_fingerprint, fingerprint
from tfdistill.utils import ownership

INPUTS_FILE = "inputs.json"
# Flags that do not change what a run computes.
_NOT_INPUTS = ("overwrite",)


def prepare_resumable_run(values, output_dir, data):
    """Seeds Python, numpy and TensorFlow from `--seed` and returns this run's backup folder.

    Seeding makes a re-run build the same initial model and data order as the killed run, so
    its restored epochs fit the rest. The folder is `<output_dir>/training_backup/<hash>`, the
    hash covering every non-absl flag and the content of the data: a re-run with other flags or
    changed training files starts afresh (and says why) instead of resuming someone else's
    training. Publishing the result replaces `output_dir`, which removes the backup.

    Args:
        values: absl `FLAGS`.
        output_dir: str, the checked `--output_dir`.
        data: `TextClassificationData`, the loaded dataset, or a list of unlabeled texts.

    Returns:
        str, the folder to pass as `backup_dir` to `distill` or `fit_student`.

    Example:
    >>> backup_dir = prepare_resumable_run(FLAGS, output_dir, data)  # doctest: +SKIP
    """
    import tf_keras as keras

    keras.utils.set_random_seed(values.seed)
    inputs = {"flags": {flag.name: flag.value for module, module_flags in values.flags_by_module_dict().items()
                        if not module.startswith("absl") for flag in module_flags if flag.name not in _NOT_INPUTS},
              "data": data_fingerprint(data) if hasattr(data, "splits") else fingerprint(list(data))}
    backups = os.path.join(output_dir, BACKUP_FOLDER)
    backup_dir = os.path.join(backups, fingerprint(inputs))
    _drop_stale_backups(backups, keep=backup_dir, inputs=inputs)
    ownership.claim(output_dir, "in_progress", bookkeeping=(INPUTS_FILE,))
    os.makedirs(backup_dir, exist_ok=True)
    with open(os.path.join(backup_dir, INPUTS_FILE), "w", encoding="utf-8") as f:
        json.dump(inputs, f, indent=2, sort_keys=True, default=str)
    return backup_dir


def _drop_stale_backups(backups, keep, inputs):
    """Removes the backups of earlier runs with other inputs, saying what changed."""
    if not os.path.isdir(backups):
        return
    for name in sorted(os.listdir(backups)):
        folder = os.path.join(backups, name)
        if folder == keep or not os.path.isdir(folder):
            continue
        try:
            with open(os.path.join(folder, INPUTS_FILE), encoding="utf-8") as f:
                earlier = json.load(f)
        except (OSError, ValueError):
            earlier = {}
        changed = sorted(key for key in set(inputs["flags"]) | set(earlier.get("flags", {}))
                         if inputs["flags"].get(key) != earlier.get("flags", {}).get(key))
        if earlier.get("data") not in (None, inputs["data"]):
            changed.insert(0, "the training data's content")
        print(f"Not resuming the backup in {folder}: "
              f"{', '.join(changed) if changed else 'its inputs are unknown'} changed; starting afresh.", flush=True)
        shutil.rmtree(folder, ignore_errors=True)
