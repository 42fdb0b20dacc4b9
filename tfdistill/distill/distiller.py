"""`Distiller`: a Keras model that trains a student from a frozen teacher with `fit`."""

import tensorflow as tf
import tf_keras as keras

from tfdistill.distill import losses as losses_lib
from tfdistill.distill import teacher_cache
from tfdistill.distill.teachers import as_teacher
from tfdistill.training.precision import float32_outputs


@keras.utils.register_keras_serializable(package="tfdistill")
class Distiller(keras.Model):
    """Distils a frozen teacher into a student with any mix of loss terms.

    `compile`, `fit`, `evaluate` and callbacks work as for any Keras model; `call` and
    `predict` run the student and return its logits (a student without a head: its last hidden
    states). In `fit`, every loss term, the weighted
    `loss`, the student's `accuracy` and the teacher-student `agreement` (share of examples
    where their argmax agrees) appear in the progress bar and in `History`; `evaluate` adds
    the same for validation data. Only the student and the loss-owned projections train; the
    teacher runs in inference mode and its weights never change. A student without a
    classification head (general distillation, `tfdistill.distill.general`) trains on terms
    that read no logits and reports neither `accuracy` nor `agreement`.

    Batches whose features carry teacher outputs (`"teacher_logits"`, `"teacher_hidden_states"`,
    ...: `tfdistill.distill.teacher_cache`) use those instead of running the teacher. Models built under
    a mixed-precision policy (`tfdistill.training.precision`) train as they are: every loss
    term reads their outputs cast to float32.

    Args:
        student: a tf-keras model returning the standard output dict (`build_bert`).
        teacher: a tfdistill `BertModel`, a transformers TF BERT, a keras-hub BERT, or a
            `tfdistill.distill.teachers.Teacher`.
        losses: list of loss terms: registered names (`"logit_kd"`), `{"name": ..., **kwargs}`
            dicts, or `DistillationLoss` instances. Default: `["logit_kd", "hard_label"]`.
        name: str.

    Raises:
        ValueError: no loss terms, duplicate term names, or a term the models cannot feed
            (e.g. value relations from a teacher that does not expose values).

    Example:
    >>> distiller = Distiller(student=student, teacher=teacher,
    ...                       losses=["logit_kd", "hard_label", {"name": "hidden_mse"}])
    >>> distiller.compile(optimizer="adam")
    >>> history = distiller.fit(train, validation_data=validation, epochs=3)  # doctest: +SKIP

    One step of `fit`, and the metrics it reports:

    >>> sorted(distiller.train_step(next(iter(train))))
    ['accuracy', 'agreement', 'hard_label', 'hidden_mse', 'logit_kd', 'loss']
    >>> distiller(next(iter(validation))[0]).shape  # the student's logits
    TensorShape([8, 2])
    """

    def __init__(self, student, teacher, losses=("logit_kd", "hard_label"), name="distiller", **kwargs):
        super().__init__(name=name, **kwargs)
        # `train_step` and `test_step` return Keras metric results, which `Metric.result` has
        # already aggregated over every replica and worker, so each replica holds the same global
        # value. Keras' default ("auto": "sum" except on TPU) would add them up again across the
        # workers of a MultiWorkerMirroredStrategy: the per-batch logs (progress bar, batch
        # callbacks) read N times too high for N workers. "first" takes one replica's copy.
        self.distribute_reduction_method = "first"
        self.student = student
        self.teacher = as_teacher(teacher)
        check_same_vocabulary(self.teacher.model, student)
        # The teacher is not an attribute Keras tracks for training: it is frozen and never saved
        # with the student; `trainable = False` also protects it if it is shared elsewhere.
        self.teacher.model.trainable = False
        self.loss_terms = [losses_lib.get(term) for term in losses]
        # Logits (and the accuracy and agreement read from them) exist only for a student with a head.
        self._with_logits = bool(student_spec_of(student).num_labels)
        self._check_terms()
        self._trackers = {term.name: keras.metrics.Mean(name=term.name) for term in self.loss_terms}
        self._total_tracker = keras.metrics.Mean(name="loss")
        self._accuracy = keras.metrics.SparseCategoricalAccuracy(name="accuracy")
        self._agreement = keras.metrics.Mean(name="agreement")

    def _check_terms(self):
        if not self.loss_terms:
            raise ValueError("Distiller needs at least one loss term, e.g. losses=['logit_kd'].")
        names = [term.name for term in self.loss_terms]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"Loss terms {duplicates} appear twice; give each a distinct name=.")
        student_spec = student_spec_of(self.student)
        for term in self.loss_terms:
            missing = [key for key in term.requires if key not in self.teacher.provides]
            if missing:
                raise ValueError(
                    f"Loss {term.name!r} needs the teacher outputs {missing}, which a "
                    f"{type(self.teacher).__name__} does not provide (it gives {list(self.teacher.provides)}); "
                    "use a tfdistill BertModel teacher (tfdistill.load_pretrained) or drop the term.")
            term.build_for(student_spec, self.teacher.spec)

    @property
    def metrics(self):
        predictions = [self._accuracy, self._agreement] if self._with_logits else []
        return [self._total_tracker, *self._trackers.values(), *predictions]

    def call(self, inputs, training=None):
        outputs = self.student(teacher_cache.model_features(inputs), training=training)
        # A student without a head (general distillation) gives its last hidden states instead.
        return tf.cast(outputs["logits"] if self._with_logits else outputs["hidden_states"][-1], tf.float32)

    def _required(self):
        return self._term_keys() | ({"logits"} if self._with_logits else set())

    def _term_keys(self):
        """The teacher outputs the loss terms read (the metrics may read its logits too)."""
        return {key for term in self.loss_terms for key in term.requires}

    def _teacher_outputs(self, features):
        """The teacher's outputs that the terms read, float32: cached ones when the batch has them."""
        cached = teacher_cache.cached_outputs(features)
        if cached is not None:
            missing = sorted(self._term_keys() - set(cached))
            if missing:
                raise ValueError(f"The batches carry cached teacher outputs {sorted(cached)}, but the loss terms "
                                 f"also read the teacher's {missing}; build the data with those outputs cached "
                                 "(tfdistill.distill.teacher_cache.keys_to_cache) or without cached outputs.")
            return {key: value for key, value in cached.items() if key in self._required()}
        outputs = float32_outputs(self.teacher(features), self._required())
        return tf.nest.map_structure(tf.stop_gradient, outputs)

    def _student_outputs(self, features, training):
        # Under mixed precision the student's outputs are bfloat16; every term computes in float32.
        return float32_outputs(self.student(features, training=training), self._required())

    def _loss_values(self, features, labels, student_outputs, teacher_outputs):
        values = {term.name: term.compute(student_outputs, teacher_outputs, labels, features["attention_mask"])
                  for term in self.loss_terms}
        total = tf.add_n([term.weight * values[term.name] for term in self.loss_terms])
        if self.student.losses:
            total += tf.add_n(self.student.losses)
        return total, values

    def train_step(self, data):
        features, labels = _unpack(data)
        # Outside the tape: nothing flows back into the teacher, so its activations need not be kept.
        teacher_outputs = self._teacher_outputs(features)
        features = teacher_cache.model_features(features)
        with tf.GradientTape() as tape:
            student_outputs = self._student_outputs(features, training=True)
            total, values = self._loss_values(features, labels, student_outputs, teacher_outputs)
            # Gradients are summed over replicas; scaling keeps the step independent of their number.
            scaled = total / tf.distribute.get_strategy().num_replicas_in_sync
        self.optimizer.minimize(scaled, self.trainable_variables, tape=tape)
        return self._update_metrics(total, values, student_outputs, teacher_outputs, labels)

    def test_step(self, data):
        features, labels = _unpack(data)
        teacher_outputs = self._teacher_outputs(features)
        features = teacher_cache.model_features(features)
        student_outputs = self._student_outputs(features, training=False)
        total, values = self._loss_values(features, labels, student_outputs, teacher_outputs)
        return self._update_metrics(total, values, student_outputs, teacher_outputs, labels)

    def _update_metrics(self, total, values, student_outputs, teacher_outputs, labels):
        self._total_tracker.update_state(total)
        for name, value in values.items():
            self._trackers[name].update_state(value)
        if not self._with_logits:
            return {metric.name: metric.result() for metric in self.metrics}
        logits = student_outputs["logits"]
        known = tf.cast(labels >= 0, tf.float32)
        self._accuracy.update_state(tf.maximum(labels, 0), logits, sample_weight=known)
        if "logits" in teacher_outputs:
            agree = tf.equal(tf.argmax(logits, -1), tf.argmax(teacher_outputs["logits"], -1))
            self._agreement.update_state(tf.cast(agree, tf.float32))
        return {metric.name: metric.result() for metric in self.metrics}

    def get_config(self):
        return {"name": self.name, "losses": [term.get_config() for term in self.loss_terms]}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        raise NotImplementedError(
            "A Distiller is not rebuilt from a config: save the student (tfdistill.save_pretrained) and "
            "create a new Distiller around it.")


def check_same_vocabulary(teacher, student):
    """Refuses a tfdistill teacher and student with different vocabulary sizes (both read the
    same token ids). Teachers without a `bert_config` (transformers, keras-hub) are not checked.

    Raises:
        ValueError: the vocabulary sizes differ.
    """
    teacher_vocab = getattr(getattr(teacher, "bert_config", None), "vocab_size", None)
    student_vocab = getattr(getattr(student, "bert_config", None), "vocab_size", None)
    if None not in (teacher_vocab, student_vocab) and teacher_vocab != student_vocab:
        raise ValueError(
            f"The teacher embeds {teacher_vocab} token ids but the student {student_vocab}: they have "
            "different vocabularies, so one token id would mean different words. Build the student with "
            "tfdistill.student_from_teacher (it keeps the teacher's vocabulary) or with "
            f"vocab_size={teacher_vocab} and the teacher's tokenizer.")


def student_spec_of(model):
    """Returns the `ModelSpec` of a tfdistill student (read from `model.bert_config`)."""
    config = getattr(model, "bert_config", None)
    if config is None:
        raise TypeError(f"The student {model.name!r} has no bert_config; build it with tfdistill.build_bert or "
                        "tfdistill.student_from_teacher.")
    return losses_lib.bert_spec(config)


def _unpack(data):
    features, labels, _ = keras.utils.unpack_x_y_sample_weight(data)
    if labels is None:
        # Unlabelled data (e.g. augmentation): -1 tells label-based terms and metrics to skip it.
        return features, -tf.ones_like(features["input_ids"][:, 0])
    return features, tf.cast(labels, tf.int32)
