import numpy as np
import pytest
import tf_keras as keras

from tfdistill.training.loop import train_classifier
from tfdistill.training.testing import crash_at_epoch, linear_classifier, separable_task
from tfdistill.utils.errors import NonFiniteLossError

EPOCHS = 3
LAST = EPOCHS - 1


class _EpochCallback(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.epoch = None

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch


class _InvertAfterTheLastStep(_EpochCallback):
    """After the last step of `epoch`, negates the logits layer: that epoch is validated (and
    would be kept) with inverted predictions, so it is the worst one."""

    def __init__(self, epoch=LAST):
        super().__init__()
        self.target = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.epoch == self.target and batch == self.params["steps"] - 1:
            layer = self.model.get_layer("logits")
            layer.set_weights([-w for w in layer.get_weights()])


class _Snapshots(keras.callbacks.Callback):
    """Each epoch's weights as keep-best sees them (it runs after the caller's callbacks)."""

    def __init__(self):
        super().__init__()
        self.weights = []

    def on_epoch_end(self, epoch, logs=None):
        self.weights.append(self.model.get_weights())


def _train(seed=0, callbacks=(), **kwargs):
    model = linear_classifier(seed)
    keras.utils.set_random_seed(0)  # the shuffle order follows the global seed: the same in every run
    train, validation = separable_task()
    kwargs = {"epochs": EPOCHS, "learning_rate": 0.1, "keep_best": True, "verbose": 0, **kwargs}
    return model, train_classifier(model, train, validation, callbacks=list(callbacks), **kwargs)


def _assert_same_weights(got, want):
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, atol=1e-6)


def test_keep_best_restores_the_best_epoch_when_the_last_is_worse():
    snapshots = _Snapshots()
    model, result = _train(callbacks=[_InvertAfterTheLastStep(), snapshots])
    accuracy = result.history["val_accuracy"]
    assert max(accuracy[:LAST]) > 0.8 and accuracy[LAST] < 0.2  # the last epoch is clearly the worst
    assert result.best_epoch == int(np.argmax(accuracy)) < LAST
    _assert_same_weights(model.get_weights(), snapshots.weights[result.best_epoch])


def test_without_keep_best_the_last_epoch_stays():
    snapshots = _Snapshots()
    model, result = _train(callbacks=[_InvertAfterTheLastStep(), snapshots], keep_best=False)
    assert result.best_epoch == LAST
    _assert_same_weights(model.get_weights(), snapshots.weights[LAST])


def test_rejected_epochs_are_never_kept():
    snapshots = _Snapshots()
    # As for a pruned model: only the last epoch counts (the schedule reached its target there).
    model, result = _train(callbacks=[_InvertAfterTheLastStep(), snapshots],
                           best_epoch_eligible=lambda model: len(snapshots.weights) == EPOCHS)
    assert result.best_epoch == LAST
    _assert_same_weights(model.get_weights(), snapshots.weights[LAST])
    # None eligible: the last epoch stays too.
    model, result = _train(callbacks=[_InvertAfterTheLastStep(), _Snapshots()],
                           best_epoch_eligible=lambda model: False)
    assert result.best_epoch == LAST


def test_keep_best_minimises_a_monitored_loss():
    snapshots = _Snapshots()
    model, result = _train(callbacks=[_InvertAfterTheLastStep(), snapshots], monitor="val_loss")
    assert result.best_epoch == int(np.argmin(result.history["val_loss"])) < LAST
    _assert_same_weights(model.get_weights(), snapshots.weights[result.best_epoch])


def test_a_nan_loss_stops_training_naming_the_epoch_and_step():
    class Poison(_EpochCallback):
        def on_train_batch_begin(self, batch, logs=None):
            if self.epoch == 1 and batch == 2:
                layer = self.model.get_layer("logits")
                layer.set_weights([np.full_like(w, np.nan) for w in layer.get_weights()])

    with pytest.raises(NonFiniteLossError, match=r"^loss was NaN at epoch 2, step 3"):
        _train(callbacks=[Poison()])


def test_resume_from_the_backup_matches_an_uninterrupted_run_and_keeps_the_best_epoch(tmp_path):
    reference_model, reference = _train(callbacks=[_InvertAfterTheLastStep()], backup_dir=str(tmp_path / "reference"))
    assert reference.best_epoch < LAST and reference.resumed_epochs == 0

    backup_dir = str(tmp_path / "backup")
    with pytest.raises(RuntimeError, match="killed"):
        _train(callbacks=[_InvertAfterTheLastStep(), crash_at_epoch(LAST)], backup_dir=backup_dir)
    # Other initial weights: everything must come from the backup. Only the (worst) last epoch is
    # trained here, so the best epoch can only come from the backup's record.
    model, resumed = _train(seed=5, callbacks=[_InvertAfterTheLastStep()], backup_dir=backup_dir)
    assert resumed.resumed_epochs == LAST and resumed.best_epoch == reference.best_epoch
    for name, values in reference.history.items():
        np.testing.assert_allclose(resumed.history[name], values, rtol=1e-5, err_msg=name)
    _assert_same_weights(model.get_weights(), reference_model.get_weights())

    # A run after the finished one trains nothing and still ends at the best epoch.
    model, again = _train(seed=7, backup_dir=backup_dir)
    assert again.resumed_epochs == EPOCHS and again.best_epoch == reference.best_epoch
    _assert_same_weights(model.get_weights(), reference_model.get_weights())


def test_keep_best_needs_validation_and_the_schedule_a_known_length():
    train, _ = separable_task()
    with pytest.raises(ValueError, match="keep_best compares 'val_accuracy' on validation data"):
        train_classifier(linear_classifier(), train, None, epochs=1, learning_rate=0.1, keep_best=True)
    with pytest.raises(ValueError, match="length is unknown; pass steps_per_epoch"):
        train_classifier(linear_classifier(), train.filter(lambda x, y: True), None, epochs=1, learning_rate=0.1)
    with pytest.raises(ValueError, match="epochs must be >= 1"):
        train_classifier(linear_classifier(), train, None, epochs=0, learning_rate=0.1)
