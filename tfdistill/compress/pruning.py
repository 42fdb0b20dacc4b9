"""Magnitude pruning of a BERT student with `tfmot.sparsity.keras`.

What is pruned, and why:
- The attention kernels (`query`, `key`, `value`, `attention_output`) and the feed-forward
  kernels (`intermediate`, `output`) of every transformer block: they hold all the compute and
  nearly all the non-embedding weights. Unstructured magnitude pruning (PolynomialDecay or
  ConstantSparsity schedules) or N:M (`sparsity_m_by_n=(2, 4)`, 2 zeros in every 4 inputs of
  an output unit, the pattern sparse tensor cores and XNNPACK's sparse kernels expect).
- Optionally (on by default) the word-embedding table, pruned in row blocks (half rows: one row
  is one token; see `row_block_width`). It is most of a small student (30,522 x 128 = 3.9M of
  4.4M weights at width 128), so it decides the download size. Zero rows compress far better
  than scattered zeros: gzip of a 50%-sparse int8 table was 0.67-0.72x of the dense one with
  scattered zeros, about 0.5x with zero rows. Magnitude does not know which tokens matter, so
  pass `used_token_ids`: the Rotten Tomatoes training split uses 13,665 of the 30,522 WordPiece
  ids, and the rows of the others go first. N:M is meaningless for a lookup table, so with
  `m_by_n` the table is still pruned in rows, to `target_sparsity`.
- Not pruned: biases, LayerNorm, the position and token-type tables (small, dense by nature),
  the pooler and the classifier (tiny, and every logit flows through them).

Pruning is applied layer by layer through `keras.models.clone_model` (the tfmot "prune some
layers" idiom) so each target gets its own parameters; the result is a `CompressedBert` that
trains with plain `fit` or inside the Distiller, with the callbacks of `pruning_callbacks`.
"""

import logging

import numpy as np
import tf_keras as keras

from tfdistill.compress.bert_graph import as_compressed_bert, bert_config_of, clone_bert, custom_objects
from tfdistill.compress.pruning_config import SCHEDULES, PruningConfig, parse_m_by_n  # noqa: F401 (re-exported)
from tfdistill.models.bert.bert_model import layer_prefix

ATTENTION_KERNELS = ("query", "key", "value", "attention_output")
FFN_KERNELS = ("intermediate", "output")
WORD_EMBEDDINGS = "word_embeddings"

_log = logging.getLogger(__name__)


def pruning_targets(model, prune_embeddings=True):
    """Names the layers `prune_student` prunes, with their role.

    Args:
        model: a BERT student (`BertModel` or `CompressedBert`).
        prune_embeddings: bool, include the word-embedding table.

    Returns:
        dict `{layer_name: "attention" | "ffn" | "embedding"}`.

    Raises:
        ValueError: the model is not a tfdistill BERT graph (a kernel layer is missing or is
            not a Dense layer).

    Example:
    >>> targets = pruning_targets(student)
    >>> sorted(targets)[:2], targets["word_embeddings"], len(targets)
    (['layer_0_attention_output', 'layer_0_intermediate'], 'embedding', 13)
    """
    config = bert_config_of(model)
    targets = {}
    for index in range(config.num_layers):
        for suffix in ATTENTION_KERNELS + FFN_KERNELS:
            role = "attention" if suffix in ATTENTION_KERNELS else "ffn"
            targets[f"{layer_prefix(index)}_{suffix}"] = role
    if prune_embeddings:
        targets[WORD_EMBEDDINGS] = "embedding"
    names = {layer.name for layer in model.layers}
    for name, role in targets.items():
        expected = keras.layers.Embedding if role == "embedding" else keras.layers.Dense
        if name not in names or not isinstance(model.get_layer(name), expected):
            raise ValueError(
                f"Model {model.name!r} has no {expected.__name__} layer {name!r}; pruning expects "
                "the tfdistill BERT graph (tfdistill.build_bert), unwrapped (prune a float "
                "student, not a pruned or quantized one).")
    return targets


def check_prunable(model):
    """Refuses a model holding layers tfmot's pruning cannot wrap, strip or see through.

    A raw TensorFlow op in a functional graph becomes a `TFOpLambda` layer; it and custom layers
    without `get_prunable_weights` make `prune_low_magnitude` fail (and hide weights from the
    sparsity accounting).

    Args:
        model: the student.

    Raises:
        ValueError: names every unsupported layer and the fix.

    Example:
    >>> check_prunable(student)
    """
    from tensorflow_model_optimization.python.core.sparsity.keras.prune_registry import PruneRegistry

    unsupported = [
        f"{layer.name} ({type(layer).__name__})" for layer in model.layers
        if not isinstance(layer, keras.layers.InputLayer)
        and not hasattr(layer, "get_prunable_weights") and not PruneRegistry.supports(layer)]
    if unsupported:
        raise ValueError(
            f"Model {model.name!r} has layers tfmot pruning does not support: {unsupported}. "
            "Raw TensorFlow ops become TFOpLambda layers; move them into a custom Keras layer "
            "that defines get_config() and get_prunable_weights() (returning [] when it has no "
            "kernels), as tfdistill.models.bert.bert_layers does.")


def check_m_by_n(model, targets, m_by_n):
    """Refuses an N:M pattern whose block size does not divide a kernel's input width.

    tfmot groups each output unit's input weights in blocks of n (TFLite's `[out, in]` layout)
    and silently pads a short last block, which breaks the pattern hardware relies on.

    Raises:
        ValueError: names the kernel and its input width.

    Example:
    >>> check_m_by_n(student, pruning_targets(student), (2, 4))
    >>> check_m_by_n(student, pruning_targets(student), (2, 3))
    Traceback (most recent call last):
    ...
    ValueError: m_by_n=(2, 3) does not fit kernel 'layer_0_query': its input width 16 is not a multiple of 3. ...
    """
    _, n = m_by_n
    for name, role in targets.items():
        if role == "embedding":
            continue
        width = model.get_layer(name).kernel.shape[0]
        if width % n:
            raise ValueError(
                f"m_by_n={tuple(m_by_n)} does not fit kernel {name!r}: its input width {width} is "
                f"not a multiple of {n}. Use an n dividing every kernel's input width (hidden_size "
                "and intermediate_size), e.g. 2:4 with widths divisible by 4.")


def prune_student(model, config, used_token_ids=None):
    """Wraps the attention and FFN kernels (and word embeddings) of a student for pruning.

    Args:
        model: a float BERT student (`BertModel` or `CompressedBert` without wrappers).
        config: `PruningConfig`.
        used_token_ids: optional array of the token ids the training data uses (see
            `training_token_ids`). With `config.prune_embeddings`, the word-embedding rows of every
            other token are zeroed in the copy before wrapping, so row pruning (which ranks rows
            by magnitude) removes unused tokens before any used one. Without it, magnitude
            alone decides, and it does not know which tokens matter: on a distilled 2x128
            student, 50% row pruning hit a row of tokens making 92% of the training tokens.

    Returns:
        `CompressedBert` with `PruneLowMagnitude` wrappers on copies of the layers (the input
        model is untouched, so it can teach its pruned copy). Train it with
        `pruning_callbacks()` (plain `fit` or the Distiller), then `strip_student`.

    Raises:
        ValueError: the model is not a tf-keras BERT graph, holds unsupported layers, or
            `config.m_by_n` does not divide a kernel.

    Example:
    >>> pruned = prune_student(student, PruningConfig(target_sparsity=0.5, end_step=600))
    >>> pruned.get_layer("prune_low_magnitude_layer_0_query").__class__.__name__
    'PruneLowMagnitude'
    >>> from tfdistill.models.bert.bert_model import logits_model
    >>> classifier = logits_model(pruned)
    >>> classifier.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    >>> classifier.fit(train, epochs=2, callbacks=pruning_callbacks())  # doctest: +SKIP
    >>> student = strip_student(pruned)
    """
    import tensorflow_model_optimization as tfmot

    if not isinstance(config, PruningConfig):
        raise ValueError(f"config must be a PruningConfig, got {type(config).__name__}.")
    bert_config = bert_config_of(model)
    check_prunable(model)
    targets = pruning_targets(model, config.prune_embeddings)
    if config.m_by_n:
        check_m_by_n(model, targets, config.m_by_n)
    params = {
        "attention": _kernel_params(config),
        "ffn": _kernel_params(config),
        # Row blocks: a block's mean |w| ranks it. A factorised table's rows are embedding_size wide.
        "embedding": {"pruning_schedule": config.make_schedule(),
                      "block_size": (1, row_block_width(bert_config.embedding_size or bert_config.hidden_size)),
                      "block_pooling_type": "AVG"},
    }

    def wrap(layer):
        role = targets.get(layer.name)
        if role is None:
            return layer
        return tfmot.sparsity.keras.prune_low_magnitude(layer, **params[role])

    with tfmot.sparsity.keras.prune_scope():
        pruned = clone_bert(model, clone_function=wrap)
    if config.prune_embeddings and used_token_ids is not None:
        _zero_unused_rows(pruned.get_layer(f"prune_low_magnitude_{WORD_EMBEDDINGS}").layer, used_token_ids)
    elif config.prune_embeddings:
        _log.warning("Pruning the word embeddings by magnitude alone, which also removes rows of frequent "
                     "tokens; pass used_token_ids=training_token_ids(preprocessor, data.train) so "
                     "the rows of tokens the data never uses go first.")
    return pruned


def _zero_unused_rows(embedding, used_token_ids):
    table = embedding.embeddings.numpy()
    unused = np.ones(len(table), bool)
    unused[np.asarray(used_token_ids, dtype=np.int64)] = False
    table[unused] = 0.0
    embedding.embeddings.assign(table)


def training_token_ids(preprocessor, split):
    """Returns the sorted ids of the tokens `split` uses (special tokens and padding included).

    Args:
        preprocessor: `tfdistill.data.TextClassifierPreprocessor`, the training length's.
        split: `tfdistill.data.Split`, the training split.

    Returns:
        int64 numpy array.

    Example:
    >>> ids = training_token_ids(preprocessor, data.train)
    >>> ids.tolist()[:8], len(ids), tokenizer.vocab_size
    ([0, 2, 3, 5, 6, 7, 8, 9], 21, 23)
    >>> pruned = prune_student(student, PruningConfig(), used_token_ids=ids)
    >>> table = pruned.get_layer("prune_low_magnitude_word_embeddings").layer.embeddings.numpy()
    >>> bool((table[[1, 4]] == 0).all()), bool((table[ids] != 0).any(axis=1).all())  # [UNK], [MASK]: zeroed
    (True, True)
    """
    return np.unique(preprocessor.tokenize(split)["input_ids"]).astype(np.int64)


def row_block_width(hidden_size):
    """Returns the block width that prunes embedding rows: the largest proper divisor of the width.

    A whole row would be the natural block, but tfmot 0.8.1 squeezes the `[vocab, 1]` pooled
    magnitudes to rank 1 and fails (`Input tensor must be rank 2`); half rows (for even widths)
    keep the long zero runs that compress well.

    Example:
    >>> row_block_width(128)
    64
    """
    return max([d for d in range(1, hidden_size) if hidden_size % d == 0] or [1])


def _kernel_params(config):
    if config.m_by_n:
        # The schedule only says when masks may update; N:M masks are chosen at step 1.
        return {"pruning_schedule": config.make_schedule(), "sparsity_m_by_n": config.m_by_n}
    return {"pruning_schedule": config.make_schedule()}


def pruning_callbacks(log_dir=None):
    """Returns the callbacks a pruned student trains with.

    Args:
        log_dir: optional str, a TensorBoard folder for `PruningSummaries` (per-mask sparsity
            and thresholds, every epoch).

    Returns:
        list: `UpdatePruningStep()` (required: it feeds the optimizer step to the wrappers, also
        when they are nested in a Distiller) and, with `log_dir`, `PruningSummaries`.

    Raises:
        ValueError: `log_dir` is set but TensorBoard is not installed.

    Example:
    >>> [type(callback).__name__ for callback in pruning_callbacks("runs/prune/logs")]
    ['UpdatePruningStep', 'PruningSummaries']
    >>> distiller.fit(train, epochs=2, callbacks=pruning_callbacks("runs/prune/logs"))  # doctest: +SKIP
    """
    import tensorflow_model_optimization as tfmot

    callbacks = [tfmot.sparsity.keras.UpdatePruningStep()]
    if log_dir:
        _require_tensorboard()
        callbacks.append(tfmot.sparsity.keras.PruningSummaries(log_dir=log_dir))
    return callbacks


def _require_tensorboard():
    try:
        import tensorboard  # noqa: F401  (tf.summary writes nothing without it)
    except ImportError:
        raise ValueError("Pruning summaries need the tensorboard package (pip install tensorboard==2.21.0); "
                         "install it or train without a log_dir.") from None


def is_pruned(model):
    """Returns whether `model` holds `PruneLowMagnitude` wrappers (at any depth).

    Example:
    >>> is_pruned(pruned), is_pruned(student)
    (True, False)
    """
    from tensorflow_model_optimization.python.core.sparsity.keras import pruning_wrapper

    return bool(pruning_wrapper.collect_prunable_layers(model))


def strip_student(model):
    """Removes the pruning wrappers, keeping the pruned (zeroed) weights.

    Args:
        model: a pruned student from `prune_student` (after training).

    Returns:
        `CompressedBert` with the original layer names and classes, ready for
        `write_pretrained_files`, QAT and export. Its layers are the wrapped ones (tfmot's
        behaviour), so it shares weights with `model`.

    Example:
    >>> from tfdistill.compress.report import weight_sparsity
    >>> stripped = strip_student(pruned)
    >>> is_pruned(stripped), weight_sparsity(stripped)["layer_0_query"]["sparsity"]
    (False, 0.5)
    """
    import tensorflow_model_optimization as tfmot

    bert_config = bert_config_of(model)
    with keras.utils.custom_object_scope(custom_objects()):
        stripped = tfmot.sparsity.keras.strip_pruning(model)
    return as_compressed_bert(stripped, bert_config)
