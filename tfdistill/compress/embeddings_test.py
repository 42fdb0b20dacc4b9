import numpy as np
import pytest

from tfdistill import compress
from tfdistill.models.bert.factorize import energy_kept
from tfdistill.testing import run_model_saving_test
from tfdistill.training.testing import tiny_classifier, tiny_task


def _student():
    tokenizer, data = tiny_task()
    return tiny_classifier(tokenizer, seed=0, name="student"), tokenizer(data.validation.texts, max_length=16)


def test_full_rank_keeps_the_outputs_and_lower_ranks_approximate_the_table():
    student, features = _student()
    width = student.bert_config.hidden_size
    full = compress.factorize_embeddings(student, width)
    np.testing.assert_allclose(full(features)["logits"], student(features)["logits"], atol=1e-5)
    table = student.get_layer("word_embeddings").get_weights()[0]
    errors = []
    for rank in (width // 4, width // 2):
        small = compress.factorize_embeddings(student, rank)
        product = small.get_layer("word_embeddings").get_weights()[0] @ \
            small.get_layer("word_embeddings_projection").get_weights()[0]
        errors.append(np.sum((product - table) ** 2) / np.sum(table ** 2))
        assert errors[-1] == pytest.approx(1 - energy_kept(table, rank), rel=1e-4)
    assert errors[0] > errors[1] > 0


def test_a_factorised_model_saves_trims_and_converts(tmp_path):
    from tfdistill.export.exporter import to_flatbuffer
    from tfdistill.export.runtime import TFLiteClassifier
    from tfdistill.models.bert.checkpoint import count_params

    student, features = _student()
    small = compress.factorize_embeddings(student, 4)
    loaded = run_model_saving_test(small, features, tmp_path / "small",  # unnamed classes come back named
                                   expected_config=small.bert_config.replace(label_names=("LABEL_0", "LABEL_1")))
    assert loaded.bert_config.embedding_size == 4
    assert count_params(small)[1] == count_params(student)[1]  # the projection counts as embedding
    tokenizer, _ = tiny_task()
    trimmed, _ = compress.trim_vocabulary(small, tokenizer, np.arange(10))
    assert trimmed.get_layer("word_embeddings").get_weights()[0].shape == (10, 4)
    flatbuffer = to_flatbuffer(small, "float32", 16)
    logits = TFLiteClassifier(flatbuffer).predict_logits(features)
    np.testing.assert_allclose(logits, small(features)["logits"], atol=1e-4)


@pytest.mark.parametrize("rank, message", [(0, r"rank must be an int in \[1, 16\]"), (17, r"\[1, 16\]")])
def test_bad_ranks_and_models_are_refused(rank, message):
    student, _ = _student()
    with pytest.raises(ValueError, match=message):
        compress.factorize_embeddings(student, rank)
    with pytest.raises(ValueError, match="factorised already"):
        compress.factorize_embeddings(compress.factorize_embeddings(student, 8), 4)


def test_a_stripped_pruned_student_factorises_and_a_wrapped_one_is_refused():
    student, features = _student()
    pruned = compress.prune_student(student, compress.PruningConfig(schedule="constant", end_step=-1, frequency=1))
    with pytest.raises(ValueError, match="without tfmot wrappers"):
        compress.factorize_embeddings(pruned, 8)
    stripped = compress.strip_student(pruned)
    full = compress.factorize_embeddings(stripped, stripped.bert_config.hidden_size)
    np.testing.assert_allclose(full(features)["logits"], stripped(features)["logits"], atol=1e-5)
