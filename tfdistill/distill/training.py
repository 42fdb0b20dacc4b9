"""`distill`: one call from teacher, student and data to a trained student (optionally
TinyBERT's two stages), used by `recipes/distill.py` and the pipeline."""

import collections
import os
import time

import numpy as np

from tfdistill.data.preprocessor import as_preprocessor
from tfdistill.distill import losses as losses_lib
from tfdistill.distill.augment import EmbeddingNeighbourAugmenter, concatenate
from tfdistill.distill import teacher_cache
from tfdistill.distill.distiller import Distiller, check_same_vocabulary
from tfdistill.distill.teachers import as_teacher
from tfdistill.training import precision
from tfdistill.training.datasets import training_datasets
from tfdistill.training.loop import train_model

DEFAULT_LOSSES = ("logit_kd", "hard_label")


def split_stages(terms):
    """Splits loss terms into TinyBERT's intermediate stage (terms that do not read logits)
    and prediction stage (terms that do)."""
    terms = [losses_lib.get(term) for term in terms]
    intermediate = [term for term in terms if "logits" not in term.requires]
    prediction = [term for term in terms if "logits" in term.requires]
    return intermediate, prediction


def check_vocabularies(teacher, student, preprocessor):
    """Refuses a teacher, student and preprocessor that do not share one vocabulary.

    Distillation feeds the same token ids to both models, so both embedding tables must have one
    row per tokenizer id.

    Args:
        teacher: a tfdistill `BertModel` (other teachers, without `bert_config`, are not checked).
        student: a tfdistill `BertModel`.
        preprocessor: `tfdistill.data.TextClassifierPreprocessor`.

    Raises:
        ValueError: the vocabulary sizes differ, or the student has fewer positions than
            `preprocessor.max_length`.

    Example:
    >>> check_vocabularies(teacher, student, preprocessor)  # one vocabulary: no error
    >>> from tfdistill import Tokenizer
    >>> other = Tokenizer.from_vocab(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "good"])
    >>> check_vocabularies(teacher, student, preprocessor.replace(tokenizer=other))
    Traceback (most recent call last):
    ValueError: The tokenizer has 5 ids but the student embeds 23: ...
    """
    check_same_vocabulary(teacher, student)
    preprocessor.check(student.bert_config, "the student")


def importance_features(preprocessor, split, examples=512):
    """The features of the first `examples` of `split`: the data `student_from_teacher` scores
    the teacher's heads and feed-forward units on."""
    return {name: values[:examples] for name, values in preprocessor.tokenize(split).items()}


def augmented_train_split(teacher, tokenizer, split, copies, seed=0):
    """Returns `split` plus `copies` teacher-embedding-neighbour augmentations of it."""
    table = teacher.get_layer("word_embeddings").get_weights()[0]
    augmenter = EmbeddingNeighbourAugmenter(tokenizer.vocab, table, seed=seed)
    return concatenate(split, augmenter.augment_split(split, copies))


class _StageData:
    """Builds a stage's training and validation datasets, with the teacher's outputs computed once
    when caching is on and the stage's terms read only outputs the cache keeps (`teacher_cache`)."""

    def __init__(self, teacher, preprocessor, data, train_split, batch_size, seed, cache_key):
        self.teacher, self.preprocessor, self.splits = teacher, preprocessor, (train_split, data.validation)
        self.dataset_args = (preprocessor, batch_size)
        self.seed, self.cache_key = seed, cache_key
        self._built = {}

    def get(self, terms, epochs, verbose):
        """Returns `(TrainingDatasets, cached)` for a stage's loss terms and epochs."""
        keys = self._keys_to_cache([losses_lib.get(term) for term in terms], epochs, verbose)
        if keys not in self._built:
            build = self._with_cached_outputs(keys, verbose) if keys else None
            self._built[keys] = training_datasets(*self.splits, *self.dataset_args, seed=self.seed,
                                                  bucket_by_length=True, build=build)
        return self._built[keys], keys is not None

    def _keys_to_cache(self, terms, epochs, verbose):
        teacher = as_teacher(self.teacher)
        keys = None if self.cache_key is None else teacher_cache.keys_to_cache(terms, teacher)
        if keys is None or keys == ("logits",):
            return keys
        if epochs < teacher_cache.MIN_EPOCHS_FOR_SEQUENCES:
            if verbose:
                print(f"The teacher runs in every step: keeping its {', '.join(keys)} pays off from "
                      f"{teacher_cache.MIN_EPOCHS_FOR_SEQUENCES} epochs, this stage trains {epochs}.", flush=True)
            return None
        lengths = np.concatenate([self.preprocessor.tokenize(split)["attention_mask"].sum(axis=1)
                                  for split in self.splits])
        size, limit = teacher_cache.estimated_bytes(lengths, keys, teacher.spec), teacher_cache.max_bytes()
        if size > limit:
            if verbose:
                print(f"The teacher's {', '.join(keys)} would take up to {size / 2**30:.1f} GiB kept in memory "
                      f"(teacher_cache.max_bytes() is {limit / 2**30:.1f} GiB): the teacher runs in every step.",
                      flush=True)
            return None
        return keys

    def _with_cached_outputs(self, keys, verbose):
        run = teacher_cache.TeacherOutputs(self.teacher, self.preprocessor, keys, key=self.cache_key)

        def build(split, make_dataset):
            start = time.perf_counter()
            outputs = run(split)
            if verbose:
                name = "train" if split is self.splits[0] else "validation"
                print(f"Teacher {', '.join(keys)} for the {len(split)} {name} examples ready in "
                      f"{time.perf_counter() - start:.0f} s (computed once, reused every epoch).", flush=True)
            return teacher_cache.with_teacher_outputs(split, outputs, make_dataset)

        return build


def training_models(teacher, student, policy, student_policy=None):
    """Returns the `(teacher, student)` that train: mixed-precision twins of plain tfdistill
    BERTs under a mixed policy (`precision.mixed_twin`), the models themselves otherwise.

    Students wrapped by tfmot (pruning, QAT) and teachers from other libraries stay as they are.

    Args:
        teacher: the teacher model (or adapter).
        student: the student model.
        policy: str, `precision.resolve`'s result, for the teacher.
        student_policy: str, the student's policy (default: `policy`).

    Returns:
        `(teacher, student)`; copy the student's weights back with `precision.copy_weights`.

    Example:
    >>> fast_teacher, fast_student = training_models(teacher, student, "mixed_bfloat16", "float32")
    >>> precision.is_mixed(fast_teacher), fast_student is student
    (True, True)
    >>> training_models(teacher, pruned, "mixed_bfloat16")[1] is pruned  # tfmot-wrapped: as it is
    True
    """
    twins = [precision.mixed_twin(model, model_policy) if precision.can_twin(model) else model
             for model, model_policy in ((teacher, policy), (student, student_policy or policy))]
    return twins[0], twins[1]


def distill(teacher, student, preprocessor, data, *, losses=DEFAULT_LOSSES, max_length=None, epochs=3,
            intermediate_epochs=0, batch_size=32, learning_rate=1e-4, augment=0, seed=0, callbacks=(),
            verbose=1, backup_dir=None, mixed_precision=None, cache_teacher_outputs=None, keep_best=True,
            best_epoch_eligible=None):
    """Trains `student` from `teacher` on `data.train` and returns what happened.

    With `intermediate_epochs > 0` it runs TinyBERT's two stages: first only the terms that
    do not read logits (hidden states, attentions, embeddings, relations), then only the
    terms that do (logit KD, hard labels) for `epochs`. Otherwise every term trains together.
    Each stage runs `tfdistill.training.loop.train_model` in a fresh `Distiller`.

    Keep-best (on by default): each stage ends with the weights of its best epoch on the
    validation split. The final stage compares the student's validation accuracy
    (`val_accuracy`, the Distiller's `accuracy` metric); TinyBERT's intermediate stage compares
    its validation loss (`val_loss`), since its classifier head is not trained yet and its
    accuracy says nothing.

    Speed (on by default, each with a switch): the models train in mixed bfloat16 on CPUs with
    bfloat16 units (`tfdistill.training.precision`; `student` itself stays float32 and receives
    the trained weights), and a stage whose terms read only the teacher's logits, hidden states
    and attention maps gets them computed once per split (`tfdistill.distill.teacher_cache`;
    hidden states and maps only for stages of `teacher_cache.MIN_EPOCHS_FOR_SEQUENCES` epochs
    or more, while they fit in `teacher_cache.max_bytes()`) instead of a teacher forward pass
    per step: the same batches in the same order.

    Args:
        teacher: a tfdistill `BertModel` classifier (frozen).
        student: a `BertModel` with the same vocabulary and labels.
        preprocessor: `tfdistill.data.TextClassifierPreprocessor`, or a `tfdistill.Tokenizer`
            (with `max_length`).
        data: `tfdistill.data.TextClassificationData`.
        losses: loss terms (names, dicts or instances).
        max_length: int, only with a tokenizer (default 64).
        epochs: int >= 1, epochs of the (final) stage.
        intermediate_epochs: int >= 0, epochs of TinyBERT's intermediate stage.
        batch_size: int.
        learning_rate: float, AdamW peak learning rate.
        augment: int >= 0, embedding-neighbour copies of every training example (labelled by
            the teacher's soft targets only; drawn once, so cached logits stay valid).
        seed: int.
        callbacks: Keras callbacks for the final stage's `fit`.
        verbose: Keras verbosity.
        backup_dir: optional folder where every finished epoch is backed up (`TrainingBackup`,
            one sub-folder per stage); a call with the same arguments and folder resumes after
            the last finished epoch, with the same data order. Delete it once the student is
            saved.
        mixed_precision: `"auto"`, `"bfloat16"`, `"float32"`, or None for the process default
            (`precision.set_default_mode`, `"auto"`). Under `"auto"` only the frozen teacher runs in
            bfloat16; `"bfloat16"` trains the student in it too. tfmot-wrapped students always
            train in float32.
        cache_teacher_outputs: bool, or None for the process default (True).
        keep_best: bool, end each stage with its best epoch's weights (else its last epoch's);
            the backup carries the best epoch so far, so a resumed run keeps the same epoch.
        best_epoch_eligible: optional callable `model -> bool` (given the Distiller) asked at each
            epoch end; an epoch it rejects is never kept (`fit_student` passes one for pruned
            students).

    Returns:
        dict with `history` (final stage, resumed epochs included), `intermediate_history`,
        `best_epoch` (0-based epoch of the final stage whose weights the student holds),
        `intermediate_best_epoch` (None with one stage), `train_seconds`, `precision` (the
        policy), `cached_teacher` (per stage).

    Raises:
        ValueError: `max_length` exceeds the student's positions, the teacher, student and
            tokenizer have different vocabularies, an epoch count is out of range, or an unknown
            `mixed_precision`.
        NonFiniteLossError: a loss term became NaN or infinite (the message names the term, the
            epoch and the step); the backup keeps the last finished epoch.

    Example:
    >>> result = distill(teacher, student, preprocessor, data, losses=["logit_kd", "hard_label", "hidden_mse"],
    ...                  epochs=2, batch_size=8, verbose=0)  # doctest: +SKIP
    >>> sorted(result["history"])  # doctest: +SKIP
    ['accuracy', 'agreement', 'hard_label', 'hidden_mse', 'logit_kd', 'loss', 'val_accuracy',
     'val_agreement', 'val_hard_label', 'val_hidden_mse', 'val_logit_kd', 'val_loss']
    """
    preprocessor = as_preprocessor(preprocessor, max_length)
    check_vocabularies(teacher, student, preprocessor)
    if epochs < 1 or intermediate_epochs < 0 or augment < 0:
        raise ValueError(f"Need epochs >= 1, intermediate_epochs >= 0 and augment >= 0; got {epochs}, "
                         f"{intermediate_epochs}, {augment}.")
    stages = _stages(losses, epochs, intermediate_epochs, callbacks)
    policy = precision.resolve(mixed_precision)
    train_split = augmented_train_split(teacher, preprocessor.tokenizer, data.train, augment, seed) if augment else data.train
    # The frozen teacher runs in bfloat16 under "auto"; the student learns in bfloat16 only when asked
    # for explicitly: 4 paired short runs gave bfloat16 students -0.39 test points on average (spread
    # about 1 point), not shown to be within noise (bench/training_accuracy.py).
    student_policy = policy if precision.requested(mixed_precision) == "bfloat16" else precision.FLOAT32
    train_teacher, train_student = training_models(teacher, student, policy, student_policy)
    cache_key = (teacher_cache.weights_key(as_teacher(teacher).model), policy) \
        if teacher_cache.enabled(cache_teacher_outputs) else None
    stage_data = _StageData(train_teacher, preprocessor, data, train_split, batch_size, seed, cache_key)
    start = time.perf_counter()
    result = {"intermediate_history": None, "intermediate_best_epoch": None, "precision": policy,
              "cached_teacher": {}}
    for stage in stages:
        datasets, result["cached_teacher"][stage.name] = stage_data.get(stage.terms, stage.epochs, verbose)
        distiller = Distiller(student=train_student, teacher=train_teacher, losses=stage.terms)
        trained = train_model(distiller, datasets.train, datasets.validation, epochs=stage.epochs,
                              learning_rate=learning_rate, steps_per_epoch=datasets.steps_per_epoch,
                              callbacks=stage.callbacks, backup_dir=backup_dir and os.path.join(backup_dir, stage.name),
                              keep_best=keep_best, monitor=stage.monitor, best_epoch_eligible=best_epoch_eligible,
                              verbose=verbose)
        if stage.name == "intermediate":
            result["intermediate_history"], result["intermediate_best_epoch"] = trained.history, trained.best_epoch
    precision.copy_weights(train_student, student)
    result["history"], result["best_epoch"] = trained.history, trained.best_epoch
    result["train_seconds"] = time.perf_counter() - start
    return result


_Stage = collections.namedtuple("_Stage", "name terms epochs callbacks monitor")


def _stages(losses, epochs, intermediate_epochs, callbacks):
    """One stage, or TinyBERT's two, each with the validation metric keep-best compares."""
    if not intermediate_epochs:
        return [_Stage("train", list(losses), epochs, callbacks, "val_accuracy")]
    intermediate, prediction = split_stages(losses)
    if not intermediate or not prediction:
        raise ValueError("intermediate_epochs needs both intermediate terms (hidden_mse, attention, ...) and "
                         "prediction terms (logit_kd, hard_label) in losses.")
    # The intermediate stage trains no head: its validation loss, not its accuracy, says which epoch is best.
    return [_Stage("intermediate", intermediate, intermediate_epochs, (), "val_loss"),
            _Stage("prediction", prediction, epochs, callbacks, "val_accuracy")]
