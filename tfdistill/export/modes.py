"""The export modes, int8 scopes and quantizers (no TensorFlow import, so scripts can define flags
cheaply).

Example:
>>> MODES
('float32', 'float16', 'dynamic', 'int8', 'qat')
"""

# The int8 scopes ("xnnpack": int8 only where XNNPACK keeps one partition; "full": every op that
# has an int8 kernel) are the run config's, shared with QAT.
from tfdistill.config.sections import INT8_SCOPES  # noqa: F401  (re-exported)

MODES = ("float32", "float16", "dynamic", "int8", "qat")
# Modes whose activation ranges come from a representative dataset.
CALIBRATED_MODES = ("int8", "qat")
# Who quantizes the `dynamic` and `int8` (xnnpack scope) modes: ai-edge-quantizer from the
# recipe files of `tfdistill.export.quantization_recipes` (the default), or TF's converter with
# the denylist and hand edits used before issue 13 (kept for `bench/export_compare.py`).
QUANTIZERS = ("ai-edge-quantizer", "converter")
# The modes a recipe file quantizes (the others have no recipe: float, or QAT's learned ranges).
RECIPE_MODES = ("dynamic", "int8")


def check_mode(mode, int8_scope="xnnpack", quantizer="ai-edge-quantizer"):
    """Refuses an unknown mode, int8 scope or quantizer.

    Raises:
        ValueError: naming the valid choices.

    Example:
    >>> check_mode("int4")
    Traceback (most recent call last):
    ...
    ValueError: Unknown export mode 'int4'; use one of float32, float16, dynamic, int8, qat.
    """
    if mode not in MODES:
        raise ValueError(f"Unknown export mode {mode!r}; use one of {', '.join(MODES)}.")
    if int8_scope not in INT8_SCOPES:
        raise ValueError(f"Unknown int8_scope {int8_scope!r}; use one of {', '.join(INT8_SCOPES)}.")
    if quantizer not in QUANTIZERS:
        raise ValueError(f"Unknown quantizer {quantizer!r}; use one of {', '.join(QUANTIZERS)}.")
    return mode


def uses_recipe(mode, int8_scope="xnnpack", quantizer="ai-edge-quantizer"):
    """Whether ai-edge-quantizer quantizes this export from a recipe file.

    Args:
        mode: str, one of `MODES`.
        int8_scope: str, one of `INT8_SCOPES` (only "xnnpack" has a recipe).
        quantizer: str, one of `QUANTIZERS`.

    Returns:
        bool.

    Example:
    >>> uses_recipe("int8"), uses_recipe("int8", "full"), uses_recipe("qat")
    (True, False, False)
    >>> uses_recipe("dynamic", quantizer="converter")
    False
    """
    return (mode in RECIPE_MODES and quantizer == "ai-edge-quantizer"
            and (mode != "int8" or int8_scope == "xnnpack"))
