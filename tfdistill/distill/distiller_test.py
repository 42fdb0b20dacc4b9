import os

import numpy as np
import pytest

import tfdistill
import tf_keras as keras

from tfdistill.distill import Distiller
from tfdistill.distill.testing import tiny_batch, tiny_pair

LOSSES = ["logit_kd", "hard_label", "hidden_mse", "embedding_mse", {"loss": "attention", "head_average": True},
          "minilm_relation"]


def _distiller(seed=0, losses=LOSSES):
    teacher, student = tiny_pair(seed)
    distiller = Distiller(student=student, teacher=teacher, losses=losses)
    distiller.compile(optimizer=keras.optimizers.Adam(1e-3))
    return distiller, teacher, student


def test_fit_trains_the_student_only_and_reports_every_term():
    distiller, teacher, student = _distiller()
    teacher_before = [w.copy() for w in teacher.get_weights()]
    student_before = [w.copy() for w in student.get_weights()]
    features, labels = tiny_batch(32)
    history = distiller.fit(features, labels, batch_size=8, epochs=2, verbose=0, validation_data=(features, labels))
    for key in ("loss", "logit_kd", "hard_label", "hidden_mse", "embedding_mse", "attention", "minilm_relation",
                "accuracy", "agreement"):
        assert key in history.history and f"val_{key}" in history.history
    assert all(np.array_equal(a, b) for a, b in zip(teacher_before, teacher.get_weights()))
    assert any(not np.array_equal(a, b) for a, b in zip(student_before, student.get_weights()))
    assert history.history["loss"][-1] < history.history["loss"][0]
    projections = {w.name for w in distiller.trainable_weights} - {w.name for w in student.trainable_weights}
    assert projections, "the hidden/embedding projections must train with the student"
    assert not set(map(id, teacher.weights)) & set(map(id, distiller.weights))


def test_call_predict_and_evaluate_are_the_students():
    distiller, _, student = _distiller()
    features, labels = tiny_batch(8)
    np.testing.assert_allclose(distiller.predict(features, verbose=0), student(features)["logits"], atol=1e-6)
    results = distiller.evaluate(features, labels, verbose=0, return_dict=True)
    expected = np.mean(np.argmax(student(features)["logits"], -1) == labels)
    assert np.isclose(results["accuracy"], expected)


def test_unlabelled_batches_train_on_soft_targets_only():
    distiller, _, _ = _distiller(losses=["logit_kd"])
    features, _ = tiny_batch(8)
    history = distiller.fit(features, batch_size=8, epochs=1, verbose=0)
    assert np.isfinite(history.history["logit_kd"][0])


def test_terms_the_teacher_cannot_feed_are_refused():
    teacher, student = tiny_pair()

    class LogitsOnly:
        provides = ("logits",)
    from tfdistill.distill.teachers import Teacher
    adapter = Teacher(teacher, None)
    adapter.provides = LogitsOnly.provides
    with pytest.raises(ValueError, match=r"needs the teacher outputs \['hidden_states'\]"):
        Distiller(student=student, teacher=adapter, losses=["hidden_mse"])
    with pytest.raises(ValueError, match="appear twice"):
        Distiller(student=student, teacher=teacher, losses=["logit_kd", "logit_kd"])
    with pytest.raises(TypeError, match="Unsupported teacher"):
        Distiller(student=student, teacher=object(), losses=["logit_kd"])
    other_vocabulary = tfdistill.build_bert(student.bert_config.replace(vocab_size=80))
    with pytest.raises(ValueError, match="The teacher embeds 64 token ids but the student 80"):
        Distiller(student=other_vocabulary, teacher=teacher)


def test_standard_callbacks(tmp_path):
    distiller, _, student = _distiller()
    features, labels = tiny_batch(16)
    checkpoint = str(tmp_path / "student.weights.h5")
    callbacks = [
        keras.callbacks.ModelCheckpoint(checkpoint, save_weights_only=True, monitor="val_loss", save_best_only=True),
        keras.callbacks.EarlyStopping(monitor="val_loss", patience=1),
        keras.callbacks.TerminateOnNaN(),
        keras.callbacks.TensorBoard(str(tmp_path / "tb")),
    ]
    distiller.fit(features, labels, batch_size=8, epochs=2, verbose=0, validation_data=(features, labels),
                  callbacks=callbacks)
    assert os.path.exists(checkpoint) and os.listdir(tmp_path / "tb")
    restored, _, fresh_student = _distiller(seed=1)
    restored.load_weights(checkpoint)
    np.testing.assert_allclose(fresh_student(features)["logits"], student(features)["logits"], atol=1e-6)


class _Crash(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        if epoch == 1:
            raise RuntimeError("simulated crash")


def test_backup_and_restore_resumes_a_killed_run(tmp_path):
    features, labels = tiny_batch(16)
    backup = keras.callbacks.BackupAndRestore(str(tmp_path / "backup"))
    distiller, _, _ = _distiller()
    with pytest.raises(RuntimeError, match="simulated crash"):
        distiller.fit(features, labels, batch_size=8, epochs=4, verbose=0, callbacks=[backup, _Crash()])
    resumed, _, _ = _distiller(seed=3)
    history = resumed.fit(features, labels, batch_size=8, epochs=4, verbose=0,
                          callbacks=[keras.callbacks.BackupAndRestore(str(tmp_path / "backup"))])
    assert len(history.epoch) == 2 and history.epoch[0] == 2  # epochs 0 and 1 were not redone


def test_jit_compile_path_matches_eager_graph_loss():
    features, labels = tiny_batch(8)
    values = []
    for jit in (False, True):
        distiller, _, _ = _distiller(seed=5, losses=["logit_kd", "hard_label", "hidden_mse"])
        distiller.compile(optimizer=keras.optimizers.SGD(0.1), jit_compile=jit)
        values.append(distiller.fit(features, labels, batch_size=8, epochs=2, verbose=0, shuffle=False).history["loss"])
    np.testing.assert_allclose(values[0], values[1], rtol=1e-4)
