"""Accuracy of any `.tflite` classifier on a dataset split, through the LiteRT interpreter."""

import dataclasses
import os

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


def evaluate_tflite(model, tokenizer, split, max_examples=None, num_threads=1, seed=0, label_names=None):
    """Measures a `.tflite` classifier's accuracy on a split, one example per invocation.

    With `label_names`, the split's classes are matched by name to the package's `labels.txt`
    (beside `model.tflite`): the same names in another order are mapped, other names are refused.
    A bare flatbuffer, or a package whose labels are the placeholders `LABEL_<i>`, is taken by
    position.

    Args:
        model: str or bytes, a `.tflite` path, package folder or flatbuffer.
        tokenizer: `tfdistill.Tokenizer` matching the model's vocabulary.
        split: `tfdistill.data.Split`.
        max_examples: optional int, evaluate a seeded sample of this many.
        num_threads: int.
        seed: int, the sampling seed.
        label_names: optional list of str, the class name of each of the split's label ids
            (`data.label_names`).

    Returns:
        `Evaluation`.

    Raises:
        FileNotFoundError: no model there.
        ValueError: not a TFLite model, the tokenizer's vocabulary differs from the model's
            embedding table, the split is empty, or its class names are not the package's (the
            message names both sets).

    Example:
    >>> evaluation = evaluate_tflite(package_dir, tokenizer, data.test, label_names=data.label_names)
    >>> evaluation.examples, evaluation.seq_len, evaluation.logits.shape, 0 <= evaluation.accuracy <= 1
    (16, 16, (16, 2), True)
    """
    from tfdistill.export.checks import check_tokenizer
    from tfdistill.export.features import encode_split
    from tfdistill.export.runtime import TFLiteClassifier

    split = split_in_package_order(model, split, label_names)
    classifier = TFLiteClassifier(model, num_threads=num_threads)
    check_tokenizer(classifier.vocab_size, tokenizer, "the .tflite model")
    features, labels = encode_split(split, tokenizer, classifier.seq_len, max_examples, seed,
                                    what="evaluation split")
    logits = classifier.predict_logits(features)
    accuracy = float(np.mean(np.argmax(logits, axis=-1) == labels))
    return Evaluation(accuracy=accuracy, examples=len(labels), seq_len=classifier.seq_len,
                      logits=logits)


def package_labels(model):
    """Returns the class names of a model package (its `labels.txt`), or None when unknown.

    Args:
        model: str or bytes, a package folder, a `.tflite` path (its folder's `labels.txt` is
            read when it is the package's `model.tflite`) or a flatbuffer (None).

    Returns:
        list of str, or None.

    Example:
    >>> package_labels(package_dir), package_labels(b"TFL3 bytes")
    (['neg', 'pos'], None)
    """
    from tfdistill.export.package import LABELS_FILE, TFLITE_FILE

    if not isinstance(model, (str, os.PathLike)):
        return None
    model = os.fspath(model)
    folder = model if os.path.isdir(model) else (
        os.path.dirname(model) if os.path.basename(model) == TFLITE_FILE else None)
    path = None if folder is None else os.path.join(folder, LABELS_FILE)
    if path is None or not os.path.isfile(path):
        return None
    with open(path, encoding="utf-8") as f:
        return [line for line in f.read().split("\n") if line]


def split_in_package_order(model, split, label_names):
    """Returns `split` with its label ids in the package's class order (matched by name).

    Args:
        model: str or bytes, what `evaluate_tflite` evaluates.
        split: `tfdistill.data.Split`.
        label_names: list of str or None, the class name of each of the split's ids (None: the
            split is taken as it is).

    Returns:
        `Split`.

    Raises:
        ValueError: the names differ from the package's `labels.txt` (the message names both
            sets and the fix).

    Example:
    >>> from tfdistill.data import Split
    >>> split = Split(["good", "dull"], [0, 1])  # 0 is "pos" here, but "neg" in the package
    >>> split_in_package_order(package_dir, split, ["pos", "neg"]).labels.tolist()
    [1, 0]
    """
    from tfdistill.data import datasets, labels

    names = package_labels(model)
    if label_names is None or names is None:
        return split
    order = labels.class_order(
        list(label_names), names, model=f"The model package {model}", data="the evaluation data",
        fix="Evaluate it on data labelled with the package's classes (its labels.txt), or rename the "
            "labels in the data file to those names.")
    return split if order is None else datasets.relabel(split, order)
