"""Accuracy of a classifier on a dataset split."""

import numpy as np

from tfdistill.data.pipeline import length_sorted_batches
from tfdistill.data.preprocessor import as_preprocessor
from tfdistill.models.inference import batched_logits


def predict_logits(model, preprocessor, split, max_length=None, batch_size=64):
    """Returns `(logits, labels)` numpy arrays for every example of `split`, in split order.

    Args:
        model: a Keras model whose output is a `logits` tensor or a dict with a `logits` key.
        preprocessor: `tfdistill.data.TextClassifierPreprocessor`, or a `tfdistill.Tokenizer`
            with `max_length`.
        split: `tfdistill.data.Split`.
        max_length: int, only with a tokenizer.
        batch_size: int.

    Example:
    >>> logits, labels = predict_logits(student, preprocessor, data.test)
    >>> logits.shape, labels.shape
    ((16, 2), (16,))
    """
    # In order of length, so a batch is padded only to its own longest text: split order padded
    # Rotten Tomatoes' batches to about twice their mean length.
    order, dataset = length_sorted_batches(as_preprocessor(preprocessor, max_length).tokenize(split), batch_size)
    logits = batched_logits(model, (batch for batch, _ in dataset))
    in_split_order = np.empty_like(logits)
    in_split_order[order] = logits
    return in_split_order, np.asarray(split.labels)


def accuracy(model, preprocessor, split, max_length=None, batch_size=64):
    """Returns the accuracy (float in [0, 1]) of `model` on `split` (arguments: `predict_logits`)."""
    logits, labels = predict_logits(model, preprocessor, split, max_length, batch_size)
    return float(np.mean(np.argmax(logits, axis=-1) == labels))
