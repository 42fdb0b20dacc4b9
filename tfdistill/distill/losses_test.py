import numpy as np
import pytest
import tensorflow as tf

from tfdistill.distill import losses
from tfdistill.distill.losses import ModelSpec
from tfdistill.distill.testing import tiny_batch, tiny_pair
from tfdistill.testing import run_serialization_test

SAME = ModelSpec(2, 16, 2, 2)


def test_registry_round_trips_every_term_through_get_config():
    for name in losses.available():
        run_serialization_test(losses.get(name), from_config=losses.get)
    renamed = losses.get({"loss": "attention", "name": "attention_scores", "target": "scores"})
    assert renamed.name == "attention_scores" and renamed.target == "scores"


@pytest.mark.parametrize("identifier, message", [
    ({"loss": "attention", "target": "values"}, "target must be one of"),
    ({"loss": "minilm_relation", "relations": ["token"]}, "relations must be a non-empty subset"),
])
def test_bad_terms_are_refused(identifier, message):
    with pytest.raises(ValueError, match=message):
        losses.get(identifier)


def test_logit_kd_matches_hinton_formula():
    student, teacher = np.array([[1.0, 0.0, -1.0]]), np.array([[0.5, 1.5, 0.0]])
    t = 3.0
    p = np.exp(teacher / t) / np.exp(teacher / t).sum()
    log_q = student / t - np.log(np.exp(student / t).sum())
    expected = (p * (np.log(p) - log_q)).sum() * t * t
    term = losses.get({"loss": "logit_kd", "temperature": t})
    value = term.compute({"logits": tf.constant(student)}, {"logits": tf.constant(teacher)}, None, None)
    assert np.isclose(float(value), expected, rtol=1e-6)


def test_hard_label_skips_unlabelled_examples():
    logits = tf.constant([[2.0, 0.0], [0.0, 2.0]])
    term = losses.get("hard_label")
    only_first = term.compute({"logits": logits}, {}, tf.constant([0, -1]), None)
    expected = -np.log(np.exp(2.0) / (np.exp(2.0) + 1))
    assert np.isclose(float(only_first), expected, rtol=1e-6)


def test_intermediate_terms_are_zero_for_identical_models_and_ignore_padding():
    teacher, _ = tiny_pair()
    features, labels = tiny_batch()
    out = teacher(features)
    spec = ModelSpec(4, 32, 4, 2)
    for config in ["hidden_mse", "embedding_mse", "hidden_cosine", "attention",
                   {"loss": "attention", "target": "scores"}, "minilm_relation"]:
        term = losses.get(config)
        term.build_for(spec, spec)
        assert float(term.compute(out, out, labels, features["attention_mask"])) < 1e-5, term.name

    # Changing only padded positions of the student's states changes nothing.
    noisy = dict(out, hidden_states=[h + 5.0 * (1 - features["attention_mask"][..., None]) for h in out["hidden_states"]])
    term = losses.get("hidden_mse")
    term.build_for(spec, spec)
    assert float(term.compute(noisy, out, labels, features["attention_mask"])) < 1e-5


def test_projection_is_created_only_when_widths_differ():
    narrow, wide = ModelSpec(2, 16, 2, 2), ModelSpec(4, 32, 4, 2)
    term = losses.get("hidden_mse")
    term.build_for(narrow, wide)
    assert len(term.projections) == 2 and term.trainable_weights
    same = losses.get("hidden_mse")
    same.build_for(wide, wide)
    assert not same.trainable_weights


def test_head_average_compares_different_head_counts():
    losses.get({"loss": "attention", "head_average": True}).build_for(ModelSpec(2, 16, 2, 2), ModelSpec(4, 32, 4, 2))


def test_label_mismatch():
    with pytest.raises(ValueError, match="student has 3 labels but the teacher has 2"):
        losses.get("logit_kd").build_for(ModelSpec(2, 16, 2, 3), SAME)
