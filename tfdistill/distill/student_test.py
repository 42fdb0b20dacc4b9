import numpy as np
import pytest

import tfdistill
from tfdistill.distill import student_from_teacher
from tfdistill.distill.testing import TEACHER_CONFIG, tiny_batch
from tfdistill.testing import run_model_saving_test


@pytest.fixture(scope="module")
def teacher():
    return tfdistill.build_bert(TEACHER_CONFIG, name="teacher")


def test_same_width_copies_embeddings_and_uniformly_mapped_blocks(teacher):
    student = student_from_teacher(teacher, num_layers=2)
    assert student.bert_config.hidden_size == 32 and student.bert_config.num_layers == 2
    np.testing.assert_array_equal(student.get_layer("word_embeddings").get_weights()[0],
                                  teacher.get_layer("word_embeddings").get_weights()[0])
    # uniform map for 2 of 4 layers: student blocks 0, 1 <- teacher blocks 1, 3 (0-based)
    for student_block, teacher_block in ((0, 1), (1, 3)):
        np.testing.assert_array_equal(student.get_layer(f"layer_{student_block}_query").get_weights()[0],
                                      teacher.get_layer(f"layer_{teacher_block}_query").get_weights()[0])
    np.testing.assert_array_equal(student.get_layer("classifier").get_weights()[0],
                                  teacher.get_layer("classifier").get_weights()[0])


def _teacher_with_idle_head_and_units(idle_head, idle_units):
    """A tiny teacher whose block 0 has one head and some feed-forward units that add nothing."""
    model = tfdistill.build_bert(TEACHER_CONFIG, name="teacher_idle")
    size = TEACHER_CONFIG.head_size
    head = slice(idle_head * size, (idle_head + 1) * size)
    value, value_bias = model.get_layer("layer_0_value").get_weights()
    value[:, head], value_bias[head] = 0.0, 0.0
    model.get_layer("layer_0_value").set_weights([value, value_bias])
    output, output_bias = model.get_layer("layer_0_output").get_weights()
    output[idle_units] = 0.0
    model.get_layer("layer_0_output").set_weights([output, output_bias])
    return model


@pytest.mark.parametrize("with_data", [False, True])
def test_fewer_heads_and_units_keep_the_teachers_important_ones(with_data):
    idle_units = np.arange(5, 21)
    teacher = _teacher_with_idle_head_and_units(idle_head=2, idle_units=idle_units)
    features, _ = tiny_batch(8)
    student = student_from_teacher(teacher, num_layers=1, num_heads=3, intermediate_size=48, layer_map=[1],
                                   importance_data=features if with_data else None)
    config = student.bert_config
    assert (config.num_heads, config.head_size, config.attention_size) == (3, 8, 24)
    # The idle head and units added nothing, so dropping them leaves block 0's output unchanged.
    np.testing.assert_allclose(student(features)["hidden_states"][1], teacher(features)["hidden_states"][1],
                               atol=1e-5)
    expected_keys = np.concatenate([teacher.get_layer("layer_0_key").get_weights()[0][:, :16],
                                    teacher.get_layer("layer_0_key").get_weights()[0][:, 24:]], axis=1)
    np.testing.assert_array_equal(student.get_layer("layer_0_key").get_weights()[0], expected_keys)


def test_pruned_student_round_trips_through_a_checkpoint(tmp_path, teacher):
    student = student_from_teacher(teacher, num_layers=2, num_heads=2, intermediate_size=16)
    assert student.bert_config.to_hf_dict()["attention_head_size"] == 8
    # The folder names the unnamed labels the Hugging Face way.
    run_model_saving_test(student, tiny_batch(2)[0], tmp_path / "student", atol=1e-6,
                          expected_config=student.bert_config.replace(label_names=("LABEL_0", "LABEL_1")))


def test_narrow_student_gets_pca_embeddings(teacher):
    student = student_from_teacher(teacher, num_layers=2, hidden_size=16)
    words = teacher.get_layer("word_embeddings").get_weights()[0]
    projected = student.get_layer("word_embeddings").get_weights()[0]
    centred = words - words.mean(axis=0)
    # The projection keeps the top-16 principal components: as much variance as any 16-d projection.
    top = np.sort(np.linalg.eigvalsh(centred.T @ centred))[::-1][:16].sum()
    assert np.isclose((projected ** 2).sum(), top, rtol=1e-3)
    assert student.bert_config.num_heads == TEACHER_CONFIG.num_heads
    assert student(tiny_batch(2)[0])["logits"].shape == (2, 2)


def test_factorised_student_starts_from_the_svd_of_its_initial_table(teacher):
    full = student_from_teacher(teacher, num_layers=2)
    same = student_from_teacher(teacher, num_layers=2, embedding_size=32)  # full rank: the same function
    features, _ = tiny_batch()
    np.testing.assert_allclose(same(features)["logits"], full(features)["logits"], atol=1e-5)
    narrow = student_from_teacher(teacher, num_layers=2, hidden_size=16, embedding_size=4)
    assert narrow.bert_config.embedding_size == 4 and narrow.get_layer("word_embeddings").output_dim == 4
    product = narrow.get_layer("word_embeddings").get_weights()[0] @ \
        narrow.get_layer("word_embeddings_projection").get_weights()[0]
    pca = student_from_teacher(teacher, num_layers=2, hidden_size=16).get_layer("word_embeddings").get_weights()[0]
    assert np.linalg.matrix_rank(product) == 4 and np.sum((product - pca) ** 2) < np.sum(pca ** 2)
    with pytest.raises(ValueError, match="teacher's word table is factorised"):
        student_from_teacher(same, num_layers=1)


def test_config_only_teacher_and_random_init(teacher):
    student = student_from_teacher(TEACHER_CONFIG, num_layers=1, hidden_size=16, num_heads=2)
    assert student.bert_config.intermediate_size == 64
    random = student_from_teacher(teacher, num_layers=2, embedding_init="random")
    assert not np.array_equal(random.get_layer("word_embeddings").get_weights()[0],
                              teacher.get_layer("word_embeddings").get_weights()[0])


@pytest.mark.parametrize("kwargs, message", [
    (dict(num_layers=5), "is not smaller than the teacher"),
    (dict(num_layers=2, hidden_size=64), "is not smaller than the teacher"),
    (dict(num_layers=2, hidden_size=16, embedding_init="copy"), "needs the teacher's width"),
    (dict(num_layers=2, embedding_init="glove"), "embedding_init must be one of"),
    (dict(num_layers=2, hidden_size=16, num_heads=3), "not divisible by num_heads=3"),
    (dict(num_layers=2, hidden_size=16, embedding_size=17), r"embedding_size must be an int in \[1, 16\]"),
    (dict(num_layers=2, embedding_size=0), "embedding_size must be an int"),
])
def test_invalid_students_are_refused(teacher, kwargs, message):
    with pytest.raises(ValueError, match=message):
        student_from_teacher(teacher, **kwargs)
