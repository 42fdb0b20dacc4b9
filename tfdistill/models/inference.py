"""Compiled inference calls of Keras models, built once per model and reused.

An eager `model(inputs, training=False)` dispatches every op from Python: on the fp32 MiniLM
teacher the 1,281 validation texts of Rotten Tomatoes took 20.7 s eagerly and 11.1 s through a
compiled call (its second use; `bench/training_throughput.py` does not time this). Evaluation,
export validation and the importance probe call the same model many times, so the compiled
function is kept with the model.
"""

import weakref

import numpy as np
import tensorflow as tf

# model -> its compiled call; the entry goes when the model does (the function holds only a
# weak reference to it).
_FUNCTIONS = weakref.WeakKeyDictionary()


def inference_function(model):
    """Returns a `tf.function` computing `model(inputs, training=False)`, the same one for every
    call with the same model while it lives.

    `reduce_retracing=True`: splits padded to their longest text give batches of several
    lengths, which share one trace after the first few.

    Args:
        model: a tf-keras model (or layer).

    Example:
    >>> import numpy as np
    >>> import tf_keras as keras
    >>> model = keras.Sequential([keras.layers.Dense(2)])
    >>> call = inference_function(model)
    >>> call is inference_function(model), call(np.ones((3, 4), np.float32)).shape
    (True, TensorShape([3, 2]))
    """
    function = _FUNCTIONS.get(model)
    if function is None:
        reference = weakref.ref(model)
        function = tf.function(lambda inputs: reference()(inputs, training=False), reduce_retracing=True)
        _FUNCTIONS[model] = function
    return function


def logits_of(outputs):
    """Returns the logits tensor of a model's output (a tensor or a dict with `logits`).

    Raises:
        ValueError: no `logits`, or not a `[batch, num_labels]` tensor.

    Example:
    >>> logits_of({"logits": tf.zeros([1, 2])}).shape
    TensorShape([1, 2])
    """
    if isinstance(outputs, dict):
        if "logits" not in outputs:
            raise ValueError(f"The model returns a dict with keys {sorted(outputs)}; it needs a "
                             "'logits' entry (build the model with num_labels set).")
        outputs = outputs["logits"]
    if not isinstance(outputs, tf.Tensor) or outputs.shape.rank != 2:
        raise ValueError(f"The model must return logits [batch, num_labels] (or a dict with "
                         f"'logits'); got {outputs!r}.")
    return outputs


def batched_logits(model, batches):
    """Returns `model`'s float32 logits `[examples, num_labels]` (numpy) over an iterable of
    feature batches, in order, through `inference_function(model)`.

    Example:
    >>> batched_logits(student, [features, features]).shape  # features: 4 tokenized texts
    (8, 2)
    """
    call = inference_function(model)
    return np.concatenate([np.asarray(logits_of(call(features)), np.float32) for features in batches])


__all__ = ["batched_logits", "inference_function", "logits_of"]
