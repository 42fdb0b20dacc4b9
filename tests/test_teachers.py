"""Every kind of teacher through the one adapter: tfdistill, transformers TF and keras-hub models
of the same weights give the same hidden states and attentions, and each distils a student."""

import numpy as np
import pytest
import tf_keras as keras

import tfdistill
from tfdistill.distill import Distiller, as_teacher
from tfdistill.distill.testing import TEACHER_CONFIG, STUDENT_CONFIG, tiny_batch


@pytest.fixture(scope="module")
def saved_teacher(tmp_path_factory):
    model = tfdistill.build_bert(TEACHER_CONFIG, name="teacher")
    path = str(tmp_path_factory.mktemp("teacher") / "model")
    tfdistill.save_pretrained(model, path)
    return model, path


def _check_and_distil(adapter, reference, atol):
    features, labels = tiny_batch(8)
    expected, actual = reference(features), adapter(features)
    real = features["attention_mask"].astype(bool)
    for ours, theirs in zip(expected["hidden_states"], actual["hidden_states"]):
        assert np.abs(np.asarray(ours) - np.asarray(theirs))[real].max() < atol
    for ours, theirs in zip(expected["attentions"], actual["attentions"]):
        assert np.abs(np.asarray(ours) - np.asarray(theirs)).max() < atol
    student = tfdistill.build_bert(STUDENT_CONFIG)
    losses = ["hidden_mse", {"loss": "attention", "head_average": True}]
    losses += ["logit_kd"] if "logits" in adapter.provides else []
    distiller = Distiller(student=student, teacher=adapter, losses=losses)
    distiller.compile(optimizer=keras.optimizers.Adam(1e-3))
    history = distiller.fit(features, labels, batch_size=4, epochs=2, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))


def test_transformers_tf_teacher(saved_teacher):
    from transformers import TFBertForSequenceClassification

    model, path = saved_teacher
    adapter = as_teacher(TFBertForSequenceClassification.from_pretrained(path))
    assert type(adapter).__name__ == "TransformersTeacher" and "logits" in adapter.provides
    _check_and_distil(adapter, model, atol=1e-5)


def test_keras_hub_teacher(saved_teacher):
    import keras_hub

    model, path = saved_teacher
    adapter = as_teacher(keras_hub.models.BertBackbone.from_preset(path))
    assert type(adapter).__name__ == "KerasHubTeacher" and "logits" not in adapter.provides
    # keras-hub's GELU is the tanh approximation.
    _check_and_distil(adapter, model, atol=5e-3)
