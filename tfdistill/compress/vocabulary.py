"""Vocabulary trimming: a student that keeps only the WordPiece tokens its task needs.

A MiniLM student's word table is 30,522 x 384: 81% of its int8 `.tflite`. A task reads a few
thousand of those rows. `vocabulary_to_keep` chooses the tokens (the special tokens, every
single-character piece so that any text still tokenizes, and the tokens the training texts use,
the most frequent first); `trim_vocabulary` returns the student with only those rows and the
tokenizer of the new vocabulary, which every runtime of an exported package then reads (its
`vocab.txt`, `tokenizer.json` and the MediaPipe metadata are written from it).

Texts whose tokens are all kept tokenize to the same tokens as before, so a student trimmed to
every token of its training texts computes the same outputs on them. A token that is not kept is
spelt with shorter pieces (`##` pieces down to single characters), which the student was not
trained on: the accuracy cost of a smaller table is measured, not assumed
(`bench/vocab_trim.py`).
"""

import collections

import numpy as np


def single_character_ids(tokenizer):
    """Ids of the tokens every text can fall back on: one character, or `##` and one character."""
    return [index for index, token in enumerate(tokenizer.vocab)
            if len(token) == 1 or (token.startswith("##") and len(token) == 3)]


def vocabulary_to_keep(tokenizer, texts, max_size=None, text_pairs=None, max_length=512):
    """Chooses the token ids a trimmed vocabulary keeps.

    Args:
        tokenizer: `tfdistill.Tokenizer`, the full vocabulary.
        texts: list of str, the texts whose tokens are kept (the training split's).
        max_size: optional int, the kept vocabulary's size; the used tokens are then kept
            most frequent first (ties: the lower id). None keeps every used token.
        text_pairs: optional list of str, the second texts of pair tasks.
        max_length: int, the tokenized length the texts are counted at.

    Returns:
        sorted int64 numpy array of token ids.

    Raises:
        ValueError: `max_size` is smaller than the tokens every text needs (special tokens and
            single-character pieces).

    Example:
    >>> keep = vocabulary_to_keep(tokenizer, ["good movie", "a good plot", "the plot"])
    >>> [tokenizer.vocab[i] for i in keep]  # "a": a single character, kept anyway
    ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'good', 'movie', 'plot', 'the', 'a']
    >>> [tokenizer.vocab[i] for i in vocabulary_to_keep(tokenizer, ["good movie", "a good plot"], max_size=8)]
    ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'good', 'movie', 'a']
    """
    special = [tokenizer.token_id(name) for name in ("pad_token", "unk_token", "cls_token", "sep_token", "mask_token")]
    required = set(special) | set(single_character_ids(tokenizer))
    required.discard(None)
    if max_size is not None and max_size < len(required):
        raise ValueError(f"max_size={max_size} is below the {len(required)} tokens every text needs (special tokens "
                         f"and single-character pieces); pass max_size >= {len(required)}, or None to keep every "
                         "token the texts use.")
    ids = tokenizer(texts, text_pairs, max_length=max_length)["input_ids"]
    counts = collections.Counter(ids[ids != tokenizer.pad_token_id].tolist())
    used = sorted((token for token in counts if token not in required), key=lambda token: (-counts[token], token))
    if max_size is not None:
        used = used[:max_size - len(required)]
    return np.array(sorted(required | set(used)), dtype=np.int64)


def trim_vocabulary(model, tokenizer, keep_ids):
    """Returns the model with only the word-table rows of `keep_ids`, and its tokenizer.

    Args:
        model: a tfdistill `BertModel`, or a QAT `CompressedBert` (`quantize_student`): its
            quantizer ranges carry over (a per-tensor range of the word table still covers
            the rows kept).
        tokenizer: `tfdistill.Tokenizer`, the model's vocabulary.
        keep_ids: token ids to keep (`vocabulary_to_keep`); the special tokens must be among them.

    Returns:
        `(trimmed BertModel, Tokenizer)`: new id `i` is old id `sorted(keep_ids)[i]`.

    Raises:
        ValueError: an id out of range, a special token left out, or a tokenizer whose
            vocabulary is not the model's.

    Example:
    >>> keep = vocabulary_to_keep(tokenizer, ["good movie", "a good plot"])
    >>> small, small_tokenizer = trim_vocabulary(student, tokenizer, keep)
    >>> small.bert_config.vocab_size, small_tokenizer.vocab
    (9, ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'good', 'movie', 'plot', 'a'])
    >>> import numpy as np
    >>> texts = ["a good movie", "good plot"]  # every token kept: the same outputs
    >>> before = student(tokenizer(texts, max_length=8))["logits"]
    >>> after = small(small_tokenizer(texts, max_length=8))["logits"]
    >>> bool(np.allclose(before, after, atol=1e-6))
    True
    """
    from tfdistill.compress.bert_graph import bert_config_of

    config = bert_config_of(model)
    if tokenizer.vocab_size != config.vocab_size:
        raise ValueError(f"The tokenizer has {tokenizer.vocab_size} tokens and the model {config.vocab_size} word-table "
                         "rows; pass the tokenizer the model was trained with.")
    keep = np.unique(np.asarray(keep_ids, dtype=np.int64))
    if keep.size == 0 or keep[0] < 0 or keep[-1] >= config.vocab_size:
        raise ValueError(f"keep_ids must be token ids in [0, {config.vocab_size}); got {keep_ids!r:.80}.")
    required = {name: tokenizer.token_id(name) for name in ("pad_token", "unk_token", "cls_token", "sep_token")}
    missing = [name for name, token in required.items() if token not in set(keep.tolist())]
    if missing:
        raise ValueError(f"keep_ids leaves out the special tokens {missing}; keep them (vocabulary_to_keep does).")
    trimmed = _rebuilt(model, config.replace(vocab_size=int(keep.size),
                                             pad_token_id=int(np.searchsorted(keep, config.pad_token_id))))
    for old, new in zip(model.weights, trimmed.weights):  # built alike: the same weights in the same order
        value = old.numpy()
        # The word table is the only weight whose shape changes (a QAT wrapper names it " embeddings").
        new.assign(value[keep] if value.shape != tuple(new.shape) else value)
    return trimmed, tokenizer.with_vocab([tokenizer.vocab[index] for index in keep])


def _rebuilt(model, bert_config):
    """A fresh model like `model` (same layers, wrappers and names) for `bert_config`'s vocabulary."""
    import tfdistill
    from tfdistill.compress.bert_graph import CompressedBert
    from tfdistill.compress.quantization import quantization_scope

    if not isinstance(model, CompressedBert):
        return tfdistill.build_bert(bert_config, name=model.name)
    config = model.get_config()
    config["bert_config"] = bert_config.get_config()
    _set_word_table_rows(config["layers"], bert_config.vocab_size)
    with quantization_scope():
        return CompressedBert.from_config(config)


def _set_word_table_rows(node, rows):
    """Sets `input_dim` of the `word_embeddings` layer config (bare or inside a wrapper's) in place."""
    if isinstance(node, dict):
        if node.get("name") == "word_embeddings" and "input_dim" in node:
            node["input_dim"] = rows
        for value in node.values():
            _set_word_table_rows(value, rows)
    elif isinstance(node, list):
        for value in node:
            _set_word_table_rows(value, rows)
