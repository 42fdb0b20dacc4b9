import numpy as np
import pytest

from tfdistill.data import TextClassifierPreprocessor
from tfdistill.distill import general
from tfdistill.distill.student import student_from_teacher
from tfdistill.distill.testing import TEACHER_CONFIG
from tfdistill.models.bert.bert_model import build_bert
from tfdistill.training.testing import tiny_task


def _encoders(tokenizer, seed=0):
    import tf_keras as keras

    keras.utils.set_random_seed(seed)
    # Larger initial weights than BERT's 0.02: a random tiny teacher's attention is then far from
    # uniform, so the relation and attention terms have something to teach.
    config = TEACHER_CONFIG.replace(vocab_size=tokenizer.vocab_size, num_labels=None, initializer_range=0.5)
    teacher = build_bert(config, name="teacher")
    student = student_from_teacher(teacher, 2, hidden_size=16, num_heads=2, intermediate_size=32)
    return teacher, student


@pytest.mark.parametrize("losses, term", [("minilm", "minilm_relation"), ("tinybert", "hidden_mse")])
def test_general_distillation_teaches_a_headless_student(losses, term):
    tokenizer, data = tiny_task(train=128)
    teacher, student = _encoders(tokenizer)
    teacher_weights = [w.copy() for w in teacher.get_weights()]
    result = general.general_distill(teacher, student, TextClassifierPreprocessor(tokenizer, 16), data.train.texts,
                                     losses=losses, epochs=3, batch_size=16, learning_rate=5e-3, verbose=0)
    history = result["history"]
    assert "accuracy" not in history and history[term][-1] < history[term][0]
    assert history["val_loss"][result["best_epoch"]] == min(history["val_loss"])
    assert (result["train_texts"], result["validation_texts"]) == (128 - 12, 12)  # 10% held out
    for before, after in zip(teacher_weights, teacher.get_weights()):
        np.testing.assert_array_equal(before, after)  # the teacher is frozen


def test_terms_that_read_logits_are_refused():
    tokenizer, data = tiny_task()
    teacher, student = _encoders(tokenizer)
    with pytest.raises(ValueError, match="read no logits"):
        general.general_distill(teacher, student, TextClassifierPreprocessor(tokenizer, 16), data.train.texts,
                                losses=["logit_kd"])
    with pytest.raises(ValueError, match="Unknown general-distillation losses 'bert'"):
        general.general_losses("bert")
    with pytest.raises(ValueError, match="at least 2 unlabeled texts"):
        general.unlabeled_splits(["one"])


def test_a_general_student_gets_a_task_head(tmp_path):
    import tfdistill

    tokenizer, data = tiny_task()
    teacher, student = _encoders(tokenizer)
    tfdistill.save_pretrained(student, str(tmp_path / "general"), tokenizer=tokenizer)
    task_teacher = build_bert(teacher.bert_config.replace(num_labels=2), name="task_teacher")
    preprocessor = TextClassifierPreprocessor(tokenizer, 16)
    loaded = general.load_general_student(str(tmp_path / "general"), task_teacher, preprocessor, ["neg", "pos"])
    assert loaded.bert_config.num_labels == 2 and loaded.bert_config.label_names == ("neg", "pos")
    np.testing.assert_array_equal(loaded.get_layer("word_embeddings").get_weights()[0],
                                  student.get_layer("word_embeddings").get_weights()[0])
    other = tfdistill.Tokenizer.from_vocab(tokenizer.vocab[:-1] + ["zebra"])
    with pytest.raises(ValueError, match="another vocabulary"):
        general.load_general_student(str(tmp_path / "general"), task_teacher, preprocessor.replace(tokenizer=other),
                                     ["neg", "pos"])
