"""Callbacks tfdistill's own training loops use."""

import json
import logging
import os

import numpy as np
import tf_keras as keras

from tfdistill.utils import atomic

_log = logging.getLogger(__name__)


class KeepBestWeights(keras.callbacks.Callback):
    """Keeps the weights of the best epoch in memory and restores them when training ends.

    Unlike `EarlyStopping(restore_best_weights=True)`, it restores even when training runs
    all its epochs, which is what "keep the best epoch on validation" needs.

    Args:
        monitor: str, a metric in the epoch logs, e.g. `"val_accuracy"`.
        mode: `"max"` or `"min"`.

    Attributes:
        best: the best value seen; `best_epoch`: its 0-based epoch (None before any epoch).
    """

    def __init__(self, monitor="val_accuracy", mode="max"):
        super().__init__()
        if mode not in ("max", "min"):
            raise ValueError(f"mode must be 'max' or 'min', got {mode!r}.")
        self.monitor, self.mode = monitor, mode
        self.best, self.best_epoch, self._weights = None, None, None

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
        if np.isfinite(value) and self._improved(value):
            self.best, self.best_epoch = value, epoch
            self._weights = self.model.get_weights()

    def on_train_end(self, logs=None):
        if self._weights is not None:
            self.model.set_weights(self._weights)


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
    >>> distiller.fit(train, epochs=3, callbacks=[TerminateOnNonFinite()])  # doctest: +SKIP
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

    Args:
        backup_dir: str, one folder per training run (created).
        train_data: optional `tf.data.Dataset`, the one passed to `fit`.

    Attributes:
        resumed_epochs: int, epochs restored from the backup in the last `fit` (0: fresh).

    Example:
    >>> model.fit(train, epochs=3, callbacks=[TrainingBackup("runs/x/training_backup", train)])  # doctest: +SKIP
    """

    HISTORY_FILE = "history.json"

    def __init__(self, backup_dir, train_data=None):
        super().__init__(backup_dir, delete_checkpoint=False)
        self.train_data = train_data
        self.resumed_epochs = 0
        self._history = {}

    def _history_path(self):
        return os.path.join(self.backup_dir, self.HISTORY_FILE)

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
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
