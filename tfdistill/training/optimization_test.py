import numpy as np
import pytest
import tensorflow as tf
import tf_keras as keras

from tfdistill.training import optimization
from tfdistill.training.optimization import NO_DECAY, FusedAdamW, LazyAdamW


def _optimizers(weight_decay=0.01, ours=LazyAdamW):
    pair = []
    for optimizer_class in (keras.optimizers.AdamW, ours):
        optimizer = optimizer_class(learning_rate=1e-2, weight_decay=weight_decay, epsilon=1e-6)
        optimizer.exclude_from_weight_decay(var_names=NO_DECAY)
        pair.append(optimizer)
    return pair


def _run(optimizer, initial, gradients):
    variables = [tf.Variable(value, name=name) for name, value in initial.items()]
    for step_gradients in gradients:
        optimizer.apply_gradients(zip(step_gradients, variables))
    return [v.numpy() for v in variables]


@pytest.mark.parametrize("ours", [FusedAdamW, LazyAdamW])
def test_dense_gradients_take_keras_adamw_steps(ours):
    rng = np.random.default_rng(0)
    initial = {"kernel": rng.normal(size=(6, 3)).astype(np.float32), "bias": rng.normal(size=3).astype(np.float32)}
    gradients = [[tf.constant(rng.normal(size=v.shape).astype(np.float32)) for v in initial.values()]
                 for _ in range(4)]
    keras_result, lazy_result = (_run(optimizer, initial, gradients) for optimizer in _optimizers(ours=ours))
    for expected, got in zip(keras_result, lazy_result):
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    assert not np.allclose(keras_result[0], initial["kernel"])  # it did train


def _sparse_steps(rng):
    # Every step reads rows 1 and 3 (row 3 twice); rows 0, 2 and 4 are never read.
    return [[tf.IndexedSlices(tf.constant(rng.normal(size=(3, 4)).astype(np.float32)), tf.constant([3, 1, 3]),
                              tf.constant([5, 4]))] for _ in range(3)]


def test_fused_adamw_takes_keras_adamw_steps_on_a_table_too():
    rng = np.random.default_rng(1)
    initial = {"word_embeddings": rng.normal(size=(5, 4)).astype(np.float32)}
    steps = _sparse_steps(rng)
    keras_adamw, fused = _optimizers(ours=FusedAdamW)
    np.testing.assert_allclose(_run(fused, initial, steps)[0], _run(keras_adamw, initial, steps)[0],
                               rtol=1e-5, atol=1e-6)


def test_a_table_moves_only_in_the_rows_each_batch_reads():
    rng = np.random.default_rng(1)
    table = rng.normal(size=(5, 4)).astype(np.float32)
    initial = {"word_embeddings": table}
    steps = _sparse_steps(rng)
    dense = [[tf.convert_to_tensor(g) for g in step] for step in steps]
    keras_adamw, lazy = _optimizers()
    expected = _run(keras_adamw, initial, dense)[0]
    got = _run(lazy, initial, steps)[0]
    # The rows read every step match AdamW's (their moments saw every gradient).
    np.testing.assert_allclose(got[[1, 3]], expected[[1, 3]], rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(got[[0, 2, 4]], table[[0, 2, 4]])
    assert not np.allclose(expected[[0, 2, 4]], table[[0, 2, 4]])  # AdamW's weight decay moved them
    assert not np.allclose(got[[1, 3]], table[[1, 3]])


def test_adamw_follows_the_process_default_and_refuses_amsgrad():
    assert type(optimization.adamw(1e-3, total_steps=10)) is FusedAdamW
    previous = optimization.set_default_lazy_adam(True)
    try:
        assert type(optimization.adamw(1e-3, total_steps=10)) is LazyAdamW
        assert type(optimization.adamw(1e-3, total_steps=10, lazy=False)) is FusedAdamW
    finally:
        optimization.set_default_lazy_adam(previous)
    config = optimization.adamw(1e-3, total_steps=10, lazy=True).get_config()
    restored = LazyAdamW.from_config(config)
    assert isinstance(restored, LazyAdamW) and restored.get_config()["epsilon"] == config["epsilon"] == 1e-6
    with pytest.raises(ValueError, match="amsgrad"):
        FusedAdamW(amsgrad=True)


@pytest.mark.parametrize("weight_decay", [0.0, 0.01])
def test_a_large_table_takes_the_xla_step_with_keras_adamw_arithmetic(monkeypatch, weight_decay):
    monkeypatch.setattr(optimization, "XLA_MIN_ELEMENTS", 20)  # the 5 x 4 table takes the XLA step
    rng = np.random.default_rng(2)
    initial = {"word_embeddings": rng.normal(size=(5, 4)).astype(np.float32),
               "bias": rng.normal(size=3).astype(np.float32)}
    steps = [step + [tf.constant(rng.normal(size=3).astype(np.float32))] for step in _sparse_steps(rng)]
    keras_adamw, fused = _optimizers(weight_decay=weight_decay, ours=FusedAdamW)
    expected, got = _run(keras_adamw, initial, steps), _run(fused, initial, steps)
    assert optimization._xla_adamw_step.experimental_get_tracing_count() >= 1
    for a, b in zip(got, expected):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    # Row 0 is never read: only the decay moves it (AdamW, not lazy).
    assert np.allclose(got[0][0], initial["word_embeddings"][0]) == (weight_decay == 0)
