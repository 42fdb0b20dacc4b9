"""Accuracy of any `.tflite` classifier on a dataset split, through the LiteRT interpreter."""

import dataclasses

import numpy as np


@dataclasses.dataclass(frozen=True)
class Evaluation:
    """The result of `evaluate_tflite`.

    Args:
        accuracy: float in [0, 1].
        examples: int, examples evaluated.
        seq_len: int, the model's fixed sequence length.
        logits: float32 array `[examples, num_labels]`.
    """

    accuracy: float
    examples: int
    seq_len: int
    logits: np.ndarray = dataclasses.field(repr=False)


def evaluate_tflite(model, tokenizer, split, max_examples=None, num_threads=1, seed=0):
    """Measures a `.tflite` classifier's accuracy on a split, one example per invocation.

    Args:
        model: str or bytes, a `.tflite` path, package folder or flatbuffer.
        tokenizer: `tfdistill.Tokenizer` matching the model's vocabulary.
        split: `tfdistill.data.Split`.
        max_examples: optional int, evaluate a seeded sample of this many.
        num_threads: int.
        seed: int, the sampling seed.

    Returns:
        `Evaluation`.

    Raises:
        FileNotFoundError: no model there.
        ValueError: not a TFLite model, the tokenizer's vocabulary differs from the model's
            embedding table, or the split is empty.

    Example:
    >>> evaluate_tflite("runs/student_int8", tokenizer, data.test).accuracy  # doctest: +SKIP
    0.742
    """
    from tfdistill.export.checks import check_tokenizer
    from tfdistill.export.features import encode_split
    from tfdistill.export.runtime import TFLiteClassifier

    classifier = TFLiteClassifier(model, num_threads=num_threads)
    check_tokenizer(classifier.vocab_size, tokenizer, "the .tflite model")
    features, labels = encode_split(split, tokenizer, classifier.seq_len, max_examples, seed,
                                    what="evaluation split")
    logits = classifier.predict_logits(features)
    accuracy = float(np.mean(np.argmax(logits, axis=-1) == labels))
    return Evaluation(accuracy=accuracy, examples=len(labels), seq_len=classifier.seq_len,
                      logits=logits)
