"""Converting a serving function to a TFLite flatbuffer in one of the export modes.

Modes:
- `float32`: no optimisation.
- `float16`: float16 weights (half the size), float compute.
- `dynamic`: int8 weights, activations quantized on the fly (dynamic-range).
- `int8`: static int8 activations and weights calibrated on a representative dataset; inputs
  stay int32 ids and logits float. `int8_scope="xnnpack"` (default) quantizes the ops XNNPACK
  runs in int8 without splitting the graph (FULLY_CONNECTED, plus the GATHER tables) and keeps
  the rest float; the FCs fed by an activation quantize their input per row at run time;
  `int8_scope="full"` quantizes every op it can (TFLITE_BUILTINS_INT8). On a 2x128 student at
  seq 64, "full" left LayerNorm math, BATCH_MATMUL, SOFTMAX and GELU outside XNNPACK in 23
  partitions (1.26 ms, 4x the float time); "xnnpack" kept one partition (0.13 ms).
- `qat`: a QAT model (`tfdistill.compress.quantize_student`). One of the default "xnnpack" QAT
  scope converts as its float copy in the `int8` mode, by the int8 recipe, at the ranges QAT
  learned (`exporter.converted_mode`, `quantization_recipes.apply_layer_ranges`). One of the
  "full" scope comes here as it is: its FakeQuant ranges become int8 ops and a representative dataset calibrates the tensors it did
  not annotate. The same `int8_scope` applies to those; the annotated ops stay int8 whatever
  the scope. Output-quantized attention math, GELU and softmax have no int8 XNNPACK kernels
  (6 partitions on a 2x32 student, vs 23 with "full"); the "xnnpack" scope runs them, and
  LayerNorm's MEAN, in float between DEQUANTIZE and QUANTIZE (one partition).

Who quantizes (`quantizer`):
- `"ai-edge-quantizer"` (default) for `dynamic` and `int8` in the "xnnpack" scope: the converter
  makes the float32 graph, then ai-edge-quantizer calibrates it on the representative examples
  and quantizes it by the mode's recipe file (`tfdistill.export.quantization_recipes`, which
  says what each rule does and why); the package carries the recipe
  (`quantization_recipes.recipe_for`). The recipe's rules name the treatment of every op; one
  hand edit is left, on the float graph before quantizing, for what no recipe option says:
  hybrid FCs quantize their input asymmetrically (`asymmetric_quantize_inputs`, as XNNPACK does
  whatever the flag, and as the converter route set it) also in LiteRT's reference kernels.
  Unlike the converter, ai-edge-quantizer stores weights of 1 KB and more after the flatbuffer
  (`flatbuffer_edit.read_model` moves them inline for any re-packing).
- `"converter"`: TF's converter, as before issue 13; kept for the benchmark's side by side.
  Dynamic range is the converter's; the int8 "xnnpack" scope is what
  `tf.lite.experimental.QuantizationDebugger` does with `denylisted_ops` and `denylisted_nodes`
  (calibrate, then `mlir_quantize` with a denylist), called directly (the debugger refuses QAT
  graphs: "Please check if the quantized model is in debug mode"), plus one edit
  (`flatbuffer_edit.dynamic_range_fully_connected`) for the FCs fed by an activation.
The `qat` mode of a "full"-scope QAT model and the "full" int8 scope take the converter route:
ai-edge-quantizer quantizes a float graph and cannot take over int8 ops the converter made from
tfmot's fake-quants. Quantizing a "full"-scope model's float copy by the int8 recipe agreed with
it on only 93.3-94.0% of 300 validation examples (also with its learned ranges): the recipe
computes in float what that scope fake-quantizes (LayerNorm, GELU, attention). That mismatch is
why the "xnnpack" QAT scope exists: it fake-quantizes what the recipe quantizes, so the same
route agrees with it (98.7-99.0% on the demo students, README).

Edits of the converter route (`tfdistill.export.flatbuffer_edit`) that make trained students
pass the 97% agreement bar (issue #5; `bench/export_int8_agreement.py` measures every variant):
- int8: the FULLY_CONNECTEDs fed by an activation (the FFN output projection after GELU, the
  classifier after the pooler's tanh) keep int8 weights but quantize their input per row at
  run time (dynamic range) instead of with one calibrated static range. Those FCs write the
  residual stream's outlier channels (outputs up to 164 where most are below 1: one int8 step
  is 0.84) from a GELU output in [-0.17, 22]; padding is not the cause (it widens no range of
  theirs). On the 4 x 384 distilled student (100 calibration examples, 300 validation
  examples), static int8 agreed on 95.3% (max |logit diff| 0.89; 1,000 calibration examples
  95.7%, per-tensor weights 93.3%); dynamic there gives 99.7% (0.24) in the same single XNNPACK
  partition at the same p50 (1.82 vs 1.89 ms; the dynamic mode 1.75). Keeping them float gives
  99.0% at 3.31 ms. A 4 x 384 student with 6 heads of 32 and FFN 384: 90.7% -> 98.7%.
- qat: the converter runs LayerNorm's MEAN in int8 at its input's scale (a residual in
  [-6, 115] has step 0.49; its mean, in [0, 0.29], rounds to nothing), which the Keras model
  computes in float; the softmax output gets int8's fixed 1/256 grid, which tfmot does not
  fake-quantize; and int8 BATCH_MATMUL, SOFTMAX and GELU have no XNNPACK kernel (10
  partitions). `QAT_FLOAT_OPS` run in float between DEQUANTIZE and QUANTIZE (the fake-quant
  model's own arithmetic), softmax not requantized: 93.7% -> 98.0% agreement on the demo
  pruned + QAT student, one partition, 3.04 -> 1.68 ms.
"""

import warnings

import tfdistill  # noqa: F401  (sets TF_USE_LEGACY_KERAS before TensorFlow loads)
import tensorflow as tf

from tfdistill.export.modes import CALIBRATED_MODES, check_mode, uses_recipe

# The int8 ops of the "xnnpack" scope: FULLY_CONNECTED, which XNNPACK runs in int8 inside one
# partition (the others split it: see above), and GATHER, outside XNNPACK in any mode, whose
# int8 table quarters the size of the embeddings (16.1 -> 4.4 MB on a 2x128 student, same speed).
XNNPACK_INT8_OPS = frozenset({"FULLY_CONNECTED", "GATHER"})
# int8 ops of a converted QAT graph run in float between DEQUANTIZE and QUANTIZE: MEAN (requantized
# at its input's scale, not in the Keras model), and the ops XNNPACK has no int8 kernel for.
QAT_FLOAT_OPS = ("MEAN", "BATCH_MATMUL", "SOFTMAX", "GELU")
# Of those, the ops whose int8 output the converter imposes (SOFTMAX: a fixed 1/256 grid) where
# the Keras model has no fake-quant (tfmot leaves Softmax unquantized): not requantized.
QAT_UNQUANTIZED_OUTPUTS = ("SOFTMAX",)
# How the int8 FCs fed by an activation run (`quantize_for_xnnpack`); the first is the default.
ACTIVATION_FED = ("dynamic", "static", "float")


def convert(function, trackable, mode, representative=None, int8_scope="xnnpack",
            quantizer="ai-edge-quantizer", layer_ranges=None):
    """Converts a concrete function to a `.tflite` flatbuffer.

    Args:
        function: the `serving_default` concrete function (see `signature.serving_function`).
        trackable: the object holding its variables (the Keras model).
        mode: str, one of `MODES`.
        representative: callable returning an iterator of input dicts (`[1, seq_len]` arrays);
            required for `int8` and `qat`.
        int8_scope: str, `"xnnpack"` or `"full"` (int8 and qat modes).
        quantizer: str, `"ai-edge-quantizer"` (recipe files) or `"converter"` (TF's converter,
            the route before issue 13) for `dynamic` and `int8`; see the module doc.
        layer_ranges: optional ranges by Keras layer that replace calibrated ones in the recipe
            route (`quantization_recipes.quantize`): a QAT model's learned ranges.

    Returns:
        bytes.

    Raises:
        ValueError: unknown mode, scope or quantizer, or no representative dataset for a
            calibrated mode.

    Example:
    >>> from tfdistill.export.rewrites import export_graph
    >>> from tfdistill.export.signature import serving_function
    >>> model = export_graph(student)
    >>> flatbuffer = convert(serving_function(model, 16), model, "float32")
    >>> flatbuffer[4:8]
    b'TFL3'
    """
    check_mode(mode, int8_scope, quantizer)
    if mode in CALIBRATED_MODES and representative is None:
        raise ValueError(f"Mode {mode!r} calibrates activation ranges and needs a representative "
                         "dataset; pass representative_split (e.g. data.train).")
    with warnings.catch_warnings():
        # TF's calibrator still opens the flatbuffer with the deprecated tf.lite.Interpreter.
        warnings.filterwarnings("ignore", message=".*tf.lite.Interpreter is deprecated")
        if uses_recipe(mode, int8_scope, quantizer):
            return _quantize_by_recipe(function, trackable, mode, representative, layer_ranges)
        if mode in CALIBRATED_MODES and int8_scope == "xnnpack":
            return _convert_int8_for_xnnpack(function, trackable, mode, representative)
        return _converter(function, trackable, mode, representative, int8_scope).convert()


def _quantize_by_recipe(function, trackable, mode, representative, layer_ranges=None):
    from tfdistill.export import flatbuffer_edit
    from tfdistill.export import quantization_recipes as recipes

    float_flatbuffer = _converter(function, trackable, "float32").convert()
    # The one hand edit left: no recipe option says how a hybrid FC quantizes its input. Without
    # it, LiteRT's reference kernels (XNNPACK off) quantize it symmetrically, unlike XNNPACK and
    # the agreement check: 0.9938 vs 0.9969 on the 4 x 384 demo student's 1,281 validation
    # examples in the dynamic mode (see flatbuffer_edit.quantize_inputs_asymmetrically).
    float_flatbuffer, _ = flatbuffer_edit.quantize_inputs_asymmetrically(float_flatbuffer)
    feeds = (list(representative()) if mode in CALIBRATED_MODES
             else [recipes.padding_feed(float_flatbuffer)])
    return recipes.quantize(float_flatbuffer, recipes.load_recipe(mode), feeds, layer_ranges)


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
    >>> len(variable_holder(student).weights_) == len(student.variables)
    True
    """
    holder = tf.Module()
    holder.weights_ = list(model.variables)
    return holder


def _convert_int8_for_xnnpack(function, trackable, mode, representative):
    return quantize_for_xnnpack(calibrate(function, trackable, mode, representative), mode)


def calibrate(function, trackable, mode, representative):
    """Returns the float flatbuffer with calibrated ranges that `quantize_for_xnnpack` quantizes.

    Args:
        function, trackable, mode, representative: as for `convert` (`mode` int8 or qat).

    Returns:
        bytes.

    Example:
    >>> from tfdistill.export.exporter import calibration_data
    >>> from tfdistill.export.rewrites import export_graph
    >>> from tfdistill.export.signature import serving_function
    >>> model = export_graph(student)
    >>> representative = calibration_data("int8", data.train, tokenizer, 16, 16)
    >>> calibrated = calibrate(serving_function(model, 16), model, "int8", representative)
    >>> int8 = quantize_for_xnnpack(calibrated, "int8")
    >>> from tfdistill.export.runtime import TFLiteClassifier
    >>> TFLiteClassifier(int8).predict_logits(features).shape
    (4, 2)
    """
    converter = _converter(function, trackable, mode, representative)
    converter.experimental_mlir_quantizer = True
    converter._experimental_calibrate_only = True  # pylint: disable=protected-access
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*tf.lite.Interpreter is deprecated")
        return converter.convert()


def quantize_for_xnnpack(calibrated, mode, activation_fed="dynamic", float_ops=None,
                         unquantized_outputs=QAT_UNQUANTIZED_OUTPUTS):
    """Quantizes a calibrated flatbuffer in the "xnnpack" scope (see the module doc).

    Args:
        calibrated: bytes from `calibrate`.
        mode: str, `"int8"` or `"qat"`.
        activation_fed: str (int8 mode), how the FCs fed by an activation
            (`flatbuffer_edit.activation_fed_fully_connected`) run: `"dynamic"` (int8 weights,
            input quantized per row at run time), `"static"` (calibrated int8 like the other FCs,
            the scope before issue #5) or `"float"`. A QAT graph's FCs follow its fake-quants.
        float_ops: iterable of op names run in float after quantization (default:
            `QAT_FLOAT_OPS` for qat, none for int8; `()` for none).
        unquantized_outputs: iterable of op names among `float_ops` not requantized once
            their readers are float (see `flatbuffer_edit.run_in_float`).

    Returns:
        bytes.

    Raises:
        ValueError: unknown `activation_fed`.

    Example:
    >>> flatbuffer = quantize_for_xnnpack(calibrated, "int8")  # doctest: +SKIP

    (`calibrate`'s example runs both.) Checked before anything is converted:

    >>> quantize_for_xnnpack(b"", "int8", activation_fed="fast")
    Traceback (most recent call last):
    ...
    ValueError: Unknown activation_fed 'fast'; use one of dynamic, static, float.
    """
    from tensorflow.lite.python import convert as lite_convert

    from tfdistill.export import flatbuffer_edit

    if activation_fed not in ACTIVATION_FED:
        raise ValueError(f"Unknown activation_fed {activation_fed!r}; use one of "
                         f"{', '.join(ACTIVATION_FED)}.")
    kept = (flatbuffer_edit.activation_fed_fully_connected(calibrated)
            if mode == "int8" and activation_fed != "static" else [])
    flatbuffer = bytes(lite_convert.mlir_quantize(calibrated, denylisted_ops=float_kept_ops(),
                                                  denylisted_nodes=kept or None))
    if kept and activation_fed == "dynamic":
        flatbuffer, _ = flatbuffer_edit.dynamic_range_fully_connected(flatbuffer, kept)
    float_ops = (QAT_FLOAT_OPS if mode == "qat" else ()) if float_ops is None else tuple(float_ops)
    if float_ops:
        flatbuffer, _ = flatbuffer_edit.run_in_float(flatbuffer, float_ops, unquantized_outputs)
    return flatbuffer


def float_kept_ops():
    """Returns every TFLite builtin op name except `XNNPACK_INT8_OPS`: the int8 denylist.

    Example:
    >>> "SOFTMAX" in float_kept_ops(), "FULLY_CONNECTED" in float_kept_ops()
    (True, False)
    """
    from ai_edge_litert import schema_py_generated as schema

    names = {name for name in vars(schema.BuiltinOperator) if name.isupper()}
    return sorted(names - XNNPACK_INT8_OPS)
