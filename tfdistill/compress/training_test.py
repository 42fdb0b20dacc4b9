import numpy as np
import pytest
import tf_keras as keras

from tfdistill import compress
from tfdistill.compress.pruning_config import PruningConfig
from tfdistill.compress.training import pruning_reached_target
from tfdistill.training.testing import tiny_classifier, tiny_task


class _Reached(keras.callbacks.Callback):
    """Records at each epoch end whether pruning had reached its target, after making the head
    predict one class for every example: epoch 0 the validation majority (the best epoch
    unless it is ineligible), the later epochs the minority."""

    def __init__(self, majority):
        super().__init__()
        self.majority, self.by_epoch = majority, []

    def on_epoch_end(self, epoch, logs=None):
        self.by_epoch.append(pruning_reached_target(self.model))

    def on_train_batch_end(self, batch, logs=None):
        if batch == self.params["steps"] - 1:
            model = getattr(self.model, "student", self.model)  # a Distiller, or the plain logits model
            head = model.get_layer("classifier")
            kept = self.majority if not self.by_epoch else 1 - self.majority
            head.set_weights([np.zeros_like(head.kernel.numpy()), np.eye(2, dtype=np.float32)[kept] * 10])


@pytest.mark.parametrize("teacher, schedule", [(False, "polynomial_decay"), (True, "constant")])
def test_a_pruned_student_keeps_no_epoch_before_its_target_sparsity(teacher, schedule):
    tokenizer, data = tiny_task(train=32, evaluation=16)
    shares = np.bincount(data.validation.labels, minlength=2)
    assert shares[0] != shares[1]
    student = tiny_classifier(tokenizer)
    # Two steps an epoch: the schedule's last mask update is at step 4, the end of epoch 2 (for the
    # constant schedule, its first update).
    config = PruningConfig(target_sparsity=0.5, schedule=schedule, begin_step=0, end_step=4,
                           frequency=2 if schedule == "polynomial_decay" else 4)
    pruned = compress.prune_student(student, config)
    assert not pruning_reached_target(pruned)
    reached = _Reached(majority=int(np.argmax(shares)))
    guide = tiny_classifier(tokenizer, seed=1) if teacher else None
    result = compress.fit_student(pruned, tokenizer, data, teacher=guide, epochs=3, max_length=16, batch_size=16,
                                  learning_rate=1e-3, verbose=0, callbacks=[reached], mixed_precision="float32")
    assert reached.by_epoch == [False, True, True]
    history = result["history"]["val_accuracy"]
    assert history[0] > history[1] == history[2]
    assert result["best_epoch"] == 1  # the best epoch at the target sparsity, not the better epoch 0
    report = compress.weight_sparsity(compress.strip_student(pruned))
    assert report["layer_0_query"]["sparsity"] == pytest.approx(0.5, abs=0.02)


def test_a_model_without_pruning_wrappers_has_reached_its_target():
    tokenizer, _ = tiny_task(train=4)
    assert pruning_reached_target(tiny_classifier(tokenizer))
