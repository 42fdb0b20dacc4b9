"""Tiny random teachers, students and batches for tests and examples."""

import numpy as np

from tfdistill.models.bert.bert_config import BertConfig
from tfdistill.models.bert.bert_model import build_bert

TEACHER_CONFIG = BertConfig(vocab_size=64, hidden_size=32, num_layers=4, num_heads=4, intermediate_size=64,
                            max_position_embeddings=32, num_labels=2, hidden_dropout=0.0, attention_dropout=0.0)
STUDENT_CONFIG = TEACHER_CONFIG.replace(hidden_size=16, num_layers=2, num_heads=2, intermediate_size=32)


def tiny_pair(seed=0):
    """Returns a tiny `(teacher, student)` pair of random BERTs with different widths and heads."""
    import tensorflow as tf

    tf.keras.utils.set_random_seed(seed)
    return build_bert(TEACHER_CONFIG, name="teacher"), build_bert(STUDENT_CONFIG, name="student")


def tiny_batch(batch=16, seq=12, seed=0, vocab_size=64):
    """Returns `(features, labels)` numpy arrays with padding on every other row."""
    rng = np.random.default_rng(seed)
    ids = rng.integers(1, vocab_size, size=(batch, seq)).astype("int32")
    mask = np.ones_like(ids)
    mask[::2, seq * 2 // 3:] = 0
    ids = ids * mask
    labels = (ids[:, 1] % 2).astype("int32")  # learnable from the first word
    return {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}, labels
