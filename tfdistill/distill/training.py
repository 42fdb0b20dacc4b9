"""`distill`: one call from teacher, student and data to a trained student (optionally
TinyBERT's two stages), used by `recipes/distill.py` and the pipeline."""

import time

from tfdistill.data.pipeline import check_max_length, make_tf_dataset
from tfdistill.distill import losses as losses_lib
from tfdistill.distill.augment import EmbeddingNeighbourAugmenter, concatenate
from tfdistill.distill.distiller import Distiller
from tfdistill.training import optimization

DEFAULT_LOSSES = ("logit_kd", "hard_label")


def split_stages(terms):
    """Splits loss terms into TinyBERT's intermediate stage (terms that do not read logits)
    and prediction stage (terms that do)."""
    terms = [losses_lib.get(term) for term in terms]
    intermediate = [term for term in terms if "logits" not in term.requires]
    prediction = [term for term in terms if "logits" in term.requires]
    return intermediate, prediction


def augmented_train_split(teacher, tokenizer, split, copies, seed=0):
    """Returns `split` plus `copies` teacher-embedding-neighbour augmentations of it."""
    table = teacher.get_layer("word_embeddings").get_weights()[0]
    augmenter = EmbeddingNeighbourAugmenter(tokenizer.vocab, table, seed=seed)
    return concatenate(split, augmenter.augment_split(split, copies))


def distill(teacher, student, tokenizer, data, *, losses=DEFAULT_LOSSES, max_length=64, epochs=3,
            intermediate_epochs=0, batch_size=32, learning_rate=1e-4, augment=0, seed=0, callbacks=(),
            verbose=1):
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

    Returns:
        dict with `history` (final stage), `intermediate_history`, `train_seconds`.

    Example:
    >>> distill(teacher, student, tokenizer, data, losses=["logit_kd", "hard_label", "hidden_mse"])  # doctest: +SKIP
    """
    check_max_length(max_length, student.bert_config.max_position_embeddings)
    if epochs < 1 or intermediate_epochs < 0 or augment < 0:
        raise ValueError(f"Need epochs >= 1, intermediate_epochs >= 0 and augment >= 0; got {epochs}, "
                         f"{intermediate_epochs}, {augment}.")
    train_split = augmented_train_split(teacher, tokenizer, data.train, augment, seed) if augment else data.train
    train = make_tf_dataset(train_split, tokenizer, max_length, batch_size, shuffle=True, seed=seed,
                            bucket_by_length=True)
    validation = make_tf_dataset(data.validation, tokenizer, max_length, batch_size * 2, bucket_by_length=True)
    steps_per_epoch = -(-len(train_split) // batch_size)
    start = time.perf_counter()
    result = {"intermediate_history": None}
    stages = [(list(losses), epochs, callbacks)]
    if intermediate_epochs:
        intermediate, prediction = split_stages(losses)
        if not intermediate or not prediction:
            raise ValueError("intermediate_epochs needs both intermediate terms (hidden_mse, attention, ...) and "
                             "prediction terms (logit_kd, hard_label) in losses.")
        stages = [(intermediate, intermediate_epochs, ()), (prediction, epochs, callbacks)]
    for terms, stage_epochs, stage_callbacks in stages:
        distiller = Distiller(student=student, teacher=teacher, losses=terms)
        distiller.compile(optimizer=optimization.adamw(learning_rate, stage_epochs * steps_per_epoch))
        history = distiller.fit(train, validation_data=validation, epochs=stage_epochs,
                                callbacks=list(stage_callbacks), verbose=verbose)
        if len(stages) == 2 and result["intermediate_history"] is None:
            result["intermediate_history"] = history.history
    result["history"] = history.history
    result["train_seconds"] = time.perf_counter() - start
    return result
