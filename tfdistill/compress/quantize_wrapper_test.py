import numpy as np
import pytest
import tensorflow as tf
import tensorflow_model_optimization as tfmot
import tf_keras as keras

from tfdistill.compress.quantize_configs import TableQuantizeConfig
from tfdistill.compress.quantize_wrapper import TableQuantizeWrapper


def _table(preserve_sparsity):
    values = np.random.default_rng(0).normal(size=(50, 6)).astype(np.float32)
    if preserve_sparsity:
        values[np.random.default_rng(1).uniform(size=values.shape) < 0.5] = 0.0  # a pruned table
    layer = keras.layers.Embedding(50, 6)
    layer.build((None, None))
    layer.set_weights([values])
    return layer


@pytest.mark.parametrize("preserve_sparsity", [False, True])
def test_table_wrapper_computes_tfmots_table_quantization_on_the_rows_read(preserve_sparsity):
    ids = tf.constant([[3, 7, 7, 0], [49, 3, 12, 5]])
    upstream = tf.constant(np.random.default_rng(2).normal(size=(2, 4, 6)).astype(np.float32))
    results = []
    for wrapper_class in (tfmot.quantization.keras.QuantizeWrapperV2, TableQuantizeWrapper):
        wrapper = wrapper_class(_table(preserve_sparsity), TableQuantizeConfig(preserve_sparsity=preserve_sparsity))
        wrapper.build(ids.shape)
        with tf.GradientTape() as tape:
            outputs = wrapper(ids, training=True)
            loss = tf.reduce_sum(outputs * upstream)
        gradient = tape.gradient(loss, wrapper.layer.embeddings)
        ranges = sorted(float(v.numpy()) for v in wrapper.weights if "embeddings_m" in v.name)
        results.append((outputs.numpy(), tf.convert_to_tensor(gradient).numpy(), ranges, gradient))
        inference = wrapper(ids, training=False).numpy()
        np.testing.assert_array_equal(inference, outputs.numpy())  # with the recorded range
    (tfmot_out, tfmot_grad, tfmot_range, _), (out, grad, ranges, sparse) = results
    np.testing.assert_allclose(out, tfmot_out, rtol=1e-6, atol=1e-7)
    kept = _table(preserve_sparsity).get_weights()[0] != 0
    np.testing.assert_allclose(grad[kept], tfmot_grad[kept], rtol=1e-6, atol=1e-7)
    # The pruned zeros get no gradient, so they stay exact zeros in the variable (tfmot's
    # prune-preserving quantizer masks them in the forward pass only and lets them drift).
    assert not grad[~kept].any()
    assert ranges == pytest.approx(tfmot_range) and len(ranges) == 2
    assert isinstance(sparse, tf.IndexedSlices)  # only the rows read
    assert len(np.unique(out)) <= 255


def test_table_wrapper_refuses_a_layer_that_is_not_a_table():
    with pytest.raises(ValueError, match="keras.layers.Embedding"):
        TableQuantizeWrapper(keras.layers.Dense(3), TableQuantizeConfig()).build((None, 4))
