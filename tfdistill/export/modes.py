"""The export modes and int8 scopes (no TensorFlow import, so scripts can define flags cheaply).

Example:
>>> MODES
('float32', 'float16', 'dynamic', 'int8', 'qat')
"""

MODES = ("float32", "float16", "dynamic", "int8", "qat")
# "xnnpack": int8 only where XNNPACK keeps one partition; "full": every op that has an int8 kernel.
INT8_SCOPES = ("xnnpack", "full")
# Modes whose activation ranges come from a representative dataset.
CALIBRATED_MODES = ("int8", "qat")


def check_mode(mode, int8_scope="xnnpack"):
    """Refuses an unknown mode or int8 scope.

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
    return mode
