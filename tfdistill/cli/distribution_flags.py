"""The `--distribution_strategy` flag of the training commands, the `tf.distribute` strategy it
names, and where each worker of a multi-worker run writes.

The values are the TensorFlow Model Garden's names: `off` (the default strategy, one device),
`mirrored` (every local GPU, or the CPU, in sync) and `multi_worker_mirrored` (one process per
machine, the cluster read from the TF_CONFIG environment variable). Every worker runs the same
command with the same flags; `--batch_size` is the global batch, split across the replicas. Only
the chief writes `--output_dir`; the other workers write to a temporary folder removed at the end,
as the TensorFlow guide recommends (they must still save: saving can run collective ops that
wait for every worker).
"""

import contextlib
import json
import os
import shutil
import tempfile

from absl import flags

OFF, MIRRORED, MULTI_WORKER = "off", "mirrored", "multi_worker_mirrored"
TF_CONFIG_EXAMPLE = ('TF_CONFIG=\'{"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
                     '"task": {"type": "worker", "index": 0}}\'')


def define_distribution_flags():
    """Defines `--distribution_strategy`."""
    flags.DEFINE_enum(
        "distribution_strategy", OFF, [OFF, MIRRORED, MULTI_WORKER],
        "off: one device; mirrored: every local GPU (or the CPU) in sync; multi_worker_mirrored: one "
        "process per machine, the cluster read from TF_CONFIG (run the same command on every worker; "
        "--batch_size is the global batch; only the chief writes --output_dir; a killed multi-worker "
        "run starts afresh).")


def strategy_from_flags(values):
    """Returns the `tf.distribute.Strategy` that `--distribution_strategy` names.

    Call it before anything runs a TensorFlow op: a multi-worker strategy must be created before
    the runtime starts.

    Args:
        values: absl `FLAGS` with `distribution_strategy`.

    Returns:
        `tf.distribute.Strategy`; build the models and train inside its `scope()`.

    Raises:
        ValueError: `multi_worker_mirrored` without a usable TF_CONFIG.

    Example:
    >>> strategy = strategy_from_flags(FLAGS)  # doctest: +SKIP
    >>> with strategy.scope():  # doctest: +SKIP
    ...     student = build_student()
    """
    name = values.distribution_strategy
    if name == MULTI_WORKER:
        check_tf_config(os.environ.get("TF_CONFIG"))  # before TensorFlow's slow import
    import tensorflow as tf

    if name == MIRRORED:
        return tf.distribute.MirroredStrategy()
    if name == MULTI_WORKER:
        return tf.distribute.MultiWorkerMirroredStrategy()
    return tf.distribute.get_strategy()


def check_tf_config(text):
    """Refuses a TF_CONFIG that does not name a cluster of workers and this process's task.

    Without TF_CONFIG, TensorFlow would silently run a one-worker "cluster".

    Raises:
        ValueError: naming what is missing, with an example.

    Example:
    >>> check_tf_config('{"cluster": {"worker": ["localhost:2222"]}, "task": {"type": "worker", "index": 0}}')
    """
    fix = f"set it on every worker, e.g. {TF_CONFIG_EXAMPLE} (index 1 on the second)."
    if not text:
        raise ValueError(f"--distribution_strategy={MULTI_WORKER} reads the cluster from the TF_CONFIG environment "
                         f"variable, which is not set; {fix}")
    try:
        config = json.loads(text)
    except ValueError as error:
        raise ValueError(f"TF_CONFIG is not JSON ({error}); {fix}") from None
    cluster, task = (config.get("cluster"), config.get("task")) if isinstance(config, dict) else (None, None)
    if not isinstance(cluster, dict) or not (cluster.get("worker") or cluster.get("chief")):
        raise ValueError(f"TF_CONFIG names no workers (\"cluster\": {{\"worker\": [...]}}); {fix}")
    if not isinstance(task, dict) or task.get("type") not in cluster or not isinstance(task.get("index"), int):
        raise ValueError(f"TF_CONFIG's \"task\" ({task}) is not one of its cluster's tasks; {fix}")


def is_chief(strategy):
    """Whether this process writes the outputs: always, except on the non-chief workers of a
    multi-worker strategy (the chief is the task of type "chief", else worker 0).

    Example:
    >>> import tensorflow as tf
    >>> is_chief(tf.distribute.get_strategy())
    True
    """
    return strategy.extended.should_checkpoint


def can_resume(strategy):
    """Whether a killed run may resume from a training backup.

    Not under a multi-worker strategy: Keras restores a non-chief worker from the chief's backup
    folder, which another machine does not see, so the workers would resume at different epochs.

    Example:
    >>> import tensorflow as tf
    >>> can_resume(tf.distribute.get_strategy())
    True
    """
    import tensorflow as tf

    return not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)


@contextlib.contextmanager
def worker_output_dir(strategy, output_dir):
    """Yields the folder this process writes instead of `output_dir`.

    The chief writes `output_dir` itself; another worker gets a folder that does not exist yet
    inside a temporary directory, removed when the block ends.

    Example:
    >>> with worker_output_dir(strategy, FLAGS.output_dir) as output_dir:  # doctest: +SKIP
    ...     train_and_write(output_dir)
    """
    if is_chief(strategy):
        yield output_dir
        return
    scratch = tempfile.mkdtemp(prefix=f"tfdistill-worker{strategy.cluster_resolver.task_id}-")
    try:
        yield os.path.join(scratch, os.path.basename(os.path.normpath(output_dir)) or "output")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def run_distributed(values, write):
    """Calls `write(values, output_dir, resumable=...)` inside the scope of the strategy
    `--distribution_strategy` names, where `output_dir` is `worker_output_dir`'s folder and
    `resumable` is `can_resume`: what every training command does around its body.

    Returns:
        what `write` returned.

    Example:
    >>> def main(argv):  # doctest: +SKIP
    ...     run_or_exit(lambda values: run_distributed(values, distill_and_write), FLAGS)
    """
    strategy = strategy_from_flags(values)  # before any TensorFlow op
    with worker_output_dir(strategy, values.output_dir) as output_dir, strategy.scope():
        return write(values, output_dir, resumable=can_resume(strategy))
