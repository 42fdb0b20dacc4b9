"""tfmot's last-value and moving-average quantizers with a cheaper training gradient.

In QAT, TensorFlow differentiates `FakeQuantWithMinMaxVars` with a kernel that also sums the
gradient of the range `[min, max]` (one more pass and a reduction over every fake-quantized
tensor, per channel for kernels). tfmot's last-value and moving-average ranges are *assigned*
(from the batch's range), never learned: the range gradient is computed and then dropped. These
quantizers run the same forward op and the same range updates as tfmot's, and give only the
input gradient TensorFlow gives: the upstream gradient where the input lies inside the nudged
range, zero outside (the straight-through estimator with clipping). Inference graphs, and so
every export, are tfmot's op for op.
"""

import tensorflow as tf
import tf_keras as keras
import tensorflow_model_optimization as tfmot
from tensorflow_model_optimization.python.core.quantization.keras.collab_opts.prune_preserve import (
    prune_preserve_quantize_registry)

_quantizers = tfmot.quantization.keras.quantizers
# tfmot's moving-average decay (quant_ops.MovingAvgQuantize).
EMA_DECAY = 0.999


def nudged_range(low, high, num_bits=8, narrow_range=False):
    """The range `[nudged_min, nudged_max]` TensorFlow's fake-quant ops clamp to: `[low, high]`
    moved so that 0.0 is exactly representable (the arithmetic of TensorFlow's `Nudge`).

    Example:
    >>> [round(float(x), 4) for x in nudged_range(tf.constant(-1.0), tf.constant(2.0))]
    [-1.0, 2.0]
    >>> [round(float(x), 4) for x in nudged_range(tf.constant(-0.1), tf.constant(2.45))]
    [-0.1, 2.45]
    """
    quant_min = 1.0 if narrow_range else 0.0
    quant_max = float((1 << num_bits) - 1)
    scale = (high - low) / (quant_max - quant_min)
    zero_point_from_min = quant_min - low / scale
    # C++ std::round (halves away from zero) of a value clipped to [quant_min, quant_max] >= 0.
    zero_point = tf.floor(tf.clip_by_value(zero_point_from_min, quant_min, quant_max) + 0.5)
    return (quant_min - zero_point) * scale, (quant_max - zero_point) * scale


def fake_quant(inputs, low, high, per_channel=False, num_bits=8, narrow_range=False):
    """`tf.quantization.fake_quant_with_min_max_vars` (or its per-channel form, ranges along the
    last axis) whose gradient reaches only `inputs` (see the module doc).

    Example:
    >>> x = tf.constant([-2.0, 0.3, 5.0])
    >>> with tf.GradientTape() as tape:
    ...     tape.watch(x)
    ...     y = fake_quant(x, tf.constant(-1.0), tf.constant(2.0))
    >>> [round(float(v), 3) for v in y], [float(g) for g in tape.gradient(y, x)]
    ([-1.0, 0.294, 2.0], [0.0, 1.0, 0.0])
    """
    op = (tf.quantization.fake_quant_with_min_max_vars_per_channel if per_channel
          else tf.quantization.fake_quant_with_min_max_vars)

    @tf.custom_gradient
    def quantize(values):
        def gradient(upstream):
            nudged_min, nudged_max = nudged_range(low, high, num_bits, narrow_range)
            inside = tf.logical_and(values >= nudged_min, values <= nudged_max)
            return tf.where(inside, upstream, tf.constant(0.0, upstream.dtype))

        return op(values, low, high, num_bits=num_bits, narrow_range=narrow_range), gradient

    # A kernel arrives as a variable; custom_gradient must see a tensor (a variable read inside
    # it would ask for a variable gradient).
    return quantize(tf.convert_to_tensor(inputs))


def batch_range(inputs, per_channel=False, symmetric=False, narrow_range=False, num_bits=8):
    """The range tfmot's quantizers take from one batch (`quant_ops.LastValueQuantize`): per
    tensor, or per last-axis channel; widened to hold 0.0 (symmetric: also mirrored).

    Example:
    >>> [float(x) for x in batch_range(tf.constant([0.5, 2.0]))]
    [0.0, 2.0]
    >>> [float(x) for x in batch_range(tf.constant([-0.5, 2.0]), symmetric=True, narrow_range=True)]
    [-2.0, 2.0]
    """
    axes = list(range(inputs.shape.rank - 1)) if per_channel else None
    batch_min, batch_max = tf.reduce_min(inputs, axis=axes), tf.reduce_max(inputs, axis=axes)
    if not symmetric:
        return tf.minimum(batch_min, 0.0), tf.maximum(batch_max, 0.0)
    ratio = -1.0 if narrow_range else -((1 << num_bits) - 2) / (1 << num_bits)
    return tf.minimum(batch_min, batch_max / ratio), tf.maximum(batch_max, batch_min * ratio)


class _SteQuantizerMixin:
    """Training: the range update of `_update_range`, then `fake_quant`; inference: tfmot's."""

    def _values(self, inputs, weights):
        """What is quantized: the inputs (the prune-preserving quantizer masks them first)."""
        return inputs

    def __call__(self, inputs, training, weights, **kwargs):
        if not training:
            return super().__call__(inputs, training, weights, **kwargs)
        inputs = self._values(inputs, weights)
        low, high = batch_range(inputs, self.per_axis, self.symmetric, self.narrow_range, self.num_bits)
        low, high = self._update_range(weights["min_var"], weights["max_var"], low, high)
        return fake_quant(inputs, low, high, per_channel=self.per_axis, num_bits=self.num_bits,
                          narrow_range=self.narrow_range)


@keras.utils.register_keras_serializable(package="tfdistill")
class LastValueQuantizerSTE(_SteQuantizerMixin, _quantizers.LastValueQuantizer):
    """tfmot's `LastValueQuantizer` (the range is the last batch's) with `fake_quant`'s gradient.

    Example:
    >>> quantizer = LastValueQuantizerSTE(num_bits=8, per_axis=True, symmetric=True, narrow_range=True)
    >>> quantizer.get_config()["per_axis"]
    True
    """

    def _update_range(self, min_var, max_var, low, high):
        return min_var.assign(low), max_var.assign(high)


@keras.utils.register_keras_serializable(package="tfdistill")
class PrunePreservingQuantizerSTE(LastValueQuantizerSTE,
                                  prune_preserve_quantize_registry.PrunePreserveDefaultWeightsQuantizer):
    """tfmot's prune-preserving weight quantizer (the kernel times the sparsity mask it read at
    build time, then last-value ranges: pruned zeros stay exact zeros) with `fake_quant`'s gradient.

    Example:
    >>> PrunePreservingQuantizerSTE(num_bits=8, per_axis=True, symmetric=True, narrow_range=True).per_axis
    True
    """

    def _values(self, inputs, weights):
        return tf.multiply(inputs, weights["sparsity_mask"])


@keras.utils.register_keras_serializable(package="tfdistill")
class MovingAverageQuantizerSTE(_SteQuantizerMixin, _quantizers.MovingAverageQuantizer):
    """tfmot's `MovingAverageQuantizer` (the range moves toward each batch's, decay 0.999) with
    `fake_quant`'s gradient.

    Example:
    >>> MovingAverageQuantizerSTE(num_bits=8, per_axis=False, symmetric=False, narrow_range=False).num_bits
    8
    """

    def _update_range(self, min_var, max_var, low, high):
        average = tf.__internal__.train.assign_moving_average
        return (average(min_var, low, EMA_DECAY, zero_debias=False, name="AssignMinEma"),
                average(max_var, high, EMA_DECAY, zero_debias=False, name="AssignMaxEma"))


__all__ = ["LastValueQuantizerSTE", "MovingAverageQuantizerSTE", "PrunePreservingQuantizerSTE", "batch_range", "fake_quant", "nudged_range"]
