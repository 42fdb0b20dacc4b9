"""How much each attention head and feed-forward unit of a teacher block matters.

`student_from_teacher` keeps the highest-scoring heads and units when a student block has
fewer of them than its teacher block.
"""

import numpy as np
import tf_keras as keras

from tfdistill.models.bert.bert_model import layer_prefix
from tfdistill.models.inference import inference_function


def block_scores(teacher, blocks, data=None, batch_size=32):
    """Scores the heads and feed-forward units of some teacher blocks.

    With `data`, a head's score is the mean norm (over real tokens) of what it adds to the
    block's attention output, `context_h @ W_O[h]`; a unit's score is its mean |activation|
    times the norm of its output weights. Without data, the same products use weight norms
    in place of activations: `|W_V[:, h]| |W_O[h]|` and `|W_I[:, u]| |W_out[u]|`.

    Args:
        teacher: a tfdistill `BertModel`.
        blocks: iterable of 0-based block indices.
        data: optional dict of int arrays `[examples, seq]` with `input_ids` and
            `attention_mask` (and optionally `token_type_ids`).
        batch_size: int, examples per forward pass.

    Returns:
        dict `{block: (head_scores [num_heads], unit_scores [intermediate_size])}`.

    Raises:
        ValueError: `data` lacks `input_ids`/`attention_mask` or holds no examples.

    Example:
    >>> scores = block_scores(teacher, [0, 2], features)
    >>> sorted(scores), scores[0][0].shape, scores[0][1].shape  # a score per head, per unit
    ([0, 2], (4,), (64,))
    >>> block_scores(teacher, [0])[0][0].shape  # from the weights alone
    (4,)
    """
    blocks = sorted(set(blocks))
    if data is None:
        return {block: _weight_scores(teacher, block) for block in blocks}
    missing = [key for key in ("input_ids", "attention_mask") if key not in data]
    if missing:
        raise ValueError(f"importance data lacks {missing}; pass tokenized features with input_ids and "
                         "attention_mask.")
    if len(data["input_ids"]) == 0:
        raise ValueError("importance data holds no examples; pass a few hundred training examples or None.")
    return _activation_scores(teacher, blocks, data, batch_size)


def _weight_scores(teacher, block):
    config, prefix = teacher.bert_config, layer_prefix(block)
    value = teacher.get_layer(f"{prefix}_value").get_weights()[0]
    output = teacher.get_layer(f"{prefix}_attention_output").get_weights()[0]
    per_head = (config.num_heads, config.head_size)
    value_norms = np.linalg.norm(value.reshape(value.shape[0], *per_head), axis=(0, 2))
    output_norms = np.linalg.norm(output.reshape(*per_head, output.shape[1]), axis=(1, 2))
    inner = teacher.get_layer(f"{prefix}_intermediate").get_weights()[0]
    outer = teacher.get_layer(f"{prefix}_output").get_weights()[0]
    return value_norms * output_norms, np.linalg.norm(inner, axis=0) * np.linalg.norm(outer, axis=1)


def _activation_scores(teacher, blocks, data, batch_size):
    config = teacher.bert_config
    names = [(f"{layer_prefix(b)}_attention_context", f"{layer_prefix(b)}_intermediate_activation") for b in blocks]
    probe = keras.Model(teacher.input, [[teacher.get_layer(name).output for name in pair] for pair in names])
    probe_call = inference_function(probe)
    head_sums = {b: np.zeros(config.num_heads) for b in blocks}
    unit_sums = {b: np.zeros(config.intermediate_size) for b in blocks}
    tokens = 0.0
    # Batches of similar lengths, each cut to its longest text: the sums below cover real tokens
    # only, and the forward pass of 512 examples padded to 64 took twice as long.
    data = {key: np.asarray(value, np.int32) for key, value in data.items()}
    lengths = data["attention_mask"].sum(axis=1)
    order = np.argsort(lengths, kind="stable")
    for start in range(0, len(order), batch_size):
        rows = order[start:start + batch_size]
        batch = {key: value[rows, :max(1, int(lengths[rows].max()))] for key, value in data.items()}
        batch.setdefault("token_type_ids", np.zeros_like(batch["input_ids"]))
        mask = batch["attention_mask"].astype(np.float64)
        tokens += mask.sum()
        for block, (context, activation) in zip(blocks, probe_call(batch)):
            head_sums[block] += _head_contributions(teacher, block, context.numpy(), mask)
            unit_sums[block] += np.einsum("bsu,bs->u", np.abs(activation.numpy()), mask)
    scores = {}
    for block in blocks:
        outer = teacher.get_layer(f"{layer_prefix(block)}_output").get_weights()[0]
        scores[block] = head_sums[block] / tokens, unit_sums[block] / tokens * np.linalg.norm(outer, axis=1)
    return scores


def _head_contributions(teacher, block, context, mask):
    """Sum over real tokens of |context_h @ W_O[h]| per head; context is `[batch, heads, seq, size]`."""
    config = teacher.bert_config
    output = teacher.get_layer(f"{layer_prefix(block)}_attention_output").get_weights()[0]
    per_head_output = output.reshape(config.num_heads, config.head_size, -1)
    added = np.matmul(context, per_head_output)  # BLAS per (example, head): einsum took 1 s a batch
    return np.einsum("bhs,bs->h", np.linalg.norm(added, axis=-1), mask)
