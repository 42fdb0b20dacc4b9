"""The small custom layers a BERT encoder is built from.

A raw TensorFlow op in a functional model becomes a `TFOpLambda` layer, which tfmot can neither
prune nor quantize. So every piece of attention math that is not a Keras built-in (Dense,
LayerNormalization, Softmax, Add, Activation) is a named layer here. Each defines
`get_config` (to round-trip through Keras serialisation) and `get_prunable_weights` (so
`prune_low_magnitude` can wrap the whole model; these layers have no kernels to prune).
"""

import math

import tensorflow as tf
import tf_keras as keras

# HF BERT adds -10000 to masked scores: exp(-10000) is exactly 0 in float32 and the constant
# stays finite in float16, unlike the dtype minimum.
MASK_PENALTY = -10000.0


class _KernelFreeLayer(keras.layers.Layer):
    """A layer with no prunable kernels; `get_config` is the base one unless overridden."""

    def get_prunable_weights(self):
        return []


@keras.utils.register_keras_serializable(package="tfdistill")
class AddPositionEmbedding(keras.layers.Layer):
    """Adds learned absolute position embeddings to a `[batch, seq, hidden]` tensor.

    Args:
        max_positions: int, the number of rows in the position table.
        initializer: a Keras initializer for the table.
    """

    def __init__(self, max_positions, initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        self.max_positions = max_positions
        self.initializer = keras.initializers.get(initializer)

    def build(self, input_shape):
        self.embeddings = self.add_weight(
            "embeddings", shape=(self.max_positions, input_shape[-1]), initializer=self.initializer
        )
        super().build(input_shape)

    def call(self, inputs):
        seq_len = tf.shape(inputs)[1]
        return inputs + self.embeddings[tf.newaxis, :seq_len, :]

    def get_prunable_weights(self):
        return []

    def get_config(self):
        config = super().get_config()
        config.update(max_positions=self.max_positions,
                      initializer=keras.initializers.serialize(self.initializer))
        return config


@keras.utils.register_keras_serializable(package="tfdistill")
class AttentionMaskBias(_KernelFreeLayer):
    """Turns an int `[batch, seq]` padding mask (1 = token) into an additive score bias.

    Returns float `[batch, 1, 1, seq]`: 0 where attended, -10000 on padding.
    """

    def call(self, attention_mask):
        mask = tf.cast(attention_mask, self.compute_dtype)[:, tf.newaxis, tf.newaxis, :]
        return (1.0 - mask) * MASK_PENALTY


@keras.utils.register_keras_serializable(package="tfdistill")
class SplitHeads(_KernelFreeLayer):
    """Reshapes `[batch, seq, heads * size]` to `[batch, heads, seq, size]`.

    Args:
        num_heads: int, the number of attention heads.
    """

    def __init__(self, num_heads, **kwargs):
        super().__init__(**kwargs)
        self.num_heads = num_heads

    def call(self, inputs):
        batch, seq = tf.shape(inputs)[0], tf.shape(inputs)[1]
        head_size = inputs.shape[-1] // self.num_heads
        heads = tf.reshape(inputs, [batch, seq, self.num_heads, head_size])
        return tf.transpose(heads, [0, 2, 1, 3])

    def get_config(self):
        config = super().get_config()
        config.update(num_heads=self.num_heads)
        return config


@keras.utils.register_keras_serializable(package="tfdistill")
class MergeHeads(_KernelFreeLayer):
    """Reshapes `[batch, heads, seq, size]` back to `[batch, seq, heads * size]`."""

    def call(self, inputs):
        batch, seq = tf.shape(inputs)[0], tf.shape(inputs)[2]
        width = inputs.shape[1] * inputs.shape[3]
        return tf.reshape(tf.transpose(inputs, [0, 2, 1, 3]), [batch, seq, width])


@keras.utils.register_keras_serializable(package="tfdistill")
class AttentionScores(_KernelFreeLayer):
    """Scaled dot-product scores `q k^T / sqrt(size) + bias`, before the softmax.

    Inputs: `[query, key, bias]`, query/key `[batch, heads, seq, size]`, bias
    `[batch, 1, 1, seq]`. Returns float32 `[batch, heads, seq, seq]` whatever the compute dtype.
    """

    def call(self, inputs):
        query, key, bias = inputs
        scores = tf.matmul(query, key, transpose_b=True)
        # Under mixed precision the matmul runs in bfloat16 but the scores leave in float32: the
        # mask penalty and the softmax after it stay exact (no-op casts in a float32 model).
        scores = tf.cast(scores, tf.float32) / math.sqrt(query.shape[-1])
        return scores + tf.cast(bias, tf.float32)


@keras.utils.register_keras_serializable(package="tfdistill")
class AttentionContext(_KernelFreeLayer):
    """Weights the values by the attention probabilities.

    Inputs: `[probabilities, value]`, `[batch, heads, seq, seq]` and
    `[batch, heads, seq, size]`. Returns `[batch, heads, seq, size]`.
    """

    def call(self, inputs):
        probabilities, value = inputs
        return tf.matmul(probabilities, value)


@keras.utils.register_keras_serializable(package="tfdistill")
class ClsToken(_KernelFreeLayer):
    """Selects the first (`[CLS]`) position: `[batch, seq, hidden]` -> `[batch, hidden]`."""

    def call(self, inputs):
        return inputs[:, 0, :]


CUSTOM_OBJECTS = {
    cls.__name__: cls
    for cls in (AddPositionEmbedding, AttentionMaskBias, SplitHeads, MergeHeads, AttentionScores,
                AttentionContext, ClsToken)
}


_SQRT_HALF = 1 / math.sqrt(2)
_INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)


def _gelu_cdf(x32):
    return 0.5 * tf.math.erfc(x32 * -_SQRT_HALF)


# XLA fuses each into one loop over the activations (casts included), where TensorFlow ran a
# kernel and a memory pass per op: GELU's forward and gradient went from 15.7-18.4 ms to
# 5.2-6.2 ms on a [1280, 1536] bfloat16 tensor in a one-off timing (GELU was about a third of
# a teacher fine-tuning step's CPU time before; bench/training_throughput.py times the steps).
# XLA compiles once per activation shape; bucketed batches have a few.
@tf.function(jit_compile=True)
def _xla_gelu(x):
    x32 = tf.cast(x, tf.float32)
    return tf.cast(x32 * _gelu_cdf(x32), x.dtype)


@tf.function(jit_compile=True)
def _xla_gelu_gradient(x, upstream):
    x32 = tf.cast(x, tf.float32)
    derivative = _gelu_cdf(x32) + x32 * tf.exp(-0.5 * tf.square(x32)) * _INV_SQRT_2PI
    return tf.cast(tf.cast(upstream, tf.float32) * derivative, upstream.dtype)


@tf.custom_gradient
def _exact_gelu_for_training(x):
    """`tf.nn.gelu(x)` (exact, computed in float32 whatever x's dtype), forward and gradient
    dy * (Phi(x) + x * phi(x)) each one XLA-compiled loop; the gradient recomputes Phi(x)
    from x rather than keeping a float32 copy of it."""
    return _xla_gelu(x), lambda upstream: _xla_gelu_gradient(x, upstream)


@keras.utils.register_keras_serializable(package="tfdistill")
class Gelu(_KernelFreeLayer):
    """GELU activation: exact (erf, as BERT) or the tanh approximation.

    A layer of its own rather than `Activation("gelu")` so quantization configs can target it
    and the approximate form survives serialisation.

    Args:
        approximate: bool, use the tanh approximation.
    """

    def __init__(self, approximate=False, **kwargs):
        super().__init__(**kwargs)
        self.approximate = approximate

    def call(self, inputs, training=None):
        if training is True and not self.approximate:
            # Only where a gradient follows: inference graphs (and what TFLite converts) keep
            # tf.nn.gelu's ops.
            return _exact_gelu_for_training(inputs)
        # In float32 whatever the compute dtype: on CPU, erf/tanh on bfloat16 are emulated and
        # ran 2.5x slower than the float32 op plus two casts (bench/training_throughput.py).
        return tf.cast(tf.nn.gelu(tf.cast(inputs, tf.float32), approximate=self.approximate), inputs.dtype)

    def get_config(self):
        config = super().get_config()
        config.update(approximate=self.approximate)
        return config


CUSTOM_OBJECTS["Gelu"] = Gelu


def _layer_norm_with_cheap_gradient(inputs, gamma, beta, epsilon):
    """LayerNorm over the last axis, float32, with its gradient written out: the input's as
    `r * (g - mean(g) - xhat * mean(g * xhat))` for `g = dy * gamma`, reusing the forward pass's
    normalised `xhat` and inverse deviation `r`, where autodiff of Keras' moments and
    batch-normalisation ops makes about twice the passes over the activations."""

    @tf.custom_gradient
    def layer_norm(x, gamma, beta):
        centered = x - tf.reduce_mean(x, axis=-1, keepdims=True)
        inverse_deviation = tf.math.rsqrt(tf.reduce_mean(tf.square(centered), axis=-1, keepdims=True) + epsilon)
        normalised = centered * inverse_deviation

        def gradient(upstream):
            scaled = upstream * gamma
            inputs_gradient = inverse_deviation * (
                scaled - tf.reduce_mean(scaled, axis=-1, keepdims=True)
                - normalised * tf.reduce_mean(scaled * normalised, axis=-1, keepdims=True))
            batch_axes = list(range(len(x.shape) - 1))
            return (inputs_gradient, tf.reduce_sum(upstream * normalised, axis=batch_axes),
                    tf.reduce_sum(upstream, axis=batch_axes))

        return normalised * gamma + beta, gradient

    return layer_norm(inputs, gamma, beta)


@keras.utils.register_keras_serializable(package="tfdistill")
class LayerNorm(keras.layers.LayerNormalization):
    """`keras.layers.LayerNormalization` over the last axis whose training gradient is written out.

    In training (`training=True`) it computes the same normalisation in float32 with a
    hand-written gradient (`_layer_norm_with_cheap_gradient`); Keras' LayerNorm and its gradient
    were about a seventh of a distillation step's CPU time in a TensorFlow profile. Otherwise,
    and for any other axis or without `center`/`scale`, it is Keras' layer, so inference graphs
    (and what TFLite converts) do not change.

    Args:
        **kwargs: `keras.layers.LayerNormalization` arguments (`epsilon`, `name`, ...).
    """

    def get_prunable_weights(self):
        return []

    def call(self, inputs, training=None):
        last_axis = [len(inputs.shape) - 1]
        if training is not True or list(self.axis) != last_axis or not (self.center and self.scale):
            return super().call(inputs)
        outputs = _layer_norm_with_cheap_gradient(tf.cast(inputs, tf.float32), tf.cast(self.gamma, tf.float32),
                                                  tf.cast(self.beta, tf.float32), self.epsilon)
        return tf.cast(outputs, inputs.dtype)


CUSTOM_OBJECTS["LayerNorm"] = LayerNorm


@keras.utils.register_keras_serializable(package="tfdistill")
class Dropout16(keras.layers.Dropout):
    """`keras.layers.Dropout` that draws 16 random bits per element instead of a float uniform.

    Each 32-bit draw of a stateless Philox generator decides two elements: Keras' dropout (a
    float32 uniform per element) was an eighth of a teacher fine-tuning step's CPU time in a
    TensorFlow profile, and this one took about half as long on the same tensor. The drop
    probability is rounded to a multiple of 1/65536 (`rate=0.1` drops 0.100006 of the
    elements). Each call's seed comes from a stateful draw, so `keras.utils.set_random_seed`
    makes runs repeatable, as with Keras' layer. Outside training it is the identity, so
    inference graphs do not change.

    Args:
        rate: float in [0, 1), the fraction of elements dropped (the others are scaled up).
        **kwargs: Keras layer arguments (`name`, `dtype`); `noise_shape` is not supported.
    """

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        if noise_shape is not None:
            raise ValueError("Dropout16 drops single elements; use keras.layers.Dropout for noise_shape.")
        super().__init__(rate, seed=seed, **kwargs)

    def get_prunable_weights(self):
        return []

    def call(self, inputs, training=None):
        if training is None:
            training = keras.backend.learning_phase()
        return tf.__internal__.smart_cond.smart_cond(training, lambda: self._drop(inputs),
                                                     lambda: tf.identity(inputs))

    def _drop(self, inputs):
        threshold = round(self.rate * 65536)  # a 16-bit draw below it drops the element
        if threshold == 0:
            return tf.identity(inputs)
        seed = tf.random.uniform([2], maxval=tf.int64.max, dtype=tf.int64, seed=self.seed)
        size = tf.size(inputs)
        bits = tf.random.stateless_uniform([(size + 1) // 2], seed, dtype=tf.uint32, minval=None, maxval=None)
        draws = tf.reshape(tf.bitcast(bits, tf.uint16), [-1])[:size]
        keep = tf.reshape(draws >= tf.constant(threshold, tf.uint16), tf.shape(inputs))
        scale = tf.cast(65536 / (65536 - threshold), inputs.dtype)
        return tf.where(keep, inputs * scale, tf.zeros_like(inputs))


CUSTOM_OBJECTS["Dropout16"] = Dropout16
