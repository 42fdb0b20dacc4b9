"""Checks of an export's inputs, made before anything is converted or written."""

from tfdistill.data.tokenizer import check_tokenizer  # noqa: F401  (re-exported: the export checks)


def model_vocab_size(model):
    """Returns the number of token ids a model embeds, or None when it cannot be told.

    Reads `model.bert_config.vocab_size`, else the `input_dim` of a layer named
    `word_embeddings` (a QAT clone keeps that name and leaves embeddings unwrapped).

    Example:
    >>> model_vocab_size(student), tokenizer.vocab_size
    (23, 23)
    """
    return _model_size(model, "vocab_size", "word_embeddings", "input_dim")


def model_max_positions(model):
    """Returns the length of a model's position table, or None when it cannot be told.

    Example:
    >>> model_max_positions(student)
    32
    """
    return _model_size(model, "max_position_embeddings", "position_embeddings", "max_positions")


def check_seq_len(seq_len, max_positions):
    """Refuses a sequence length the model has no position embeddings for.

    Args:
        seq_len: int.
        max_positions: int or None (None checks only that `seq_len >= 2`).

    Returns:
        int, `seq_len`.

    Raises:
        ValueError: `seq_len` is not an int, is below 2 or exceeds `max_positions`.

    Example:
    >>> check_seq_len(64, 512)
    64
    """
    if isinstance(seq_len, bool) or not isinstance(seq_len, int) or seq_len < 2:
        raise ValueError(f"seq_len must be an int >= 2 ([CLS] text [SEP]), got {seq_len!r}; "
                         "64 or 128 is typical.")
    if max_positions is not None and seq_len > max_positions:
        raise ValueError(
            f"seq_len={seq_len} exceeds the model's {max_positions} position embeddings "
            f"(positions past {max_positions - 1} have none). Pass seq_len <= {max_positions}, "
            f"e.g. --seq_len={min(128, max_positions)}.")
    return seq_len


def _model_size(model, config_field, layer_name, layer_attribute):
    config = getattr(model, "bert_config", None)
    if config is not None:
        return getattr(config, config_field)
    return getattr(_find_layer(model, layer_name), layer_attribute, None)


def _find_layer(model, name):
    for layer in getattr(model, "layers", []):
        inner = getattr(layer, "layer", layer)  # tfmot wrappers keep the wrapped layer in `.layer`
        if layer.name == name or inner.name == name:
            return inner
    return None
