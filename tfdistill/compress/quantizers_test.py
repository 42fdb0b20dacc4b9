"""The STE quantizers against TensorFlow's fake-quant gradient and tfmot's quantizers: the same
outputs, range variables and input gradients (bit for bit), in training and inference."""

import numpy as np
import pytest
import tensorflow as tf
import tf_keras as keras
import tensorflow_model_optimization as tfmot
from tensorflow_model_optimization.python.core.quantization.keras.collab_opts.prune_preserve import (
    prune_preserve_quantize_registry)

from tfdistill.compress import quantizers

TFMOT = tfmot.quantization.keras.quantizers


def _tf_gradient(op, values, low, high, **kwargs):
    values = tf.constant(values)
    with tf.GradientTape() as tape:
        tape.watch(values)
        outputs = op(values, low, high, **kwargs)
    return outputs.numpy(), tape.gradient(outputs, values).numpy()


def _edge_values(low, high, narrow_range, shape, seed):
    """Random values over a wider span than the range, plus the nudged bounds and their neighbours."""
    rng = np.random.default_rng(seed)
    values = rng.uniform(-3.0, 3.0, shape).astype(np.float32)
    nudged_min, nudged_max = (np.asarray(x) for x in quantizers.nudged_range(low, high, narrow_range=narrow_range))
    flat = values.reshape(-1, values.shape[-1])
    for row, bound in enumerate((nudged_min, nudged_max)):
        for offset, direction in enumerate((-np.inf, 0.0, np.inf)):
            edge = bound if direction == 0.0 else np.nextafter(bound.astype(np.float32), np.float32(direction))
            flat[row * 3 + offset] = np.broadcast_to(edge, flat.shape[-1])
    return flat.reshape(values.shape)


@pytest.mark.parametrize("narrow_range", [False, True])
@pytest.mark.parametrize("per_channel", [False, True])
def test_fake_quant_gives_tensorflows_outputs_and_input_gradient(per_channel, narrow_range):
    shape = (8, 5)
    # Ranges whose zero point falls between levels (nudged) and ranges that do not include 0.
    lows = np.float32([-1.03, -0.2, 0.3, -2.5, -0.001])
    highs = np.float32([2.11, 0.37, 1.9, -0.4, 0.9])
    low, high = tf.constant(lows if per_channel else lows[0]), tf.constant(highs if per_channel else highs[0])
    values = _edge_values(low, high, narrow_range, shape, seed=2)
    op = (tf.quantization.fake_quant_with_min_max_vars_per_channel if per_channel
          else tf.quantization.fake_quant_with_min_max_vars)
    expected = _tf_gradient(op, values, low, high, num_bits=8, narrow_range=narrow_range)
    actual = _tf_gradient(lambda v, a, b, **kw: quantizers.fake_quant(v, a, b, per_channel=per_channel, **kw),
                          values, low, high, num_bits=8, narrow_range=narrow_range)
    np.testing.assert_array_equal(actual[0], expected[0])
    np.testing.assert_array_equal(actual[1], expected[1])
    assert 0 < actual[1].sum() < actual[1].size  # some inputs clipped, some passed


PRUNE_PRESERVING = prune_preserve_quantize_registry.PrunePreserveDefaultWeightsQuantizer
CASES = [
    (quantizers.PrunePreservingQuantizerSTE, PRUNE_PRESERVING, dict(per_axis=True, symmetric=True, narrow_range=True)),
    (quantizers.LastValueQuantizerSTE, TFMOT.LastValueQuantizer, dict(per_axis=True, symmetric=True, narrow_range=True)),
    (quantizers.LastValueQuantizerSTE, TFMOT.LastValueQuantizer, dict(per_axis=False, symmetric=True, narrow_range=True)),
    (quantizers.MovingAverageQuantizerSTE, TFMOT.MovingAverageQuantizer,
     dict(per_axis=False, symmetric=False, narrow_range=False)),
]


def _wrapper_of(kernel):
    """What a quantizer's `build` reads of its wrapper: `add_weight`, and the wrapped layer's kernel."""
    wrapper = keras.layers.Layer()
    wrapper.layer = keras.layers.Layer()
    wrapper.layer.kernel = tf.Variable(kernel)
    return wrapper


@pytest.mark.parametrize("ours,theirs,settings", CASES)
def test_the_quantizers_train_and_infer_as_tfmots(ours, theirs, settings):
    shape = (24, 7)  # a Dense kernel (tfmot's per-axis ranges take 2-D or 4-D tensors)
    kernel = np.random.default_rng(4).normal(size=shape).astype(np.float32)
    kernel[np.random.default_rng(5).random(shape) < 0.5] = 0.0  # what the prune-preserving mask reads
    results = []
    for cls in (ours, theirs):
        quantizer = cls(num_bits=8, **settings)
        weights = quantizer.build(tf.TensorShape(shape), "kernel", _wrapper_of(kernel))
        steps = []
        for step in range(3):
            values = tf.constant(np.random.default_rng(step).normal(0, 1.5, shape).astype(np.float32))
            upstream = np.random.default_rng(10 + step).normal(size=shape).astype(np.float32)
            with tf.GradientTape() as tape:
                tape.watch(values)
                outputs = quantizer(values, True, weights)
                loss = tf.reduce_sum(outputs * upstream)
            steps.append((outputs.numpy(), tape.gradient(loss, values).numpy(),
                          weights["min_var"].numpy(), weights["max_var"].numpy(),
                          quantizer(values, False, weights).numpy()))
        results.append(steps)
    for ours_step, theirs_step in zip(*results):
        for mine, reference in zip(ours_step, theirs_step):
            np.testing.assert_array_equal(mine, reference)
