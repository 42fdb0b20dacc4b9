"""Small tfmot `QuantizeConfig`s for the BERT layers tfmot's default 8-bit registry does not know.

Each config does one thing (the layout of TF Model Garden's `official/projects/qat/nlp`):
- `OutputQuantizeConfig`: fake-quantizes only the layer's output. For LayerNormalization and
  the weight-less attention math (scores, context, GELU), whose TFLite kernels take int8 in
  and give int8 out with their own output scale.
- `NoOpQuantizeConfig`: quantizes nothing. For reshape-like layers (split/merge heads, the CLS
  slice, dropout): TFLite keeps the input's scale through them, so a fake-quant would only
  add rounding that inference does not do.
- `TableQuantizeConfig`: fake-quantizes a lookup table (`embeddings`) per tensor, symmetric
  int8, optionally the output too (the position table is added to the token embeddings). A
  gather returns table rows, so quantizing the table is exactly what an int8 GATHER does.
- `ScoresQuantizeConfig`: the output of `AttentionScores`, whose padded positions carry the
  -10000 mask bias. A plain moving-average range would stretch to -10000 (measured: after one
  training step the range minimum was already -16, and it drifts toward -10000), leaving real
  scores one or two int8 levels. `MaskedScoresQuantizer` tracks the range of the real scores
  only, `margin` below their minimum: padded scores clamp to the range minimum, where softmax
  gives them at most e^-margin of the weakest real key's weight.

For the `"xnnpack"` QAT scope, which fake-quantizes exactly what the `int8` export recipe
quantizes (`tfdistill/export/recipes/int8.json`):
- `DenseQuantizeConfig("static")`: a FULLY_CONNECTED with int8 input, weights and output: the
  input and output per tensor (asymmetric, moving-average ranges), the kernel per output channel
  (symmetric, narrow range), as ai-edge-quantizer quantizes it. The output is the matmul's: the
  converter leaves the pooler's tanh a separate float op after the int8 FULLY_CONNECTED. The input range belongs to the
  layer (`InputQuantizeWrapper`), not to its producer, whose float output also feeds the residual.
- `DenseQuantizeConfig("dynamic")`: a dynamic-range FULLY_CONNECTED (the FFN output projection
  and the classifier): kernel per output channel, the input quantized per row at run time
  (`RowwiseQuantizer`, asymmetric as XNNPACK does), the output float.

Quantizer settings match tfmot's default 8-bit scheme: weights symmetric, narrow range
([-127, 127]), last-value ranges; activations asymmetric, full range, moving-average ranges.
"""

import tensorflow as tf
import tf_keras as keras
import tensorflow_model_optimization as tfmot

from tfdistill.compress.quantizers import (EMA_DECAY, LastValueQuantizerSTE, MovingAverageQuantizerSTE,
                                          PrunePreservingQuantizerSTE, fake_quant)
from tfdistill.models.bert.bert_layers import MASK_PENALTY

quantizers = tfmot.quantization.keras.quantizers
# Padded attention scores are clamped this far below the smallest real score: e^-8 = 3.4e-4.
SCORES_MARGIN = 8.0


def _activation_quantizer():
    return MovingAverageQuantizerSTE(num_bits=8, per_axis=False, symmetric=False, narrow_range=False)


def _weight_quantizer(preserve_sparsity, per_axis=False):
    # The prune-preserving quantizer multiplies by the sparsity mask it read at build time, so
    # zeros stay exact zeros through QAT (same settings otherwise).
    quantizer = PrunePreservingQuantizerSTE if preserve_sparsity else LastValueQuantizerSTE
    return quantizer(num_bits=8, per_axis=per_axis, symmetric=True, narrow_range=True)


class _NoWeightsOrActivations(tfmot.quantization.keras.QuantizeConfig):
    """Base: a config that quantizes no weights and no activation functions."""

    def get_weights_and_quantizers(self, layer):
        return []

    def get_activations_and_quantizers(self, layer):
        return []

    def set_quantize_weights(self, layer, quantize_weights):
        pass

    def set_quantize_activations(self, layer, quantize_activations):
        pass

    def get_config(self):
        return {}


@keras.utils.register_keras_serializable(package="tfdistill")
class OutputQuantizeConfig(_NoWeightsOrActivations):
    """Quantizes only a layer's output (8-bit, asymmetric, moving-average range).

    Example:
    >>> annotated = tfmot.quantization.keras.quantize_annotate_layer(
    ...     keras.layers.LayerNormalization(), OutputQuantizeConfig())
    >>> type(annotated).__name__, len(OutputQuantizeConfig().get_output_quantizers(annotated.layer))
    ('QuantizeAnnotate', 1)
    """

    def get_output_quantizers(self, layer):
        return [_activation_quantizer()]


@keras.utils.register_keras_serializable(package="tfdistill")
class NoOpQuantizeConfig(_NoWeightsOrActivations):
    """Quantizes nothing: the layer passes its input's quantization through.

    Example:
    >>> from tfdistill.models.bert.bert_layers import SplitHeads
    >>> annotated = tfmot.quantization.keras.quantize_annotate_layer(SplitHeads(4), NoOpQuantizeConfig())
    >>> NoOpQuantizeConfig().get_output_quantizers(annotated.layer)
    []
    """

    def get_output_quantizers(self, layer):
        return []


@keras.utils.register_keras_serializable(package="tfdistill")
class TableQuantizeConfig(tfmot.quantization.keras.QuantizeConfig):
    """Quantizes a lookup table (the layer's `embeddings` weight), optionally the output.

    Args:
        quantize_output: bool, also fake-quantize the layer's output (for a table whose rows
            are added to another tensor, like the position embeddings).
        preserve_sparsity: bool, keep the table's zeros exact (for pruned tables; the
            sparsity mask is read when the wrapper is built).

    Example:
    >>> wrapper = tfmot.quantization.keras.QuantizeWrapperV2(
    ...     keras.layers.Embedding(100, 8), TableQuantizeConfig())
    >>> wrapper(tf.constant([[1, 2]])).shape
    TensorShape([1, 2, 8])
    """

    def __init__(self, quantize_output=False, preserve_sparsity=False):
        self.quantize_output = bool(quantize_output)
        self.preserve_sparsity = bool(preserve_sparsity)

    def get_weights_and_quantizers(self, layer):
        return [(layer.embeddings, _weight_quantizer(self.preserve_sparsity))]

    def get_activations_and_quantizers(self, layer):
        return []

    def set_quantize_weights(self, layer, quantize_weights):
        (layer.embeddings,) = quantize_weights

    def set_quantize_activations(self, layer, quantize_activations):
        pass

    def get_output_quantizers(self, layer):
        return [_activation_quantizer()] if self.quantize_output else []

    def get_config(self):
        return {"quantize_output": self.quantize_output, "preserve_sparsity": self.preserve_sparsity}


@keras.utils.register_keras_serializable(package="tfdistill")
class MaskedScoresQuantizer(quantizers.MovingAverageQuantizer):
    """8-bit moving-average quantizer for attention scores that include the padding bias.

    The range follows the real scores (those above `MASK_PENALTY / 2`), extended `margin` below
    their minimum; padded scores clamp to the range minimum.

    Args:
        margin: float > 0, how far below the smallest real score the range starts.

    Example:
    >>> quantizer = MaskedScoresQuantizer(margin=8.0)
    >>> [float(x) for x in quantizer.batch_range(tf.constant([-10000.0, -1.0, 3.0]))]
    [-9.0, 3.0]
    """

    def __init__(self, margin=SCORES_MARGIN):
        super().__init__(num_bits=8, per_axis=False, symmetric=False, narrow_range=False)
        self.margin = float(margin)

    def batch_range(self, values):
        """The range of one batch of scores, ignoring padded positions (see the class doc)."""
        real = values > MASK_PENALTY / 2
        low = tf.reduce_min(tf.where(real, values, tf.reduce_max(values))) - self.margin
        high = tf.reduce_max(tf.where(real, values, low))
        return tf.minimum(low, 0.0), tf.maximum(high, 0.0)

    def __call__(self, inputs, training, weights, **kwargs):
        min_var, max_var = weights["min_var"], weights["max_var"]
        if training:
            low, high = self.batch_range(inputs)
            min_var = min_var.assign(EMA_DECAY * min_var + (1.0 - EMA_DECAY) * low)
            max_var = max_var.assign(EMA_DECAY * max_var + (1.0 - EMA_DECAY) * high)
            return fake_quant(inputs, min_var, max_var)
        return tf.quantization.fake_quant_with_min_max_vars(inputs, min_var, max_var, num_bits=8, narrow_range=False)

    def get_config(self):
        return {"margin": self.margin}


@keras.utils.register_keras_serializable(package="tfdistill")
class ScoresQuantizeConfig(_NoWeightsOrActivations):
    """Quantizes the output of `AttentionScores` with `MaskedScoresQuantizer`.

    Args:
        margin: float > 0, see `MaskedScoresQuantizer`.

    Example:
    >>> from tfdistill.models.bert.bert_layers import AttentionScores
    >>> annotated = tfmot.quantization.keras.quantize_annotate_layer(AttentionScores(), ScoresQuantizeConfig())
    >>> [type(q).__name__ for q in ScoresQuantizeConfig().get_output_quantizers(annotated.layer)]
    ['MaskedScoresQuantizer']
    """

    def __init__(self, margin=SCORES_MARGIN):
        self.margin = float(margin)

    def get_output_quantizers(self, layer):
        return [MaskedScoresQuantizer(self.margin)]

    def get_config(self):
        return {"margin": self.margin}


@keras.utils.register_keras_serializable(package="tfdistill")
class RowwiseQuantizer(quantizers.Quantizer):
    """8-bit asymmetric fake-quantization of each row (last axis) with its own range, at run time.

    What a dynamic-range FULLY_CONNECTED does to its input in XNNPACK (and LiteRT with
    `asymmetric_quantize_inputs`): every row gets the range `[min(row, 0), max(row, 0)]` mapped to
    [-128, 127]. No variables; gradients pass straight through.

    Example:
    >>> rows = tf.constant([[0.0, 1.0, 2.55], [-1.0, 0.0, 0.003]])
    >>> [[round(float(x), 3) for x in row] for row in RowwiseQuantizer()(rows, False, {})]
    [[0.0, 1.0, 2.55], [-1.0, 0.0, 0.004]]
    """

    def build(self, tensor_shape, name, layer):
        return {}

    def __call__(self, inputs, training, weights, **kwargs):
        low = tf.minimum(tf.reduce_min(inputs, axis=-1, keepdims=True), 0.0)
        high = tf.maximum(tf.reduce_max(inputs, axis=-1, keepdims=True), 0.0)
        scale = tf.maximum(high - low, 1e-12) / 255.0
        zero_point = tf.round(-128.0 - low / scale)
        levels = tf.clip_by_value(tf.round(inputs / scale) + zero_point, -128.0, 127.0)
        quantized = (levels - zero_point) * scale
        return inputs + tf.stop_gradient(quantized - inputs)

    def get_config(self):
        return {}


# How a DenseQuantizeConfig quantizes the layer's input; both quantize the kernel per channel.
DENSE_INPUTS = ("static", "dynamic")


@keras.utils.register_keras_serializable(package="tfdistill")
class DenseQuantizeConfig(tfmot.quantization.keras.QuantizeConfig):
    """A Dense layer as the `int8` export recipe runs it: static int8 or dynamic range.

    Use it inside `InputQuantizeWrapper` (the input quantizer is the wrapper's).

    Args:
        inputs: str, `"static"` (input and output int8 per tensor, moving-average ranges) or
            `"dynamic"` (input per row at run time, float output).
        preserve_sparsity: bool, keep the kernel's exact zeros (pruned students).

    Example:
    >>> config = DenseQuantizeConfig("dynamic")
    >>> dense = keras.layers.Dense(4)
    >>> dense.build((None, 8))
    >>> [type(q).__name__ for q in config.get_input_quantizers(dense)], config.get_output_quantizers(dense)
    (['RowwiseQuantizer'], [])
    >>> DenseQuantizeConfig("float")
    Traceback (most recent call last):
    ...
    ValueError: DenseQuantizeConfig inputs must be one of ('static', 'dynamic'), got 'float'.
    """

    def __init__(self, inputs="static", preserve_sparsity=False):
        if inputs not in DENSE_INPUTS:
            raise ValueError(f"DenseQuantizeConfig inputs must be one of {DENSE_INPUTS}, got {inputs!r}.")
        self.inputs = inputs
        self.preserve_sparsity = bool(preserve_sparsity)

    def get_weights_and_quantizers(self, layer):
        return [(layer.kernel, _weight_quantizer(self.preserve_sparsity, per_axis=True))]

    def get_activations_and_quantizers(self, layer):
        # tfmot's activation wrapper quantizes a linear output after it and a tanh before it: the
        # deployed FULLY_CONNECTED writes int8, then a float TANH follows (the pooler).
        return [(layer.activation, _activation_quantizer())] if self.inputs == "static" else []

    def set_quantize_weights(self, layer, quantize_weights):
        (layer.kernel,) = quantize_weights

    def set_quantize_activations(self, layer, quantize_activations):
        if quantize_activations:
            (layer.activation,) = quantize_activations

    def get_input_quantizers(self, layer):
        return [_activation_quantizer() if self.inputs == "static" else RowwiseQuantizer()]

    def get_output_quantizers(self, layer):
        return []

    def get_config(self):
        return {"inputs": self.inputs, "preserve_sparsity": self.preserve_sparsity}


CUSTOM_OBJECTS = {
    cls.__name__: cls for cls in (OutputQuantizeConfig, NoOpQuantizeConfig, TableQuantizeConfig,
                                  MaskedScoresQuantizer, ScoresQuantizeConfig, RowwiseQuantizer,
                                  DenseQuantizeConfig, LastValueQuantizerSTE, MovingAverageQuantizerSTE,
                                  PrunePreservingQuantizerSTE)
}
