"""Compiled inference calls of Keras models, built once per model and reused.

An eager `model(inputs, training=False)` dispatches every op from Python: on the fp32 MiniLM
teacher the 1,281 validation texts of Rotten Tomatoes took 20.7 s eagerly and 11.1 s through a
compiled call (its second use; `bench/training_throughput.py` does not time this). Evaluation,
export validation and the importance probe call the same model many times, so the compiled
function is kept with the model.
"""

import weakref

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


__all__ = ["inference_function"]
