"""Offline data augmentation in the TinyBERT spirit: words are replaced by their nearest
neighbours in the teacher's own word-embedding space (no GloVe needed). Augmented examples
carry no label (-1): the teacher's soft targets are what the student learns from them."""

import re

import numpy as np

from tfdistill.data.datasets import Split

_WORD = re.compile(r"\w+|[^\w\s]+")


class EmbeddingNeighbourAugmenter:
    """Replaces words with nearest neighbours (cosine) in a word-embedding table.

    Only words that are a single whole-word vocabulary entry are replaced, and only by other
    whole-word alphabetic entries, so the text stays readable.

    Args:
        vocab: list of str, the WordPiece vocabulary (index = id).
        embeddings: float array `[vocab_size, width]`, e.g. the teacher's word embeddings.
        num_neighbours: int, how many nearest neighbours a replacement is drawn from.
        replace_probability: float in (0, 1], the chance each eligible word is replaced.
        seed: int.

    Example:
    >>> word_table = teacher.get_layer("word_embeddings").get_weights()[0]
    >>> augmenter = EmbeddingNeighbourAugmenter(tokenizer.vocab, word_table, replace_probability=0.5)
    >>> extra = augmenter.augment_split(data.train, copies=2)
    >>> len(data.train), len(extra), set(extra.labels.tolist())
    (64, 128, {-1})
    >>> data.train.texts[0], extra.texts[0]
    ('superb fun fine dull good bad good awful the superb', 'superb a bad dull good bad good awful the superb')
    """

    def __init__(self, vocab, embeddings, num_neighbours=10, replace_probability=0.3, seed=0):
        if len(vocab) != len(embeddings):
            raise ValueError(f"The vocabulary has {len(vocab)} entries but the embedding table {len(embeddings)} "
                             "rows; pass the teacher's tokenizer and its own word embeddings.")
        if not 0 < replace_probability <= 1:
            raise ValueError(f"replace_probability must be in (0, 1], got {replace_probability}.")
        self.index = {word: i for i, word in enumerate(vocab)}
        self.vocab = list(vocab)
        self.candidates = np.array([i for i, word in enumerate(vocab) if word.isalpha() and word.islower()])
        table = np.asarray(embeddings, dtype=np.float32)
        self.table = table / np.maximum(np.linalg.norm(table, axis=1, keepdims=True), 1e-12)
        self.num_neighbours, self.replace_probability = num_neighbours, replace_probability
        self.rng = np.random.default_rng(seed)
        self._neighbours = {}

    def neighbours(self, word):
        """Returns the nearest whole-word entries to `word` (excluding itself), nearest first."""
        token = self.index.get(word.lower())
        if token is None:
            return []
        if token not in self._neighbours:
            similarity = self.table[self.candidates] @ self.table[token]
            best = self.candidates[np.argsort(-similarity)[: self.num_neighbours + 1]]
            self._neighbours[token] = [self.vocab[i] for i in best if i != token][: self.num_neighbours]
        return self._neighbours[token]

    def augment_text(self, text):
        """Returns `text` with some words replaced by embedding neighbours."""
        pieces = []
        for word in _WORD.findall(text):
            options = self.neighbours(word) if word.isalpha() else []
            if options and self.rng.random() < self.replace_probability:
                word = options[self.rng.integers(len(options))]
            pieces.append(word)
        return " ".join(pieces)

    def augment_split(self, split, copies=1):
        """Returns `copies` augmented versions of every example, labelled -1 (teacher-only)."""
        if copies < 1:
            raise ValueError(f"copies must be >= 1, got {copies}.")
        texts = [self.augment_text(text) for _ in range(copies) for text in split.texts]
        pairs = None if split.text_pairs is None else [self.augment_text(t) for _ in range(copies)
                                                      for t in split.text_pairs]
        return Split(texts=texts, labels=np.full(len(texts), -1, np.int32), text_pairs=pairs)


def concatenate(first, second):
    """Returns the examples of two splits as one `Split`."""
    pairs = None if first.text_pairs is None else first.text_pairs + second.text_pairs
    return Split(texts=first.texts + second.texts, labels=np.concatenate([first.labels, second.labels]),
                 text_pairs=pairs)
