"""Unit tests of the `.tflite` op edits on tiny converted graphs (FC -> GELU -> FC -> softmax)."""

import numpy as np
import pytest


def _graph(int8):
    import tf_keras as keras

    import tfdistill  # noqa: F401  (sets TF_USE_LEGACY_KERAS before TensorFlow loads)
    import tensorflow as tf

    keras.utils.set_random_seed(0)
    inputs = keras.Input([8, 16], batch_size=1)
    hidden = keras.layers.Dense(32, activation="gelu")(inputs)
    mean = tf.reduce_mean(hidden, axis=-1, keepdims=True)
    outputs = keras.layers.Softmax()(keras.layers.Dense(16)(hidden) - mean)
    model = keras.Model(inputs, outputs)
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    if int8:
        rng = np.random.default_rng(0)
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = lambda: ([rng.normal(size=(1, 8, 16)).astype("float32")]
                                                    for _ in range(20))
    return converter.convert()


def _run(flatbuffer, x):
    from ai_edge_litert import interpreter as litert

    interpreter = litert.Interpreter(model_content=flatbuffer)
    interpreter.allocate_tensors()
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], x)
    interpreter.invoke()
    ops = [op["op_name"] for op in interpreter._get_ops_details()]
    return interpreter.get_tensor(interpreter.get_output_details()[0]["index"]), ops


def _types(flatbuffer, name):
    from tfdistill.export import flatbuffer_edit

    model = flatbuffer_edit.read_model(flatbuffer)
    subgraph = model.subgraphs[0]
    return [[subgraph.tensors[i].type for i in op.outputs] for op in subgraph.operators
            if flatbuffer_edit.op_name(model, op) == name]


@pytest.fixture(scope="module")
def x():
    return np.random.default_rng(1).normal(size=(1, 8, 16)).astype("float32")


def test_the_fc_after_the_activation_becomes_dynamic_range(x):
    from tfdistill.export import flatbuffer_edit

    flatbuffer = _graph(int8=False)
    names = flatbuffer_edit.activation_fed_fully_connected(flatbuffer)
    assert len(names) == 1  # the second Dense, fed by GELU; the first reads the input
    hybrid, count = flatbuffer_edit.dynamic_range_fully_connected(flatbuffer, names)
    assert count == 1 and len(hybrid) < len(flatbuffer)  # its float kernel is no longer stored
    model = flatbuffer_edit.read_model(hybrid)
    fcs = [op for op in model.subgraphs[0].operators
           if flatbuffer_edit.op_name(model, op) == "FULLY_CONNECTED"]
    assert [op.builtinOptions.asymmetricQuantizeInputs for op in fcs] == [False, True]
    expected, _ = _run(flatbuffer, x)
    got, _ = _run(hybrid, x)
    np.testing.assert_allclose(got, expected, atol=2e-2)
    assert flatbuffer_edit.dynamic_range_fully_connected(hybrid, names)[1] == 0  # already int8


def test_int8_ops_run_in_float_between_dequantize_and_quantize(x):
    from ai_edge_litert import schema_py_generated as schema

    from tfdistill.export import flatbuffer_edit

    flatbuffer = _graph(int8=True)
    assert _types(flatbuffer, "MEAN") == [[schema.TensorType.INT8]]
    edited, moved = flatbuffer_edit.run_in_float(flatbuffer, ("MEAN", "SOFTMAX", "GELU"), ("SOFTMAX",))
    assert moved == 3
    for name in ("MEAN", "SOFTMAX", "GELU"):
        assert _types(edited, name) == [[schema.TensorType.FLOAT32]], name
    expected, _ = _run(_graph(int8=False), x)
    original, _ = _run(flatbuffer, x)
    got, ops = _run(edited, x)
    assert ops.count("QUANTIZE") >= 1 and ops.count("DEQUANTIZE") >= 2
    # Float MEAN/GELU/SOFTMAX are at least as close to the float model as their int8 kernels.
    assert np.abs(got - expected).max() <= np.abs(original - expected).max() + 1e-3


def test_buffers_stored_after_the_flatbuffer_survive_a_round_trip():
    import tf_keras as keras

    import tfdistill  # noqa: F401  (sets TF_USE_LEGACY_KERAS before TensorFlow loads)
    import tensorflow as tf
    from ai_edge_quantizer import quantizer as aeq

    from tfdistill.export import flatbuffer_edit, quantization_recipes

    keras.utils.set_random_seed(0)
    inputs = keras.Input([4, 512], batch_size=1)
    model = keras.Model(inputs, keras.layers.Dense(512)(inputs))
    float_flatbuffer = tf.lite.TFLiteConverter.from_keras_model(model).convert()
    rules = [quantization_recipes.load_recipe("dynamic")[0]]  # int8 FC weights: 256 KB
    quantized = bytes(aeq.Quantizer(bytearray(float_flatbuffer), rules).quantize(
        enable_progress_report=False).quantized_model)
    raw = flatbuffer_edit._schema().ModelT.InitFromPackedBuf(quantized, 0)
    assert any(buffer.offset > 1 and buffer.data is None for buffer in raw.buffers)
    repacked = flatbuffer_edit.write_model(flatbuffer_edit.read_model(quantized))
    x = np.random.default_rng(0).normal(size=(1, 4, 512)).astype("float32")
    np.testing.assert_array_equal(_run(repacked, x)[0], _run(quantized, x)[0])
    with pytest.raises(ValueError, match="the file is truncated"):
        flatbuffer_edit.read_model(quantized[:len(quantized) - 100])


def test_asymmetric_input_quantization_survives_the_quantizer():
    from ai_edge_litert import schema_py_generated as schema
    from ai_edge_quantizer import quantizer as aeq

    from tfdistill.export import flatbuffer_edit, quantization_recipes

    flatbuffer, changed = flatbuffer_edit.quantize_inputs_asymmetrically(_graph(int8=False))
    assert changed == 2
    rules = [dict(quantization_recipes.load_recipe("dynamic")[0], op_config=dict(
        quantization_recipes.load_recipe("dynamic")[0]["op_config"], min_weight_elements=0))]
    hybrid = bytes(aeq.Quantizer(bytearray(flatbuffer), rules).quantize(
        enable_progress_report=False).quantized_model)
    model = flatbuffer_edit.read_model(hybrid)
    fcs = [op for op in model.subgraphs[0].operators
           if flatbuffer_edit.op_name(model, op) == "FULLY_CONNECTED"]
    assert [op.builtinOptions.asymmetricQuantizeInputs for op in fcs] == [True, True]
    assert all(model.subgraphs[0].tensors[op.inputs[1]].type == schema.TensorType.INT8 for op in fcs)
