"""Distillation loss terms, in a registry keyed by name so a recipe is data.

Every term is a small `keras.layers.Layer` (so the projections it owns train and checkpoint
with the Distiller) with a `weight`, input validation in `build_for`, and `get_config`.
Terms read the standard output dict both models produce (see `build_bert`): `logits`,
`hidden_states`, `attentions`, `attention_scores`, `queries`, `keys`, `values`.

Example:
>>> terms = [get("logit_kd"), get({"loss": "hidden_mse", "weight": 1.0, "layer_map": "last"})]
>>> [(term.name, term.weight) for term in terms]
[('logit_kd', 1.0), ('hidden_mse', 1.0)]
"""

import collections
import math

import tensorflow as tf
import tf_keras as keras

from tfdistill.distill.layer_map import resolve_layer_map

# `attention_size` is the width of the queries/keys/values (heads x head size); None means
# BERT's rule, equal to `hidden_size`.
ModelSpec = collections.namedtuple("ModelSpec", ["num_layers", "hidden_size", "num_heads", "num_labels",
                                                 "attention_size"], defaults=(None,))


def bert_spec(config):
    """Returns the `ModelSpec` of a tfdistill `BertConfig`."""
    return ModelSpec(config.num_layers, config.hidden_size, config.num_heads, config.num_labels,
                     config.attention_size)

_REGISTRY = {}


def register(name):
    """Class decorator: makes a loss term available by `name` in `get`."""
    def decorator(cls):
        cls.registered_name = name
        _REGISTRY[name] = cls
        return keras.utils.register_keras_serializable(package="tfdistill")(cls)
    return decorator


def available():
    """Returns the registered loss names."""
    return sorted(_REGISTRY)


def get(identifier):
    """Returns a loss term from a registered name, a config dict, or an instance.

    A config dict names the term's kind with `"loss"` and may rename it with `"name"` (the
    progress-bar label), so one kind can appear twice: `{"loss": "attention",
    "name": "attention_scores", "target": "scores"}`. Without `"loss"`, `"name"` is the kind.
    `get_config()` output is such a dict.

    Raises:
        ValueError: an unknown kind (the message lists the registered ones).
    """
    if isinstance(identifier, DistillationLoss):
        return identifier
    config = {"loss": identifier} if isinstance(identifier, str) else dict(identifier)
    kind = config.pop("loss", None) or config.pop("name", None)
    if kind not in _REGISTRY:
        raise ValueError(f"Unknown distillation loss {kind!r}; choose from {available()}.")
    return _REGISTRY[kind](**config)


def masked_mean(values, mask):
    """Mean of `values` over the positions where `mask` (same leading shape) is 1.

    Under a tf.distribute strategy with several replicas it is this replica's sum over the
    positions counted on the average replica (all replicas' positions / their number), so that
    the Distiller's 1/replicas scaling and the sum of the replicas' gradients train on the mean
    over every replica's positions, as one device would: replicas hold different numbers of real
    tokens when their batches are padded.
    """
    mask = tf.cast(mask, values.dtype)
    while mask.shape.rank < values.shape.rank:
        mask = mask[..., tf.newaxis]
    mask = tf.broadcast_to(mask, tf.shape(values))
    return tf.reduce_sum(values * mask) / _positions_per_replica(tf.reduce_sum(mask))


def _positions_per_replica(count):
    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync == 1:
        return tf.maximum(count, 1.0)
    total = context.all_reduce(tf.distribute.ReduceOp.SUM, tf.stop_gradient(count))
    return tf.maximum(total, 1.0) / context.num_replicas_in_sync


def kl_divergence(teacher_probs, student_log_probs, axis=-1):
    """KL(teacher || student) summed over `axis`; 0 log 0 counts as 0."""
    teacher_log = tf.math.log(tf.maximum(teacher_probs, 1e-12))
    return tf.reduce_sum(teacher_probs * (teacher_log - student_log_probs), axis=axis)


class DistillationLoss(keras.layers.Layer):
    """Base class of loss terms.

    Args:
        weight: float >= 0, the term's weight in the total loss.
        name: str, the name shown in the progress bar (default: the registered name).

    Subclasses set `requires` (the output keys they read from both models), validate the
    models in `build_for` (creating any projection there), and compute a scalar in `compute`.
    """

    requires = ()

    def __init__(self, weight=1.0, name=None, **kwargs):
        super().__init__(name=name or getattr(self, "registered_name", None), **kwargs)
        if not isinstance(weight, (int, float)) or isinstance(weight, bool) or not weight >= 0 \
                or not math.isfinite(weight):
            raise ValueError(f"Loss {self.name!r}: weight must be a finite number >= 0, got {weight!r}.")
        self.weight = float(weight)

    def build_for(self, student_spec, teacher_spec):
        """Validates the pair of models (`ModelSpec`s) and creates owned variables."""
        self.built = True

    def compute(self, student, teacher, labels, attention_mask):
        """Returns the unweighted scalar loss.

        Args:
            student: dict of student outputs.
            teacher: dict of teacher outputs (no gradient flows into them).
            labels: int `[batch]`; negative ids mark examples without a label.
            attention_mask: int `[batch, seq]`, 1 on real tokens.
        """
        raise NotImplementedError

    def get_config(self):
        return {"loss": self.registered_name, "name": self.name, "weight": self.weight}

    @classmethod
    def from_config(cls, config):
        return cls(**{key: value for key, value in config.items() if key != "loss"})


def _check_same(what, student_value, teacher_value, fix):
    if student_value != teacher_value:
        raise ValueError(f"The student has {student_value} {what} but the teacher has {teacher_value}; {fix}")


@register("logit_kd")
class LogitKD(DistillationLoss):
    """Soft-target KL between temperature-softened distributions, scaled by T^2 (Hinton et al.).

    Args:
        temperature: float > 0.
        weight: float >= 0.
    """

    requires = ("logits",)

    def __init__(self, temperature=2.0, weight=1.0, name=None, **kwargs):
        super().__init__(weight=weight, name=name, **kwargs)
        if not isinstance(temperature, (int, float)) or not temperature > 0 or not math.isfinite(temperature):
            raise ValueError(f"logit_kd: temperature must be a finite number > 0, got {temperature!r}.")
        self.temperature = float(temperature)

    def build_for(self, student_spec, teacher_spec):
        _check_same("labels", student_spec.num_labels, teacher_spec.num_labels,
                    "build the student with the teacher's num_labels.")
        super().build_for(student_spec, teacher_spec)

    def compute(self, student, teacher, labels, attention_mask):
        t = self.temperature
        teacher_probs = tf.nn.softmax(teacher["logits"] / t)
        student_log_probs = tf.nn.log_softmax(student["logits"] / t)
        return tf.reduce_mean(kl_divergence(teacher_probs, student_log_probs)) * t * t

    def get_config(self):
        return {**super().get_config(), "temperature": self.temperature}


@register("logit_mse")
class LogitMSE(DistillationLoss):
    """Mean squared error between student and teacher logits (no temperature)."""

    requires = ("logits",)

    def build_for(self, student_spec, teacher_spec):
        _check_same("labels", student_spec.num_labels, teacher_spec.num_labels,
                    "build the student with the teacher's num_labels.")
        super().build_for(student_spec, teacher_spec)

    def compute(self, student, teacher, labels, attention_mask):
        return tf.reduce_mean(tf.square(student["logits"] - teacher["logits"]))


@register("hard_label")
class HardLabelLoss(DistillationLoss):
    """Cross-entropy of the student's logits with the true labels; negative labels are skipped
    (augmented examples carry only the teacher's soft targets)."""

    requires = ("logits",)

    def compute(self, student, teacher, labels, attention_mask):
        labels = tf.cast(labels, tf.int32)
        known = labels >= 0
        per_example = tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels=tf.maximum(labels, 0), logits=student["logits"])
        return masked_mean(per_example, known)


class _LayerwiseLoss(DistillationLoss):
    """A term over mapped layer pairs, with a learned projection when widths differ.

    Args:
        layer_map: see `resolve_layer_map` (`"uniform"`, `"last"`, or a list).
        weight: float >= 0.
    """

    def __init__(self, layer_map="uniform", weight=1.0, name=None, **kwargs):
        super().__init__(weight=weight, name=name, **kwargs)
        self.layer_map = list(layer_map) if isinstance(layer_map, (list, tuple)) else layer_map
        self.pairs = None
        self.projections = []

    def _resolve_pairs(self, student_spec, teacher_spec):
        teacher_layers = resolve_layer_map(self.layer_map, student_spec.num_layers, teacher_spec.num_layers)
        return list(zip(range(1, student_spec.num_layers + 1), teacher_layers))

    def _make_projections(self, count, student_width, teacher_width):
        # TinyBERT's W_h: student states are mapped into the teacher's width (one per pair).
        if student_width == teacher_width:
            return []
        projections = []
        for index in range(count):
            dense = keras.layers.Dense(teacher_width, name=f"{self.name}_projection_{index}")
            dense.build((None, None, student_width))
            projections.append(dense)
        return projections

    def _project(self, index, states):
        return self.projections[index](states) if self.projections else states

    def get_config(self):
        layer_map = self.layer_map if isinstance(self.layer_map, str) else list(self.layer_map)
        return {**super().get_config(), "layer_map": layer_map}


@register("hidden_mse")
class HiddenStateMSE(_LayerwiseLoss):
    """MSE between mapped hidden states over real tokens (TinyBERT), averaged over pairs; a
    learned linear projection maps a narrower student into the teacher's width."""

    requires = ("hidden_states",)

    def build_for(self, student_spec, teacher_spec):
        self.pairs = self._resolve_pairs(student_spec, teacher_spec)
        self.projections = self._make_projections(len(self.pairs), student_spec.hidden_size,
                                                  teacher_spec.hidden_size)
        self.built = True

    def compute(self, student, teacher, labels, attention_mask):
        terms = []
        for index, (s, t) in enumerate(self.pairs):
            diff = self._project(index, student["hidden_states"][s]) - teacher["hidden_states"][t]
            terms.append(masked_mean(tf.reduce_mean(tf.square(diff), axis=-1), attention_mask))
        return tf.add_n(terms) / len(terms)


@register("embedding_mse")
class EmbeddingMSE(_LayerwiseLoss):
    """MSE between the embedding-layer outputs (`hidden_states[0]`), projected if narrower."""

    requires = ("hidden_states",)

    def __init__(self, weight=1.0, name=None, **kwargs):
        super().__init__(layer_map="uniform", weight=weight, name=name, **kwargs)

    def build_for(self, student_spec, teacher_spec):
        self.pairs = [(0, 0)]
        self.projections = self._make_projections(1, student_spec.hidden_size, teacher_spec.hidden_size)
        self.built = True

    def compute(self, student, teacher, labels, attention_mask):
        diff = self._project(0, student["hidden_states"][0]) - teacher["hidden_states"][0]
        return masked_mean(tf.reduce_mean(tf.square(diff), axis=-1), attention_mask)

    def get_config(self):
        return DistillationLoss.get_config(self)


@register("hidden_cosine")
class HiddenCosine(_LayerwiseLoss):
    """1 - cosine similarity of mapped hidden states over real tokens (DistilBERT's cosine
    loss, which used the last layer: `layer_map="last"` with `last_only=True`).

    Args:
        layer_map: see `resolve_layer_map`.
        last_only: bool, use only the last student layer's pair.
        weight: float >= 0.
    """

    requires = ("hidden_states",)

    def __init__(self, layer_map="uniform", last_only=True, weight=1.0, name=None, **kwargs):
        super().__init__(layer_map=layer_map, weight=weight, name=name, **kwargs)
        self.last_only = bool(last_only)

    def build_for(self, student_spec, teacher_spec):
        pairs = self._resolve_pairs(student_spec, teacher_spec)
        self.pairs = pairs[-1:] if self.last_only else pairs
        self.projections = self._make_projections(len(self.pairs), student_spec.hidden_size,
                                                  teacher_spec.hidden_size)
        self.built = True

    def compute(self, student, teacher, labels, attention_mask):
        terms = []
        for index, (s, t) in enumerate(self.pairs):
            student_states = tf.math.l2_normalize(self._project(index, student["hidden_states"][s]), axis=-1)
            teacher_states = tf.math.l2_normalize(teacher["hidden_states"][t], axis=-1)
            cosine = tf.reduce_sum(student_states * teacher_states, axis=-1)
            terms.append(masked_mean(1.0 - cosine, attention_mask))
        return tf.add_n(terms) / len(terms)

    def get_config(self):
        return {**super().get_config(), "last_only": self.last_only}


def _pair_mask(attention_mask, dtype):
    """`[batch, 1, seq, seq]`: 1 where both the query and the key are real tokens."""
    mask = tf.cast(attention_mask, dtype)
    return mask[:, tf.newaxis, :, tf.newaxis] * mask[:, tf.newaxis, tf.newaxis, :]


@register("attention")
class AttentionLoss(_LayerwiseLoss):
    """Attention-map transfer over mapped layers, padding masked.

    Args:
        target: `"probs"`, KL(teacher || student) of the attention distributions per query
            (MiniLM's choice), or `"scores"`, MSE of the pre-softmax scores (TinyBERT).
        layer_map: see `resolve_layer_map`.
        head_average: bool, average the maps over heads first, so head counts may differ.
        weight: float >= 0.
    """

    requires = ("attentions", "attention_scores")
    TARGETS = ("probs", "scores")

    def __init__(self, target="probs", layer_map="uniform", head_average=False, weight=1.0, name=None,
                 **kwargs):
        super().__init__(layer_map=layer_map, weight=weight, name=name, **kwargs)
        if target not in self.TARGETS:
            raise ValueError(f"attention: target must be one of {self.TARGETS}, got {target!r}.")
        self.target, self.head_average = target, bool(head_average)
        self.requires = ("attentions",) if target == "probs" else ("attention_scores",)

    def build_for(self, student_spec, teacher_spec):
        if not self.head_average and student_spec.num_heads != teacher_spec.num_heads:
            raise ValueError(
                f"attention: the student has {student_spec.num_heads} heads and the teacher "
                f"{teacher_spec.num_heads}; pass head_average=True to compare head-averaged maps, or use "
                "'minilm_relation', which works for any head count.")
        self.pairs = self._resolve_pairs(student_spec, teacher_spec)
        self.built = True

    def _maps(self, outputs, layer):
        key = "attentions" if self.target == "probs" else "attention_scores"
        maps = outputs[key][layer - 1]
        return tf.reduce_mean(maps, axis=1, keepdims=True) if self.head_average else maps

    def compute(self, student, teacher, labels, attention_mask):
        query_mask = tf.cast(attention_mask, tf.float32)[:, tf.newaxis, :]
        pair_mask = _pair_mask(attention_mask, tf.float32)
        terms = []
        for s, t in self.pairs:
            student_maps, teacher_maps = self._maps(student, s), self._maps(teacher, t)
            if self.target == "probs":
                per_query = kl_divergence(teacher_maps, tf.math.log(tf.maximum(student_maps, 1e-12)))
                terms.append(masked_mean(per_query, query_mask))
            else:
                terms.append(masked_mean(tf.square(student_maps - teacher_maps), pair_mask))
        return tf.add_n(terms) / len(terms)

    def get_config(self):
        return {**super().get_config(), "target": self.target, "head_average": self.head_average}


@register("minilm_relation")
class MiniLMRelation(DistillationLoss):
    """MiniLM-v2 self-attention relation transfer: for queries, keys and values, the scaled
    dot-product relations between positions, split into the same number of relation heads on
    both sides, so the student's width and head count may differ from the teacher's.

    Args:
        relations: sequence of `"query"`, `"key"`, `"value"` (value-value is MiniLM-v1's).
        relation_heads: int, relation heads on both sides; must divide both widths
            (default: the largest count up to the teacher's heads that divides both).
        teacher_layer: int, teacher block (1-based; -1 = the last). MiniLM-v2 recommends an
            upper-middle layer for large teachers.
        student_layer: int, student block (1-based; -1 = the last).
        weight: float >= 0.
    """

    KINDS = {"query": "queries", "key": "keys", "value": "values"}

    def __init__(self, relations=("query", "key", "value"), relation_heads=None, teacher_layer=-1,
                 student_layer=-1, weight=1.0, name=None, **kwargs):
        super().__init__(weight=weight, name=name, **kwargs)
        unknown = sorted(set(relations) - set(self.KINDS))
        if unknown or not relations:
            raise ValueError(f"minilm_relation: relations must be a non-empty subset of {sorted(self.KINDS)}, "
                             f"got {list(relations)}.")
        self.relations = list(relations)
        self.relation_heads = relation_heads
        self.teacher_layer, self.student_layer = teacher_layer, student_layer
        self.requires = tuple(self.KINDS[kind] for kind in self.relations)

    def build_for(self, student_spec, teacher_spec):
        widths = {who: spec.attention_size or spec.hidden_size
                  for who, spec in (("student", student_spec), ("teacher", teacher_spec))}
        heads = self.relation_heads or max(
            h for h in range(1, teacher_spec.num_heads + 1) if all(width % h == 0 for width in widths.values()))
        for who, width in widths.items():
            if width % heads:
                raise ValueError(f"minilm_relation: relation_heads={heads} does not divide the {who}'s attention "
                                 f"width {width}; choose relation_heads dividing both widths.")
        self.heads = heads
        self.student_index = _block_index(self.student_layer, student_spec.num_layers, "student_layer")
        self.teacher_index = _block_index(self.teacher_layer, teacher_spec.num_layers, "teacher_layer")
        self.built = True

    def _relations(self, per_head_states, key_bias):
        # [batch, heads, seq, size] -> [batch, relation_heads, seq, width / relation_heads].
        batch, heads, seq, size = tf.unstack(tf.shape(per_head_states))
        merged = tf.reshape(tf.transpose(per_head_states, [0, 2, 1, 3]), [batch, seq, heads * size])
        split = tf.transpose(tf.reshape(merged, [batch, seq, self.heads, -1]), [0, 2, 1, 3])
        width = tf.cast(tf.shape(split)[-1], split.dtype)
        scores = tf.matmul(split, split, transpose_b=True) / tf.sqrt(width)
        return tf.nn.log_softmax(scores + key_bias, axis=-1)

    def compute(self, student, teacher, labels, attention_mask):
        mask = tf.cast(attention_mask, tf.float32)
        key_bias = (1.0 - mask[:, tf.newaxis, tf.newaxis, :]) * -10000.0
        query_mask = mask[:, tf.newaxis, :]
        terms = []
        for kind in self.relations:
            key = self.KINDS[kind]
            teacher_log = self._relations(teacher[key][self.teacher_index], key_bias)
            student_log = self._relations(student[key][self.student_index], key_bias)
            terms.append(masked_mean(kl_divergence(tf.exp(teacher_log), student_log), query_mask))
        return tf.add_n(terms) / len(terms)

    def get_config(self):
        return {**super().get_config(), "relations": list(self.relations), "relation_heads": self.relation_heads,
                "teacher_layer": self.teacher_layer, "student_layer": self.student_layer}


def _block_index(layer, num_layers, what):
    """0-based index into per-block output lists for a 1-based (or -1 = last) block number."""
    if layer == -1:
        return num_layers - 1
    if not isinstance(layer, int) or not 1 <= layer <= num_layers:
        raise ValueError(f"minilm_relation: {what}={layer!r} is outside 1..{num_layers} (or -1 for the last).")
    return layer - 1
