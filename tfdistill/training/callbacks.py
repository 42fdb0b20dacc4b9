"""Callbacks tfdistill's own training loops use."""

import json
import logging
import os

import numpy as np
import tensorflow as tf
import tf_keras as keras

from tfdistill.utils import atomic

_log = logging.getLogger(__name__)


class KeepBestWeights(keras.callbacks.Callback):
    """Keeps the weights of the best epoch and restores them when training ends.

    Unlike `EarlyStopping(restore_best_weights=True)`, it restores even when training runs
    all its epochs, which is what "keep the best epoch on validation" needs. The best epoch's
    number, value and weights live in variables (`state`), so a `TrainingBackup` given this
    callback backs them up with every epoch and a resumed run still knows the best epoch
    before the interruption.

    Args:
        monitor: str, a metric in the epoch logs, e.g. `"val_accuracy"`.
        mode: `"max"`, `"min"`, or `"auto"` (`"max"` when `monitor` ends in `accuracy` or
            `agreement`, else `"min"`: losses and loss terms).
        eligible: optional callable `model -> bool`, asked at each epoch end; an epoch it
            rejects is never kept (e.g. a pruned model before its sparsity target).

    Attributes:
        best: the best value seen (None before any kept epoch); `best_epoch`: its 0-based
            epoch (None when no epoch was kept: the model then keeps its last weights).

    Raises:
        ValueError: an unknown `mode`.
        KeyError (from `fit`): the epoch logs lack `monitor` (no validation data).

    Example:
    >>> import tf_keras as keras
    >>> from tfdistill.training.testing import linear_classifier, separable_task
    >>> train, validation = separable_task()
    >>> model = linear_classifier()
    >>> model.compile(keras.optimizers.SGD(0.1), keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    ...               metrics=["accuracy"])
    >>> keep_best = KeepBestWeights("val_accuracy")
    >>> history = model.fit(train, validation_data=validation, epochs=3, callbacks=[keep_best], verbose=0)
    >>> accuracy = history.history["val_accuracy"]
    >>> keep_best.best_epoch == accuracy.index(max(accuracy)), keep_best.best == max(accuracy)
    (True, True)
    >>> model.evaluate(validation, verbose=0)[1] == max(accuracy)  # the model holds that epoch
    True
    """

    def __init__(self, monitor="val_accuracy", mode="auto", eligible=None):
        super().__init__()
        if mode not in ("max", "min", "auto"):
            raise ValueError(f"mode must be 'max', 'min' or 'auto', got {mode!r}.")
        self.monitor, self.eligible = monitor, eligible
        # Accuracy-like metrics grow; losses and every Distiller term (val_logit_kd, ...) shrink.
        self.mode = ("max" if monitor.endswith(("accuracy", "agreement")) else "min") if mode == "auto" else mode
        self._state = None

    @property
    def best_epoch(self):
        epoch = -1 if self._state is None else int(self._state.epoch.numpy())
        return None if epoch < 0 else epoch

    @property
    def best(self):
        return None if self.best_epoch is None else float(self._state.value.numpy())

    def state(self):
        """Returns the `tf.Module` holding the best epoch (created from the built model's weights).

        Raises:
            ValueError: the model is not built yet (its weights do not exist).
        """
        if self._state is None:
            if not self.model.built:
                raise ValueError("KeepBestWeights needs a built model to back up its best epoch; call the model on "
                                 "a batch before fit.")
            self._state = _BestEpoch(self.model.weights)
        return self._state

    def on_train_begin(self, logs=None):
        if self.model.built:
            self.state()

    def _improved(self, value):
        if self.best is None:
            return True
        return value > self.best if self.mode == "max" else value < self.best

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.monitor not in logs:
            raise KeyError(f"KeepBestWeights monitors {self.monitor!r} but the epoch logs only have "
                           f"{sorted(logs)}; pass validation_data to fit or monitor another metric.")
        value = float(logs[self.monitor])
        if self.eligible is not None and not self.eligible(self.model):
            return
        if np.isfinite(value) and self._improved(value):
            if self._state is None:  # a model built by its first step (no backup needed the copies sooner)
                self._state = _BestEpoch(self.model.weights)
            self._state.record(epoch, value, self.model.weights)

    def on_train_end(self, logs=None):
        if self.best_epoch is not None:
            self._state.restore_into(self.model.weights)


class _BestEpoch(tf.Module):
    """The best epoch's number, monitored value and weights, as variables a checkpoint can hold."""

    def __init__(self, weights):
        super().__init__(name="best_epoch")
        self.epoch = tf.Variable(-1, dtype=tf.int64, trainable=False)
        self.value = tf.Variable(0.0, dtype=tf.float64, trainable=False)
        # Copies, not references: the model's variables keep training.
        self.kept = [tf.Variable(weight.numpy(), trainable=False) for weight in weights]

    def record(self, epoch, value, weights):
        if len(weights) != len(self.kept):
            raise ValueError(f"The model has {len(weights)} weights but KeepBestWeights copied {len(self.kept)} "
                             "when training began; build every layer before fit.")
        self.epoch.assign(epoch)
        self.value.assign(value)
        for kept, weight in zip(self.kept, weights):
            kept.assign(weight)

    def restore_into(self, weights):
        for kept, weight in zip(self.kept, weights):
            weight.assign(kept)


class TerminateOnNonFinite(keras.callbacks.Callback):
    """Stops `fit` at the first step where any logged loss term is NaN or infinite.

    Unlike `keras.callbacks.TerminateOnNaN`, which watches only `loss` and ends training
    normally, it checks every value in the batch logs (each Distiller term, the total, the
    metrics) and raises from the batch hook: no epoch-end callback runs after the bad step, so
    a `BackupAndRestore` backup still holds the last finished (finite) epoch.

    Raises:
        NonFiniteLossError (from `fit`): naming the term, e.g. "hidden_mse was NaN at epoch 2,
            step 17" (1-based epoch and step; the logs are running means, so the term is
            non-finite from that step on).

    Example:
    >>> import tf_keras as keras
    >>> from tfdistill.training.testing import linear_classifier, separable_task
    >>> train, _ = separable_task()
    >>> model = linear_classifier()
    >>> model.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    >>> model.fit(train.map(lambda x, y: (x * np.nan, y)), epochs=3, callbacks=[TerminateOnNonFinite()],
    ...           verbose=0)
    Traceback (most recent call last):
    tfdistill.utils.errors.NonFiniteLossError: loss was NaN at epoch 1, step 1; training stopped. ...
    """

    def __init__(self):
        super().__init__()
        self._epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        from tfdistill.utils.errors import NonFiniteLossError

        bad = {name: float(value) for name, value in (logs or {}).items()
               if np.size(value) == 1 and not np.isfinite(float(value))}
        if not bad:
            return
        # A term is named before the total it feeds.
        term = next((name for name in bad if name != "loss"), "loss")
        kind = "NaN" if np.isnan(bad[term]) else "infinite"
        others = sorted(set(bad) - {term})
        also = f" ({', '.join(others)} too)" if others else ""
        message = (f"{term} was {kind} at epoch {self._epoch + 1}, step {batch + 1}{also}; training stopped. "
                   "Lower the learning rate or check the loss weights and the data.")
        raise NonFiniteLossError(message, term, self._epoch + 1, batch + 1)


class TrainingBackup(keras.callbacks.BackupAndRestore):
    """`BackupAndRestore` that resumes exactly: data order, history, and a finished run.

    At every epoch end it backs up the whole training state (weights, optimizer, tfmot pruning
    steps and masks, quantizer ranges: every variable of the model) to `backup_dir`, and the
    epoch's logs to `history.json`. When `fit` starts with a backup there, it restores it,
    skips the finished epochs, iterates `train_data` once per finished epoch (so a dataset
    reshuffled each epoch with a fixed seed yields the order the uninterrupted run would have),
    and puts the finished epochs' logs back into the `History` that `fit` returns. The backup is
    kept when training ends (`delete_checkpoint=False`): a re-run after a finished `fit`
    restores it and trains no more epochs; delete the folder once the result is published.

    Given the run's `KeepBestWeights`, the backup also holds its best epoch (number, value and
    weights, in the same checkpoint as the epoch they belong to), so a resumed or re-run `fit`
    still restores the best epoch when that was one before the interruption. Put this callback
    after the `KeepBestWeights` and after every callback that changes the model at an epoch
    end (tfmot's re-masking), so each backup holds the epoch as those callbacks left it.

    Args:
        backup_dir: str, one folder per training run (created).
        train_data: optional `tf.data.Dataset`, the one passed to `fit`.
        keep_best: optional `KeepBestWeights` of the same `fit` (the model must be built
            before `fit`, so the best weights' copies can be made before the restore).

    Attributes:
        resumed_epochs: int, epochs restored from the backup in the last `fit` (0: fresh).

    Example:
    >>> import tf_keras as keras
    >>> from tfdistill.training.testing import linear_classifier, separable_task
    >>> train, _ = separable_task()
    >>> def compiled_model():
    ...     model = linear_classifier()
    ...     model.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    ...     return model
    >>> history = compiled_model().fit(train, epochs=2, verbose=0,  # stands for a run stopped after 2 epochs
    ...                                callbacks=[TrainingBackup("runs/x/training_backup", train)])
    >>> backup = TrainingBackup("runs/x/training_backup", train)  # the same call again, in a new process
    >>> history = compiled_model().fit(train, epochs=3, callbacks=[backup], verbose=0)
    >>> backup.resumed_epochs, len(history.history["loss"])  # epochs 1-2 restored, epoch 3 trained
    (2, 3)
    """

    HISTORY_FILE = "history.json"

    def __init__(self, backup_dir, train_data=None, keep_best=None):
        super().__init__(backup_dir, delete_checkpoint=False)
        self.train_data, self.keep_best = train_data, keep_best
        self.resumed_epochs = 0
        self._history = {}

    def _history_path(self):
        return os.path.join(self.backup_dir, self.HISTORY_FILE)

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        if self.keep_best is not None:
            # Saved with every later backup. Attached after the restore above, it is restored as it
            # attaches (TensorFlow restores a checkpoint's dependencies that are attached late).
            self._training_state.read_checkpoint_manager.checkpoint.keep_best = self.keep_best.state()
        # The restored epoch counter of BackupAndRestore: the last backed-up epoch, -1 if none.
        done = max(int(self._training_state._ckpt_saved_epoch.numpy()) + 1, 0)
        self.resumed_epochs, self._history = done, {}
        if not done:
            return
        if os.path.exists(self._history_path()):
            with open(self._history_path(), encoding="utf-8") as f:
                # Written before the checkpoint, so it may hold one epoch more than the backup.
                self._history = {name: values[:done] for name, values in json.load(f).items()}
        self.model.history.history = {name: list(values) for name, values in self._history.items()}
        if self.train_data is not None:
            for _ in range(done):
                for _ in self.train_data:
                    pass
        epochs = self.params.get("epochs") or done
        left = f"training epoch {done + 1} of {epochs}" if done < epochs else "no epoch left to train"
        _log.warning("Resumed from the backup in %s: epochs 1-%d were done, %s.", self.backup_dir, done, left)

    def on_epoch_end(self, epoch, logs=None):
        for name, value in (logs or {}).items():
            self._history.setdefault(name, []).append(float(value))
        atomic.write_json(self._history_path(), self._history)
        super().on_epoch_end(epoch, logs)


def tensorboard_callbacks(folder):
    """`[keras.callbacks.TensorBoard(log_dir=folder)]`, or `[]` when `folder` is None.

    Example:
    >>> tensorboard_callbacks(None)
    []
    """
    return [] if folder is None else [keras.callbacks.TensorBoard(log_dir=folder)]
