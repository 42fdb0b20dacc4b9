"""Checking a converted `.tflite` against the Keras model it came from, before it is written."""

import dataclasses

import numpy as np

# Minimum argmax agreement with the Keras model, per export mode.
MIN_AGREEMENT = {"float32": 0.99, "float16": 0.99, "dynamic": 0.99, "int8": 0.97, "qat": 0.97}


class ExportValidationError(ValueError):
    """The converted model disagrees with the Keras model more than its mode allows."""


@dataclasses.dataclass(frozen=True)
class Agreement:
    """How closely a `.tflite` reproduces the Keras model on held-out examples.

    Args:
        examples: int, examples compared.
        agreement: float in [0, 1], share of examples with the same argmax.
        max_abs_logit_diff: float, the largest |logit difference| over examples and labels.

    Example:
    >>> Agreement.of(np.array([[0.0, 1.0], [2.0, 1.0]]), np.array([[0.1, 1.0], [0.5, 1.0]]))
    Agreement(examples=2, agreement=0.5, max_abs_logit_diff=1.5)
    """

    examples: int
    agreement: float
    max_abs_logit_diff: float

    @classmethod
    def of(cls, reference, candidate):
        """Compares two `[n, num_labels]` logit arrays.

        Raises:
            ValueError: the shapes differ.
        """
        reference, candidate = np.asarray(reference, np.float64), np.asarray(candidate, np.float64)
        if reference.shape != candidate.shape:
            raise ValueError(f"Cannot compare logits of shapes {reference.shape} and "
                             f"{candidate.shape}; the models have different heads.")
        same = np.argmax(reference, -1) == np.argmax(candidate, -1)
        return cls(examples=len(same), agreement=float(np.mean(same)) if len(same) else 0.0,
                   max_abs_logit_diff=float(np.max(np.abs(reference - candidate), initial=0.0)))

    def to_dict(self):
        """Returns a JSON-serialisable dict."""
        return dataclasses.asdict(self)


def keras_logits(model, features, batch_size=64):
    """Returns the Keras model's float32 logits `[n, num_labels]` for tokenized features.

    Args:
        model: a tf_keras model returning logits or a dict with `logits`.
        features: dict of int32 arrays `[n, seq_len]`.
        batch_size: int.

    Example:
    >>> keras_logits(student, features).shape  # features: 4 tokenized texts
    (4, 2)
    """
    from tfdistill.export.features import rows
    from tfdistill.models.inference import batched_logits

    count = len(features["input_ids"])
    return batched_logits(model, (rows(features, start, start + batch_size) for start in range(0, count, batch_size)))


def check_agreement(agreement, mode, force=False):
    """Refuses an export whose agreement is below `MIN_AGREEMENT[mode]` (unless forced).

    Args:
        agreement: `Agreement`.
        mode: str, the export mode.
        force: bool, accept it anyway.

    Returns:
        `agreement`.

    Raises:
        ExportValidationError: agreement below the threshold and not `force`.

    Example:
    >>> check_agreement(Agreement(100, 0.9, 2.0), "float32")
    Traceback (most recent call last):
    ...
    tfdistill.export.validation.ExportValidationError: The float32 .tflite agrees ...
    """
    minimum = MIN_AGREEMENT[mode]
    if agreement.agreement < minimum and not force:
        raise ExportValidationError(
            f"The {mode} .tflite agrees with the Keras model on {agreement.agreement:.1%} of "
            f"{agreement.examples} validation examples (max |logit diff| "
            f"{agreement.max_abs_logit_diff:.4g}); {mode} exports need >= {minimum:.0%}. Nothing "
            "was written. Try a float mode (dynamic keeps int8 weights) or more representative "
            "examples, or pass --force (force=True) to write it anyway.")
    return agreement
