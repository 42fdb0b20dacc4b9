"""`student_from_teacher`: a smaller BERT initialised from its teacher."""

import numpy as np

from tfdistill.distill import importance
from tfdistill.distill.layer_map import resolve_layer_map
from tfdistill.models.bert.bert_config import BertConfig
from tfdistill.models.bert.bert_model import build_bert, layer_prefix
from tfdistill.models.bert.factorize import factorize_embeddings

EMBEDDING_INITS = ("auto", "copy", "pca", "random")
_EMBEDDING_TABLES = ("word_embeddings", "position_embeddings", "token_type_embeddings")
_BLOCK_LAYERS = ("query", "key", "value", "attention_output", "attention_layer_norm", "intermediate", "output",
                 "output_layer_norm")


def student_from_teacher(teacher, num_layers, hidden_size=None, num_heads=None, intermediate_size=None,
                         head_size=None, embedding_init="auto", layer_map="uniform", importance_data=None,
                         embedding_size=None, name="student"):
    """Builds a student BERT shaped after a teacher and initialised from it.

    - Same width as the teacher: embeddings, pooler and classifier are copied, and student
      block m starts as the teacher block the layer map gives it (DistilBERT's
      initialisation, TinyBERT's uniform map by default). When the student has fewer heads
      or a narrower feed-forward block, it keeps the teacher's most important heads and
      feed-forward units (structured pruning at initialisation, as in Michel et al. 2019 and
      CoFi): a head is scored by the size of what it adds to the block's output, a unit by
      its mean |activation| times the norm of its output weights, measured on
      `importance_data` (or from weight norms alone when no data is given).
    - Narrower: the blocks start fresh; the embedding tables start as the teacher's projected
      onto the top principal directions of its word embeddings (`embedding_init="pca"`):
      a low-rank projection keeps the most variance a `hidden_size`-wide table can hold.
    - `embedding_size`: the word table, so initialised, is then factorised (ALBERT's
      `vocab x embedding_size` table times an `embedding_size x hidden_size` projection) by its
      truncated SVD (`tfdistill.compress.factorize_embeddings`), and the student trains with
      the factorised table: on a 384-wide student, rank 128 cuts the word table to a third.

    Args:
        teacher: a tfdistill `BertModel` (weights are copied) or a `BertConfig` (shape only).
        num_layers: int, student blocks.
        hidden_size: int, student width (default: the teacher's).
        num_heads: int, student heads (default: the teacher's if it divides the width).
        intermediate_size: int (default: 4x the width, or the teacher's at the same width).
        head_size: int, width of one head (default: the teacher's at the teacher's width, so
            fewer heads means a subset of the teacher's; else `hidden_size // num_heads`).
        embedding_init: `"auto"` (copy at the same width, else PCA), `"copy"`, `"pca"`, or
            `"random"`.
        layer_map: which teacher block seeds each student block (see `resolve_layer_map`).
        importance_data: optional dict of int arrays `input_ids`, `attention_mask` (and
            `token_type_ids`), a few hundred training examples to score heads and units on.
        embedding_size: optional int in [1, the student's width], the rank of a factorised
            word table (None: a full `vocab x hidden_size` table).
        name: str, the model name.

    Returns:
        A `BertModel` with the teacher's vocabulary, positions and labels.

    Raises:
        ValueError: a student wider or deeper than the teacher asks for nothing smaller, an
            unknown `embedding_init`, `"copy"` at a different width, or an invalid shape.

    Example:
    >>> student = student_from_teacher(teacher, num_layers=2)  # the teacher has 4 blocks of width 32
    >>> pruned = student_from_teacher(teacher, num_layers=2, num_heads=2, intermediate_size=32)
    >>> narrow = student_from_teacher(teacher, num_layers=2, hidden_size=16)
    >>> [(m.bert_config.hidden_size, m.bert_config.num_heads, m.bert_config.intermediate_size)
    ...  for m in (student, pruned, narrow)]
    [(32, 4, 64), (32, 2, 32), (16, 4, 64)]
    >>> compact = student_from_teacher(teacher, num_layers=2, embedding_size=8)
    >>> compact.get_layer("word_embeddings").output_dim, compact.get_layer("word_embeddings_projection").kernel.shape
    (8, TensorShape([8, 32]))
    """
    teacher_config = teacher if isinstance(teacher, BertConfig) else teacher.bert_config
    config = student_config(teacher_config, num_layers, hidden_size, num_heads, intermediate_size, head_size,
                            embedding_size)
    if teacher_config.embedding_size:
        raise ValueError(f"The teacher's word table is factorised (embedding_size={teacher_config.embedding_size}); "
                         "student_from_teacher initialises from a full table. Pass the student's own "
                         "embedding_size instead.")
    if embedding_init not in EMBEDDING_INITS:
        raise ValueError(f"embedding_init must be one of {EMBEDDING_INITS}, got {embedding_init!r}.")
    same_width = config.hidden_size == teacher_config.hidden_size
    if embedding_init == "copy" and not same_width:
        raise ValueError(f"embedding_init='copy' needs the teacher's width {teacher_config.hidden_size}; the "
                         f"student is {config.hidden_size} wide. Use 'pca' or 'random'.")
    student = build_bert(config.replace(embedding_size=None), name=name)
    if not (isinstance(teacher, BertConfig) or embedding_init == "random"):
        _initialise_from_teacher(teacher, student, same_width, layer_map, importance_data)
    return student if embedding_size is None else factorize_embeddings(student, embedding_size)


def check_embedding_size(embedding_size, hidden_size):
    """Refuses a factorised word table's rank outside [1, the width] (None: no factorisation)."""
    if embedding_size is not None and (isinstance(embedding_size, bool) or not isinstance(embedding_size, int)
                                       or not 1 <= embedding_size <= hidden_size):
        raise ValueError(f"embedding_size must be an int in [1, {hidden_size}] (the student's width) or None "
                         f"(a full word table), got {embedding_size!r}.")


def _initialise_from_teacher(teacher, student, same_width, layer_map, importance_data):
    config, teacher_config = student.bert_config, teacher.bert_config
    if same_width:
        _copy_layers(teacher, student, _EMBEDDING_TABLES + ("embeddings_layer_norm", "pooler"))
        if config.num_labels:
            _copy_layers(teacher, student, ("classifier",))
        if _blocks_fit_inside(config, teacher_config):
            _copy_blocks(teacher, student, layer_map, importance_data)
    else:
        _pca_embeddings(teacher, student, config.hidden_size)


def student_config(teacher_config, num_layers, hidden_size=None, num_heads=None, intermediate_size=None,
                   head_size=None, embedding_size=None):
    """Returns the `BertConfig` `student_from_teacher` builds (defaults as documented there),
    without building anything: recipes use it to check flags before training."""
    hidden_size = hidden_size or teacher_config.hidden_size
    check_embedding_size(embedding_size, hidden_size)
    if hidden_size > teacher_config.hidden_size or num_layers > teacher_config.num_layers:
        raise ValueError(
            f"A student of {num_layers} layers x {hidden_size} is not smaller than the teacher "
            f"({teacher_config.num_layers} x {teacher_config.hidden_size}); choose fewer layers or a narrower width.")
    same = hidden_size == teacher_config.hidden_size
    if num_heads is None:
        num_heads = teacher_config.num_heads if hidden_size % teacher_config.num_heads == 0 else max(
            h for h in range(1, hidden_size + 1) if hidden_size % h == 0 and hidden_size // h >= 32)
    if head_size is None and same:
        head_size = teacher_config.head_size
    if head_size is not None and head_size * num_heads == hidden_size:
        head_size = None  # BERT's own rule: keep the config loadable by transformers
    if intermediate_size is None:
        intermediate_size = teacher_config.intermediate_size if same else 4 * hidden_size
    return teacher_config.replace(num_layers=num_layers, hidden_size=hidden_size, num_heads=num_heads,
                                  intermediate_size=intermediate_size, attention_head_size=head_size,
                                  embedding_size=embedding_size)


def _blocks_fit_inside(config, teacher_config):
    """Whether each student block is a subset of a teacher block's heads and units."""
    return (config.head_size == teacher_config.head_size and config.num_heads <= teacher_config.num_heads
            and config.intermediate_size <= teacher_config.intermediate_size)


def _copy_layers(source, target, names):
    for name in names:
        target.get_layer(name).set_weights(source.get_layer(name).get_weights())


def _copy_blocks(teacher, student, layer_map, importance_data):
    config = student.bert_config
    teacher_config = teacher.bert_config
    teacher_blocks = resolve_layer_map(layer_map, config.num_layers, teacher_config.num_layers)
    keeps_all = (config.num_heads, config.intermediate_size) == (teacher_config.num_heads,
                                                                 teacher_config.intermediate_size)
    # Scores only decide what to drop: a full copy needs no forward pass over the data.
    scores = importance.block_scores(teacher, [block - 1 for block in teacher_blocks],
                                     None if keeps_all else importance_data)
    for student_block, teacher_block in enumerate(teacher_blocks):
        head_scores, unit_scores = scores[teacher_block - 1]
        heads = _top(head_scores, config.num_heads)
        units = _top(unit_scores, config.intermediate_size)
        columns = (heads[:, None] * config.head_size + np.arange(config.head_size)).ravel()
        source, target = layer_prefix(teacher_block - 1), layer_prefix(student_block)
        for part in _BLOCK_LAYERS:
            weights = teacher.get_layer(f"{source}_{part}").get_weights()
            if part in ("query", "key", "value"):
                weights = [weights[0][:, columns], weights[1][columns]]
            elif part == "attention_output":
                weights = [weights[0][columns], weights[1]]
            elif part == "intermediate":
                weights = [weights[0][:, units], weights[1][units]]
            elif part == "output":
                weights = [weights[0][units], weights[1]]
            student.get_layer(f"{target}_{part}").set_weights(weights)


def _top(scores, count):
    """Indices of the `count` highest scores, in their original order (keeps a full copy exact)."""
    return np.sort(np.argsort(-np.asarray(scores), kind="stable")[:count])


def _pca_embeddings(teacher, student, width):
    words = teacher.get_layer("word_embeddings").get_weights()[0]
    mean = words.mean(axis=0)
    centred = (words - mean).astype(np.float64)
    # Eigenvectors of the covariance are the principal directions; eigh sorts them ascending.
    _, eigenvectors = np.linalg.eigh(centred.T @ centred)
    projection = eigenvectors[:, ::-1][:, :width]
    for name in _EMBEDDING_TABLES:
        table = teacher.get_layer(name).get_weights()[0]
        centre = mean if name == "word_embeddings" else 0.0
        student.get_layer(name).set_weights([((table - centre) @ projection).astype(np.float32)])
