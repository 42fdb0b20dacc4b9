"""`build_bert`: a functional tf-keras BERT encoder with every intermediate exposed."""

import tensorflow as tf
import tf_keras as keras

from tfdistill.models.bert import bert_layers as layers
from tfdistill.models.bert.bert_config import BertConfig

INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")


def layer_prefix(index):
    """Returns the name prefix of transformer block `index` (`"layer_3"`)."""
    return f"layer_{index}"


def build_bert(config, name="bert"):
    """Builds a BERT encoder (and classifier when `config.num_labels` is set).

    The model is functional and made only of Keras built-ins and the small layers in
    `bert_layers`, so tfmot can prune and quantize every part of it.

    Args:
        config: `BertConfig` (or its `get_config()` dict).
        name: str, the model name.

    Returns:
        A `BertModel` (a functional `tf_keras.Model`). Inputs: dict of int32 `[batch, seq]`
        tensors `input_ids`, `attention_mask`, `token_type_ids` (the last may be omitted; it
        defaults to zeros). Outputs: a dict with
        - `hidden_states`: list of `num_layers + 1` tensors `[batch, seq, hidden]`,
          the embedding output first;
        - `attentions`: list of `num_layers` probability tensors `[batch, heads, seq, seq]`;
        - `attention_scores`: the same before the softmax (masked positions near -10000);
        - `queries`, `keys`, `values`: lists of `[batch, heads, seq, head_size]` tensors;
        - `pooled`: `[batch, hidden]`, the tanh pooler on `[CLS]`;
        - `logits`: `[batch, num_labels]` when `config.num_labels` is set.
        Built under a mixed policy (`tfdistill.training.precision.policy_scope`), variables
        stay float32, matmuls run in the compute dtype, and `attention_scores`, `attentions`,
        `pooled` and `logits` are float32 (GELU, LayerNorm statistics and the softmax compute
        in float32 too); the other outputs are in the compute dtype.

    Example:
    >>> import tfdistill, numpy as np
    >>> config = tfdistill.BertConfig(vocab_size=100, hidden_size=32, num_layers=2,
    ...                               num_heads=4, intermediate_size=64, num_labels=2)
    >>> model = tfdistill.build_bert(config)
    >>> ids = np.ones((1, 8), "int32")
    >>> model({"input_ids": ids, "attention_mask": ids})["logits"].shape
    TensorShape([1, 2])
    """
    return BertModel(config, name=name)


@keras.utils.register_keras_serializable(package="tfdistill")
class BertModel(keras.Model):
    """The functional BERT graph of `build_bert`, with a serialisable `BertConfig`.

    Args:
        config: `BertConfig` or its `get_config()` dict.
        name: str, the model name.
    """

    def __init__(self, config, name="bert", **kwargs):
        if isinstance(config, dict):
            config = BertConfig.from_config(config)
        inputs, outputs = _bert_graph(config)
        super().__init__(inputs=inputs, outputs=outputs, name=name, **kwargs)
        self.bert_config = config
        # Checked in `call` instead, where a missing `token_type_ids` is filled with zeros.
        self.input_spec = None

    def call(self, inputs, training=None, mask=None):
        return super().call(with_default_token_types(inputs), training=training, mask=mask)

    def get_config(self):
        return {"config": self.bert_config.get_config(), "name": self.name}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        return cls(**config)


def with_default_token_types(inputs):
    """Returns the input dict with zero `token_type_ids` added when they are missing."""
    if isinstance(inputs, dict) and "token_type_ids" not in inputs:
        return dict(inputs, token_type_ids=tf.zeros_like(inputs["input_ids"]))
    return inputs


def _bert_graph(config):
    inputs = {key: keras.Input(shape=(None,), dtype="int32", name=key) for key in INPUT_NAMES}

    # A fresh initializer per layer: one unseeded instance reused would give identical values.
    def init():
        return keras.initializers.TruncatedNormal(stddev=config.initializer_range)

    embeddings = _embeddings(config, inputs, init)
    mask_bias = layers.AttentionMaskBias(name="attention_mask_bias")(inputs["attention_mask"])
    outputs = {key: [] for key in ("attentions", "attention_scores", "queries", "keys", "values")}
    outputs["hidden_states"] = [embeddings]
    hidden = embeddings
    for index in range(config.num_layers):
        hidden, internals = _transformer_block(config, hidden, mask_bias, layer_prefix(index), init)
        outputs["hidden_states"].append(hidden)
        for key, value in internals.items():
            outputs[key].append(value)

    cls = layers.ClsToken(name="cls_token")(hidden)
    # The head computes in float32 under any policy (mixed bfloat16 included): logits and the
    # losses on them stay float32, at the cost of one [batch, hidden] matmul.
    outputs["pooled"] = keras.layers.Dense(
        config.hidden_size, activation="tanh", kernel_initializer=init(), dtype="float32", name="pooler")(cls)
    if config.num_labels:
        dropped = layers.Dropout16(config.hidden_dropout, dtype="float32",
                                   name="classifier_dropout")(outputs["pooled"])
        outputs["logits"] = keras.layers.Dense(
            config.num_labels, kernel_initializer=init(), dtype="float32", name="classifier")(dropped)
    return inputs, outputs


def _embeddings(config, inputs, init):
    words = keras.layers.Embedding(
        config.vocab_size, config.embedding_size or config.hidden_size, embeddings_initializer=init(),
        name="word_embeddings")(inputs["input_ids"])
    if config.embedding_size:  # factorised: a narrow table, projected to the width
        words = keras.layers.Dense(config.hidden_size, use_bias=False, kernel_initializer=init(),
                                   name="word_embeddings_projection")(words)
    types = keras.layers.Embedding(
        config.type_vocab_size, config.hidden_size, embeddings_initializer=init(), name="token_type_embeddings"
    )(inputs["token_type_ids"])
    summed = keras.layers.Add(name="embeddings_add")([words, types])
    summed = layers.AddPositionEmbedding(
        config.max_position_embeddings, initializer=init(), name="position_embeddings")(summed)
    normed = layers.LayerNorm(
        epsilon=config.layer_norm_epsilon, name="embeddings_layer_norm")(summed)
    return layers.Dropout16(config.hidden_dropout, name="embeddings_dropout")(normed)


def _transformer_block(config, hidden, mask_bias, prefix, init):
    def dense(width, suffix):
        return keras.layers.Dense(width, kernel_initializer=init(), name=f"{prefix}_{suffix}")

    split = layers.SplitHeads(config.num_heads, name=f"{prefix}_split_heads")
    query = split(dense(config.attention_size, "query")(hidden))
    key = split(dense(config.attention_size, "key")(hidden))
    value = split(dense(config.attention_size, "value")(hidden))
    scores = layers.AttentionScores(name=f"{prefix}_attention_scores")([query, key, mask_bias])
    # float32 under mixed precision too (the scores arrive in float32): sums of exponentials
    # in bfloat16 would keep only 8 bits.
    probabilities = keras.layers.Softmax(axis=-1, dtype="float32", name=f"{prefix}_attention_probs")(scores)
    dropped = layers.Dropout16(config.attention_dropout, name=f"{prefix}_attention_probs_dropout")(probabilities)
    context = layers.AttentionContext(name=f"{prefix}_attention_context")([dropped, value])
    context = layers.MergeHeads(name=f"{prefix}_merge_heads")(context)
    attended = _residual_norm(config, dense(config.hidden_size, "attention_output")(context), hidden,
                              f"{prefix}_attention")

    intermediate = dense(config.intermediate_size, "intermediate")(attended)
    intermediate = _activation(config, f"{prefix}_intermediate_activation")(intermediate)
    output = _residual_norm(config, dense(config.hidden_size, "output")(intermediate), attended,
                            f"{prefix}_output")
    internals = {"attentions": probabilities, "attention_scores": scores,
                 "queries": query, "keys": key, "values": value}
    return output, internals


def _residual_norm(config, update, residual, prefix):
    update = layers.Dropout16(config.hidden_dropout, name=f"{prefix}_dropout")(update)
    summed = keras.layers.Add(name=f"{prefix}_add")([update, residual])
    return layers.LayerNorm(epsilon=config.layer_norm_epsilon, name=f"{prefix}_layer_norm")(summed)


def _activation(config, name):
    if config.activation == "relu":
        return keras.layers.Activation("relu", name=name)
    return layers.Gelu(approximate=config.activation == "gelu_approximate", name=name)


def logits_model(model):
    """Returns a view of a classifier BERT whose only output is `logits` (weights shared).

    Useful for plain `compile`/`fit` with a Keras loss, e.g. teacher fine-tuning.

    Raises:
        ValueError: the model has no classification head.
    """
    if "logits" not in model.output:
        raise ValueError(f"Model {model.name!r} has no `logits` output; build it with num_labels set.")
    view = keras.Model(model.input, model.output["logits"], name=f"{model.name}_logits")
    view.bert_config = model.bert_config
    return view
