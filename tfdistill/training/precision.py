"""Mixed bfloat16 training on CPUs that have bfloat16 units, float32 elsewhere.

Keras' `mixed_bfloat16` policy keeps every variable in float32 and runs the layers' math
(matmuls above all) in bfloat16. On a CPU with AVX512_BF16 or AMX, oneDNN's bfloat16 matmuls
run well above the float32 rate; without those units bfloat16 is emulated and slower, so
`"auto"` picks it only where the CPU reports them.

The policy is never set for the whole process: `policy_scope` sets it while a model that
trains is built and restores the previous one, and `mixed_twin` builds such a copy of a
float32 BERT, so the caller's model (the one saved and exported) stays float32 and receives the
trained weights (`copy_weights`).

Example:
>>> policy = resolve("float32")
>>> policy
'float32'
>>> with policy_scope(policy):
...     pass
"""

import contextlib
import logging

MODES = ("auto", "bfloat16", "float32")
MIXED = "mixed_bfloat16"
FLOAT32 = "float32"
# The CPU flags (Linux /proc/cpuinfo names) of units that run bfloat16 matmuls natively.
BF16_FLAGS = ("avx512_bf16", "amx_bf16")

_log = logging.getLogger(__name__)
_default_mode = "auto"


def cpu_flags(path="/proc/cpuinfo"):
    """Returns the set of CPU feature flags the kernel reports (empty where it cannot be read).

    Args:
        path: str, the cpuinfo file.

    Returns:
        set of str, e.g. `{"avx512f", "avx512_bf16", ...}`.

    Example:
    >>> isinstance(cpu_flags(), set)
    True
    """
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def cpu_supports_bfloat16(flags=None):
    """True when the CPU has native bfloat16 matmul units (AVX512_BF16 or AMX-BF16).

    Args:
        flags: optional set of CPU flags (default: `cpu_flags()`).

    Example:
    >>> cpu_supports_bfloat16({"avx512f", "avx512_bf16"}), cpu_supports_bfloat16({"avx2"})
    (True, False)
    """
    flags = cpu_flags() if flags is None else flags
    return any(flag in flags for flag in BF16_FLAGS)


def check_mode(mode):
    """Returns `mode` if it is one of `MODES` (`"mixed_bfloat16"` is accepted as `"bfloat16"`).

    Raises:
        ValueError: an unknown mode, naming the valid ones.

    Example:
    >>> check_mode("mixed_bfloat16")
    'bfloat16'
    """
    mode = "bfloat16" if mode == MIXED else mode
    if mode not in MODES:
        raise ValueError(f"mixed_precision must be one of {MODES}, got {mode!r}.")
    return mode


def set_default_mode(mode):
    """Sets the mode that `resolve(None)` uses: what a recipe's `--mixed_precision` flag does for
    every training function it reaches (the pipeline's stages included).

    Args:
        mode: one of `MODES`.

    Returns:
        str, the previous default.

    Raises:
        ValueError: an unknown mode.

    Example:
    >>> previous = set_default_mode("float32"); _ = set_default_mode(previous)
    """
    global _default_mode
    previous, _default_mode = _default_mode, check_mode(mode)
    return previous


def requested(mode=None):
    """Returns the mode asked for: `mode`, or the process default when it is None.

    Example:
    >>> requested("float32")
    'float32'
    """
    return check_mode(_default_mode if mode is None else mode)


def resolve(mode=None, flags=None):
    """Returns the Keras policy name for a mode: `"mixed_bfloat16"` or `"float32"`.

    Args:
        mode: `"auto"` (bfloat16 where the CPU has bfloat16 units), `"bfloat16"` (always; slow
            where emulated), `"float32"`, or None for the default (`set_default_mode`, `"auto"`).
        flags: optional CPU flags, for tests.

    Returns:
        str, a `keras.mixed_precision` policy name.

    Raises:
        ValueError: an unknown mode.

    Example:
    >>> resolve("auto", flags={"avx2"}), resolve("auto", flags={"amx_bf16"})
    ('float32', 'mixed_bfloat16')
    """
    mode = requested(mode)
    if mode == "auto":
        return MIXED if cpu_supports_bfloat16(flags) else FLOAT32
    if mode == "bfloat16" and not cpu_supports_bfloat16(flags):
        _log.warning("mixed_precision=bfloat16 on a CPU without %s: bfloat16 is emulated there and slower "
                     "than float32.", "/".join(BF16_FLAGS))
    return MIXED if mode == "bfloat16" else FLOAT32


@contextlib.contextmanager
def policy_scope(policy):
    """Sets Keras' global dtype policy for the models built inside, then restores the previous one.

    Args:
        policy: str, a policy name (`resolve`'s result).

    Yields:
        str, `policy`.

    Example:
    >>> from tfdistill import build_bert
    >>> with policy_scope("mixed_bfloat16"):
    ...     mixed = build_bert(student.bert_config)  # computes in bfloat16, variables float32
    >>> is_mixed(mixed), is_mixed(student)
    (True, False)
    """
    import tf_keras as keras

    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(policy)
    try:
        yield policy
    finally:
        keras.mixed_precision.set_global_policy(previous)


def is_mixed(model):
    """True when any layer of `model` computes in a dtype other than its variables'.

    Example:
    >>> is_mixed(mixed_twin(student, MIXED)), is_mixed(student)
    (True, False)
    """
    return any(getattr(layer, "compute_dtype", None) != getattr(layer, "variable_dtype", None)
               for layer in getattr(model, "layers", ()))


def mixed_twin(model, policy):
    """Returns a copy of a float32 tfdistill `BertModel` built under `policy`, with its weights.

    The twin is what trains; `copy_weights(twin, model)` hands the result back, so the original
    (the model that is saved and exported) stays float32.

    Args:
        model: a `BertModel` (from `build_bert`, `load_pretrained` or `student_from_teacher`).
        policy: str, e.g. `"mixed_bfloat16"`.

    Returns:
        `model` itself when `policy` is float32, else the twin.

    Raises:
        TypeError: `model` is not a plain `BertModel` (tfmot-wrapped students, other teachers):
            check `can_twin` first.

    Example:
    >>> twin = mixed_twin(student, "mixed_bfloat16")
    >>> is_mixed(twin), twin is student, mixed_twin(student, "float32") is student
    (True, False, True)
    """
    if policy == FLOAT32:
        return model
    if not can_twin(model):
        raise TypeError(f"{model.name!r} is not a plain tfdistill BertModel; only those get a {policy} twin.")
    from tfdistill.models.bert.bert_model import BertModel

    with policy_scope(policy):
        twin = BertModel(model.bert_config, name=model.name)
    twin.set_weights(model.get_weights())
    return twin


def can_twin(model):
    """True for a plain tfdistill `BertModel` (not wrapped by tfmot, not a subclass).

    Example:
    >>> can_twin(student), can_twin(pruned)  # pruned: tfmot-wrapped
    (True, False)
    """
    from tfdistill.models.bert.bert_model import BertModel

    return type(model) is BertModel


def copy_weights(source, target):
    """Copies trained weights from a twin back into its float32 original (no-op if the same).

    Example:
    >>> twin = mixed_twin(student, "mixed_bfloat16")
    >>> twin.set_weights([weight * 0 for weight in twin.get_weights()])  # stands for training
    >>> copy_weights(twin, student)
    >>> float(abs(student.get_weights()[0]).sum())
    0.0
    """
    if source is not target:
        target.set_weights(source.get_weights())


def float32_outputs(outputs, keys=None):
    """Casts the floating tensors of a model's output dict to float32 (what every loss reads).

    Args:
        outputs: dict of tensors or lists of tensors.
        keys: optional iterable of the keys to keep and cast (default: all).

    Returns:
        dict with the same structure; float32 tensors stay as they are.

    Example:
    >>> import numpy as np
    >>> float32_outputs({"logits": np.zeros((1, 2), "float16")})["logits"].dtype
    tf.float32
    """
    import tensorflow as tf

    def cast(value):
        value = tf.convert_to_tensor(value)
        return tf.cast(value, tf.float32) if value.dtype.is_floating and value.dtype != tf.float32 else value

    selected = outputs if keys is None else {key: outputs[key] for key in keys if key in outputs}
    return {key: tf.nest.map_structure(cast, value) for key, value in selected.items()}
