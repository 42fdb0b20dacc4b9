"""tfmot's `QuantizeWrapperV2` with two changes: `InputQuantizeWrapper` also fake-quantizes the
layer's input; `TableQuantizeWrapper` fake-quantizes only the rows of a table that a batch reads.

`InputQuantizeWrapper`:

tfmot quantizes a tensor where it is produced (the producer's output quantizer), so every reader
sees the same rounded values. A deployed int8 FULLY_CONNECTED is different: the converter or
ai-edge-quantizer puts a QUANTIZE op in front of it and the other readers of the same tensor
(the residual connection after a LayerNorm) keep the float values. A quantizer owned by the
reading layer trains exactly that.

The input quantizer comes from the config's `get_input_quantizers(layer)` (a list of at most
one quantizer, like `get_output_quantizers`); its variables are named `input_min`/`input_max`.
"""

import tensorflow as tf
import tf_keras as keras
import tensorflow_model_optimization as tfmot

from tfdistill.compress.quantizers import batch_range


@keras.utils.register_keras_serializable(package="tfdistill")
class InputQuantizeWrapper(tfmot.quantization.keras.QuantizeWrapperV2):
    """Quantizes the wrapped layer's weights, input and output as its `quantize_config` says.

    Args:
        layer: the Keras layer (built or not).
        quantize_config: a `QuantizeConfig` with `get_input_quantizers(layer)`, e.g.
            `tfdistill.compress.quantize_configs.DenseQuantizeConfig`.

    Example:
    >>> import tensorflow as tf
    >>> from tfdistill.compress.quantize_configs import DenseQuantizeConfig
    >>> wrapper = InputQuantizeWrapper(keras.layers.Dense(2), DenseQuantizeConfig("static"))
    >>> wrapper(tf.ones([1, 3])).shape
    TensorShape([1, 2])
    >>> sorted(v.name.split("/")[-1] for v in wrapper.weights if "input" in v.name)
    ['input_max:0', 'input_min:0']
    """

    def build(self, input_shape):
        super().build(input_shape)
        quantizers = self.quantize_config.get_input_quantizers(self.layer)
        if len(quantizers) > 1:
            raise ValueError(f"{type(self.quantize_config).__name__} gives {len(quantizers)} input quantizers "
                             f"for layer {self.layer.name!r}; InputQuantizeWrapper takes at most one.")
        self._input_quantizers = quantizers
        self._input_quantizer_vars = quantizers[0].build(input_shape, "input", self) if quantizers else {}

    def call(self, inputs, training=None, **kwargs):
        if training is None:
            training = keras.backend.learning_phase()
        if self._input_quantizers:
            quantizer = self._input_quantizers[0]
            inputs = self._smart_cond(training, quantizer, inputs)
        return super().call(inputs, training=training, **kwargs)

    def _smart_cond(self, training, quantizer, inputs):
        from tensorflow_model_optimization.python.core.keras import utils

        return utils.smart_cond(
            training,
            self._make_quantizer_fn(quantizer, inputs, True, self._input_quantizer_vars),
            self._make_quantizer_fn(quantizer, inputs, False, self._input_quantizer_vars))


@keras.utils.register_keras_serializable(package="tfdistill")
class TableQuantizeWrapper(tfmot.quantization.keras.QuantizeWrapperV2):
    """Wraps a `keras.layers.Embedding`: fake-quantizes the rows a batch reads, not the table.

    Fake quantization is elementwise with one range, so quantizing the whole table and then
    looking rows up equals looking up and then quantizing with the whole table's range. The
    wrapper takes that range as the config's weight quantizer (tfmot's `LastValueQuantizer`,
    symmetric, per tensor) would, and records it in the same `embeddings_min`/`embeddings_max`
    variables, but quantizes, masks (a prune-preserving quantizer's `sparsity_mask`, whose
    zeros then get no gradient either and stay exact zeros in the variable, where tfmot's
    quantizer masks only the forward pass) and back-propagates through the looked-up rows
    only: the table's gradient stays row-sparse (`LazyAdamW`, with `--lazy_adam`, updates those
    rows alone). Over the 30,522-row word table, the per-step fake-quantization, its gradient and
    the mask product were most of a QAT step in a TensorFlow profile.

    Args:
        layer: a `keras.layers.Embedding` (built or not).
        quantize_config: `quantize_configs.TableQuantizeConfig`.

    Example:
    >>> from tfdistill.compress.quantize_configs import TableQuantizeConfig
    >>> wrapper = TableQuantizeWrapper(keras.layers.Embedding(100, 8), TableQuantizeConfig())
    >>> wrapper(tf.constant([[1, 2]])).shape
    TensorShape([1, 2, 8])
    """

    def build(self, input_shape):
        if type(self.layer) is not keras.layers.Embedding:
            raise ValueError(f"TableQuantizeWrapper takes a keras.layers.Embedding; got "
                             f"{type(self.layer).__name__} {self.layer.name!r}.")
        super().build(input_shape)
        ((_, quantizer, _),) = self._weight_vars
        if quantizer.per_axis:
            raise ValueError(f"TableQuantizeWrapper quantizes a table per tensor; {self.layer.name!r} has a "
                             f"per-axis quantizer.")

    def call(self, inputs, training=None):
        from tensorflow_model_optimization.python.core.keras import utils

        if training is None:
            training = keras.backend.learning_phase()
        ((table, quantizer, variables),) = self._weight_vars
        ids = tf.cast(inputs, tf.int32)
        rows = tf.gather(table, ids)
        if "sparsity_mask" in variables:
            rows *= tf.gather(variables["sparsity_mask"], ids)
        low, high = utils.smart_cond(
            training, lambda: self._record_range(table, quantizer, variables),
            lambda: (tf.identity(variables["min_var"]), tf.identity(variables["max_var"])))
        outputs = tf.quantization.fake_quant_with_min_max_vars(rows, low, high, num_bits=quantizer.num_bits,
                                                               narrow_range=quantizer.narrow_range)
        for output_quantizer in self._output_quantizers:
            outputs = utils.smart_cond(
                training, self._make_quantizer_fn(output_quantizer, outputs, True, self._output_quantizer_vars),
                self._make_quantizer_fn(output_quantizer, outputs, False, self._output_quantizer_vars))
        return tf.cast(outputs, self.layer.compute_dtype)

    @staticmethod
    def _record_range(table, quantizer, variables):
        """The whole table's range as tfmot's `LastValueQuantize` computes it, assigned to its
        variables (no gradient reaches the table through it)."""
        low, high = batch_range(tf.stop_gradient(table), symmetric=quantizer.symmetric,
                                narrow_range=quantizer.narrow_range, num_bits=quantizer.num_bits)
        return variables["min_var"].assign(low), variables["max_var"].assign(high)
