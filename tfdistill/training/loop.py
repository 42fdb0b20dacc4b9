"""`train_model`: the one training loop of teacher fine-tuning, distillation and compression.

It compiles the model with the BERT AdamW schedule, orders the callbacks that every run needs
(the NaN guard, keep-best, the backup), runs `fit` and reports what happened.
"""

import dataclasses
import time

import tensorflow as tf
import tf_keras as keras

from tfdistill.training import optimization
from tfdistill.training.callbacks import KeepBestWeights, TerminateOnNonFinite, TrainingBackup


@dataclasses.dataclass
class TrainResult:
    """What `train_model` measured.

    Attributes:
        history: dict of per-epoch metric lists (`loss`, ..., `val_accuracy`), resumed epochs
            included.
        best_epoch: int, the 0-based epoch whose weights the model holds (the last epoch
            without keep-best, or when no epoch was eligible).
        train_seconds: float, wall time of `fit` in this call.
        resumed_epochs: int, epochs restored from `backup_dir` instead of trained (0: fresh).
    """

    history: dict
    best_epoch: int
    train_seconds: float
    resumed_epochs: int = 0


def train_model(model, train, validation=None, *, epochs, learning_rate, steps_per_epoch=None, warmup_fraction=0.1,
                weight_decay=0.01, loss=None, metrics=None, callbacks=(), backup_dir=None, keep_best=False,
                monitor="val_accuracy", best_epoch_eligible=None, verbose=1):
    """Compiles `model` with AdamW (linear warm-up and decay) and fits it on `train`.

    `model` is any tf-keras model whose `fit` reports `monitor`: a `Distiller` (its compile
    takes the optimizer only; it reports the student's `accuracy`) or a logits model with
    `loss` and `metrics` (`train_classifier`). The callbacks run in this order: `callbacks`,
    the NaN guard (`TerminateOnNonFinite`), keep-best, the backup. Keep-best comes after the
    caller's callbacks so it copies an epoch as they left it (tfmot's `UpdatePruningStep`
    re-masks the weights at each epoch end); the backup goes last so it saves each epoch
    after all of them, and restores last at the start, after `UpdatePruningStep` has set a
    fresh run's pruning step to 0, so the restored step wins.

    Args:
        model: the tf-keras model to train (in place).
        train: `tf.data.Dataset` of `(features, labels)` batches, ideally with a known
            cardinality (`training_datasets`, `with_steps`).
        validation: optional `tf.data.Dataset`, evaluated after every epoch (needed by
            `keep_best`).
        epochs: int >= 1.
        learning_rate: float, the AdamW peak learning rate.
        steps_per_epoch: int, batches per epoch, for the learning-rate schedule; default: the
            cardinality of `train`.
        warmup_fraction: float in [0, 1), the share of steps with linear warm-up.
        weight_decay: float, AdamW decoupled weight decay (not on LayerNorm or biases).
        loss: optional Keras loss for `compile` (None for a `Distiller`).
        metrics: optional Keras metrics for `compile`.
        callbacks: extra Keras callbacks.
        backup_dir: optional folder where every finished epoch is backed up (`TrainingBackup`,
            with the keep-best record); a call with the same arguments and folder resumes after
            the last finished epoch with the same data order, and a call after a finished run
            trains nothing and returns its result. A backup written without keep-best holds no
            best epoch, so resuming it with keep-best only considers the epochs trained after.
        keep_best: bool, restore the weights of the epoch with the best `monitor` when training
            ends (`KeepBestWeights`).
        monitor: str, the epoch-log metric keep-best compares (`"val_loss"`-like names are
            minimised, others maximised).
        best_epoch_eligible: optional callable `model -> bool` asked at each epoch end; keep-best
            never restores an epoch it rejects (e.g. a pruned model below its target sparsity).
        verbose: Keras verbosity.

    Returns:
        `TrainResult`; `model` holds the kept epoch's weights.

    Raises:
        ValueError: `epochs` < 1, `keep_best` without `validation`, or no `steps_per_epoch`
            and a `train` of unknown length.
        NonFiniteLossError: a logged loss or metric became NaN or infinite (naming it, the
            epoch and the step); the backup keeps the last finished epoch.

    Example:
    >>> from tfdistill import Distiller
    >>> from tfdistill.training.datasets import training_datasets
    >>> datasets = training_datasets(data.train, data.validation, preprocessor, 8)
    >>> distiller = Distiller(student=student, teacher=teacher)
    >>> result = train_model(distiller, datasets.train, datasets.validation, epochs=3,
    ...                      learning_rate=1e-4, keep_best=True, verbose=0)  # doctest: +SKIP
    >>> sorted(result.history)  # doctest: +SKIP
    ['accuracy', 'agreement', 'hard_label', 'logit_kd', 'loss', 'val_accuracy', 'val_agreement',
     'val_hard_label', 'val_logit_kd', 'val_loss']
    """
    if epochs < 1:
        raise ValueError(f"epochs must be >= 1, got {epochs}.")
    if keep_best and validation is None:
        raise ValueError(f"keep_best compares {monitor!r} on validation data; pass validation or keep_best=False.")
    steps_per_epoch = steps_per_epoch or _known_steps(train)
    # Metric results are already global across replicas; Keras' default ("sum" off TPU) would add
    # them up again and show N times the loss mid-epoch on N workers.
    model.distribute_reduction_method = "first"
    model.compile(optimizer=optimization.adamw(learning_rate, epochs * steps_per_epoch, warmup_fraction,
                                               weight_decay),
                  loss=loss, metrics=metrics)
    keeper = KeepBestWeights(monitor, eligible=best_epoch_eligible) if keep_best else None
    callbacks = [*callbacks, TerminateOnNonFinite(), *([keeper] if keeper else [])]
    backup = None
    if backup_dir:
        _build(model, train)  # the backup (and keep-best's copies) restore into existing variables
        backup = TrainingBackup(backup_dir, train, keep_best=keeper)
        callbacks.append(backup)
    start = time.perf_counter()
    history = model.fit(train, validation_data=validation, epochs=epochs, callbacks=callbacks, verbose=verbose)
    seconds = time.perf_counter() - start
    last_epoch = len(history.history.get("loss", ())) - 1  # fewer than `epochs` if a callback stopped fit
    best_epoch = keeper.best_epoch if keeper and keeper.best_epoch is not None else last_epoch
    return TrainResult(history=history.history, best_epoch=best_epoch, train_seconds=seconds,
                       resumed_epochs=backup.resumed_epochs if backup else 0)


def train_classifier(model, train, validation=None, **kwargs):
    """`train_model` for a model that returns logits: sparse cross-entropy on the labels and
    `accuracy` (the metric keep-best monitors as `val_accuracy`).

    Args:
        model: a tf-keras model mapping features to `[batch, num_labels]` logits
            (`tfdistill.models.bert.bert_model.logits_model`).
        train: `tf.data.Dataset` of `(features, labels)` batches.
        validation: optional `tf.data.Dataset`.
        **kwargs: `train_model` keyword arguments (not `loss` or `metrics`).

    Returns:
        `TrainResult`.

    Example:
    >>> from tfdistill.training.testing import linear_classifier, separable_task
    >>> train, validation = separable_task()
    >>> result = train_classifier(linear_classifier(), train, validation, epochs=3, learning_rate=0.1,
    ...                           keep_best=True, verbose=0)
    >>> sorted(result.history), len(result.history["loss"])
    (['accuracy', 'loss', 'val_accuracy', 'val_loss'], 3)
    >>> result.best_epoch == result.history["val_accuracy"].index(max(result.history["val_accuracy"]))
    True

    A BERT classifier trains through its logits (`logits_model`), e.g. on `training_datasets`:

    >>> from tfdistill.models.bert.bert_model import logits_model
    >>> from tfdistill.training.datasets import training_datasets
    >>> datasets = training_datasets(data.train, data.validation, preprocessor, 8)
    >>> result = train_classifier(logits_model(student), datasets.train, datasets.validation, epochs=2,
    ...                           learning_rate=1e-4, keep_best=True, verbose=0)  # doctest: +SKIP
    """
    return train_model(model, train, validation, loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                       metrics=["accuracy"], **kwargs)


def _known_steps(dataset):
    steps = int(dataset.cardinality())
    if steps < 0:
        raise ValueError("The training dataset's length is unknown; pass steps_per_epoch or declare it with "
                         "tfdistill.training.steps.with_steps.")
    return steps


def _build(model, dataset):
    """Creates `model`'s variables with one all-zeros batch shaped like `dataset`'s features, so a
    backup restores into them at once, without reading the data (whose shuffle order a resume
    must repeat)."""
    if model.built:
        return
    spec = dataset.element_spec
    features = spec[0] if isinstance(spec, tuple) else spec
    model(tf.nest.map_structure(lambda s: tf.zeros([d or 1 for d in s.shape], s.dtype), features), training=False)


__all__ = ["TrainResult", "train_model", "train_classifier"]
