"""Which quantized student the pipeline ships: chosen on validation, with noise taken into account.

Validation accuracy is measured on a few hundred or thousand examples; a difference of one or two
examples between candidates says nothing about new data (one standard error of an accuracy near
0.81 on 1,281 examples is 1.1 points). The rule, fixed before any test score is read:

1. candidates whose validation accuracy is within one standard error of the best
   (`sqrt(p (1 - p) / n)`, p the best accuracy, n the validation examples) are tied with it
   (the one-standard-error rule of model selection);
2. among the tied, `SHIP_PREFERENCE` orders the modes: QAT int8 first (trained and validated
   through the arithmetic the `.tflite` runs), then post-training int8 (static int8 kernels),
   then dynamic range;
3. then the smaller gzip download, then the higher validation accuracy.
"""

import math

# Export modes a shipped student may have, most preferred first.
SHIP_PREFERENCE = ("qat", "int8", "dynamic")


def standard_error(accuracy, examples):
    """One standard error of an accuracy measured on `examples` examples.

    Example:
    >>> round(standard_error(0.81, 1281), 4)
    0.011
    """
    return math.sqrt(max(accuracy * (1.0 - accuracy), 0.0) / max(examples, 1))


def choose_shipped(candidates, validation_examples):
    """Chooses the student to ship among `.tflite` entries of the report.

    Args:
        candidates: list of dicts with `name`, `mode`, `validation_accuracy`, `gzip_size_bytes`.
        validation_examples: int, the size of the validation split.

    Returns:
        `(entry, details)`: the chosen entry (None without candidates) and a dict with
        `best_validation_accuracy`, `standard_error`, `tied` (names, best first) and `rule`.

    Example:
    >>> entries = [{"name": "int8", "mode": "int8", "validation_accuracy": 0.812, "gzip_size_bytes": 10},
    ...            {"name": "qat", "mode": "qat", "validation_accuracy": 0.810, "gzip_size_bytes": 10},
    ...            {"name": "dyn", "mode": "dynamic", "validation_accuracy": 0.790, "gzip_size_bytes": 5}]
    >>> entry, details = choose_shipped(entries, 1281)
    >>> entry["name"], details["tied"]
    ('qat', ['int8', 'qat'])
    """
    candidates = [c for c in candidates if c["mode"] in SHIP_PREFERENCE and c.get("validation_accuracy") is not None]
    if not candidates:
        return None, {}
    best = max(c["validation_accuracy"] for c in candidates)
    error = standard_error(best, validation_examples)
    tied = sorted((c for c in candidates if c["validation_accuracy"] >= best - error - 1e-12),
                  key=lambda c: -c["validation_accuracy"])
    chosen = min(tied, key=lambda c: (SHIP_PREFERENCE.index(c["mode"]), c["gzip_size_bytes"],
                                      -c["validation_accuracy"]))
    return chosen, {"best_validation_accuracy": best, "standard_error": error,
                    "tied": [c["name"] for c in tied],
                    "rule": "within one standard error of the best validation accuracy; then "
                            f"{' > '.join(SHIP_PREFERENCE)}; then the smaller gzip; then validation accuracy"}
