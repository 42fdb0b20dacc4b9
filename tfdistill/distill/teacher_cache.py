"""Teacher logits computed once per split and fed with the batches, instead of a teacher
forward pass in every training step.

When every loss term reads only the teacher's logits (`logit_kd`, `logit_mse`, `hard_label`:
the pipeline's default), the frozen teacher's answer for an example never changes across
epochs, so it is computed once, in inference mode with large length-sorted batches, and looked
up by example index. The training pipeline is the one `make_tf_dataset` builds, with the labels
swapped for example indices before it shuffles: shuffling and length bucketing never read the
labels, so the batches and their order are exactly those of the uncached pipeline.

The logits stay in an in-process cache keyed by the teacher's weights, the split's content, the
length and the precision, so the pipeline's distill, prune and QAT stages (one teacher, one
training split) run the teacher over it once.

Example:
>>> from tfdistill.distill.losses import get
>>> from tfdistill.distill.teachers import as_teacher
>>> terms, split = [get("logit_kd"), get("hard_label")], data.train
>>> if cacheable(terms, as_teacher(teacher)):
...     logits = TeacherLogits(teacher, preprocessor)(split)
...     train = with_teacher_logits(split, logits, lambda s: preprocessor.dataset(s, 8, shuffle=True))
>>> features, labels = next(iter(train))
>>> features[FEATURE].shape, labels.shape
(TensorShape([8, 2]), TensorShape([8]))
"""

import collections
import dataclasses
import hashlib

import numpy as np

FEATURE = "teacher_logits"
# Teacher inference batch (examples sorted by length first, so little of a batch is padding).
# On 2 CPU cores, 32 and 128 cost the same per example and 256 was 1.5-2x slower: its
# [256, heads, seq, seq] attention tensors no longer fit in the caches.
INFERENCE_BATCH = 128
_CACHE_ENTRIES = 4

_cache = collections.OrderedDict()
_default_enabled = True


def set_default_enabled(enabled):
    """Sets what `cache_teacher_outputs=None` means in `distill` and `fit_student` (a recipe's
    `--cache_teacher_outputs` flag). Returns the previous value.

    Example:
    >>> previous = set_default_enabled(False); _ = set_default_enabled(previous)
    """
    global _default_enabled
    previous, _default_enabled = _default_enabled, bool(enabled)
    return previous


def enabled(requested=None):
    """Returns `requested`, or the default (`set_default_enabled`, True) when it is None.

    Example:
    >>> enabled(False), enabled(None)
    (False, True)
    """
    return _default_enabled if requested is None else bool(requested)


def cacheable(terms, teacher):
    """True when every loss term reads only the teacher's logits, which the teacher provides.

    Args:
        terms: list of `DistillationLoss` instances.
        teacher: a `tfdistill.distill.teachers.Teacher` adapter.

    Example:
    >>> from tfdistill.distill.losses import get
    >>> from tfdistill.distill.teachers import as_teacher
    >>> cacheable([get("logit_kd"), get("hard_label")], as_teacher(teacher))
    True
    >>> cacheable([get("logit_kd"), get("hidden_mse")], as_teacher(teacher))
    False
    """
    return "logits" in teacher.provides and all(set(term.requires) <= {"logits"} for term in terms)


class TeacherLogits:
    """Runs a frozen teacher over whole splits in inference mode: float32 logits in split order.

    Examples are sorted by length and run in large batches trimmed to their longest row, so
    little of the work is padding; one traced function serves every split.

    Args:
        teacher: a `Teacher` adapter or any model `as_teacher` accepts.
        preprocessor: `tfdistill.data.TextClassifierPreprocessor` (its tokenization of a split
            is shared with the training batches).
        key: optional hashable naming the teacher's state (`weights_key`) and precision; with
            it, results are cached in this process and reused for the same split and length.
        batch_size: int, inference batch size.

    Example:
    >>> logits = TeacherLogits(teacher, preprocessor)(data.train)
    >>> logits.shape, logits.dtype
    ((64, 2), dtype('float32'))
    """

    def __init__(self, teacher, preprocessor, key=None, batch_size=INFERENCE_BATCH):
        from tfdistill.distill.teachers import as_teacher

        self.teacher, self.preprocessor = as_teacher(teacher), preprocessor
        self.key, self.batch_size = key, batch_size
        self._forward = None

    def __call__(self, split):
        """Returns the logits `[len(split), num_labels]` of `split` (a `tfdistill.data.Split`)."""
        full_key = None if self.key is None else (self.key, split.fingerprint(), self.preprocessor.max_length)
        if full_key in _cache:
            _cache.move_to_end(full_key)
            return _cache[full_key]
        logits = self._run(split)
        if full_key is not None:
            _cache[full_key] = logits
            while len(_cache) > _CACHE_ENTRIES:
                _cache.popitem(last=False)
        return logits

    def _run(self, split):
        import tensorflow as tf

        from tfdistill.data.pipeline import features_dataset

        if self._forward is None:
            teacher = self.teacher
            self._forward = tf.function(lambda features: tf.cast(teacher(features)["logits"], tf.float32),
                                        reduce_retracing=True)
        features = self.preprocessor.tokenize(split)
        order = np.argsort(features["attention_mask"].sum(axis=1), kind="stable")
        dataset = features_dataset({name: values[order] for name, values in features.items()}, split.labels[order],
                                   self.batch_size, bucket_by_length=True, cache=False)
        sorted_logits = np.concatenate([self._forward(features).numpy() for features, _ in dataset])
        logits = np.empty_like(sorted_logits)
        logits[order] = sorted_logits
        return logits


def with_teacher_logits(split, logits, make_dataset):
    """Builds `make_dataset(split)` with each batch's teacher logits added to its features.

    Args:
        split: `tfdistill.data.Split`.
        logits: float array `[len(split), num_labels]` (`TeacherLogits`).
        make_dataset: callable `Split -> tf.data.Dataset` of `(features, labels)` batches
            (`make_tf_dataset` with its shuffling and bucketing arguments).

    Returns:
        `tf.data.Dataset` of `(features, labels)` with the same batches in the same order as
        `make_dataset(split)`, `features[FEATURE]` float32 `[batch, num_labels]`.

    Raises:
        ValueError: `logits` does not have one row per example.

    Example:
    >>> import numpy as np
    >>> logits = np.zeros((len(data.train), 2), np.float32)  # TeacherLogits(teacher, preprocessor)(data.train)
    >>> train = with_teacher_logits(data.train, logits, lambda s: preprocessor.dataset(s, 8))
    >>> features, labels = next(iter(train))
    >>> sorted(features), labels.numpy().tolist() == data.train.labels[:8].tolist()
    (['attention_mask', 'input_ids', 'teacher_logits', 'token_type_ids'], True)
    """
    import tensorflow as tf

    if len(logits) != len(split):
        raise ValueError(f"Got teacher logits for {len(logits)} examples but the split has {len(split)}.")
    # The labels carry example indices through the pipeline (shuffle and bucketing ignore them).
    indexed = dataclasses.replace(split, labels=np.arange(len(split), dtype=np.int32))
    labels = tf.constant(np.asarray(split.labels, np.int32))
    table = tf.constant(np.asarray(logits, np.float32))

    def attach(features, index):
        return dict(features, **{FEATURE: tf.gather(table, index)}), tf.gather(labels, index)

    dataset = make_dataset(indexed).map(attach, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return dataset.prefetch(tf.data.AUTOTUNE)


def weights_key(model):
    """Returns a hash (hex str) of a model's weights: a teacher changed in place (fine-tuned
    further) gets a new key, so stale logits are never reused.

    Example:
    >>> key = weights_key(teacher)
    >>> len(key), key == weights_key(teacher), key == weights_key(student)
    (32, True, False)
    """
    digest = hashlib.blake2b(digest_size=16)
    for weight in model.weights:
        digest.update(weight.name.encode("utf-8"))
        digest.update(np.ascontiguousarray(weight.numpy()).tobytes())
    return digest.hexdigest()


def clear():
    """Empties the in-process cache (e.g. to time a teacher pass again).

    Example:
    >>> clear()
    """
    _cache.clear()
