"""Teacher outputs computed once per split and fed with the batches, instead of a teacher
forward pass in every training step.

The frozen teacher's answer for an example never changes across epochs, so when every loss
term reads outputs kept here (`CACHEABLE`: the logits, the hidden states, the attention maps),
they are computed once, in inference mode with large length-sorted batches, and looked up by
example index. The training pipeline is the one `make_tf_dataset` builds, with the labels
swapped for example indices before it shuffles: shuffling and length bucketing never read the
labels, so the batches and their order are exactly those of the uncached pipeline.

Logits are kept as one array. Hidden states and attention maps are kept per example without
their padding (in the dtype the teacher computed them in: bfloat16 hidden states under mixed
precision, float32 attention maps), and each batch gets them padded to its width with zeros,
which every loss term masks out. They take memory (Rotten Tomatoes' training and validation
texts with MiniLM-L6: 4.2 GiB kept, 5.7 GiB as `estimated_bytes` bounds it at 4 bytes a value)
and a pass that costs more than a live forward pass, so they are kept for stages of
`MIN_EPOCHS_FOR_SEQUENCES` epochs or more whose split fits in `max_bytes()`; otherwise the
teacher runs in every step.

The results stay in an in-process cache keyed by the teacher's weights, the split's content, the
length and the precision, so the pipeline's distill, prune and QAT stages (one teacher, one
training split) run the teacher over it once.

Example:
>>> from tfdistill.distill.losses import get
>>> from tfdistill.distill.teachers import as_teacher
>>> terms, split = [get("logit_kd"), get("hard_label")], data.train
>>> keys = keys_to_cache(terms, as_teacher(teacher))
>>> keys
('logits',)
>>> outputs = TeacherOutputs(teacher, preprocessor, keys)(split)
>>> train = with_teacher_outputs(split, outputs, lambda s: preprocessor.dataset(s, 8, shuffle=True))
>>> features, labels = next(iter(train))
>>> features[FEATURE].shape, labels.shape
(TensorShape([8, 2]), TensorShape([8]))
"""

import collections
import dataclasses
import hashlib
import os

import numpy as np

PREFIX = "teacher_"
FEATURE = PREFIX + "logits"
# The outputs kept, by how they are stored: one row per example; per token, a list (one tensor
# per layer) of `[batch, seq, width]`; per query-key pair, a list of `[batch, heads, seq, seq]`.
PER_EXAMPLE = ("logits",)
PER_TOKEN = ("hidden_states",)
PER_PAIR = ("attentions", "attention_scores")
CACHEABLE = PER_EXAMPLE + PER_TOKEN + PER_PAIR


def _layer_axis(key):
    """The axis of a batch feature that indexes the layers: `[batch, seq, layers, width]` per
    token, `[batch, layers, heads, seq, seq]` per query-key pair."""
    return 2 if key in PER_TOKEN else 1
# Teacher inference batch (examples sorted by length first, so little of a batch is padding).
# On 2 CPU cores, 32 and 128 cost the same per example and 256 was 1.5-2x slower: its
# [256, heads, seq, seq] attention tensors no longer fit in the caches.
INFERENCE_BATCH = 128
# Hidden states and attention maps are kept only for stages of this many epochs or more: their
# one-time pass (8 ms an example: the forward pass plus copying the maps out) cost as much as the
# teacher's forward passes of 2.3 training epochs save (RT, MiniLM-L6 in bf16, 2 cores:
# `recipes/distill.py --hidden_weight=1 --attention_weight=1 --head_average --epochs=1`, pass 91 s,
# epoch 188 s against 227 s with `--cache_teacher_outputs=false`).
MIN_EPOCHS_FOR_SEQUENCES = 3
_CACHE_ENTRIES = 4

_cache = collections.OrderedDict()
_default_enabled = True
_max_bytes = None


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


def max_bytes():
    """The most memory the hidden states and attention maps of one split may take: a third of
    the machine's memory, at most 8 GiB (`set_max_bytes` changes it).

    Example:
    >>> max_bytes() > 0
    True
    """
    if _max_bytes is not None:
        return _max_bytes
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        memory = 6 * 2**30
    return min(8 * 2**30, memory // 3)


def set_max_bytes(limit):
    """Sets `max_bytes()` (None: the default). Returns the previous setting.

    Example:
    >>> previous = set_max_bytes(2**30); _ = set_max_bytes(previous)
    """
    global _max_bytes
    previous, _max_bytes = _max_bytes, limit
    return previous


def keys_to_cache(terms, teacher):
    """The teacher outputs to compute once for these loss terms, or None when a term reads one
    that is not kept (`CACHEABLE`) or the teacher does not provide.

    The logits are kept whenever the teacher gives them (the Distiller's agreement metric reads
    them).

    Args:
        terms: list of `DistillationLoss` instances.
        teacher: a `tfdistill.distill.teachers.Teacher` adapter.

    Returns:
        tuple of output keys in `CACHEABLE` order, or None.

    Example:
    >>> from tfdistill.distill.losses import get
    >>> from tfdistill.distill.teachers import as_teacher
    >>> keys_to_cache([get("logit_kd"), get("hidden_mse")], as_teacher(teacher))
    ('logits', 'hidden_states')
    >>> keys_to_cache([get("minilm_relation")], as_teacher(teacher)) is None  # queries, keys, values
    True
    """
    needed = {key for term in terms for key in term.requires}
    if not needed <= set(CACHEABLE) or not needed <= set(teacher.provides):
        return None
    needed |= {"logits"} & set(teacher.provides)
    return tuple(key for key in CACHEABLE if key in needed)


def estimated_bytes(lengths, keys, spec):
    """An upper bound of the memory `TeacherOutputs` keeps for a split (4 bytes a value).

    Args:
        lengths: int array, each example's tokens (its attention mask's sum).
        keys: output keys (`keys_to_cache`).
        spec: the teacher's `ModelSpec` (`num_layers`, `hidden_size`, `num_heads`, `num_labels`).

    Example:
    >>> from tfdistill.distill.losses import ModelSpec
    >>> estimated_bytes(np.array([3, 4]), ("hidden_states",), ModelSpec(2, 8, 2, None))
    672
    """
    lengths = np.asarray(lengths, np.int64)
    total = 0
    if "logits" in keys:
        total += len(lengths) * (spec.num_labels or 0)
    if "hidden_states" in keys:
        total += int(lengths.sum()) * (spec.num_layers + 1) * spec.hidden_size
    for key in PER_PAIR:
        if key in keys:
            total += int(np.square(lengths).sum()) * spec.num_layers * spec.num_heads
    return 4 * total


@dataclasses.dataclass
class CachedOutputs:
    """One split's teacher outputs, in split order.

    Attributes:
        logits: float32 `[examples, num_labels]`, or None.
        per_example: dict, key -> list (one per example) of arrays: `hidden_states`
            `[tokens, layers + 1, width]`, the attention maps `[layers, heads, tokens, tokens]`.
    """

    logits: np.ndarray | None
    per_example: dict

    @property
    def keys(self):
        return (("logits",) if self.logits is not None else ()) + tuple(self.per_example)

    @property
    def nbytes(self):
        arrays = [array for values in self.per_example.values() for array in values]
        return sum(array.nbytes for array in arrays) + (0 if self.logits is None else self.logits.nbytes)

    def subset(self, keys):
        """The outputs of `keys` only (sharing the arrays)."""
        return CachedOutputs(self.logits if "logits" in keys else None,
                             {key: values for key, values in self.per_example.items() if key in keys})

    def padded(self, key, index, width):
        """Examples `index` of output `key`, zero-padded to `width` tokens: `hidden_states`
        `[batch, width, layers + 1, hidden]`, attention maps `[batch, layers, heads, width, width]`."""
        arrays = [self.per_example[key][i] for i in index]
        if key in PER_TOKEN:
            batch = np.zeros((len(arrays), width, *arrays[0].shape[1:]), arrays[0].dtype)
            for row, array in zip(batch, arrays):
                row[:len(array)] = array
        else:
            batch = np.zeros((len(arrays), *arrays[0].shape[:2], width, width), arrays[0].dtype)
            for row, array in zip(batch, arrays):
                row[..., :array.shape[-1], :array.shape[-1]] = array
        return batch


class TeacherOutputs:
    """Runs a frozen teacher over whole splits in inference mode and keeps the outputs named.

    Examples are sorted by length and run in large batches trimmed to their longest row, so
    little of the work is padding; one traced function serves every split.

    Args:
        teacher: a `Teacher` adapter or any model `as_teacher` accepts.
        preprocessor: `tfdistill.data.TextClassifierPreprocessor` (its tokenization of a split
            is shared with the training batches).
        keys: the outputs to keep (`keys_to_cache`), default the logits.
        key: optional hashable naming the teacher's state (`weights_key`) and precision; with
            it, results are cached in this process and reused for the same split and length
            (also for fewer `keys`).
        batch_size: int, inference batch size.

    Example:
    >>> outputs = TeacherOutputs(teacher, preprocessor, ("logits", "hidden_states"))(data.train)
    >>> outputs.logits.shape, outputs.logits.dtype
    ((64, 2), dtype('float32'))
    >>> tokens = preprocessor.tokenize(data.train)["attention_mask"][0].sum()
    >>> outputs.per_example["hidden_states"][0].shape == (tokens, 5, 32)  # embeddings + 4 blocks, width 32
    True
    """

    def __init__(self, teacher, preprocessor, keys=("logits",), key=None, batch_size=INFERENCE_BATCH):
        from tfdistill.distill.teachers import as_teacher

        unknown = [name for name in keys if name not in CACHEABLE]
        if unknown:
            raise ValueError(f"TeacherOutputs keeps only {list(CACHEABLE)}, not {unknown}.")
        self.teacher, self.preprocessor = as_teacher(teacher), preprocessor
        self.keys, self.key, self.batch_size = tuple(keys), key, batch_size
        self._forward = None

    def __call__(self, split):
        """Returns the `CachedOutputs` of `split` (a `tfdistill.data.Split`)."""
        full_key = None if self.key is None else (self.key, split.fingerprint(), self.preprocessor.max_length)
        if full_key in _cache and set(self.keys) <= set(_cache[full_key].keys):
            _cache.move_to_end(full_key)
            return _cache[full_key].subset(self.keys)
        outputs = self._run(split)
        if full_key is not None:
            _cache[full_key] = outputs
            _cache.move_to_end(full_key)
            # At most a few splits, and (beyond the newest) within max_bytes() in all.
            while len(_cache) > _CACHE_ENTRIES or (
                    len(_cache) > 1 and sum(entry.nbytes for entry in _cache.values()) > max_bytes()):
                _cache.popitem(last=False)
        return outputs

    def _function(self):
        import tensorflow as tf

        if self._forward is None:
            teacher, keys = self.teacher, self.keys
            self._forward = tf.function(lambda features: pack(teacher(features), keys), reduce_retracing=True)
        return self._forward

    def _run(self, split):
        from tfdistill.data.pipeline import length_sorted_batches

        features = self.preprocessor.tokenize(split)
        lengths = features["attention_mask"].sum(axis=1)
        # The labels carry each example's index, so the outputs land in split order.
        _, dataset = length_sorted_batches(features, self.batch_size)
        forward, logits = self._function(), None
        per_example = {key: [None] * len(split) for key in self.keys if key not in PER_EXAMPLE}
        for batch, rows in dataset:
            outputs = {name[len(PREFIX):]: value.numpy() for name, value in forward(batch).items()}
            rows = rows.numpy()
            if "logits" in outputs:
                if logits is None:
                    logits = np.empty((len(split), outputs["logits"].shape[1]), np.float32)
                logits[rows] = outputs["logits"]
            for key, values in per_example.items():
                for array, row in zip(outputs[key], rows):
                    n = lengths[row]
                    values[row] = (array[:n] if key in PER_TOKEN else array[..., :n, :n]).copy()
        return CachedOutputs(logits, per_example)


def with_teacher_outputs(split, outputs, make_dataset):
    """Builds `make_dataset(split)` with each batch's teacher outputs added to its features.

    Args:
        split: `tfdistill.data.Split`.
        outputs: `CachedOutputs` of the split (`TeacherOutputs`).
        make_dataset: callable `Split -> tf.data.Dataset` of `(features, labels)` batches
            (`make_tf_dataset` with its shuffling and bucketing arguments).

    Returns:
        `tf.data.Dataset` of `(features, labels)` with the same batches in the same order as
        `make_dataset(split)`, and the features of `pack`: `features["teacher_logits"]`
        float32 `[batch, num_labels]`, `teacher_hidden_states`, `teacher_attentions`, ...

    Raises:
        ValueError: `outputs` does not have one row per example.

    Example:
    >>> logits = np.zeros((len(data.train), 2), np.float32)  # TeacherOutputs(teacher, preprocessor)(data.train).logits
    >>> train = with_teacher_outputs(data.train, CachedOutputs(logits, {}), lambda s: preprocessor.dataset(s, 8))
    >>> features, labels = next(iter(train))
    >>> sorted(features), labels.numpy().tolist() == data.train.labels[:8].tolist()
    (['attention_mask', 'input_ids', 'teacher_logits', 'token_type_ids'], True)
    """
    import tensorflow as tf

    counts = {len(values) for values in outputs.per_example.values()}
    counts |= set() if outputs.logits is None else {len(outputs.logits)}
    if counts != {len(split)}:
        raise ValueError(f"Got teacher outputs for {sorted(counts)} examples but the split has {len(split)}.")
    # The labels carry example indices through the pipeline (shuffle and bucketing ignore them).
    indexed = dataclasses.replace(split, labels=np.arange(len(split), dtype=np.int32))
    labels = tf.constant(np.asarray(split.labels, np.int32))
    logits = None if outputs.logits is None else tf.constant(np.asarray(outputs.logits, np.float32))
    keys = list(outputs.per_example)
    dtypes = [tf.as_dtype(outputs.per_example[key][0].dtype) for key in keys]

    def padded(index, width):
        # numpy, outside the graph: the arrays can be larger than a graph constant may be.
        return tuple(outputs.padded(key, index, int(width)) for key in keys)

    def attach(features, index):
        extra = {} if logits is None else {FEATURE: tf.gather(logits, index)}
        if keys:
            width = tf.shape(features["input_ids"])[1]
            for key, value in zip(keys, tf.numpy_function(padded, [index, width], dtypes, stateful=False)):
                shape = outputs.per_example[key][0].shape
                value.set_shape([None, None, *shape[1:]] if key in PER_TOKEN else [None, *shape[:2], None, None])
                extra[PREFIX + key] = value
        return dict(features, **extra), tf.gather(labels, index)

    dataset = make_dataset(indexed).map(attach, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return dataset.prefetch(tf.data.AUTOTUNE)


def pack(outputs, keys):
    """A batch of teacher outputs as the features `with_teacher_outputs` adds: `teacher_logits`
    float32 `[batch, num_labels]`, `teacher_hidden_states` `[batch, seq, layers + 1, hidden]`,
    `teacher_attentions` and `teacher_attention_scores` `[batch, layers, heads, seq, seq]`, in
    the dtype the teacher computed them in (logits: float32). `cached_outputs` undoes it.

    Example:
    >>> features = pack(teacher(features), ("logits", "hidden_states"))
    >>> sorted(features), features["teacher_hidden_states"].shape
    (['teacher_hidden_states', 'teacher_logits'], TensorShape([4, 16, 5, 32]))
    """
    import tensorflow as tf

    from tfdistill.training.precision import float32_outputs

    packed = {}
    for key in keys:
        if key in PER_EXAMPLE:
            packed[PREFIX + key] = float32_outputs(outputs, [key])[key]
        else:
            packed[PREFIX + key] = tf.stack(outputs[key], axis=_layer_axis(key))
    return packed


def cached_outputs(features):
    """The teacher outputs a batch carries (`with_teacher_outputs`), as the teacher gives them
    (lists per layer) in float32; None when it carries none.

    Example:
    >>> import numpy as np
    >>> cached_outputs({"input_ids": np.zeros((1, 3), np.int32)}) is None
    True
    >>> outputs = cached_outputs({FEATURE: np.zeros((1, 2), np.float32),
    ...                           "teacher_hidden_states": np.zeros((1, 3, 2, 4), np.float32)})
    >>> outputs["logits"].shape, len(outputs["hidden_states"]), outputs["hidden_states"][0].shape
    (TensorShape([1, 2]), 2, TensorShape([1, 3, 4]))
    """
    import tensorflow as tf

    if not isinstance(features, dict) or not any(PREFIX + key in features for key in CACHEABLE):
        return None
    outputs = {}
    for key in CACHEABLE:
        if PREFIX + key in features:
            value = tf.cast(features[PREFIX + key], tf.float32)
            outputs[key] = value if key in PER_EXAMPLE else tf.unstack(value, axis=_layer_axis(key))
    return outputs


def model_features(features):
    """The features without the cached teacher outputs (the models' inputs only).

    Example:
    >>> sorted(model_features({"input_ids": 1, FEATURE: 2}))
    ['input_ids']
    """
    if not isinstance(features, dict):
        return features
    return {key: value for key, value in features.items() if not key.startswith(PREFIX)}


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
