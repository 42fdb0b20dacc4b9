import numpy as np
import pytest

from tfdistill.data.datasets import Split
from tfdistill.distill.augment import EmbeddingNeighbourAugmenter, concatenate

VOCAB = ["[PAD]", "[UNK]", "good", "great", "fine", "bad", "awful", "movie", "film", "##s", ","]
EMBEDDINGS = np.array([[0, 0, 0], [0, 0, 1], [1, 0, 0], [0.95, 0.1, 0], [0.9, 0.2, 0], [-1, 0, 0], [-0.95, 0.1, 0],
                       [0, 1, 0], [0.1, 0.95, 0], [0, 0, -1], [0, -1, 0]], dtype=np.float32)


def test_neighbours_are_nearest_whole_words():
    augmenter = EmbeddingNeighbourAugmenter(VOCAB, EMBEDDINGS, num_neighbours=2)
    assert augmenter.neighbours("good") == ["great", "fine"]
    assert augmenter.neighbours("Movie") == ["film", "fine"]
    assert augmenter.neighbours("zebra") == []


def test_augmented_split_is_unlabelled_and_replaces_words():
    augmenter = EmbeddingNeighbourAugmenter(VOCAB, EMBEDDINGS, num_neighbours=1, replace_probability=1.0)
    split = Split(["good movie , bad film"], [1])
    augmented = augmenter.augment_split(split, copies=2)
    assert augmented.texts == ["great film , awful movie"] * 2
    assert list(augmented.labels) == [-1, -1]
    both = concatenate(split, augmented)
    assert len(both) == 3 and list(both.labels) == [1, -1, -1]


def test_bad_replace_probability():
    with pytest.raises(ValueError, match=r"replace_probability must be in \(0, 1\]"):
        EmbeddingNeighbourAugmenter(VOCAB, EMBEDDINGS, replace_probability=0)
