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


TASK_WORDS = "good bad great awful fine dull movie plot acting fun boring superb weak strong the a is was".split()


def write_tiny_task(folder, rows=96, model_name="model", seed=0, **config):
    """Writes a made-up 2-class task for script tests: `train.csv` (`rows` rows of 3-9
    `TASK_WORDS`, labelled `pos` when "good" occurs, else `neg`) and a random tiny BERT
    classifier folder with its own 23-token vocabulary.

    Args:
        folder: pathlib.Path, an existing folder.
        rows: int.
        model_name: str, the model folder's name in `folder`.
        seed: int, seeds the rows and the weights.
        **config: `BertConfig` fields replacing the defaults (1 block of width 16, 2 heads,
            feed-forward 32, 16 positions, 2 labels).

    Returns:
        `(csv_path, model_folder)` as `pathlib.Path`s.

    Example:
    >>> import pathlib
    >>> train_csv, student = write_tiny_task(pathlib.Path("."), rows=200, num_layers=2)
    >>> train_csv.name, student.name, len(train_csv.read_text().splitlines())
    ('train.csv', 'model', 201)
    """
    import numpy as np

    import tfdistill
    from tfdistill.data import Tokenizer

    rng = np.random.default_rng(seed)
    lines = ["text,label"]
    for _ in range(rows):
        words = list(rng.choice(TASK_WORDS, rng.integers(3, 10)))
        lines.append(f"{' '.join(words)},{'pos' if 'good' in words else 'neg'}")
    (folder / "train.csv").write_text("\n".join(lines) + "\n")
    tokenizer = Tokenizer.from_vocab(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *TASK_WORDS])
    config = tfdistill.BertConfig(**{
        "vocab_size": tokenizer.vocab_size, "hidden_size": 16, "num_layers": 1, "num_heads": 2,
        "intermediate_size": 32, "max_position_embeddings": 16, "num_labels": 2, **config})
    tfdistill.save_pretrained(tiny_student(config, seed=seed, name=model_name), str(folder / model_name), tokenizer)
    return folder / "train.csv", folder / model_name
