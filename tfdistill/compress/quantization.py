"""Quantization-aware training (QAT) of a whole BERT student with `tfmot.quantization.keras`.

`tfmot.quantization.keras.quantize_model` fails on BERT: it does not know the attention layers,
and it would put a FakeQuant on the int32 ids. Instead `quantization_plan` decides every layer's
treatment, in one of two scopes (named like the export's `int8_scope`):

`int8_scope="xnnpack"` (the default) fake-quantizes exactly what the `int8` export recipe
(`tfdistill/export/recipes/int8.json`) quantizes, so the deployed `.tflite` computes what the QAT
model trained on:

| layers | treatment |
| --- | --- |
| Dense fed by a LayerNorm, the attention context or the CLS token | `DenseQuantizeConfig("static")` (`"int8"`): input, kernel (per channel) and output int8 |
| Dense fed by an activation (FFN output after GELU, classifier after the pooler's tanh) | `DenseQuantizeConfig("dynamic")` (`"dynamic range"`): kernel per channel, input per row |
| word Embedding | `TableQuantizeConfig()` (`"table"`) |
| everything else (LayerNorm, attention math, softmax, GELU, adds, the token-type and position tables) | float (`"float"`), as the recipe leaves it |

Dense layers are wrapped in `InputQuantizeWrapper` (their input range is theirs, not their
producer's: the residual connection reads the float LayerNorm output). Measured on the demo
student (README): the `"full"` scope's calibrated start lost 0.85 test points where post-training
int8 lost 0.15, and its `.tflite` agreed with it on 96.7-98.3% only through flatbuffer edits.

`int8_scope="full"` annotates every layer with tfmot's default 8-bit scheme and the configs of
`quantize_configs` (exported by TF's converter, `mode="qat"`):

| layers | treatment |
| --- | --- |
| Dense, Add, Softmax, Activation | tfmot's default 8-bit registry (`"default_8bit"`): int8 kernels, quantized outputs; under the prune-preserving scheme the kernels keep their zeros |
| LayerNormalization, LayerNorm, Gelu, AttentionContext | `OutputQuantizeConfig` (`"output"`) |
| AttentionScores | `ScoresQuantizeConfig` (`"masked_scores"`): the range ignores the -10000 padding bias |
| AddPositionEmbedding | `TableQuantizeConfig(quantize_output=True)` (`"table+output"`) |
| Embedding (word, token type) | `TableQuantizeConfig()` (`"table"`), wrapped directly: an annotation would make tfmot quantize the int32 ids feeding it |
| SplitHeads, MergeHeads, ClsToken, Dropout, Dropout16 | `NoOpQuantizeConfig` (`"none"`) |
| AttentionMaskBias, inputs | not annotated (`"skipped ..."`): it reads the int32 mask |

The word-embedding table is most of a small student's weights, and a full-int8 converter
quantizes it anyway; training with it fake-quantized lets the model adapt to that rounding
(`quantize_embeddings=False` leaves it to the converter).

Saving: a QAT model saved as `.keras` does not load back in tfmot 0.8.1 (`expected 3 variables,
but received 5`), so `save_quantized` refuses the Keras v3 formats; HDF5 `.h5` (whole model or
weights only) round-trips.
"""

import json
import os

import tensorflow as tf
import tf_keras as keras

from tfdistill.compress.bert_graph import as_compressed_bert, bert_config_of, custom_objects
from tfdistill.config.sections import INT8_SCOPES
from tfdistill.models.bert import bert_layers
from tfdistill.utils import atomic


DEFAULT_8BIT = "default_8bit"
OUTPUT = "output"
MASKED_SCORES = "masked_scores"
TABLE = "table"
TABLE_AND_OUTPUT = "table+output"
NONE = "none"
CUSTOM = "custom"
SKIPPED_INPUT = "skipped (model input)"
SKIPPED_INT_INPUT = "skipped (reads int32 input)"
SKIPPED_EMBEDDING = "skipped (quantize_embeddings=False)"
# Treatments of the "xnnpack" scope (besides TABLE, CUSTOM and the skipped ones).
INT8 = "int8"
DYNAMIC_RANGE = "dynamic range"
FLOAT = "float"
# Layers whose output makes the Dense reading it dynamic range (as the int8 recipe's last rule).
ACTIVATION_LAYERS = (bert_layers.Gelu, keras.layers.Activation)

# Layer class -> treatment. Exact classes: a subclass may compute something else.
LAYER_RULES = {
    keras.layers.Dense: DEFAULT_8BIT,
    keras.layers.Add: DEFAULT_8BIT,
    keras.layers.Softmax: DEFAULT_8BIT,
    keras.layers.Activation: DEFAULT_8BIT,
    keras.layers.LayerNormalization: OUTPUT,
    bert_layers.LayerNorm: OUTPUT,
    bert_layers.Gelu: OUTPUT,
    bert_layers.AttentionScores: MASKED_SCORES,
    bert_layers.AttentionContext: OUTPUT,
    bert_layers.AddPositionEmbedding: TABLE_AND_OUTPUT,
    keras.layers.Embedding: TABLE,
    bert_layers.SplitHeads: NONE,
    bert_layers.MergeHeads: NONE,
    bert_layers.ClsToken: NONE,
    keras.layers.Dropout: NONE,
    bert_layers.Dropout16: NONE,
}


def _reads_integer_input(layer):
    for index in range(len(layer.inbound_nodes)):
        if any(tensor.dtype.is_integer for tensor in tf.nest.flatten(layer.get_input_at(index))):
            return True
    return False


def _producer(layer):
    """The layer whose output `layer` reads, looking through Dropout (None for several inputs)."""
    inbound = layer.inbound_nodes[0].inbound_layers if layer.inbound_nodes else []
    inbound = inbound if isinstance(inbound, (list, tuple)) else [inbound]
    if len(inbound) != 1:
        return None
    producer = inbound[0]
    return _producer(producer) if isinstance(producer, keras.layers.Dropout) else producer


def _fed_by_activation(layer):
    producer = _producer(layer)
    if isinstance(producer, ACTIVATION_LAYERS):
        return True
    activation = getattr(producer, "activation", None)
    return isinstance(producer, keras.layers.Dense) and activation not in (None, keras.activations.linear)


def _table_rule(layer, quantize_embeddings, int8_scope):
    if int8_scope == "xnnpack" and layer.name != "word_embeddings":
        return FLOAT  # the int8 recipe keeps the 2-row token-type table float
    return TABLE if quantize_embeddings else SKIPPED_EMBEDDING


def _xnnpack_rule(layer):
    if type(layer) is keras.layers.Dense:
        return DYNAMIC_RANGE if _fed_by_activation(layer) else INT8
    return FLOAT


def check_int8_scope(int8_scope):
    """Refuses an unknown QAT scope.

    Example:
    >>> check_int8_scope("xnnpack")
    'xnnpack'
    """
    if int8_scope not in INT8_SCOPES:
        raise ValueError(f"Unknown QAT int8_scope {int8_scope!r}; use one of {', '.join(INT8_SCOPES)}.")
    return int8_scope


def quantization_plan(model, quantize_embeddings=True, custom_configs=None, int8_scope="xnnpack"):
    """Decides how every layer of a BERT student is quantized.

    Args:
        model: a float BERT student (`BertModel` or `CompressedBert`, pruning stripped).
        quantize_embeddings: bool, fake-quantize the word table (and, in the "full" scope, the
            token-type table).
        custom_configs: optional dict `{layer name or class name: QuantizeConfig}` for layers
            the rules do not know (they get `"custom"`).
        int8_scope: str, `"xnnpack"` (what the int8 export recipe quantizes) or `"full"`.

    Returns:
        dict `{layer_name: treatment}` in layer order; treatments are the module constants
        ("xnnpack": `"int8"`, `"dynamic range"`, `"table"`, `"float"`; "full":
        `"default_8bit"`, `"output"`, `"masked_scores"`, `"table"`, `"table+output"`,
        `"none"`; both: `"custom"`, `"skipped (...)"`).

    Raises:
        ValueError: unknown scope, or a layer has no rule and no custom config (names the
            layer and the fix).

    Example:
    >>> plan = quantization_plan(student)
    >>> plan["layer_0_query"], plan["layer_0_output"], plan["layer_0_attention_probs"], plan["word_embeddings"]
    ('int8', 'dynamic range', 'float', 'table')
    >>> plan = quantization_plan(student, int8_scope="full")
    >>> plan["layer_0_query"], plan["attention_mask_bias"], plan["word_embeddings"]
    ('default_8bit', 'skipped (reads int32 input)', 'table')
    """
    check_int8_scope(int8_scope)
    custom_configs = custom_configs or {}
    plan, unknown = {}, []
    for layer in model.layers:
        rule = LAYER_RULES.get(type(layer))
        if layer.name in custom_configs or type(layer).__name__ in custom_configs:
            plan[layer.name] = CUSTOM
        elif isinstance(layer, keras.layers.InputLayer):
            plan[layer.name] = SKIPPED_INPUT
        elif rule == TABLE:
            plan[layer.name] = _table_rule(layer, quantize_embeddings, int8_scope)
        elif _reads_integer_input(layer):
            plan[layer.name] = SKIPPED_INT_INPUT
        elif rule is None:
            unknown.append(f"{layer.name} ({type(layer).__name__})")
        else:
            plan[layer.name] = _xnnpack_rule(layer) if int8_scope == "xnnpack" else rule
    if unknown:
        raise ValueError(
            f"No quantization rule for layers {unknown} of model {model.name!r}. Pass "
            "custom_configs={'<layer or class name>': QuantizeConfig} (e.g. "
            "tfdistill.compress.OutputQuantizeConfig() for weight-less math, "
            "NoOpQuantizeConfig() for reshapes); wrapped layers (pruning) must be stripped first.")
    return plan


def quantization_scope():
    """Returns a `quantize_scope` knowing the BERT layers, tfdistill's configs and tfmot's.

    Example:
    >>> config = keras.layers.serialize(qat.get_layer("quant_layer_0_query"))
    >>> with quantization_scope():
    ...     layer = keras.layers.deserialize(config)
    >>> type(layer).__name__, type(layer.quantize_config).__name__
    ('InputQuantizeWrapper', 'DenseQuantizeConfig')
    """
    import tensorflow_model_optimization as tfmot
    from tfdistill.compress import quantize_configs
    from tfdistill.compress.quantize_wrapper import InputQuantizeWrapper, TableQuantizeWrapper

    return tfmot.quantization.keras.quantize_scope(dict(
        custom_objects(), **quantize_configs.CUSTOM_OBJECTS, InputQuantizeWrapper=InputQuantizeWrapper,
        TableQuantizeWrapper=TableQuantizeWrapper))


def quantize_student(model, preserve_sparsity=False, quantize_embeddings=True, custom_configs=None,
                     int8_scope="xnnpack"):
    """Returns a QAT copy of a BERT student: every layer quantized as `quantization_plan` says.

    Args:
        model: a float BERT student (pruned students: `strip_student` first).
        preserve_sparsity: bool, kernels (and the word table) keep their exact zeros through QAT
            (tfmot's prune-preserving weight quantizers; in the "full" scope its
            `Default8BitPrunePreserveQuantizeScheme`). Use it for pruned students.
        quantize_embeddings: bool, fake-quantize the embedding tables.
        custom_configs: optional dict `{layer or class name: QuantizeConfig}` for custom layers.
        int8_scope: str, `"xnnpack"` (default: what the int8 export recipe quantizes; export
            with `mode="qat"`, which quantizes its float copy by that recipe) or `"full"` (every
            layer, tfmot's default 8-bit scheme; exported by TF's converter).

    Returns:
        `CompressedBert` with `QuantizeWrapperV2` layers. Calibrate it (`calibrate_ranges`) before
        training; train it with plain `fit` or in the Distiller; save with `save_quantized`.

    Raises:
        ValueError: not a tf-keras BERT student, still wrapped, or a layer has no rule.

    Example:
    A pruned student keeps its zeros (a dense one: `quantize_student(student)`):

    >>> from tfdistill.compress.calibration import calibrate_ranges
    >>> from tfdistill.compress.pruning import strip_student
    >>> from tfdistill.compress.report import weight_sparsity
    >>> from tfdistill.distill.distiller import Distiller
    >>> qat = quantize_student(strip_student(pruned), preserve_sparsity=True)
    >>> qat.get_layer("quant_layer_0_query").__class__.__name__
    'InputQuantizeWrapper'
    >>> report = calibrate_ranges(qat, train, steps=2)
    >>> weight_sparsity(qat)["layer_0_query"]["sparsity"]
    0.5
    >>> distiller = Distiller(student=qat, teacher=teacher, losses=["logit_kd"])
    >>> distiller.compile(optimizer="adam")
    >>> history = distiller.fit(train, epochs=2)  # doctest: +SKIP
    """
    import tensorflow_model_optimization as tfmot
    from tfdistill.compress import quantize_configs

    bert_config = bert_config_of(model)
    plan = quantization_plan(model, quantize_embeddings, custom_configs, int8_scope)
    custom_configs = custom_configs or {}
    if int8_scope == "xnnpack":
        return _quantize_for_xnnpack(model, plan, preserve_sparsity, custom_configs)
    annotate = tfmot.quantization.keras.quantize_annotate_layer
    annotations = {
        DEFAULT_8BIT: lambda layer: annotate(layer),
        OUTPUT: lambda layer: annotate(layer, quantize_configs.OutputQuantizeConfig()),
        MASKED_SCORES: lambda layer: annotate(layer, quantize_configs.ScoresQuantizeConfig()),
        NONE: lambda layer: annotate(layer, quantize_configs.NoOpQuantizeConfig()),
        TABLE_AND_OUTPUT: lambda layer: annotate(layer, quantize_configs.TableQuantizeConfig(
            quantize_output=True, preserve_sparsity=preserve_sparsity)),
        CUSTOM: lambda layer: annotate(layer, custom_configs.get(layer.name)
                                       or custom_configs[type(layer).__name__]),
    }

    def annotate_layer(layer):
        annotation = annotations.get(plan[layer.name])
        return annotation(layer) if annotation else layer

    def wrap_table(layer):
        # After quantize_apply: wrapping the int32-fed tables earlier would make tfmot quantize the
        # ids, and its weight-copying clone would build the wrapper (and a prune-preserving
        # quantizer's mask) before the trained weights are set.
        if plan.get(getattr(layer, "name", None)) != TABLE:
            return layer
        return _wrapped_copy(layer, quantize_configs.TableQuantizeConfig(preserve_sparsity=preserve_sparsity))

    if preserve_sparsity:
        scheme = tfmot.experimental.combine.Default8BitPrunePreserveQuantizeScheme()
    else:
        scheme = tfmot.quantization.keras.default_8bit.Default8BitQuantizeScheme()
    with quantization_scope():
        annotated = keras.models.clone_model(model, clone_function=annotate_layer)
        quantized = tfmot.quantization.keras.quantize_apply(annotated, scheme)
        if TABLE in plan.values():
            quantized = keras.models.clone_model(quantized, clone_function=wrap_table)
    return as_compressed_bert(quantized, bert_config)


def _quantize_for_xnnpack(model, plan, preserve_sparsity, custom_configs):
    """The "xnnpack" scope: wraps the planned layers of a weight-carrying copy (no annotation pass)."""
    import tensorflow_model_optimization as tfmot
    from tfdistill.compress import quantize_configs
    from tfdistill.compress.bert_graph import clone_bert
    from tfdistill.compress.quantize_wrapper import InputQuantizeWrapper

    def quantize_layer(layer):
        treatment = plan.get(layer.name)
        if treatment in (INT8, DYNAMIC_RANGE):
            inputs = "static" if treatment == INT8 else "dynamic"
            config = quantize_configs.DenseQuantizeConfig(inputs, preserve_sparsity=preserve_sparsity)
            return InputQuantizeWrapper(layer, config)
        if treatment == TABLE:
            config = quantize_configs.TableQuantizeConfig(preserve_sparsity=preserve_sparsity)
        elif treatment == CUSTOM:
            config = custom_configs.get(layer.name) or custom_configs[type(layer).__name__]
        else:
            return layer
        return table_or_layer_wrapper(layer, config)

    with quantization_scope():
        return clone_bert(model, clone_function=quantize_layer)


def _wrapped_copy(layer, quantize_config):
    """Wraps a built copy of `layer` (with its weights) in a `QuantizeWrapperV2`.

    Used for layers fed by int32 inputs, which must not be annotated; a copy because the wrapper
    replaces the wrapped layer's weight attributes with fake-quantized tensors.
    """
    copy = type(layer).from_config(layer.get_config())
    copy.build(layer.input_shape)
    copy.set_weights(layer.get_weights())
    return table_or_layer_wrapper(copy, quantize_config)


def table_or_layer_wrapper(layer, quantize_config):
    """`TableQuantizeWrapper` for a lookup table quantized as a table (it quantizes the looked-up
    rows only), else tfmot's `QuantizeWrapperV2`."""
    import tensorflow_model_optimization as tfmot
    from tfdistill.compress import quantize_configs
    from tfdistill.compress.quantize_wrapper import TableQuantizeWrapper

    if type(layer) is keras.layers.Embedding and type(quantize_config) is quantize_configs.TableQuantizeConfig:
        return TableQuantizeWrapper(layer, quantize_config)
    return tfmot.quantization.keras.QuantizeWrapperV2(layer, quantize_config)


def is_quantized(model):
    """Returns whether `model` holds tfmot quantization wrappers.

    Example:
    >>> is_quantized(qat), is_quantized(student)
    (True, False)
    """
    import tensorflow_model_optimization as tfmot

    return any(isinstance(layer, tfmot.quantization.keras.QuantizeWrapper) for layer in model.layers)


def qat_int8_scope(model):
    """Returns the QAT scope of `model`: `"xnnpack"`, `"full"`, or None when it is not QAT.

    Example:
    >>> qat_int8_scope(qat), qat_int8_scope(student)
    ('xnnpack', None)
    """
    from tfdistill.compress.quantize_wrapper import InputQuantizeWrapper

    if any(isinstance(layer, InputQuantizeWrapper) for layer in model.layers):
        return "xnnpack"
    return "full" if is_quantized(model) else None


def _check_save_path(path):
    path = os.fspath(path)
    if path.endswith((".keras", ".weights.h5")):
        raise ValueError(
            f"Cannot save or load a QAT model as {path!r}: the Keras v3 formats (.keras, .weights.h5) "
            "do not round-trip tfmot 0.8.1 quantization wrappers ('expected 3 variables, but "
            "received 5'). Use a path ending in .h5 (whole model, or weights_only=True).")
    if not path.endswith(".h5"):
        raise ValueError(f"Unknown QAT save format for {path!r}; use a path ending in .h5.")
    return path


def save_quantized(model, path, weights_only=False):
    """Saves a QAT model atomically in the HDF5 format: the whole model, or its weights.

    Args:
        model: a QAT model from `quantize_student`.
        path: str ending in `.h5`.
        weights_only: bool, save only the weights (load them into `quantize_student(student)`).

    Raises:
        ValueError: a `.keras` or `.weights.h5` path (they would not load back) or any other
            extension.

    Example:
    >>> save_quantized(qat, "runs/qat/qat_model.h5")
    >>> save_quantized(qat, "runs/qat/qat_model.keras")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: Cannot save or load a QAT model as 'runs/qat/qat_model.keras': ...
    """
    path = _check_save_path(path)
    with atomic.atomic_path(path) as tmp, quantization_scope():
        if weights_only:
            model.save_weights(tmp, save_format="h5")
        else:
            model.save(tmp, save_format="h5", include_optimizer=False)


def load_quantized(path, weights_into=None):
    """Loads a QAT model (or its weights) saved by `save_quantized`.

    A prune-preserving model loaded this way is for evaluation and export: tfmot reads its
    sparsity masks when a wrapper is built, before the weights arrive. To train it further,
    rebuild it with `quantize_student(..., preserve_sparsity=True)` and load the weights.

    Args:
        path: str, an `.h5` file.
        weights_into: optional QAT model with the same architecture (e.g.
            `quantize_student(student)`): load weights-only files into it.

    Returns:
        `CompressedBert` QAT model (`weights_into` itself when given).

    Raises:
        FileNotFoundError: no file at `path`.
        ValueError: a `.keras`/`.weights.h5` path or unknown extension, a file that is not HDF5,
            a weights-only file without `weights_into`, a model with `Lambda` layers (their
            Python code would run on loading), or a model that is not a tfdistill BERT.

    Example:
    >>> import numpy as np
    >>> save_quantized(qat, "runs/qat/qat_model.h5")
    >>> copy = load_quantized("runs/qat/qat_model.h5")
    >>> type(copy).__name__, is_quantized(copy)
    ('CompressedBert', True)
    >>> save_quantized(qat, "runs/qat/qat_weights.h5", weights_only=True)
    >>> load_quantized("runs/qat/qat_weights.h5", weights_into=copy) is copy
    True
    """
    import h5py
    from tf_keras.src.saving.serialization_lib import SafeModeScope

    path = _check_save_path(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No QAT model at {path!r}; write one with save_quantized.")
    try:
        with h5py.File(path, "r") as f:
            model_config = f.attrs.get("model_config")
    except OSError as error:
        raise ValueError(f"{path!r} is not an HDF5 file ({error}); it may be truncated or not a model. "
                         "Save the QAT model again with tfdistill.compress.save_quantized.") from None
    with quantization_scope():
        if weights_into is not None:
            weights_into.load_weights(path)
            return weights_into
        if model_config is None:
            raise ValueError(f"{path!r} holds weights only; pass weights_into=quantize_student(student).")
        _refuse_code_layers(path, model_config)
        # Keras' safe mode refuses marshalled `lambda` bytecode too (tf_keras applies it only to
        # .keras files by default; the legacy h5 loader would run it).
        with SafeModeScope(True):
            model = keras.models.load_model(path, compile=False)
    if getattr(model, "bert_config", None) is None:
        raise ValueError(f"{path!r} is a Keras model but not a tfdistill BERT (no bert_config); load QAT "
                         "students saved by tfdistill.compress.save_quantized.")
    return as_compressed_bert(model, model.bert_config)


def _refuse_code_layers(path, model_config):
    """Refuses a saved model whose config holds `Lambda` layers (Python code run on loading)."""
    config = json.loads(model_config.decode("utf-8") if isinstance(model_config, bytes) else model_config)
    found = sorted(set(_lambda_layer_names(config)))
    if found:
        raise ValueError(
            f"{path!r} holds Lambda layers {found}: loading them would run Python code stored in the "
            "file, so tfdistill refuses it. Rebuild the model from registered layers (tfdistill.build_bert, "
            "quantize_student) and save it with save_quantized.")


def _lambda_layer_names(node):
    if isinstance(node, dict):
        if node.get("class_name") == "Lambda":
            yield str((node.get("config") or {}).get("name", "?"))
        for value in node.values():
            yield from _lambda_layer_names(value)
    elif isinstance(node, list):
        for value in node:
            yield from _lambda_layer_names(value)
