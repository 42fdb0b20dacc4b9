"""`distill`: one call from teacher, student and data to a trained student (optionally
TinyBERT's two stages), used by `recipes/distill.py` and the pipeline."""

import os
import time

from tfdistill.data.pipeline import check_max_length, make_tf_dataset
from tfdistill.data.tokenizer import check_tokenizer
from tfdistill.distill import losses as losses_lib
from tfdistill.distill.augment import EmbeddingNeighbourAugmenter, concatenate
from tfdistill.distill.distiller import Distiller, check_same_vocabulary
from tfdistill.training import optimization
from tfdistill.training.callbacks import TerminateOnNonFinite, TrainingBackup

DEFAULT_LOSSES = ("logit_kd", "hard_label")


def split_stages(terms):
    """Splits loss terms into TinyBERT's intermediate stage (terms that do not read logits)
    and prediction stage (terms that do)."""
    terms = [losses_lib.get(term) for term in terms]
    intermediate = [term for term in terms if "logits" not in term.requires]
    prediction = [term for term in terms if "logits" in term.requires]
    return intermediate, prediction


def check_vocabularies(teacher, student, tokenizer):
    """Refuses a teacher, student and tokenizer that do not share one vocabulary.

    Distillation feeds the same token ids to both models, so both embedding tables must have one
    row per tokenizer id.

    Args:
        teacher: a tfdistill `BertModel` (other teachers, without `bert_config`, are not checked).
        student: a tfdistill `BertModel`.
        tokenizer: `tfdistill.Tokenizer`.

    Raises:
        ValueError: the vocabulary sizes differ.

    Example:
    >>> check_vocabularies(teacher, student, tokenizer)  # doctest: +SKIP
    """
    check_same_vocabulary(teacher, student)
    check_tokenizer(student.bert_config.vocab_size, tokenizer, "the student")


def importance_features(tokenizer, split, max_length, examples=512):
    """Tokenizes the first `examples` of `split`: the data `student_from_teacher` scores the
    teacher's heads and feed-forward units on."""
    pairs = None if split.text_pairs is None else split.text_pairs[:examples]
    return tokenizer(split.texts[:examples], pairs, max_length=max_length)


def with_steps(dataset, steps):
    """Declares the number of batches of a (bucketed) dataset whose count tf.data cannot infer.

    Without it, the first epoch of every `fit` call advances the optimizer's step counter (which
    drives the learning-rate schedule) once more than it has batches, so a resumed run's schedule
    would drift from an uninterrupted one's.
    """
    import tensorflow as tf

    return dataset.apply(tf.data.experimental.assert_cardinality(steps))


def _build(distiller, max_length):
    """Creates the Distiller's weights before `fit`, so a backup restores into them at once
    (without touching the training data, whose shuffle order a resume must repeat)."""
    import numpy as np

    ids = np.zeros((1, max_length), np.int32)
    distiller({"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": ids})


def augmented_train_split(teacher, tokenizer, split, copies, seed=0):
    """Returns `split` plus `copies` teacher-embedding-neighbour augmentations of it."""
    table = teacher.get_layer("word_embeddings").get_weights()[0]
    augmenter = EmbeddingNeighbourAugmenter(tokenizer.vocab, table, seed=seed)
    return concatenate(split, augmenter.augment_split(split, copies))


def distill(teacher, student, tokenizer, data, *, losses=DEFAULT_LOSSES, max_length=64, epochs=3,
            intermediate_epochs=0, batch_size=32, learning_rate=1e-4, augment=0, seed=0, callbacks=(),
            verbose=1, backup_dir=None):
    """Trains `student` from `teacher` on `data.train` and returns what happened.

    With `intermediate_epochs > 0` it runs TinyBERT's two stages: first only the terms that
    do not read logits (hidden states, attentions, embeddings, relations), then only the
    terms that do (logit KD, hard labels) for `epochs`. Otherwise every term trains together.

    Args:
        teacher: a tfdistill `BertModel` classifier (frozen).
        student: a `BertModel` with the same vocabulary and labels.
        tokenizer: `tfdistill.Tokenizer`.
        data: `tfdistill.data.TextClassificationData`.
        losses: loss terms (names, dicts or instances).
        max_length: int.
        epochs: int >= 1, epochs of the (final) stage.
        intermediate_epochs: int >= 0, epochs of TinyBERT's intermediate stage.
        batch_size: int.
        learning_rate: float, AdamW peak learning rate.
        augment: int >= 0, embedding-neighbour copies of every training example (labelled by
            the teacher's soft targets only).
        seed: int.
        callbacks: Keras callbacks for the final stage's `fit`.
        verbose: Keras verbosity.
        backup_dir: optional folder where every finished epoch is backed up (`TrainingBackup`,
            one sub-folder per stage); a call with the same arguments and folder resumes after
            the last finished epoch, with the same data order. Delete it once the student is
            saved.

    Returns:
        dict with `history` (final stage, resumed epochs included), `intermediate_history`,
        `train_seconds`.

    Raises:
        ValueError: `max_length` exceeds the student's positions, the teacher, student and
            tokenizer have different vocabularies, or an epoch count is out of range.
        NonFiniteLossError: a loss term became NaN or infinite (the message names the term, the
            epoch and the step); the backup keeps the last finished epoch.

    Example:
    >>> distill(teacher, student, tokenizer, data, losses=["logit_kd", "hard_label", "hidden_mse"])  # doctest: +SKIP
    """
    check_max_length(max_length, student.bert_config.max_position_embeddings)
    check_vocabularies(teacher, student, tokenizer)
    if epochs < 1 or intermediate_epochs < 0 or augment < 0:
        raise ValueError(f"Need epochs >= 1, intermediate_epochs >= 0 and augment >= 0; got {epochs}, "
                         f"{intermediate_epochs}, {augment}.")
    train_split = augmented_train_split(teacher, tokenizer, data.train, augment, seed) if augment else data.train
    train = make_tf_dataset(train_split, tokenizer, max_length, batch_size, shuffle=True, seed=seed,
                            bucket_by_length=True)
    validation = make_tf_dataset(data.validation, tokenizer, max_length, batch_size * 2, bucket_by_length=True)
    steps_per_epoch = -(-len(train_split) // batch_size)
    train = with_steps(train, steps_per_epoch)
    start = time.perf_counter()
    result = {"intermediate_history": None}
    stages = [("train", list(losses), epochs, callbacks)]
    if intermediate_epochs:
        intermediate, prediction = split_stages(losses)
        if not intermediate or not prediction:
            raise ValueError("intermediate_epochs needs both intermediate terms (hidden_mse, attention, ...) and "
                             "prediction terms (logit_kd, hard_label) in losses.")
        stages = [("intermediate", intermediate, intermediate_epochs, ()),
                  ("prediction", prediction, epochs, callbacks)]
    for stage, terms, stage_epochs, stage_callbacks in stages:
        distiller = Distiller(student=student, teacher=teacher, losses=terms)
        distiller.compile(optimizer=optimization.adamw(learning_rate, stage_epochs * steps_per_epoch))
        # The backup goes last so it saves each epoch after the other callbacks' epoch-end work
        # (tfmot's re-masking); it also restores last, after UpdatePruningStep has set a fresh
        # run's pruning step to 0, so the restored step wins.
        stage_callbacks = [*stage_callbacks, TerminateOnNonFinite()]
        if backup_dir:
            _build(distiller, max_length)
            stage_callbacks.append(TrainingBackup(os.path.join(backup_dir, stage), train))
        history = distiller.fit(train, validation_data=validation, epochs=stage_epochs,
                                callbacks=stage_callbacks, verbose=verbose)
        if len(stages) == 2 and result["intermediate_history"] is None:
            result["intermediate_history"] = history.history
    result["history"] = history.history
    result["train_seconds"] = time.perf_counter() - start
    return result
