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


INTERMEDIATE_TERMS = LOGIT_TERMS + ["hidden_mse", {"loss": "attention", "head_average": True}]
ALL_KEYS = ("logits", "hidden_states", "attentions", "attention_scores")


def test_keys_to_cache_are_what_the_terms_read_plus_the_logits():
    tokenizer, _ = tiny_task(train=4)
    teacher = as_teacher(_models(tokenizer)[0])
    terms = [losses.get(t) for t in LOGIT_TERMS + ["logit_mse"]]
    assert teacher_cache.keys_to_cache(terms, teacher) == ("logits",)
    assert teacher_cache.keys_to_cache([losses.get(t) for t in INTERMEDIATE_TERMS], teacher) == (
        "logits", "hidden_states", "attentions")
    assert teacher_cache.keys_to_cache([losses.get({"loss": "attention", "target": "scores"})], teacher) == (
        "logits", "attention_scores")
    assert teacher_cache.keys_to_cache([losses.get("minilm_relation")], teacher) is None  # queries, keys
    assert teacher_cache.keys_to_cache([losses.get("logit_kd"), losses.get("minilm_relation")], teacher) is None


def test_estimated_bytes_bound_what_is_kept():
    tokenizer, data = tiny_task()
    teacher, _ = _models(tokenizer)
    preprocessor = TextClassifierPreprocessor(tokenizer, 16)
    outputs = teacher_cache.TeacherOutputs(teacher, preprocessor, ALL_KEYS)(data.train)
    lengths = preprocessor.tokenize(data.train)["attention_mask"].sum(axis=1)
    # float32 teacher: the bound is what it keeps
    assert teacher_cache.estimated_bytes(lengths, ALL_KEYS, as_teacher(teacher).spec) == outputs.nbytes


def _masked_difference(key, live, cached, mask):
    if key == "hidden_states":
        return np.abs(live - cached)[mask == 1].max()
    pairs = mask[:, None, :, None] * mask[:, None, None, :]
    return np.abs((live - cached) * pairs).max()


def test_cached_batches_are_the_live_batches_in_the_same_order():
    tokenizer, data = tiny_task()
    teacher, _ = _models(tokenizer)
    outputs = teacher_cache.TeacherOutputs(teacher, TextClassifierPreprocessor(tokenizer, 16), ALL_KEYS,
                                           batch_size=24)(data.train)
    live = teacher(tokenizer(data.train.texts, max_length=16))["logits"].numpy()
    np.testing.assert_allclose(outputs.logits, live, atol=1e-5)

    def make(split):
        return make_tf_dataset(split, tokenizer, 16, 8, shuffle=True, seed=3)

    plain, cached = make(data.train), teacher_cache.with_teacher_outputs(data.train, outputs, make)
    assert cached.options().autotune.enabled is False  # inherited from make_tf_dataset's pipeline
    for _ in range(2):  # reshuffled each epoch, identically
        for (features, labels), (cached_features, cached_labels) in zip(plain, cached):
            np.testing.assert_array_equal(labels, cached_labels)
            np.testing.assert_array_equal(features["input_ids"], cached_features["input_ids"])
            expected, got = teacher(features), teacher_cache.cached_outputs(cached_features)
            np.testing.assert_allclose(got["logits"], expected["logits"].numpy(), atol=1e-5)
            for key in ALL_KEYS[1:]:
                assert len(got[key]) == len(expected[key])
                for live_layer, cached_layer in zip(expected[key], got[key]):
                    difference = _masked_difference(key, live_layer.numpy(), cached_layer.numpy(),
                                                    features["attention_mask"].numpy())
                    assert difference < 1e-5, (key, difference)


def test_results_are_cached_by_teacher_weights_split_and_length():
    tokenizer, data = tiny_task(train=16)
    teacher, _ = _models(tokenizer)
    teacher_cache.clear()
    preprocessor = TextClassifierPreprocessor(tokenizer, 16)
    key = (teacher_cache.weights_key(teacher), "float32")
    first = teacher_cache.TeacherOutputs(teacher, preprocessor, ("logits", "hidden_states"), key=key)(data.train)
    run = teacher_cache.TeacherOutputs(teacher, preprocessor, key=key)
    assert run(data.train).logits is first.logits  # fewer keys: served from the entry
    assert run(data.validation).logits is not first.logits
    previous = teacher_cache.set_max_bytes(first.nbytes + 1)  # room for the newest entry only
    try:
        kept = teacher_cache.TeacherOutputs(teacher, preprocessor, ("logits", "hidden_states"), key=key)
        kept(data.validation)
        assert kept(data.train).per_example["hidden_states"] is not first.per_example["hidden_states"]  # evicted
    finally:
        teacher_cache.set_max_bytes(previous)
    teacher.get_layer("classifier").bias.assign([1.0, -1.0])
    assert teacher_cache.weights_key(teacher) != run.key[0]
    teacher_cache.clear()


@pytest.mark.parametrize("terms", [LOGIT_TERMS, INTERMEDIATE_TERMS], ids=["logits", "intermediate"])
def test_distill_with_cached_outputs_is_the_same_training(terms):
    tokenizer, data = tiny_task(train=48)
    runs = []
    for cache in (False, True):
        teacher, student = _models(tokenizer)
        keras.utils.set_random_seed(0)
        result = distill(teacher, student, tokenizer, data, losses=terms, max_length=16,
                         epochs=teacher_cache.MIN_EPOCHS_FOR_SEQUENCES, batch_size=16, learning_rate=1e-3,
                         verbose=0, mixed_precision="float32", cache_teacher_outputs=cache)
        assert result["cached_teacher"] == {"train": cache}
        runs.append((result["history"], student.get_weights()))
    keys = [key for key in runs[0][0] if key in runs[1][0]]
    assert {"loss", "agreement", "val_loss"} <= set(keys) and ("hidden_mse" in keys) == (terms is INTERMEDIATE_TERMS)
    for key in keys:
        np.testing.assert_allclose(runs[0][0][key], runs[1][0][key], rtol=1e-4, atol=1e-5)
    for a, b in zip(runs[0][1], runs[1][1]):
        np.testing.assert_allclose(a, b, atol=1e-4)


@pytest.mark.parametrize("max_bytes, epochs, reason", [
    (1024, 3, "would take up to"), (None, 2, "pays off from 3 epochs, this stage trains 2")],
    ids=["memory", "epochs"])
def test_hidden_states_run_the_teacher_every_step_past_the_memory_or_under_the_epochs(capsys, max_bytes, epochs,
                                                                                       reason):
    tokenizer, data = tiny_task(train=16)
    teacher, student = _models(tokenizer)
    previous = teacher_cache.set_max_bytes(max_bytes)
    try:
        result = distill(teacher, student, tokenizer, data, losses=INTERMEDIATE_TERMS, max_length=16, epochs=epochs,
                         batch_size=8, verbose=1, mixed_precision="float32", cache_teacher_outputs=True)
    finally:
        teacher_cache.set_max_bytes(previous)
    assert result["cached_teacher"] == {"train": False}
    assert reason in capsys.readouterr().out


def test_bfloat16_distillation_hands_float32_weights_back():
    tokenizer, data = tiny_task(train=32)
    teacher, student = _models(tokenizer)
    before = [w.copy() for w in student.get_weights()]
    result = distill(teacher, student, tokenizer, data, losses=LOGIT_TERMS + ["hidden_mse"], max_length=16,
                     epochs=3, batch_size=16, learning_rate=1e-3, verbose=0, mixed_precision="bfloat16")
    # The bfloat16 teacher's hidden states are kept in bfloat16.
    assert result["precision"] == "mixed_bfloat16" and result["cached_teacher"] == {"train": True}
    assert keras.mixed_precision.global_policy().name == "float32"
    assert {w.dtype.name for w in student.weights} == {"float32"}
    assert any(not np.allclose(a, b) for a, b in zip(before, student.get_weights()))
    assert all(np.isfinite(result["history"][key][0]) for key in ("logit_kd", "hard_label", "hidden_mse"))


def test_cached_outputs_are_refused_for_terms_that_read_more():
    tokenizer, data = tiny_task(train=8)
    teacher, student = _models(tokenizer)
    distiller = Distiller(student=student, teacher=teacher, losses=["logit_kd", "hidden_mse"])
    distiller.compile(optimizer="sgd")
    features = dict(tokenizer(data.train.texts, max_length=16))
    features[teacher_cache.FEATURE] = np.zeros((8, 2), np.float32)
    with pytest.raises(ValueError, match=r"also read the teacher's \['hidden_states'\]"):
        distiller.train_on_batch(features, tf.constant(data.train.labels))
