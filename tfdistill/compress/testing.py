"""Tiny students and batches for the compression tests (built on `tfdistill.distill.testing`)."""

from tfdistill.distill.testing import STUDENT_CONFIG, tiny_batch

# One block (fast), widths 16 and 32 (2:4 fits), vocab 64 (a word table with rows to prune).
TINY_CONFIG = STUDENT_CONFIG.replace(num_layers=1)


def tiny_student(config=TINY_CONFIG, seed=0, name="student"):
    """Returns a random tiny `BertModel` (seeded)."""
    import tensorflow as tf

    from tfdistill.models.bert.bert_model import build_bert

    tf.keras.utils.set_random_seed(seed)
    return build_bert(config, name=name)


def tiny_dataset(batch=8, num_batches=4, seed=0, id_stride=1):
    """Returns a `tf.data.Dataset` of `(features, labels)` batches (padding on half the rows).

    Args:
        batch: int, batch size.
        num_batches: int.
        seed: int.
        id_stride: int, token ids are multiplied by it (mod the vocabulary): with 2, only even
            ids occur.
    """
    import tensorflow as tf

    features, labels = tiny_batch(batch=batch * num_batches, seed=seed, vocab_size=TINY_CONFIG.vocab_size)
    features["input_ids"] = features["input_ids"] * id_stride % TINY_CONFIG.vocab_size
    return tf.data.Dataset.from_tensor_slices((features, labels)).batch(batch)
