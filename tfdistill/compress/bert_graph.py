"""`CompressedBert`: the functional BERT graph tfmot rebuilds, with `BertModel`'s conventions.

tfmot prunes and quantizes through `keras.models.clone_model`, which turns a `BertModel` (a
functional subclass with its own constructor) into a plain `Functional`: the `bert_config`
attribute is gone and a features dict without `token_type_ids` is refused. Every model the
compression API returns is rewrapped as a `CompressedBert`, which keeps both, so a compressed
student drops in wherever a `BertModel` is used (the Distiller, `logits_model`, evaluation,
`write_pretrained_files` once the wrappers are stripped).
"""

import tf_keras as keras

from tfdistill.models.bert.bert_config import BertConfig
from tfdistill.models.bert.bert_layers import CUSTOM_OBJECTS
from tfdistill.models.bert.bert_model import with_default_token_types


@keras.utils.register_keras_serializable(package="tfdistill")
class CompressedBert(keras.Model):
    """A functional BERT graph (possibly holding pruning or quantization wrappers).

    Its constructor has the `Functional` signature, so `clone_model` (used by every tfmot
    transform) returns a `CompressedBert` again; `bert_config` is carried by `get_config`.

    Args:
        inputs: dict of `keras.Input`s (`input_ids`, `attention_mask`, `token_type_ids`).
        outputs: the nested outputs of the graph (the `BertModel` dict).
        name: str, optional model name.
        trainable: bool.
        bert_config: `BertConfig` or its dict, optional (set it as an attribute otherwise).

    Example:
    >>> import numpy as np
    >>> with keras.utils.custom_object_scope(custom_objects()):
    ...     clone = as_compressed_bert(keras.models.clone_model(student), student.bert_config)
    >>> ids = np.ones((1, 8), "int32")
    >>> clone({"input_ids": ids, "attention_mask": ids})["logits"].shape  # no token_type_ids needed
    TensorShape([1, 2])
    """

    def __init__(self, inputs, outputs, name=None, trainable=True, **kwargs):
        bert_config = kwargs.pop("bert_config", None)
        super().__init__(inputs=inputs, outputs=outputs, name=name, trainable=trainable, **kwargs)
        if isinstance(bert_config, dict):
            bert_config = BertConfig.from_config(bert_config)
        self.bert_config = bert_config
        # Checked in `call`, where a missing `token_type_ids` is filled with zeros (as BertModel).
        self.input_spec = None

    def call(self, inputs, training=None, mask=None):
        return super().call(with_default_token_types(inputs), training=training, mask=mask)

    def get_config(self):
        config = super().get_config()
        if getattr(self, "bert_config", None) is not None:
            config["bert_config"] = self.bert_config.get_config()
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        bert_config = config.pop("bert_config", None)
        model = super().from_config(config, custom_objects=custom_objects)
        model.bert_config = None if bert_config is None else BertConfig.from_config(bert_config)
        return model


def as_compressed_bert(model, bert_config):
    """Returns `model`'s graph as a `CompressedBert` carrying `bert_config` (layers shared).

    Args:
        model: a functional tf-keras model with the BERT dict inputs (e.g. what `clone_model`,
            `quantize_apply` or `strip_pruning` returned).
        bert_config: `BertConfig` of the student.

    Returns:
        `CompressedBert` (the same object if it already is one; its `bert_config` is set).

    Example:
    >>> import tensorflow_model_optimization as tfmot
    >>> with keras.utils.custom_object_scope(custom_objects()):
    ...     stripped = as_compressed_bert(tfmot.sparsity.keras.strip_pruning(pruned), pruned.bert_config)
    >>> type(stripped).__name__, stripped.bert_config.num_layers
    ('CompressedBert', 2)
    """
    if not isinstance(model, CompressedBert):
        model = CompressedBert(inputs=model.input, outputs=model.output, name=model.name)
    model.bert_config = bert_config
    return model


def clone_bert(model, clone_function=None):
    """Clones a BERT graph into new layers, copying the weights of the layers it does not replace.

    `keras.models.clone_model` alone does not copy weights, and a `clone_function` that returns
    (or wraps) the layer it is given shares that layer with the original. Cloning first keeps
    the input model untouched: a dense student stays valid as the teacher of its pruned copy.

    Args:
        model: a functional BERT graph with `bert_config`.
        clone_function: optional callable applied to each layer of the weight-carrying copy
            (as in `clone_model`).

    Returns:
        `CompressedBert` with `model.bert_config`.

    Example:
    >>> copy = clone_bert(student)
    >>> copy.get_layer("pooler") is student.get_layer("pooler")
    False
    >>> all((a == b).all() for a, b in zip(copy.get_weights(), student.get_weights()))
    True
    """
    bert_config = bert_config_of(model)
    with keras.utils.custom_object_scope(custom_objects()):
        copy = keras.models.clone_model(model)
        copy.set_weights(model.get_weights())
        if clone_function is not None:
            copy = keras.models.clone_model(copy, clone_function=clone_function)
    return as_compressed_bert(copy, bert_config)


def custom_objects():
    """Returns the custom Keras objects a (compressed) BERT graph needs to deserialise.

    Example:
    >>> with keras.utils.custom_object_scope(custom_objects()):
    ...     clone = keras.models.clone_model(student)
    >>> "CompressedBert" in custom_objects(), len(clone.layers) == len(student.layers)
    (True, True)
    """
    return dict(CUSTOM_OBJECTS, CompressedBert=CompressedBert)


def short_weight_name(variable):
    """Returns a variable's name without scopes and suffix: `"kernel"` for `"quant_x/kernel:0"`.

    Example:
    >>> import tensorflow as tf
    >>> short_weight_name(tf.Variable(1.0, name="layer_0_query/kernel"))
    'kernel'
    """
    return variable.name.split("/")[-1].split(":")[0]


def bert_config_of(model):
    """Returns `model.bert_config`, refusing models that are not tfdistill BERT students.

    Args:
        model: the model to compress.

    Returns:
        `BertConfig`.

    Raises:
        ValueError: `model` is not a tf-keras functional model with a `bert_config` (a Keras 3
            model, a subclassed model, or a model not built by `tfdistill.build_bert`).

    Example:
    >>> bert_config_of(student).num_layers
    2
    >>> bert_config_of(keras.Sequential([keras.layers.Dense(2)]))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: Model 'sequential...' is a subclassed model; ...
    """
    if not isinstance(model, keras.Model):
        raise ValueError(
            f"tfmot only compresses tf-keras (Keras 2) models; got a {type(model).__module__}."
            f"{type(model).__name__}. Build the student with tfdistill.build_bert or "
            "tfdistill.load_pretrained.")
    if not getattr(model, "_is_graph_network", False):
        raise ValueError(
            f"Model {model.name!r} is a subclassed model; tfmot can only rebuild functional "
            "graphs. Build the student with tfdistill.build_bert.")
    config = getattr(model, "bert_config", None)
    if not isinstance(config, BertConfig):
        raise ValueError(
            f"Model {model.name!r} has no `bert_config`; compress students built by "
            "tfdistill.build_bert / tfdistill.load_pretrained (or set model.bert_config).")
    return config
