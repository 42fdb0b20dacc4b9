"""Accuracy of a classifier on a dataset split."""

import numpy as np

from tfdistill.data.pipeline import make_tf_dataset


def predict_logits(model, tokenizer, split, max_length, batch_size=64):
    """Returns `(logits, labels)` numpy arrays for every example of `split`, in split order.

    Args:
        model: a Keras model whose output is a `logits` tensor or a dict with a `logits` key.
        tokenizer: `tfdistill.Tokenizer`.
        split: `tfdistill.data.Split`.
        max_length: int.
        batch_size: int.
    """
    dataset = make_tf_dataset(split, tokenizer, max_length, batch_size)
    logits = []
    for features, _ in dataset:
        out = model(features, training=False)
        logits.append(np.asarray(out["logits"] if isinstance(out, dict) else out))
    return np.concatenate(logits), np.asarray(split.labels)


def accuracy(model, tokenizer, split, max_length, batch_size=64):
    """Returns the accuracy (float in [0, 1]) of `model` on `split`."""
    logits, labels = predict_logits(model, tokenizer, split, max_length, batch_size)
    return float(np.mean(np.argmax(logits, axis=-1) == labels))
