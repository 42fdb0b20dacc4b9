"""The embedded Rotten Tomatoes dataset: counts, splits and the tf.data pipeline on real text."""

import collections

import numpy as np
import pytest

import tfdistill
from tfdistill import data

pytestmark = pytest.mark.integration

NUM_EXAMPLES, NUM_POSITIVE, NUM_NEGATIVE = 12_808, 7_403, 5_405


@pytest.fixture(scope="module")
def rotten_tomatoes():
    return data.load("rotten_tomatoes")


def normalized(text):
    return " ".join(text.lower().split())


def test_default_dataset_is_rotten_tomatoes_with_documented_counts(rotten_tomatoes):
    assert data.load().train.texts == rotten_tomatoes.train.texts
    assert rotten_tomatoes.name == "rotten_tomatoes"
    assert rotten_tomatoes.label_names == ["negative", "positive"]
    labels = np.concatenate([s.labels for s in rotten_tomatoes.splits.values()])
    assert len(labels) == NUM_EXAMPLES
    np.testing.assert_array_equal(np.bincount(labels), [NUM_NEGATIVE, NUM_POSITIVE])
    assert rotten_tomatoes.get_config()["num_examples"] == {
        "train": 10_242, "validation": 1_281, "test": 1_285}


def test_labels_follow_the_verdicts(rotten_tomatoes):
    label_of = {text: label for split in rotten_tomatoes.splits.values()
                for text, label in zip(split.texts, split.labels)}
    assert label_of["A slick, engrossing melodrama."] == 1  # fresh
    assert label_of["By turns pretentious, fascinating, ludicrous, provocative and "
                    "vainglorious."] == 0  # rotten


def test_splits_are_stratified_and_share_no_text(rotten_tomatoes):
    positive_share = NUM_POSITIVE / NUM_EXAMPLES
    seen = {}
    for name, split in rotten_tomatoes.splits.items():
        assert abs(split.labels.mean() - positive_share) < 0.005, name
        for text in split.texts:
            assert seen.setdefault(normalized(text), name) == name, text
    # The corpus repeats some snippets; they are kept, inside one split.
    counts = collections.Counter(normalized(t) for s in rotten_tomatoes.splits.values()
                                 for t in s.texts)
    assert sum(c - 1 for c in counts.values()) == 57


def test_seed_changes_the_split_and_max_examples_caps_it(rotten_tomatoes):
    other = data.load("rotten_tomatoes", seed=1)
    assert set(other.test.texts) != set(rotten_tomatoes.test.texts)
    small = data.load("rotten_tomatoes", max_examples=1000)
    assert [len(s) for s in small.splits.values()] == [1000, 1000, 1000]
    assert set(small.train.texts) <= set(rotten_tomatoes.train.texts)
    assert abs(small.train.labels.mean() - NUM_POSITIVE / NUM_EXAMPLES) < 0.002


def test_pipeline_on_real_text(rotten_tomatoes):
    tokenizer = tfdistill.Tokenizer.from_pretrained(tfdistill.default_teacher_path())
    data.check_max_length(64, tfdistill.load_config(tfdistill.default_teacher_path())
                          .max_position_embeddings)
    split = rotten_tomatoes.validation
    dataset = data.make_tf_dataset(split, tokenizer, max_length=64, batch_size=64)
    widths, labels = [], []
    for features, batch_labels in dataset:
        assert features["input_ids"][:, 0].numpy().tolist() == [101] * len(batch_labels)
        widths.append(features["input_ids"].shape[1])
        labels.append(batch_labels.numpy())
    np.testing.assert_array_equal(np.concatenate(labels), split.labels)
    # Snippets average about 27 tokens: most batches need far fewer than 64 positions.
    assert max(widths) <= 64 and np.mean(widths) < 64
