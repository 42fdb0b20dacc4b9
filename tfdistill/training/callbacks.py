"""Callbacks tfdistill's own training loops use."""

import numpy as np
import tf_keras as keras


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
