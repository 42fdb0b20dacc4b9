"""Export-time substitutes for weight-less layers whose TFLite lowering splits XNNPACK.

The model is re-wired with `clone_model`, every layer with weights reused as the same object (the
trained variables are shared, nothing is copied); only the layers listed in `SUBSTITUTES` are
swapped for equivalents that lower to ops XNNPACK delegates. Measured on a 2x128 student at seq
64: `ClsToken`'s `x[:, 0, :]` becomes a STRIDED_SLICE with a shrink-axis mask that XNNPACK
refuses, which cut the graph into two partitions; the `x[:, 0:1, :]` + reshape below keeps one.

What needs no rewrite (checked on the same model): LayerNormalization lowers to MEAN /
SQUARED_DIFFERENCE / RSQRT / MUL / SUB / ADD and exact GELU to the GELU builtin, all delegated in
float; the position-embedding slice is constant-folded at a fixed `seq_len`; the -10000 mask bias
is CAST (int32 -> float, outside XNNPACK, before the first partition) then SUB / MUL inside it.
"""

import tf_keras as keras

import tfdistill  # noqa: F401  (sets TF_USE_LEGACY_KERAS before TensorFlow loads)
import tensorflow as tf

from tfdistill.models.bert import bert_layers


@keras.utils.register_keras_serializable(package="tfdistill_export")
class FirstToken(keras.layers.Layer):
    """`[batch, seq, hidden]` -> `[batch, hidden]` at position 0 via a STRIDED_SLICE without shrink mask (XNNPACK runs it) and a RESHAPE.

    Example:
    >>> FirstToken()(tf.reshape(tf.range(6.0), [1, 3, 2])).numpy().tolist()
    [[0.0, 1.0]]
    """

    def call(self, inputs):
        return tf.reshape(inputs[:, 0:1, :], [-1, inputs.shape[-1]])


# layer class -> factory of its export substitute (called with the original layer)
SUBSTITUTES = {
    bert_layers.ClsToken: lambda layer: FirstToken(name=layer.name),
}


def export_graph(model, substitutes=None):
    """Returns `model` re-wired with the XNNPACK-friendly substitutes (weights shared).

    Args:
        model: a tf_keras model. Functional models are cloned; subclassed models, or graphs
            with no layer to substitute, are returned unchanged.
        substitutes: optional dict of layer class -> factory `f(layer) -> layer`
            (default `SUBSTITUTES`); another runtime may need its own (e.g. ONNX).

    Returns:
        A tf_keras model computing the same function.

    Example:
    >>> import numpy as np
    >>> serving_model = export_graph(student)
    >>> type(serving_model.get_layer("cls_token")).__name__
    'FirstToken'
    >>> np.allclose(serving_model(features)["logits"], student(features)["logits"])
    True
    """
    substitutes = SUBSTITUTES if substitutes is None else substitutes
    if not _is_graph_network(model) or not any(
            type(plain_layer(layer)) in substitutes for layer in model.layers):
        return model

    def substitute(layer):
        factory = substitutes.get(type(plain_layer(layer)))
        return factory(plain_layer(layer)) if factory else layer

    return keras.models.clone_model(model, clone_function=substitute)


def plain_layer(layer):
    """Returns the layer a tfmot wrapper holds when the wrapper quantizes nothing, else `layer`.

    A QAT student wraps reshape-like layers (the CLS slice) in a `QuantizeWrapperV2` with a
    no-op config; such a wrapper computes exactly its inner layer and can be substituted.

    Example:
    >>> plain_layer(keras.layers.Dense(2)).__class__.__name__
    'Dense'
    """
    config, inner = getattr(layer, "quantize_config", None), getattr(layer, "layer", None)
    if config is None or inner is None:
        return layer
    quantizes = (config.get_weights_and_quantizers(inner) or config.get_activations_and_quantizers(inner)
                 or config.get_output_quantizers(inner))
    return layer if quantizes else inner


def _is_graph_network(model):
    return bool(getattr(model, "_is_graph_network", False))
