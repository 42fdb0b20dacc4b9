import numpy as np
import pytest
import tf_keras as keras

from tfdistill.distill import Distiller
from tfdistill.distill.testing import tiny_batch, tiny_pair
from tfdistill.training.callbacks import TerminateOnNonFinite, TrainingBackup
from tfdistill.utils.errors import NonFiniteLossError

LOSSES = ["logit_kd", "hard_label", "hidden_mse"]


def _distiller(seed):
    teacher, student = tiny_pair(seed)
    distiller = Distiller(student=student, teacher=teacher, losses=LOSSES)
    distiller.compile(optimizer=keras.optimizers.Adam(1e-3))
    return distiller, student


class _PoisonProjection(keras.callbacks.Callback):
    """Before the 3rd step of the 2nd epoch, makes the hidden_mse projection NaN: only that term
    (and the total) becomes NaN, the student itself stays finite."""

    def __init__(self):
        super().__init__()
        self.epoch, self.good = 0, None

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        self.good = [w.copy() for w in self.model.student.get_weights()]

    def on_train_batch_begin(self, batch, logs=None):
        if self.epoch == 1 and batch == 2:
            projection = self.model.loss_terms[2].projections[0]
            projection.kernel.assign(np.full(projection.kernel.shape, np.nan, np.float32))


def test_nan_term_stops_fit_naming_it_and_the_backup_keeps_the_last_good_epoch(tmp_path):
    features, labels = tiny_batch(32)
    distiller, _ = _distiller(seed=0)
    poison = _PoisonProjection()
    with pytest.raises(NonFiniteLossError, match=r"^hidden_mse was NaN at epoch 2, step 3 \(loss too\)") as error:
        distiller.fit(features, labels, batch_size=8, epochs=3, verbose=0, shuffle=False,
                      callbacks=[poison, TerminateOnNonFinite(), TrainingBackup(str(tmp_path / "backup"))])
    assert (error.value.term, error.value.epoch, error.value.step) == ("hidden_mse", 2, 3)

    # A fresh run (other initial weights) restores the backup: epoch 1's weights, all finite.
    restored, student = _distiller(seed=3)
    backup = TrainingBackup(str(tmp_path / "backup"))
    restored.fit(features, labels, batch_size=8, epochs=1, verbose=0, callbacks=[backup])
    assert backup.resumed_epochs == 1
    for got, want in zip(student.get_weights(), poison.good):
        assert np.isfinite(got).all()
        np.testing.assert_array_equal(got, want)


def test_infinite_total_is_named_when_no_term_is():
    callback = TerminateOnNonFinite()
    callback.on_epoch_begin(0)
    callback.on_train_batch_end(0, {"loss": 1.0, "logit_kd": 0.5})
    with pytest.raises(NonFiniteLossError, match=r"^loss was infinite at epoch 1, step 5;"):
        callback.on_train_batch_end(4, {"loss": np.inf, "logit_kd": 0.5, "accuracy": 0.5})


def test_keep_best_mode_follows_the_monitored_name():
    from tfdistill.training.callbacks import KeepBestWeights

    assert KeepBestWeights("val_loss").mode == "min" and KeepBestWeights("val_accuracy").mode == "max"
    assert KeepBestWeights("val_loss", mode="max").mode == "max"
    assert KeepBestWeights().best is None and KeepBestWeights().best_epoch is None
    with pytest.raises(ValueError, match="mode must be 'max', 'min' or 'auto'"):
        KeepBestWeights(mode="best")
