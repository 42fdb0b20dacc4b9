import numpy as np
import pytest
import tf_keras as keras

from tfdistill.distill.training import distill
from tfdistill.training.testing import crash_at_epoch, tiny_classifier, tiny_task

LOGIT_TERMS = [{"loss": "logit_kd", "temperature": 2.0}, {"loss": "hard_label", "weight": 0.5}]


class _ConstantHeads(keras.callbacks.Callback):
    """After the last step of each listed epoch, makes the student's head predict one class for
    every example, so that epoch's validation accuracy is exactly that class's share."""

    def __init__(self, classes_by_epoch):
        super().__init__()
        self.classes_by_epoch, self.epoch = classes_by_epoch, None

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.epoch in self.classes_by_epoch and batch == self.params["steps"] - 1:
            head = self.model.student.get_layer("classifier")
            bias = np.zeros(2, np.float32)
            bias[self.classes_by_epoch[self.epoch]] = 10.0
            head.set_weights([np.zeros_like(head.kernel.numpy()), bias])


class _StudentSnapshots(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.weights = []

    def on_epoch_end(self, epoch, logs=None):
        self.weights.append(self.model.student.get_weights())


def _task():
    tokenizer, data = tiny_task(train=32, evaluation=32)
    shares = np.bincount(data.validation.labels, minlength=2) / len(data.validation)
    assert shares[0] != shares[1]
    majority, minority = int(np.argmax(shares)), int(np.argmin(shares))
    return tokenizer, data, {0: majority, 1: minority}  # epoch 0 is the best, epoch 1 the worst


def _distill(tokenizer, data, student_seed=1, callbacks=(), **kwargs):
    teacher = tiny_classifier(tokenizer, seed=0, name="teacher", hidden_size=32, num_heads=4)
    student = tiny_classifier(tokenizer, seed=student_seed, name="student")
    keras.utils.set_random_seed(0)  # the shuffle order follows the global seed: the same in every run
    result = distill(teacher, student, tokenizer, data, losses=LOGIT_TERMS, max_length=16, epochs=2, batch_size=16,
                     learning_rate=1e-3, verbose=0, mixed_precision="float32", callbacks=list(callbacks), **kwargs)
    return student, result


def test_distill_keeps_the_epoch_with_the_best_student_validation_accuracy():
    tokenizer, data, heads = _task()
    snapshots = _StudentSnapshots()
    student, result = _distill(tokenizer, data, callbacks=[_ConstantHeads(heads), snapshots])
    accuracy = result["history"]["val_accuracy"]  # the Distiller's `accuracy`: the student's
    assert accuracy[0] > accuracy[1] and result["best_epoch"] == 0
    for got, want in zip(student.get_weights(), snapshots.weights[0]):
        np.testing.assert_array_equal(got, want)

    student, result = _distill(tokenizer, data, callbacks=[_ConstantHeads(heads), snapshots], keep_best=False)
    assert result["best_epoch"] == 1
    assert np.all(student.get_layer("classifier").get_weights()[1] == [10.0 * (c == heads[1]) for c in range(2)])


def test_distill_resumed_from_its_backup_keeps_the_best_epoch_from_before_the_interruption(tmp_path):
    tokenizer, data, heads = _task()
    reference_student, reference = _distill(tokenizer, data, callbacks=[_ConstantHeads(heads)],
                                            backup_dir=str(tmp_path / "reference"))
    assert reference["best_epoch"] == 0

    backup_dir = str(tmp_path / "backup")
    with pytest.raises(RuntimeError, match="killed"):
        _distill(tokenizer, data, callbacks=[_ConstantHeads(heads), crash_at_epoch(1)], backup_dir=backup_dir)
    # Another initial student; the resumed run only trains the worse epoch 1.
    student, resumed = _distill(tokenizer, data, student_seed=9, callbacks=[_ConstantHeads(heads)],
                                backup_dir=backup_dir)
    assert resumed["best_epoch"] == 0
    for name, values in reference["history"].items():
        np.testing.assert_allclose(resumed["history"][name], values, rtol=1e-5, err_msg=name)
    for got, want in zip(student.get_weights(), reference_student.get_weights()):
        np.testing.assert_allclose(got, want, atol=1e-6)


def test_tinybert_intermediate_stage_keeps_its_lowest_validation_loss():
    tokenizer, data = tiny_task(train=32, evaluation=16)
    teacher = tiny_classifier(tokenizer, seed=0, name="teacher", hidden_size=32, num_heads=4)
    student = tiny_classifier(tokenizer, seed=1, name="student")
    result = distill(teacher, student, tokenizer, data, losses=LOGIT_TERMS + ["hidden_mse"], max_length=16,
                     epochs=1, intermediate_epochs=2, batch_size=16, learning_rate=1e-3, verbose=0,
                     mixed_precision="float32")
    losses = result["intermediate_history"]["val_loss"]
    assert result["intermediate_best_epoch"] == int(np.argmin(losses))
    assert set(result["intermediate_history"]) >= {"hidden_mse", "val_hidden_mse"}
    assert result["best_epoch"] == 0 and "val_accuracy" in result["history"]
