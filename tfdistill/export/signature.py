"""The fixed-batch `serving_default` function a `.tflite` is converted from."""

import tfdistill  # noqa: F401  (sets TF_USE_LEGACY_KERAS before TensorFlow loads)
import tensorflow as tf

from tfdistill.models.inference import logits_of

INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")
LOGITS = "logits"
PROBABILITIES = "probabilities"


def serving_function(model, seq_len, with_probabilities=True):
    """Traces `model` as `serving_default`: int32 `[1, seq_len]` inputs named as the tokenizer's.

    A fixed batch of 1 keeps SHAPE/PACK ops out of the graph (a dynamic batch split XNNPACK into
    ~20 partitions), and the outputs are named by the dict keys, not by layer names.

    Args:
        model: a tf_keras model taking the dict of `INPUT_NAMES` and returning logits
            `[batch, num_labels]` or a dict with a `logits` entry (BertModel, a QAT clone).
        seq_len: int, the fixed sequence length.
        with_probabilities: bool, also output `probabilities` (softmax of the logits).

    Returns:
        `tf.types.experimental.ConcreteFunction`.

    Raises:
        ValueError: the model's output has no `logits` or is not `[1, num_labels]`.

    Example:
    >>> function = serving_function(student, 16)
    >>> sorted(function.structured_outputs)
    ['logits', 'probabilities']
    >>> function.structured_input_signature[0][0]["input_ids"]
    TensorSpec(shape=(1, 16), dtype=tf.int32, name='input_ids')
    """
    specs = {name: tf.TensorSpec([1, seq_len], tf.int32, name=name) for name in INPUT_NAMES}

    @tf.function(input_signature=[specs])
    def serving_default(inputs):
        logits = logits_of(model(inputs, training=False))
        outputs = {LOGITS: logits}
        if with_probabilities:
            outputs[PROBABILITIES] = tf.nn.softmax(logits, axis=-1)
        return outputs

    return serving_default.get_concrete_function()
