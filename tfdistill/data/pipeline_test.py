"""Unit tests of `make_tf_dataset` and `check_max_length` on a made-up vocabulary."""

import numpy as np
import pytest

import tfdistill  # noqa: F401  (TF_USE_LEGACY_KERAS before TensorFlow loads)
import tensorflow as tf

from tfdistill.data.datasets import Split
from tfdistill.data.pipeline import check_max_length, make_tf_dataset
from tfdistill.data.tokenizer import Tokenizer

WORDS = ["good", "bad", "film", "plot"]
PAD_ID = 0


@pytest.fixture(scope="module")
def tokenizer():
    return Tokenizer.from_vocab(["[PAD]", "[UNK]", "[CLS]", "[SEP]"] + WORDS)


def made_up_split(num_examples, with_pairs=False, seed=0):
    """Texts of 1 to 40 words (3 to 42 tokens); the label is the text's word count."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, 41, size=num_examples)
    texts = [" ".join(rng.choice(WORDS, size=n)) for n in lengths]
    pairs = [WORDS[i % 4] for i in range(num_examples)] if with_pairs else None
    return Split(texts, lengths, text_pairs=pairs)


def collect(dataset):
    """Returns (list of feature dicts of numpy arrays, concatenated labels)."""
    batches = [({k: v.numpy() for k, v in f.items()}, y.numpy()) for f, y in dataset]
    return [f for f, _ in batches], np.concatenate([y for _, y in batches])


def test_fixed_batches_match_the_tokenizer_in_order(tokenizer):
    split = made_up_split(50, with_pairs=True)
    dataset = make_tf_dataset(split, tokenizer, max_length=48, batch_size=16,
                              bucket_by_length=False)
    spec, label_spec = dataset.element_spec
    assert label_spec.dtype == tf.int32
    for name in ("input_ids", "attention_mask", "token_type_ids"):
        assert spec[name].dtype == tf.int32 and spec[name].shape.as_list() == [None, 48]
    features, labels = collect(dataset)
    assert [f["input_ids"].shape[0] for f in features] == [16, 16, 16, 2]
    expected = tokenizer(split.texts, split.text_pairs, max_length=48)
    for name, values in expected.items():
        np.testing.assert_array_equal(np.concatenate([f[name] for f in features]), values)
    np.testing.assert_array_equal(labels, split.labels)


def test_shuffle_is_seeded_reshuffles_each_epoch_and_can_drop_the_remainder(tokenizer):
    split = made_up_split(100)

    def epochs(seed):
        dataset = make_tf_dataset(split, tokenizer, 48, 32, shuffle=True, seed=seed,
                                  bucket_by_length=False, drop_remainder=True)
        return [collect(dataset)[1] for _ in range(2)]

    first, second = epochs(0)
    assert len(first) == 96
    assert not np.array_equal(first, second)
    np.testing.assert_array_equal(epochs(0)[0], first)
    assert not np.array_equal(epochs(1)[0], first)


def test_bucketed_batches_are_trimmed_to_a_multiple_of_8_and_keep_every_token(tokenizer):
    split = made_up_split(300)
    full = tokenizer(split.texts, max_length=32)
    for shuffle in (False, True):
        dataset = make_tf_dataset(split, tokenizer, 32, 20, shuffle=shuffle)
        assert dataset.element_spec[0]["input_ids"].shape.as_list() == [None, None]
        features, labels = collect(dataset)
        widths = [f["input_ids"].shape[1] for f in features]
        assert all(w % 8 == 0 and w <= 32 for w in widths)
        for batch in features:
            real_lengths = batch["attention_mask"].sum(axis=1)
            assert batch["input_ids"].shape[1] == min(32, -(-real_lengths.max() // 8) * 8)
        assert sorted(labels.tolist()) == sorted(split.labels.tolist())
        if not shuffle:
            # Unshuffled: the split's order, each row the fixed-length row without its padding.
            np.testing.assert_array_equal(labels, split.labels)
            rows = [row for batch in features for row in batch["input_ids"]]
            for row, expected in zip(rows, full["input_ids"]):
                np.testing.assert_array_equal(row, expected[:len(row)])
                assert not expected[len(row):].any()


def test_shuffled_bucketing_groups_similar_lengths(tokenizer):
    split = made_up_split(640)
    padded = {}
    for bucket in (False, True):
        features, labels = collect(make_tf_dataset(split, tokenizer, 48, 32, shuffle=True,
                                                   bucket_by_length=bucket))
        padded[bucket] = sum(f["input_ids"].size for f in features)
    again = collect(make_tf_dataset(split, tokenizer, 48, 32, shuffle=True))[1]
    np.testing.assert_array_equal(again, labels)  # the same seed, the same batches
    real_tokens = int(tokenizer(split.texts, max_length=48)["attention_mask"].sum())
    # 640 rows of 3..42 tokens: fixed padding holds 48 per row; bucketing stays near the real
    # count (sorted pools of 32 batches leave under 8 + a few tokens of padding per row).
    assert padded[False] == 640 * 48
    assert padded[True] < real_tokens + 640 * 12 < padded[False]


def test_empty_split_and_bad_batch_size(tokenizer):
    empty = Split([], [])
    for bucket in (False, True):
        assert collect_len(make_tf_dataset(empty, tokenizer, 8, 4, shuffle=True,
                                           bucket_by_length=bucket)) == 0
    with pytest.raises(ValueError, match="batch_size must be a positive int"):
        make_tf_dataset(made_up_split(4), tokenizer, 8, 0)


def collect_len(dataset):
    return sum(int(labels.shape[0]) for _, labels in dataset)


def test_check_max_length():
    assert check_max_length(512, 512) == 512
    assert check_max_length(2, 512) == 2


@pytest.mark.parametrize("bucket_by_length,shuffle", [(False, False), (False, True), (True, False), (True, True)])
def test_pipelines_prefetch_without_the_autotune_model(tokenizer, bucket_by_length, shuffle):
    # The model's optimisation thread held an iterator's deletion (so `fit`'s return) for tens of seconds.
    dataset = make_tf_dataset(made_up_split(20), tokenizer, max_length=48, batch_size=8,
                              bucket_by_length=bucket_by_length, shuffle=shuffle)
    assert dataset.options().autotune.enabled is False
    _, labels = collect(dataset)
    assert len(labels) == 20
