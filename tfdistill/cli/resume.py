"""Resumable recipe runs: re-running a killed command resumes after its last finished epoch."""

import os

from tfdistill.pipeline.manifest import BACKUP_FOLDER, fingerprint


def prepare_resumable_run(values, output_dir):
    """Seeds Python, numpy and TensorFlow from `--seed` and returns this run's backup folder.

    Seeding makes a re-run build the same initial model and data order as the killed run, so
    its restored epochs fit the rest. The folder is `<output_dir>/training_backup/<hash>`, the
    hash covering every non-absl flag: a re-run with other flags starts afresh instead of
    resuming someone else's training. Publishing the result replaces `output_dir`, which
    removes the backup.

    Args:
        values: absl `FLAGS`.
        output_dir: str, the checked `--output_dir`.

    Returns:
        str, the folder to pass as `backup_dir` to `distill` or `fit_student`.

    Example:
    >>> backup_dir = prepare_resumable_run(FLAGS, output_dir)  # doctest: +SKIP
    """
    import tf_keras as keras

    keras.utils.set_random_seed(values.seed)
    flag_values = {flag.name: flag.value for module, module_flags in values.flags_by_module_dict().items()
                   if not module.startswith("absl") for flag in module_flags}
    return os.path.join(output_dir, BACKUP_FOLDER, fingerprint(flag_values))
