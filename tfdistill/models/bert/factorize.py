"""Compact (factorised) word embeddings: the `vocab x width` table of a trained model replaced by
a `vocab x rank` table times a `rank x width` projection, the rank-`rank` truncated SVD of the
original (the best approximation of that rank in the Frobenius norm).

The word table is most of a small student's file (a 4-block MiniLM student: 81% of its int8
`.tflite`), and a table learnt by a BERT has a fast-decaying spectrum; at rank 128 a 30,522 x 384
table becomes 3.9M + 49K numbers instead of 11.7M. Made after training, the approximation costs
accuracy (`bench/vocab_trim.py --ranks`); a student built factorised
(`tfdistill.distill.student_from_teacher(..., embedding_size=...)`) learns with it instead
(`bench/student_sweep.py`).
"""

import numpy as np

from tfdistill.models.bert.bert_model import build_bert

WORD_EMBEDDINGS = "word_embeddings"
PROJECTION = "word_embeddings_projection"
_TFMOT_WRAPPERS = ("PruneLowMagnitude", "QuantizeWrapper", "QuantizeWrapperV2")


def factorize_embeddings(model, rank):
    """Returns a copy of `model` whose word table is factorised at `rank` by truncated SVD.

    Every other weight is copied unchanged, so at `rank` = the width the outputs are the same
    (up to float rounding). Trim the vocabulary first or after (`trim_vocabulary`): both work.

    Args:
        model: a tfdistill BERT without tfmot wrappers (a distilled student, or a pruned one
            after `strip_student`; not a QAT model), not factorised yet.
        rank: int, 1 <= rank <= the model's width.

    Returns:
        a new `BertModel` with `bert_config.embedding_size == rank`.

    Raises:
        ValueError: a rank out of range, or a model that is factorised or wrapped by tfmot.

    Example:
    >>> small = factorize_embeddings(student, 8)  # the fixture's width is 16
    >>> small.bert_config.embedding_size, small.get_layer("word_embeddings_projection").kernel.shape
    (8, TensorShape([8, 16]))
    >>> full = factorize_embeddings(student, 16)  # full rank: the same model
    >>> bool(np.allclose(full(features)["logits"], student(features)["logits"], atol=1e-5))
    True
    """
    config = getattr(model, "bert_config", None)
    wrapped = [layer.name for layer in model.layers if type(layer).__name__ in _TFMOT_WRAPPERS]
    if config is None or wrapped:
        raise ValueError(f"factorize_embeddings takes a tfdistill BERT without tfmot wrappers, got "
                         f"{type(model).__name__} (wrapped layers: {wrapped[:3]}); strip a pruned student first "
                         "(compress.strip_student), and factorise a QAT student's float source instead.")
    if config.embedding_size:
        raise ValueError(f"The model's word embeddings are factorised already (embedding_size="
                         f"{config.embedding_size}).")
    if isinstance(rank, bool) or not isinstance(rank, (int, np.integer)) or not 1 <= rank <= config.hidden_size:
        raise ValueError(f"rank must be an int in [1, {config.hidden_size}] (the model's width), got {rank!r}.")
    table, projection = low_rank_factors(model.get_layer(WORD_EMBEDDINGS).get_weights()[0], int(rank))
    factorised = build_bert(config.replace(embedding_size=int(rank)), name=model.name)
    for layer in model.layers:
        if layer.weights and layer.name != WORD_EMBEDDINGS:
            factorised.get_layer(layer.name).set_weights(layer.get_weights())
    factorised.get_layer(WORD_EMBEDDINGS).set_weights([table])
    factorised.get_layer(PROJECTION).set_weights([projection])
    return factorised


def low_rank_factors(table, rank):
    """`(U_r * S_r, V_r^T)`: the truncated SVD factors of `table` (float32).

    Example:
    >>> a, b = low_rank_factors(np.eye(4, dtype="float32") * [4, 3, 2, 1], 2)
    >>> a.shape, b.shape, float(np.abs(a @ b).sum())
    ((4, 2), (2, 4), 7.0)
    """
    u, s, vt = np.linalg.svd(np.asarray(table, np.float64), full_matrices=False)
    return (u[:, :rank] * s[:rank]).astype(np.float32), vt[:rank].astype(np.float32)


def energy_kept(table, rank):
    """The share of the table's squared Frobenius norm the rank-`rank` factors keep.

    Example:
    >>> energy_kept(np.eye(4) * [4, 3, 2, 1], 2)
    0.8333333333333334
    """
    s = np.linalg.svd(np.asarray(table, np.float64), compute_uv=False)
    return float((s[:rank] ** 2).sum() / (s ** 2).sum())
