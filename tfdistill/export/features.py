"""Fixed-length tokenized examples for calibration, validation and evaluation of a `.tflite`."""

import numpy as np


def encode_split(split, tokenizer, seq_len, max_examples=None, seed=0, what="split"):
    """Tokenizes (a sample of) a split to `[n, seq_len]` int32 arrays, the export's input shape.

    Args:
        split: `tfdistill.data.Split` (`texts`, optional `text_pairs`, `labels`).
        tokenizer: `tfdistill.Tokenizer`.
        seq_len: int, the fixed sequence length.
        max_examples: optional int; keeps a seeded random sample of that many examples.
        seed: int, the sampling seed.
        what: str, how the split is named in error messages (e.g. `"representative_split"`).

    Returns:
        `(features, labels)`: dict of int32 `input_ids`, `attention_mask`, `token_type_ids`
        `[n, seq_len]`, and int32 labels `[n]`.

    Raises:
        ValueError: the split is None or has no examples.

    Example:
    >>> from tfdistill.data import Split, Tokenizer
    >>> tokenizer = Tokenizer.from_vocab(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "good"])
    >>> features, labels = encode_split(Split(["good", "bad"], [1, 0]), tokenizer, 8)
    >>> features["input_ids"].shape, labels.tolist()
    ((2, 8), [1, 0])
    """
    if split is None or len(split) == 0:
        raise ValueError(
            f"The {what} is empty: it needs labelled examples (texts and labels). Pass a split "
            "with examples, e.g. data.train for calibration or data.validation for validation "
            "(tfdistill.datasets.load(...)).")
    if max_examples is not None and len(split) > max_examples:
        order = np.random.default_rng(seed).permutation(len(split))[:max_examples]
        split = split.take(sorted(order.tolist()))
    features = tokenizer(split.texts, split.text_pairs, max_length=seq_len)
    return features, np.asarray(split.labels, np.int32)


def rows(features, start, stop):
    """Returns rows `[start, stop)` of every feature array.

    Example:
    >>> rows({"input_ids": np.zeros((4, 8))}, 0, 1)["input_ids"].shape
    (1, 8)
    """
    return {name: values[start:stop] for name, values in features.items()}
