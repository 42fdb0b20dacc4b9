"""Pruned zeros survive into the int8 `.tflite` (tfdistill.export), after prune-preserving QAT too."""

import pytest
import tf_keras as keras

SEQ_LEN = 12


@pytest.fixture(scope="module")
def sparse_student():
    from tfdistill import compress
    from tfdistill.compress.testing import tiny_dataset, tiny_student

    pruned = compress.prune_student(tiny_student(), compress.PruningConfig(end_step=2, frequency=1))
    classifier = keras.Model(pruned.input, pruned.output["logits"])
    classifier.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    classifier.fit(tiny_dataset(), epochs=1, verbose=0, callbacks=compress.pruning_callbacks())
    return compress.strip_student(pruned)


def _int8_zeros(model, mode):
    from tfdistill import compress
    from tfdistill.compress.testing import tiny_batch
    from tfdistill.export.exporter import representative_dataset, to_flatbuffer

    features, _ = tiny_batch(batch=16, seq=SEQ_LEN, vocab_size=model.bert_config.vocab_size)
    flatbuffer = to_flatbuffer(model, mode, SEQ_LEN, representative_dataset(features), int8_scope="full")
    return compress.tflite_weight_sparsity(flatbuffer, min_params=256)


def test_zeros_survive_int8_export_and_prune_preserving_qat(sparse_student):
    from tfdistill import compress
    from tfdistill.compress.testing import tiny_dataset

    float_zeros = _int8_zeros(sparse_student, "int8")
    qat = compress.quantize_student(sparse_student, preserve_sparsity=True)
    compress.calibrate_ranges(qat, tiny_dataset(), steps=2)
    classifier = keras.Model(qat.input, qat.output["logits"])
    classifier.compile(optimizer=keras.optimizers.Adam(1e-2),
                       loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    classifier.fit(tiny_dataset(), epochs=1, verbose=0)
    qat_zeros = _int8_zeros(qat, "qat")
    for report in (float_zeros, qat_zeros):
        # Six 50%-pruned kernels (16x16 or 16x32) and the 50%-pruned word table are int8 tensors.
        pruned = [row for row in report.values() if row["sparsity"] >= 0.49]
        assert len(pruned) >= 7, report
        assert any(row["params"] == 64 * 16 for row in pruned), report  # the word table
