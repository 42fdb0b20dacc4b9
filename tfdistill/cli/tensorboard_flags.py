"""The `--tensorboard_dir` flag of the training commands (finetune, distill, prune, qat).

Each command logs to `<tensorboard_dir>/<command>`, as the pipeline logs each stage to
`<tensorboard_dir>/<stage>`, so one folder can hold a whole workflow:
`tensorboard --logdir=<tensorboard_dir>` shows the runs side by side.

Kept free of TensorFlow imports at module level so the commands define their flags cheaply.
"""

import os

from absl import flags


def define_tensorboard_flag():
    """Defines `--tensorboard_dir` (default: no logs)."""
    flags.DEFINE_string("tensorboard_dir", None, "TensorBoard folder (outside --output_dir): the training's losses "
                        "and metrics per epoch go to <dir>/<command>; see them with `tensorboard --logdir=<dir>`.")


def log_dir(values, command):
    """`<--tensorboard_dir>/<command>` (absolute), or None without the flag.

    Raises:
        ValueError: `--tensorboard_dir` is an empty string.
    """
    if values.tensorboard_dir is None:
        return None
    if not values.tensorboard_dir:
        raise ValueError("--tensorboard_dir is empty; name a folder, or leave the flag out for no logs.")
    return os.path.join(os.path.abspath(values.tensorboard_dir), command)


def check_log_dir(folder, output_dir):
    """Refuses a TensorBoard folder inside `output_dir`, which is replaced when it is published.

    Raises:
        ValueError: naming both folders.
    """
    if folder and (folder == output_dir or folder.startswith(output_dir + os.sep)):
        raise ValueError(f"--tensorboard_dir puts the logs in {folder}, inside --output_dir {output_dir}, which is "
                         "replaced at the end; choose a folder outside it.")


def tensorboard_callbacks(folder):
    """`training.callbacks.tensorboard_callbacks(folder)`, imported when called (TensorFlow)."""
    from tfdistill.training.callbacks import tensorboard_callbacks as callbacks

    return callbacks(folder)
