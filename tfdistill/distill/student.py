"""`student_from_teacher`: a smaller BERT initialised from its teacher."""

import numpy as np

from tfdistill.distill.layer_map import resolve_layer_map
from tfdistill.models.bert.bert_config import BertConfig
from tfdistill.models.bert.bert_model import build_bert, layer_prefix

EMBEDDING_INITS = ("auto", "copy", "pca", "random")
_EMBEDDING_TABLES = ("word_embeddings", "position_embeddings", "token_type_embeddings")
_BLOCK_LAYERS = ("query", "key", "value", "attention_output", "attention_layer_norm", "intermediate", "output",
                 "output_layer_norm")


def student_from_teacher(teacher, num_layers, hidden_size=None, num_heads=None, intermediate_size=None,
                         embedding_init="auto", layer_map="uniform", name="student"):
    """Builds a student BERT shaped after a teacher and initialised from it.

    - Same width (and feed-forward size) as the teacher: embeddings, pooler and classifier
      are copied, and student block m starts as the teacher block the layer map gives it
      (DistilBERT's initialisation, with TinyBERT's uniform map by default).
    - Narrower: the blocks start fresh; the embedding tables start as the teacher's projected
      onto the top principal directions of its word embeddings (`embedding_init="pca"`):
      a low-rank projection keeps the most variance a `hidden_size`-wide table can hold.

    Args:
        teacher: a tfdistill `BertModel` (weights are copied) or a `BertConfig` (shape only).
        num_layers: int, student blocks.
        hidden_size: int, student width (default: the teacher's).
        num_heads: int, student heads (default: the teacher's if it divides the width).
        intermediate_size: int (default: 4x the width, or the teacher's at the same width).
        embedding_init: `"auto"` (copy at the same width, else PCA), `"copy"`, `"pca"`, or
            `"random"`.
        layer_map: which teacher block seeds each student block (see `resolve_layer_map`).
        name: str, the model name.

    Returns:
        A `BertModel` with the teacher's vocabulary, positions and labels.

    Raises:
        ValueError: a student wider or deeper than the teacher asks for nothing smaller, an
            unknown `embedding_init`, `"copy"` at a different width, or an invalid shape.

    Example:
    >>> student = student_from_teacher(teacher, num_layers=4)  # doctest: +SKIP
    >>> narrow = student_from_teacher(teacher, num_layers=4, hidden_size=192)  # doctest: +SKIP
    """
    teacher_config = teacher if isinstance(teacher, BertConfig) else teacher.bert_config
    config = student_config(teacher_config, num_layers, hidden_size, num_heads, intermediate_size)
    if embedding_init not in EMBEDDING_INITS:
        raise ValueError(f"embedding_init must be one of {EMBEDDING_INITS}, got {embedding_init!r}.")
    same_width = config.hidden_size == teacher_config.hidden_size
    if embedding_init == "copy" and not same_width:
        raise ValueError(f"embedding_init='copy' needs the teacher's width {teacher_config.hidden_size}; the "
                         f"student is {config.hidden_size} wide. Use 'pca' or 'random'.")
    student = build_bert(config, name=name)
    if isinstance(teacher, BertConfig) or embedding_init == "random":
        return student
    if same_width:
        _copy_layers(teacher, student, _EMBEDDING_TABLES + ("embeddings_layer_norm",))
        if config.intermediate_size == teacher_config.intermediate_size:
            _copy_blocks(teacher, student, layer_map)
            _copy_layers(teacher, student, ("pooler",) + (("classifier",) if config.num_labels else ()))
    else:
        _pca_embeddings(teacher, student, config.hidden_size)
    return student


def student_config(teacher_config, num_layers, hidden_size=None, num_heads=None, intermediate_size=None):
    """Returns the `BertConfig` `student_from_teacher` builds (defaults as documented there),
    without building anything: recipes use it to check flags before training."""
    hidden_size = hidden_size or teacher_config.hidden_size
    if hidden_size > teacher_config.hidden_size or num_layers > teacher_config.num_layers:
        raise ValueError(
            f"A student of {num_layers} layers x {hidden_size} is not smaller than the teacher "
            f"({teacher_config.num_layers} x {teacher_config.hidden_size}); choose fewer layers or a narrower width.")
    if num_heads is None:
        num_heads = teacher_config.num_heads if hidden_size % teacher_config.num_heads == 0 else max(
            h for h in range(1, hidden_size + 1) if hidden_size % h == 0 and hidden_size // h >= 32)
    if intermediate_size is None:
        same = hidden_size == teacher_config.hidden_size
        intermediate_size = teacher_config.intermediate_size if same else 4 * hidden_size
    return teacher_config.replace(num_layers=num_layers, hidden_size=hidden_size, num_heads=num_heads,
                                  intermediate_size=intermediate_size)


def _copy_layers(source, target, names):
    for name in names:
        target.get_layer(name).set_weights(source.get_layer(name).get_weights())


def _copy_blocks(teacher, student, layer_map):
    teacher_blocks = resolve_layer_map(layer_map, student.bert_config.num_layers, teacher.bert_config.num_layers)
    for student_block, teacher_block in enumerate(teacher_blocks):
        for part in _BLOCK_LAYERS:
            student.get_layer(f"{layer_prefix(student_block)}_{part}").set_weights(
                teacher.get_layer(f"{layer_prefix(teacher_block - 1)}_{part}").get_weights())


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
