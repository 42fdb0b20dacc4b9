import numpy as np
import pytest
import tensorflow as tf
import tf_keras as keras

from tfdistill.data import TextClassifierPreprocessor
from tfdistill.data.pipeline import make_tf_dataset
from tfdistill.distill import Distiller, losses, teacher_cache
from tfdistill.distill.teachers import as_teacher
from tfdistill.distill.training import distill
from tfdistill.training.testing import tiny_classifier, tiny_task

LOGIT_TERMS = [{"loss": "logit_kd", "temperature": 2.0}, {"loss": "hard_label", "weight": 0.5}]


def _models(tokenizer, seed=0):
    teacher = tiny_classifier(tokenizer, seed=seed, name="teacher", hidden_size=32, num_heads=4)
    return teacher, tiny_classifier(tokenizer, seed=seed + 1, name="student")


def test_only_logit_terms_are_cacheable():
    tokenizer, _ = tiny_task(train=4)
    teacher = as_teacher(_models(tokenizer)[0])
    assert teacher_cache.cacheable([losses.get(t) for t in LOGIT_TERMS + ["logit_mse"]], teacher)
    assert not teacher_cache.cacheable([losses.get("logit_kd"), losses.get("hidden_mse")], teacher)


def test_cached_batches_are_the_live_batches_in_the_same_order():
    tokenizer, data = tiny_task()
    teacher, _ = _models(tokenizer)
    logits = teacher_cache.TeacherLogits(teacher, TextClassifierPreprocessor(tokenizer, 16), batch_size=24)(data.train)
    live = teacher(tokenizer(data.train.texts, max_length=16))["logits"].numpy()
    np.testing.assert_allclose(logits, live, atol=1e-5)

    def make(split):
        return make_tf_dataset(split, tokenizer, 16, 8, shuffle=True, seed=3)

    plain, cached = make(data.train), teacher_cache.with_teacher_logits(data.train, logits, make)
    for _ in range(2):  # reshuffled each epoch, identically
        for (features, labels), (cached_features, cached_labels) in zip(plain, cached):
            np.testing.assert_array_equal(labels, cached_labels)
            np.testing.assert_array_equal(features["input_ids"], cached_features["input_ids"])
            expected = teacher(features)["logits"].numpy()
            np.testing.assert_allclose(cached_features[teacher_cache.FEATURE], expected, atol=1e-5)


def test_results_are_cached_by_teacher_weights_split_and_length():
    tokenizer, data = tiny_task(train=16)
    teacher, _ = _models(tokenizer)
    teacher_cache.clear()
    run = teacher_cache.TeacherLogits(teacher, TextClassifierPreprocessor(tokenizer, 16),
                                      key=(teacher_cache.weights_key(teacher), "float32"))
    first = run(data.train)
    assert run(data.train) is first and run(data.validation) is not first
    teacher.get_layer("classifier").bias.assign([1.0, -1.0])
    assert teacher_cache.weights_key(teacher) != run.key[0]
    teacher_cache.clear()


def test_distill_with_cached_logits_is_the_same_training():
    tokenizer, data = tiny_task(train=48)
    runs = []
    for cache in (False, True):
        teacher, student = _models(tokenizer)
        keras.utils.set_random_seed(0)
        result = distill(teacher, student, tokenizer, data, losses=LOGIT_TERMS, max_length=16, epochs=1,
                         batch_size=16, learning_rate=1e-3, verbose=0, mixed_precision="float32",
                         cache_teacher_outputs=cache)
        assert result["cached_teacher"] == {"train": cache}
        runs.append((result["history"], student.get_weights()))
    for key in ("loss", "logit_kd", "hard_label", "agreement", "val_loss", "val_logit_kd"):
        np.testing.assert_allclose(runs[0][0][key], runs[1][0][key], rtol=1e-4, atol=1e-5)
    for a, b in zip(runs[0][1], runs[1][1]):
        np.testing.assert_allclose(a, b, atol=1e-4)


def test_bfloat16_distillation_hands_float32_weights_back():
    tokenizer, data = tiny_task(train=32)
    teacher, student = _models(tokenizer)
    before = [w.copy() for w in student.get_weights()]
    result = distill(teacher, student, tokenizer, data, losses=LOGIT_TERMS + ["hidden_mse"], max_length=16,
                     epochs=1, batch_size=16, learning_rate=1e-3, verbose=0, mixed_precision="bfloat16")
    assert result["precision"] == "mixed_bfloat16" and result["cached_teacher"] == {"train": False}
    assert keras.mixed_precision.global_policy().name == "float32"
    assert {w.dtype.name for w in student.weights} == {"float32"}
    assert any(not np.allclose(a, b) for a, b in zip(before, student.get_weights()))
    assert all(np.isfinite(result["history"][key][0]) for key in ("logit_kd", "hard_label", "hidden_mse"))


def test_cached_logits_are_refused_for_terms_that_read_more():
    tokenizer, data = tiny_task(train=8)
    teacher, student = _models(tokenizer)
    distiller = Distiller(student=student, teacher=teacher, losses=["logit_kd", "hidden_mse"])
    distiller.compile(optimizer="sgd")
    features = dict(tokenizer(data.train.texts, max_length=16))
    features[teacher_cache.FEATURE] = np.zeros((8, 2), np.float32)
    with pytest.raises(ValueError, match=r"also read the teacher's \['hidden_states'\]"):
        distiller.train_on_batch(features, tf.constant(data.train.labels))
