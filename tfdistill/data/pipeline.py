"""`make_tf_dataset`: tokenized `tf.data` pipelines for training and evaluation.

Texts are tokenized once, in numpy, with the fast tokenizer; the pipeline then only slices,
shuffles and batches int32 arrays, so no Python runs per step.
"""

import numpy as np

import tfdistill  # noqa: F401  (sets TF_USE_LEGACY_KERAS before TensorFlow loads)
import tensorflow as tf

from tfdistill.data.tokenizer import FEATURE_NAMES

# Bucketed batches are padded to a multiple of this: few distinct shapes, SIMD-friendly widths.
LENGTH_MULTIPLE = 8
# With shuffling, examples are sorted by length within pools of this many batches: batches stay
# homogeneous in length while the order still changes every epoch.
BUCKET_POOL_BATCHES = 32


def prefetched(dataset):
    """`dataset.prefetch(AUTOTUNE)` with tf.data's autotuning model off (`autotune.enabled`).

    The batches are cheap to make (about 1 s of CPU an epoch on Rotten Tomatoes), so the model
    has nothing to tune, and its optimisation thread cost time: deleting an iterator waits for that
    thread, which after minutes of training can take tens of seconds. In `make demo` the teacher's
    stage ended 27-110 s after its 2-epoch `fit`'s last epoch (a native stack dump showed `fit`
    waiting in the iterator's destructor); with the model off, 16 s, its evaluation and saving.
    Prefetching stays (its buffer then grows the classic way).
    Options apply downstream too: datasets built on this one (`teacher_cache.with_teacher_outputs`)
    keep the model off.

    Example:
    >>> prefetched(tf.data.Dataset.range(3)).options().autotune.enabled
    False
    """
    options = tf.data.Options()
    options.autotune.enabled = False
    return dataset.prefetch(tf.data.AUTOTUNE).with_options(options)


def check_max_length(max_length, max_position_embeddings):
    """Refuses a sequence length the model has no position embeddings for.

    Args:
        max_length: int, the tokenized length (special tokens included).
        max_position_embeddings: int, the model's `max_position_embeddings`.

    Returns:
        int, `max_length`.

    Raises:
        ValueError: `max_length` exceeds `max_position_embeddings` or is below 2.

    Example:
    >>> check_max_length(128, 512)
    128
    >>> check_max_length(600, 512)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: max_length=600 exceeds the model's max_position_embeddings=512 ...
    """
    if max_length < 2:
        raise ValueError(
            f"max_length={max_length} is too small: [CLS] text [SEP] needs at least 2 positions. "
            "Pass max_length >= 2 (64 or 128 is typical)."
        )
    if max_length > max_position_embeddings:
        raise ValueError(
            f"max_length={max_length} exceeds the model's max_position_embeddings="
            f"{max_position_embeddings} (positions past {max_position_embeddings - 1} have no "
            f"embedding). Pass max_length <= {max_position_embeddings}, e.g. "
            f"--max_length={min(128, max_position_embeddings)}."
        )
    return max_length


def make_tf_dataset(split, tokenizer, max_length, batch_size, shuffle=False, seed=0,
                    bucket_by_length=True, drop_remainder=False, cache=True):
    """Builds a batched `tf.data.Dataset` of tokenized features and labels.

    Args:
        split: `tfdistill.data.Split` (`texts`, optional `text_pairs`, `labels`).
        tokenizer: `tfdistill.Tokenizer`.
        max_length: int, the tokenized length; check it against the model with
            `check_max_length`.
        batch_size: int.
        shuffle: bool, reshuffle the examples every epoch (training).
        seed: int, the shuffle seed.
        bucket_by_length: bool, pad each batch only to its longest row rounded up to a
            multiple of 8 (at most `max_length`), so the sequence dimension is dynamic; with
            `shuffle`, examples of similar length are also batched together (sorted within
            pools of 32 batches). On by default: on Rotten Tomatoes, shuffled batches hold 31
            positions per row instead of 128 (or 64), and a MiniLM forward pass on 2 CPU cores
            ran 3.7-5.4x faster per example at max_length 128 and 1.4-2.1x at 64 (unshuffled:
            56 positions, 2.5-4.9x and 1.0-1.1x; `bench/data_pipeline.py`). Pass
            False where fixed `[batch, max_length]` shapes are needed (TFLite representative
            data, fixed-shape exports). Unshuffled pipelines keep the split's order either way.
        drop_remainder: bool, drop the last partial batch.
        cache: bool, cache the sliced examples in memory.

    Returns:
        `tf.data.Dataset` of `(features, labels)`: `features` is a dict of int32 `input_ids`,
        `attention_mask`, `token_type_ids` of shape `[batch, width]` with `width <= max_length`
        (exactly `max_length` when `bucket_by_length=False`), `labels` int32 `[batch]`.

    Raises:
        ValueError: `batch_size` < 1, or `max_length` is too small (from the tokenizer).

    Example:
    >>> import tfdistill
    >>> from tfdistill import data
    >>> tokenizer = tfdistill.Tokenizer.from_pretrained(tfdistill.default_teacher_path())
    >>> splits = data.load("rotten_tomatoes", max_examples=2000)
    >>> train = data.make_tf_dataset(splits.train, tokenizer, 64, 32, shuffle=True,
    ...                              bucket_by_length=False)
    >>> features, labels = next(iter(train))
    >>> features["input_ids"].shape, labels.shape
    (TensorShape([32, 64]), TensorShape([32]))
    """
    _check_batch_size(batch_size)
    features = tokenizer(split.texts, split.text_pairs, max_length=max_length)
    return features_dataset(features, split.labels, batch_size, shuffle=shuffle, seed=seed,
                            bucket_by_length=bucket_by_length, drop_remainder=drop_remainder, cache=cache)


def length_sorted_batches(features, batch_size):
    """Batches of already tokenized `features` in order of length (stable), each cut to its
    longest row: how a model runs over a whole split with the least padding.

    Returns:
        `(order, dataset)`: int32 `order[i]`, the index in `features` of the dataset's i-th
        example; the dataset's labels are those indices, batch by batch.

    Example:
    >>> order, dataset = length_sorted_batches(tokenizer(["a dull plot", "good"], max_length=16), 2)
    >>> order.tolist(), [rows.numpy().tolist() for _, rows in dataset]
    ([1, 0], [[1, 0]])
    """
    order = np.argsort(np.asarray(features["attention_mask"]).sum(axis=1), kind="stable").astype(np.int32)
    return order, features_dataset({name: values[order] for name, values in features.items()}, order, batch_size,
                                   cache=False)


def features_dataset(features, labels, batch_size, shuffle=False, seed=0, bucket_by_length=True,
                     drop_remainder=False, cache=True):
    """`make_tf_dataset` from already tokenized features (`TextClassifierPreprocessor.dataset`).

    Args:
        features: dict of int arrays `[n, max_length]` (`input_ids`, `attention_mask`,
            `token_type_ids`), as a `tfdistill.Tokenizer` returns them.
        labels: int array `[n]`.
        batch_size, shuffle, seed, bucket_by_length, drop_remainder, cache: as `make_tf_dataset`.

    Returns:
        `tf.data.Dataset` of `(features, labels)` batches.

    Example:
    >>> features = tokenizer(["good", "a dull plot"], max_length=16)
    >>> batch, labels = next(iter(features_dataset(features, [1, 0], 2)))
    >>> batch["input_ids"].shape, labels.numpy().tolist()  # trimmed to the longest row, rounded to 8
    (TensorShape([2, 8]), [1, 0])
    """
    _check_batch_size(batch_size)
    labels = np.asarray(labels, dtype=np.int32)
    if bucket_by_length:
        return _bucketed(features, labels, batch_size, shuffle, seed, drop_remainder, cache)
    dataset = tf.data.Dataset.from_tensor_slices((features, labels))
    if cache:
        dataset = dataset.cache()
    if shuffle:
        dataset = _shuffled(dataset, len(labels), seed)
    dataset = dataset.batch(batch_size, drop_remainder=drop_remainder)
    return prefetched(dataset)


def _check_batch_size(batch_size):
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}.")


def _shuffled(dataset, size, seed):
    # A buffer of the whole split is a full shuffle; the arrays are small (ints per token).
    return dataset.shuffle(max(size, 1), seed=seed, reshuffle_each_iteration=True)


def _bucketed(features, labels, batch_size, shuffle, seed, drop_remainder, cache):
    lengths = features["attention_mask"].sum(axis=1).astype(np.int32)
    dataset = tf.data.Dataset.from_tensor_slices((features, labels, lengths))
    if cache:
        dataset = dataset.cache()
    if shuffle:
        dataset = _shuffled(dataset, len(labels), seed)
        dataset = dataset.batch(batch_size * BUCKET_POOL_BATCHES).map(_sort_by_length).unbatch()
    # Unshuffled pipelines keep the split's order (predictions line up with `split.labels`);
    # each batch is still cut to its own longest row.
    dataset = dataset.batch(batch_size, drop_remainder=drop_remainder).map(_trim_padding)
    if shuffle:
        # Otherwise every pool would yield its batches from short to long.
        dataset = dataset.shuffle(BUCKET_POOL_BATCHES, seed=seed, reshuffle_each_iteration=True)
    return prefetched(dataset)


def _sort_by_length(features, labels, lengths):
    order = tf.argsort(lengths, stable=True)
    features = {name: tf.gather(features[name], order) for name in FEATURE_NAMES}
    return features, tf.gather(labels, order), tf.gather(lengths, order)


def _trim_padding(features, labels, lengths):
    max_length = tf.shape(features["input_ids"])[1]
    longest = tf.reduce_max(lengths)
    width = tf.minimum(-(-longest // LENGTH_MULTIPLE) * LENGTH_MULTIPLE, max_length)
    return {name: features[name][:, :width] for name in FEATURE_NAMES}, labels
