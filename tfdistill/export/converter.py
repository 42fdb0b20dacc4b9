"""Converting a serving function to a TFLite flatbuffer in one of the export modes.

Modes:
- `float32`: no optimisation.
- `float16`: float16 weights (half the size), float compute.
- `dynamic`: int8 weights, activations quantized on the fly (dynamic-range).
- `int8`: static int8 activations and weights calibrated on a representative dataset; inputs
  stay int32 ids and logits float. `int8_scope="xnnpack"` (default) quantizes the ops XNNPACK
  runs in int8 without splitting the graph (FULLY_CONNECTED, plus the GATHER tables) and keeps
  the rest float;
  `int8_scope="full"` quantizes every op it can (TFLITE_BUILTINS_INT8). On a 2x128 student at
  seq 64, "full" left LayerNorm math, BATCH_MATMUL, SOFTMAX and GELU outside XNNPACK in 23
  partitions (1.26 ms, 4x the float time); "xnnpack" kept one partition (0.13 ms).
- `qat`: a model from tfmot `quantize_apply` (`tfdistill.compress.quantize_student`); its
  FakeQuant ranges become int8 ops and a representative dataset calibrates the tensors it did
  not annotate. The same `int8_scope` applies to those; the annotated ops stay int8 whatever
  the scope, so the QAT plan decides the partitions: output-quantized attention math, GELU and
  softmax have no int8 XNNPACK kernels (6 partitions on a 2x32 student, vs 23 with "full").

The int8 "xnnpack" scope is what `tf.lite.experimental.QuantizationDebugger` does with
`denylisted_ops` (calibrate, then `mlir_quantize` with a denylist), called directly: the
debugger refuses QAT graphs ("Please check if the quantized model is in debug mode").
"""

import warnings

import tfdistill  # noqa: F401  (sets TF_USE_LEGACY_KERAS before TensorFlow loads)
import tensorflow as tf

from tfdistill.export.modes import CALIBRATED_MODES, check_mode

# The int8 ops of the "xnnpack" scope: FULLY_CONNECTED, which XNNPACK runs in int8 inside one
# partition (the others split it: see above), and GATHER, outside XNNPACK in any mode, whose
# int8 table quarters the size of the embeddings (16.1 -> 4.4 MB on a 2x128 student, same speed).
XNNPACK_INT8_OPS = frozenset({"FULLY_CONNECTED", "GATHER"})


def convert(function, trackable, mode, representative=None, int8_scope="xnnpack"):
    """Converts a concrete function to a `.tflite` flatbuffer.

    Args:
        function: the `serving_default` concrete function (see `signature.serving_function`).
        trackable: the object holding its variables (the Keras model).
        mode: str, one of `MODES`.
        representative: callable returning an iterator of input dicts (`[1, seq_len]` arrays);
            required for `int8` and `qat`.
        int8_scope: str, `"xnnpack"` or `"full"` (int8 and qat modes).

    Returns:
        bytes.

    Raises:
        ValueError: unknown mode, or no representative dataset for a calibrated mode.

    Example:
    >>> flatbuffer = convert(function, model, "dynamic")  # doctest: +SKIP
    """
    check_mode(mode, int8_scope)
    if mode in CALIBRATED_MODES and representative is None:
        raise ValueError(f"Mode {mode!r} calibrates activation ranges and needs a representative "
                         "dataset; pass representative_split (e.g. data.train).")
    with warnings.catch_warnings():
        # TF's calibrator still opens the flatbuffer with the deprecated tf.lite.Interpreter.
        warnings.filterwarnings("ignore", message=".*tf.lite.Interpreter is deprecated")
        if mode in CALIBRATED_MODES and int8_scope == "xnnpack":
            return _convert_int8_for_xnnpack(function, trackable, mode, representative)
        return _converter(function, trackable, mode, representative, int8_scope).convert()


def _converter(function, trackable, mode, representative=None, int8_scope="xnnpack"):
    converter = tf.lite.TFLiteConverter.from_concrete_functions([function], variable_holder(trackable))
    if mode == "float32":
        return converter
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if mode == "float16":
        converter.target_spec.supported_types = [tf.float16]
    if mode in CALIBRATED_MODES:
        converter.representative_dataset = representative
    if mode == "int8" and int8_scope == "full":
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    return converter


def variable_holder(model):
    """Returns a `tf.Module` tracking only `model`'s variables, for the converter to save.

    The converter saves its trackable as a SavedModel: given a tf_keras model, that traces every
    layer's call (5.8 s of a 9.3 s conversion of a 2-layer student); a bare holder of the
    variables keeps the weights (never dropped, unlike a Keras 3 model passed nothing) at no cost.

    Example:
    >>> len(variable_holder(tf.keras.layers.Dense(2, input_shape=(3,))).weights_)  # doctest: +SKIP
    """
    holder = tf.Module()
    holder.weights_ = list(model.variables)
    return holder


def _convert_int8_for_xnnpack(function, trackable, mode, representative):
    # QuantizationDebugger(...).get_nondebug_quantized_model() without the debugger (module doc).
    from tensorflow.lite.python import convert as lite_convert

    converter = _converter(function, trackable, mode, representative)
    converter.experimental_mlir_quantizer = True
    converter._experimental_calibrate_only = True  # pylint: disable=protected-access
    calibrated = converter.convert()
    return bytes(lite_convert.mlir_quantize(calibrated, denylisted_ops=float_kept_ops()))


def float_kept_ops():
    """Returns every TFLite builtin op name except `XNNPACK_INT8_OPS`: the int8 denylist.

    Example:
    >>> "SOFTMAX" in float_kept_ops(), "FULLY_CONNECTED" in float_kept_ops()
    (True, False)
    """
    from ai_edge_litert import schema_py_generated as schema

    names = {name for name in vars(schema.BuiltinOperator) if name.isupper()}
    return sorted(names - XNNPACK_INT8_OPS)
