"""General distillation (TinyBERT's first stage): a pretrained teacher teaches a student its
representations on unlabeled text, before any task.

Only terms that read no logits train here (there are no labels, and a pretrained teacher has no
head): MiniLM's self-attention relations (`minilm_relation`, any width and head count: the
default) or TinyBERT's hidden states and attention maps. The student that comes out has no
classification head; task distillation starts from it (`distill` with a student loaded by
`tfdistill.load_pretrained(folder, num_labels=...)`, or `--student_init` in the recipes).
"""

import time

import numpy as np

from tfdistill.data.datasets import Split
from tfdistill.distill import losses as losses_lib
from tfdistill.distill.distiller import Distiller, check_same_vocabulary
from tfdistill.training import precision
from tfdistill.training.datasets import training_datasets
from tfdistill.training.loop import train_model

# Named loss recipes of the general stage. MiniLM-v2 distils the query-query, key-key and
# value-value relations of one late teacher block into the student's last block; TinyBERT the
# embeddings, every mapped hidden state (through a learned projection when narrower) and the
# attention maps (head-averaged when head counts differ).
GENERAL_LOSSES = {
    "minilm": ({"loss": "minilm_relation"},),
    "tinybert": ({"loss": "embedding_mse"}, {"loss": "hidden_mse", "layer_map": "uniform"},
                 {"loss": "attention", "target": "probs", "head_average": True, "layer_map": "uniform"}),
}
# Held out of the unlabeled texts to choose the epoch on (at least 1, at most this many texts).
VALIDATION_TEXTS = 1000


def general_losses(losses):
    """Returns the loss-term configs for `losses`: a name of `GENERAL_LOSSES` or a list of terms.

    Raises:
        ValueError: a term reads logits (general distillation has no labels and no head).

    Example:
    >>> [term["loss"] for term in general_losses("tinybert")]
    ['embedding_mse', 'hidden_mse', 'attention']
    >>> general_losses(["logit_kd"])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ValueError: General distillation trains only terms that read no logits ...
    """
    if isinstance(losses, str):
        if losses not in GENERAL_LOSSES:
            raise ValueError(f"Unknown general-distillation losses {losses!r}; choose one of {sorted(GENERAL_LOSSES)} "
                             "or pass a list of loss terms.")
        losses = GENERAL_LOSSES[losses]
    terms = [dict(term) if isinstance(term, dict) else term for term in losses]
    reading_logits = [losses_lib.get(term).name for term in terms if "logits" in losses_lib.get(term).requires]
    if reading_logits:
        raise ValueError(f"General distillation trains only terms that read no logits (there are no labels and "
                         f"the pretrained teacher has no head), got {reading_logits}; use {sorted(GENERAL_LOSSES)} "
                         "or hidden_mse, embedding_mse, attention, hidden_cosine, minilm_relation.")
    return terms


def unlabeled_splits(texts, seed=0, validation_texts=VALIDATION_TEXTS):
    """Shuffles `texts` and holds out a validation split; the labels are -1 (unknown).

    Args:
        texts: list of str, at least 2.
        seed: int, the shuffle.
        validation_texts: int, the most texts held out (at most 10% of them, at least 1).

    Returns:
        `(train, validation)` `Split`s.

    Raises:
        ValueError: fewer than 2 texts.

    Example:
    >>> train, validation = unlabeled_splits([f"text {i}" for i in range(50)])
    >>> len(train), len(validation), set(train.labels.tolist())
    (45, 5, {-1})
    """
    if len(texts) < 2:
        raise ValueError(f"General distillation needs at least 2 unlabeled texts (one to train on, one to validate "
                         f"on), got {len(texts)}.")
    order = np.random.default_rng(seed).permutation(len(texts))
    held_out = int(min(validation_texts, max(1, len(texts) // 10)))
    shuffled = [texts[i] for i in order]
    unknown = np.full(len(texts), -1, np.int32)
    return (Split(shuffled[held_out:], unknown[held_out:]), Split(shuffled[:held_out], unknown[:held_out]))


def general_distill(teacher, student, preprocessor, texts, *, losses="minilm", epochs=1, batch_size=32,
                    learning_rate=5e-4, seed=0, mixed_precision=None, backup_dir=None, callbacks=(), verbose=1):
    """Trains `student` to reproduce the pretrained `teacher`'s representations on unlabeled text.

    Args:
        teacher: a pretrained tfdistill `BertModel` (with or without a head; frozen).
        student: a `BertModel` with the teacher's vocabulary (typically
            `student_from_teacher(teacher, ...)` of a teacher loaded without `num_labels`).
        preprocessor: `tfdistill.data.TextClassifierPreprocessor` of the teacher's tokenizer.
        texts: list of str, the unlabeled texts (`tfdistill.data.unlabeled.load_texts`); up to
            1,000 of them (10% at most) are held out to keep the epoch with the lowest loss.
        losses: a name of `GENERAL_LOSSES` (`"minilm"`, `"tinybert"`) or a list of loss terms
            that read no logits.
        epochs: int >= 1.
        batch_size: int.
        learning_rate: float, AdamW peak learning rate (linear warm-up and decay).
        seed: int, the held-out texts and the shuffling.
        mixed_precision: as `distill`: the frozen teacher runs in bfloat16 where the CPU has it.
        backup_dir: optional folder backing up every finished epoch; the same call resumes.
        callbacks: extra Keras callbacks.
        verbose: Keras verbosity.

    Returns:
        dict with `history`, `best_epoch` (by validation loss), `train_seconds`, `precision`,
        `train_texts`, `validation_texts`.

    Raises:
        ValueError: a term that reads logits, different vocabularies, too few texts, a
            `max_length` the student cannot take, or `epochs` < 1.

    Example:
    >>> result = general_distill(teacher, student, preprocessor, data.train.texts, epochs=1, batch_size=8,
    ...                          verbose=0)  # doctest: +SKIP
    >>> sorted(result["history"])  # doctest: +SKIP
    ['accuracy', 'agreement', 'loss', 'minilm_relation', 'val_accuracy', 'val_agreement', 'val_loss', ...]
    """
    from tfdistill.distill.training import check_vocabularies, training_models

    if epochs < 1:
        raise ValueError(f"epochs must be >= 1, got {epochs}.")
    terms = general_losses(losses)
    check_vocabularies(teacher, student, preprocessor)
    train_split, validation_split = unlabeled_splits(list(texts), seed)
    policy = precision.resolve(mixed_precision)
    train_teacher, train_student = training_models(teacher, student, policy, precision.FLOAT32)
    datasets = training_datasets(train_split, validation_split, preprocessor, batch_size, seed=seed)
    distiller = Distiller(student=train_student, teacher=train_teacher, losses=terms)
    start = time.perf_counter()
    trained = train_model(distiller, datasets.train, datasets.validation, epochs=epochs, learning_rate=learning_rate,
                          steps_per_epoch=datasets.steps_per_epoch, callbacks=callbacks, backup_dir=backup_dir,
                          keep_best=True, monitor="val_loss", verbose=verbose)
    precision.copy_weights(train_student, student)
    return {"history": trained.history, "best_epoch": trained.best_epoch, "precision": policy,
            "train_seconds": time.perf_counter() - start, "train_texts": len(train_split),
            "validation_texts": len(validation_split)}


def load_general_student(folder, teacher, preprocessor, label_names):
    """Loads a general-distilled student (`general_distill`'s folder) with a fresh classification
    head for a task, checked against the task's teacher and tokenizer.

    Args:
        folder: str, the general student's folder.
        teacher: the fine-tuned tfdistill teacher of the task.
        preprocessor: `TextClassifierPreprocessor` of the teacher's tokenizer.
        label_names: list of str, the task's classes in the teacher's order.

    Returns:
        the student `BertModel`, its head new, its class names `label_names`.

    Raises:
        FileNotFoundError: no model in `folder`.
        ValueError: the student's vocabulary is not the teacher's, or its positions are fewer
            than `preprocessor.max_length`.
    """
    from tfdistill.data.tokenizer import Tokenizer
    from tfdistill.models.bert.checkpoint import load_pretrained

    student = load_pretrained(folder, num_labels=len(label_names), name="student")
    student.bert_config = student.bert_config.replace(label_names=tuple(label_names))
    check_same_vocabulary(teacher, student)
    if Tokenizer.from_pretrained(folder).vocab != preprocessor.tokenizer.vocab:
        raise ValueError(f"The student in {folder} was distilled with another vocabulary than the teacher's "
                         "tokenizer; run general distillation from this teacher's pretrained model.")
    preprocessor.check(student.bert_config, f"the student in {folder}")
    return student
