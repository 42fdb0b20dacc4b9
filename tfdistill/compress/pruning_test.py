import os

import numpy as np
import pytest
import tf_keras as keras

from tfdistill import compress
from tfdistill.compress.pruning_config import PruningConfig, parse_m_by_n
from tfdistill.compress.testing import TINY_CONFIG, tiny_dataset, tiny_student
from tfdistill.models.bert.bert_model import logits_model
from tfdistill.testing import run_serialization_test

KERNELS = ["layer_0_query", "layer_0_key", "layer_0_value", "layer_0_attention_output", "layer_0_intermediate",
           "layer_0_output"]


def _fit(model, epochs=2, callbacks=None, id_stride=1):
    classifier = logits_model(model)
    classifier.compile(optimizer=keras.optimizers.Adam(1e-2),
                       loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    classifier.fit(tiny_dataset(id_stride=id_stride), epochs=epochs, verbose=0,
                   callbacks=compress.pruning_callbacks() if callbacks is None else callbacks)


def _masks(pruned):
    return {layer.layer.name: layer.pruning_vars[0][1].numpy() for layer in pruned.layers
            if hasattr(layer, "pruning_vars")}


@pytest.mark.parametrize("bad, message", [
    ({"target_sparsity": 0.0}, r"target_sparsity must be in \(0, 1\)"),
    ({"target_sparsity": 1.0}, r"target_sparsity must be in \(0, 1\)"),
    ({"target_sparsity": -0.2}, r"target_sparsity must be in \(0, 1\)"),
    ({"schedule": "cubic"}, "Unknown pruning schedule 'cubic'"),
    ({"end_step": 0}, "end_step must be an int > begin_step"),
    ({"frequency": 0}, "frequency must be an int >= 1"),
    ({"end_step": 101, "frequency": 10}, "not a multiple of frequency"),
    ({"m_by_n": (4, 4)}, r"needs 0 < m < n"),
    ({"m_by_n": "2x4"}, "m_by_n must be two integers"),
])
def test_bad_pruning_configs_are_refused(bad, message):
    with pytest.raises(ValueError, match=message):
        PruningConfig(**bad)


def test_config_round_trip_and_steps():
    config = PruningConfig.for_steps(95, end_fraction=0.5, frequency=10, m_by_n="2:4", schedule="polynomial_decay")
    assert (config.end_step, config.frequency, config.m_by_n) == (40, 10, (2, 4))
    run_serialization_test(config)
    assert parse_m_by_n([1, 3]) == (1, 3)
    assert PruningConfig.for_steps(3, frequency=20).end_step == 2


def test_targets_are_the_attention_ffn_kernels_and_word_embeddings():
    student = tiny_student()
    targets = compress.pruning_targets(student)
    assert list(targets) == KERNELS + ["word_embeddings"]
    assert [targets[name] for name in KERNELS] == ["attention"] * 4 + ["ffn"] * 2


@pytest.mark.parametrize("schedule", ["polynomial_decay", "constant"])
def test_pruning_reaches_the_target_and_masks_hold_after_fit(schedule):
    student = tiny_student()
    before = student.get_weights()
    used = np.arange(0, TINY_CONFIG.vocab_size, 2)  # the data has even ids only: odd rows go first
    pruned = compress.prune_student(student, PruningConfig(target_sparsity=0.5, schedule=schedule, end_step=4,
                                                           frequency=2), used_token_ids=used)
    assert isinstance(pruned, compress.CompressedBert) and pruned.bert_config == TINY_CONFIG
    _fit(pruned, id_stride=2)
    masks = _masks(pruned)
    assert sorted(masks) == sorted(KERNELS + ["word_embeddings"])
    report = compress.weight_sparsity(pruned)
    for name, mask in masks.items():
        weights = pruned.get_layer(f"prune_low_magnitude_{name}").layer.weights[0].numpy()
        assert np.all(weights[mask == 0] == 0), f"{name}: a masked weight is non-zero after fit"
        assert report[name]["sparsity"] == pytest.approx(0.5, abs=0.02)
    assert report["pooler"]["sparsity"] == 0 and report["classifier"]["sparsity"] == 0
    # Word-embedding zeros come in row blocks (half rows at width 16): exactly the unused tokens' rows.
    mask = masks["word_embeddings"]
    assert np.array_equal(np.flatnonzero(mask.min(axis=1) == 0), np.arange(1, TINY_CONFIG.vocab_size, 2))
    assert np.all(mask.min(axis=1) == mask.max(axis=1))
    assert all(np.array_equal(a, b) for a, b in zip(before, student.get_weights())), "the input model changed"


def test_strip_keeps_names_classes_and_zeros():
    student = tiny_student()
    pruned = compress.prune_student(student, PruningConfig(end_step=2, frequency=1, prune_embeddings=False))
    _fit(pruned, epochs=1)
    stripped = compress.strip_student(pruned)
    assert not compress.is_pruned(stripped) and compress.is_pruned(pruned)
    assert [layer.name for layer in stripped.layers] == [layer.name for layer in student.layers]
    assert all(type(a) is type(b) for a, b in zip(stripped.layers, student.layers))
    assert compress.weight_sparsity(stripped)["layer_0_query"]["sparsity"] == pytest.approx(0.5, abs=0.02)
    features = next(iter(tiny_dataset()))[0]
    del features["token_type_ids"]  # BertModel's convention survives: token types default to zeros
    np.testing.assert_allclose(stripped(features)["logits"], logits_model(pruned)(
        dict(features, token_type_ids=np.zeros_like(features["input_ids"]))), atol=1e-6)


def test_two_four_pattern_in_tflite_layout():
    pruned = compress.prune_student(tiny_student(), PruningConfig(m_by_n=(2, 4), end_step=2, frequency=1))
    _fit(pruned, epochs=1)
    stripped = compress.strip_student(pruned)
    for name in KERNELS:
        kernel = stripped.get_layer(name).kernel.numpy()  # [in, out]; TFLite stores [out, in]
        assert np.all(np.count_nonzero(kernel.T.reshape(-1, 4), axis=1) <= 2), name
    assert compress.weight_sparsity(stripped)["word_embeddings"]["sparsity"] == pytest.approx(0.5, abs=0.02)


def test_pruning_inside_the_distiller_with_summaries(tmp_path):
    from tfdistill.distill import Distiller

    teacher = tiny_student(seed=1, name="teacher")
    pruned = compress.prune_student(tiny_student(), PruningConfig(end_step=4, frequency=2))
    distiller = Distiller(student=pruned, teacher=teacher, losses=["logit_kd", "hard_label"])
    distiller.compile(optimizer=keras.optimizers.Adam(1e-2))
    teacher_before = teacher.get_weights()
    distiller.fit(tiny_dataset(), epochs=2, verbose=0, callbacks=compress.pruning_callbacks(str(tmp_path / "tb")))
    assert compress.weight_sparsity(pruned)["layer_0_output"]["sparsity"] == pytest.approx(0.5, abs=0.02)
    assert all(np.array_equal(a, b) for a, b in zip(teacher_before, teacher.get_weights()))
    events = [name for _, _, files in os.walk(tmp_path / "tb") for name in files if "tfevents" in name]
    assert events, "PruningSummaries wrote no TensorBoard events"


def test_unsupported_layers_are_refused():
    import tensorflow as tf

    student = tiny_student()
    hidden = student.get_layer("layer_0_output_layer_norm").output
    doubled = tf.math.multiply(hidden, 2.0)  # a raw op: a TFOpLambda layer
    model = keras.Model(student.input, {"logits": student.output["logits"], "doubled": doubled})
    model.bert_config = TINY_CONFIG
    with pytest.raises(ValueError, match=r"layers tfmot pruning does not support: \['tf.math.multiply"):
        compress.prune_student(model, PruningConfig())


def test_non_bert_and_keras3_models_are_refused():
    inputs = keras.Input((4,))
    plain = keras.Model(inputs, keras.layers.Dense(2)(inputs))
    with pytest.raises(ValueError, match="has no `bert_config`"):
        compress.prune_student(plain, PruningConfig())
    with pytest.raises(ValueError, match="only compresses tf-keras"):
        compress.prune_student(object(), PruningConfig())


def test_m_by_n_that_does_not_divide_a_kernel_is_refused():
    with pytest.raises(ValueError, match=r"m_by_n=\(2, 3\) does not fit kernel 'layer_0_query': its input width 16"):
        compress.prune_student(tiny_student(), PruningConfig(m_by_n=(2, 3)))
