import math

import numpy as np
import pytest

from tfdistill.models.bert import bert_layers
from tfdistill.testing import run_layer_test

RNG = np.random.default_rng(0)
X = RNG.normal(size=(2, 3, 4)).astype("float32")  # [batch, seq, hidden]
HEADS = RNG.normal(size=(2, 2, 3, 2)).astype("float32")  # [batch, heads, seq, size]
PROBS = RNG.uniform(size=(2, 2, 3, 3)).astype("float32")
MASK = np.array([[1, 1, 0], [1, 1, 1]], "int32")
BIAS = (1.0 - MASK[:, None, None, :]).astype("float32") * bert_layers.MASK_PENALTY
ERF = np.vectorize(math.erf)

# (class, init kwargs, input, output shape, output values, trainable weights)
CASES = [
    (bert_layers.AddPositionEmbedding, {"max_positions": 8, "initializer": "ones"}, X, (2, 3, 4), X + 1.0, 1),
    (bert_layers.AttentionMaskBias, {}, MASK, (2, 1, 1, 3), BIAS, 0),
    (bert_layers.SplitHeads, {"num_heads": 2}, X, (2, 2, 3, 2), X.reshape(2, 3, 2, 2).transpose(0, 2, 1, 3), 0),
    (bert_layers.MergeHeads, {}, HEADS, (2, 3, 4), HEADS.transpose(0, 2, 1, 3).reshape(2, 3, 4), 0),
    (bert_layers.AttentionScores, {}, [HEADS, HEADS[:, ::-1], BIAS], (2, 2, 3, 3),
     HEADS @ HEADS[:, ::-1].transpose(0, 1, 3, 2) / math.sqrt(2) + BIAS, 0),
    (bert_layers.AttentionContext, {}, [PROBS, HEADS], (2, 2, 3, 2), PROBS @ HEADS, 0),
    (bert_layers.ClsToken, {}, X, (2, 4), X[:, 0], 0),
    (bert_layers.Gelu, {}, X, (2, 3, 4), 0.5 * X * (1 + ERF(X / math.sqrt(2))), 0),
    (bert_layers.Gelu, {"approximate": True}, X, (2, 3, 4),
     0.5 * X * (1 + np.tanh(math.sqrt(2 / math.pi) * (X + 0.044715 * X ** 3))), 0),
    (bert_layers.Dropout16, {"rate": 0.1}, X, (2, 3, 4), X, 0),  # the identity outside training
    (bert_layers.LayerNorm, {"epsilon": 1e-12}, X, (2, 3, 4),
     (X - X.mean(-1, keepdims=True)) / np.sqrt(X.var(-1, keepdims=True) + 1e-12), 2),
]


@pytest.mark.parametrize("cls, init_kwargs, inputs, shape, values, trainable", CASES,
                         ids=[case[0].__name__ + "".join(f"-{k}={v}" for k, v in case[1].items()) for case in CASES])
def test_layer_builds_computes_and_round_trips_through_its_config(cls, init_kwargs, inputs, shape, values,
                                                                  trainable):
    run_layer_test(cls, init_kwargs, inputs, shape, expected_output_data=values,
                   expected_num_trainable_weights=trainable)


def test_every_custom_layer_has_a_case():
    assert {case[0] for case in CASES} == set(bert_layers.CUSTOM_OBJECTS.values())


@pytest.mark.parametrize("dtype", ["float32", "mixed_bfloat16"])
def test_gelu_training_gradient_matches_autodiff_of_the_exact_form(dtype):
    import tensorflow as tf

    x = tf.constant(RNG.normal(scale=3.0, size=(4, 64)).astype("float32"))
    layer = bert_layers.Gelu(dtype=dtype)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        trained = tf.cast(layer(x, training=True), tf.float32)
        reference = tf.nn.gelu(x, approximate=False)
    tolerance = 1e-2 if dtype != "float32" else 1e-6
    np.testing.assert_allclose(trained, reference, rtol=tolerance, atol=1e-2)
    np.testing.assert_allclose(tape.gradient(trained, x), tape.gradient(reference, x), rtol=tolerance, atol=tolerance)


def test_dropout16_drops_the_rate_scales_the_rest_and_repeats_with_the_seed():
    import tensorflow as tf
    import tf_keras as keras

    x = tf.ones([101, 999])  # an odd size: the last 32-bit draw feeds one element
    layer = bert_layers.Dropout16(0.1)
    keras.utils.set_random_seed(3)
    first = layer(x, training=True).numpy()
    second = layer(x, training=True).numpy()
    keras.utils.set_random_seed(3)
    np.testing.assert_array_equal(layer(x, training=True).numpy(), first)
    assert not np.array_equal(first, second)  # a new mask each call
    dropped = (first == 0).mean()
    assert abs(dropped - 0.1) < 0.005, dropped  # 101k draws: one standard deviation is 0.001
    np.testing.assert_allclose(first[first != 0], 65536 / (65536 - 6554), rtol=1e-6)
    with pytest.raises(ValueError, match="noise_shape"):
        bert_layers.Dropout16(0.1, noise_shape=[1, 999])


@pytest.mark.parametrize("dtype", ["float32", "mixed_bfloat16"])
def test_layer_norm_training_gradient_matches_keras_layer_normalization(dtype):
    import tensorflow as tf
    import tf_keras as keras

    x = tf.constant(RNG.normal(loc=1.0, scale=2.0, size=(3, 5, 16)).astype("float32"))
    upstream = tf.constant(RNG.normal(size=(3, 5, 16)).astype("float32"))
    ours = bert_layers.LayerNorm(epsilon=1e-12, dtype=dtype)
    reference = keras.layers.LayerNormalization(epsilon=1e-12, dtype=dtype)
    for layer in (ours, reference):
        layer.build(x.shape)
        layer.set_weights([RNG.normal(size=16).astype("float32"), RNG.normal(size=16).astype("float32")])
    reference.set_weights(ours.get_weights())
    results = []
    for layer in (ours, reference):
        with tf.GradientTape() as tape:
            tape.watch(x)
            outputs = tf.cast(layer(x, training=True), tf.float32)
            loss = tf.reduce_sum(outputs * upstream)
        results.append([outputs, *tape.gradient(loss, [x, layer.gamma, layer.beta])])
    tolerance = 1e-5 if dtype == "float32" else 3e-2
    for got, expected in zip(*results):
        np.testing.assert_allclose(got, expected, rtol=tolerance, atol=tolerance)
