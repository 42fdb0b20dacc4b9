"""`InputQuantizeWrapper`: tfmot's `QuantizeWrapperV2` that also fake-quantizes the layer's input.

tfmot quantizes a tensor where it is produced (the producer's output quantizer), so every reader
sees the same rounded values. A deployed int8 FULLY_CONNECTED is different: the converter or
ai-edge-quantizer puts a QUANTIZE op in front of it and the other readers of the same tensor
(the residual connection after a LayerNorm) keep the float values. A quantizer owned by the
reading layer trains exactly that.

The input quantizer comes from the config's `get_input_quantizers(layer)` (a list of at most
one quantizer, like `get_output_quantizers`); its variables are named `input_min`/`input_max`.
"""

import tf_keras as keras
import tensorflow_model_optimization as tfmot


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
