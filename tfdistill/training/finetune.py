"""Fine-tuning a BERT classifier (the teacher) on its labels (`train_classifier`)."""

import dataclasses

from tfdistill.data.preprocessor import as_preprocessor
from tfdistill.models.bert import checkpoint
from tfdistill.models.bert.bert_model import logits_model
from tfdistill.training import precision
from tfdistill.training.datasets import training_datasets
from tfdistill.training.loop import train_classifier


@dataclasses.dataclass
class FineTuneResult:
    """What `fine_tune_classifier` measured.

    Attributes:
        history: dict of per-epoch metric lists (`loss`, `accuracy`, `val_loss`, `val_accuracy`).
        best_epoch: int, the 0-based epoch whose weights were kept.
        train_seconds: float, wall time of `fit`.
        precision: str, the Keras policy the model trained under (`"mixed_bfloat16"` or `"float32"`).
        resumed_epochs: int, epochs restored from `backup_dir` instead of trained.
    """

    history: dict
    best_epoch: int
    train_seconds: float
    precision: str = "float32"
    resumed_epochs: int = 0


def fine_tune_classifier(model, preprocessor, data, *, max_length=None, epochs=3, batch_size=32,
                         learning_rate=5e-5, warmup_fraction=0.1, weight_decay=0.01, seed=0,
                         bucket_by_length=True, callbacks=(), verbose=1, mixed_precision=None, backup_dir=None,
                         keep_best=True):
    """Fine-tunes a classifier BERT on `data.train`, keeping the best epoch on validation.

    On a CPU with bfloat16 units it trains a mixed-bfloat16 twin of `model` (float32
    variables, bfloat16 matmuls, float32 logits and loss) and copies the result back, so
    `model` stays float32 (`tfdistill.training.precision`).

    Args:
        model: a `BertModel` with a classification head (`num_labels` = `data.num_classes`).
        preprocessor: `tfdistill.data.TextClassifierPreprocessor` for the model's vocabulary, or
            a `tfdistill.Tokenizer` (with `max_length`).
        data: `tfdistill.data.TextClassificationData`.
        max_length: int, tokenized length (at most the model's positions) when `preprocessor`
            is a tokenizer (default 64).
        epochs: int >= 1.
        batch_size: int >= 1.
        learning_rate: float, the AdamW peak learning rate.
        warmup_fraction: float, share of steps with linear warm-up.
        weight_decay: float, AdamW decoupled weight decay.
        seed: int, shuffling seed.
        bucket_by_length: bool, batch similar lengths together (less padding, faster on CPU).
        callbacks: extra Keras callbacks.
        verbose: Keras verbosity.
        mixed_precision: `"auto"`, `"bfloat16"`, `"float32"`, or None for the process default
            (`precision.set_default_mode`, `"auto"`).
        backup_dir: optional folder backing up every finished epoch and the best one so far
            (`train_model`); the same call with the same folder resumes after the last finished
            epoch. Delete it once the model is saved.
        keep_best: bool, restore the epoch with the best validation accuracy (else the last).

    Returns:
        `FineTuneResult`; `model` holds the best epoch's weights.

    Raises:
        ValueError: the head does not match the dataset's classes, `max_length` is too long,
            the tokenizer's vocabulary is not the model's, or an unknown `mixed_precision`.

    Example:
    >>> import tfdistill
    >>> path = tfdistill.default_teacher_path()  # the shipped MiniLM
    >>> tokenizer = tfdistill.Tokenizer.from_pretrained(path)
    >>> teacher = tfdistill.load_pretrained(path, num_labels=2)  # doctest: +SKIP
    >>> result = fine_tune_classifier(teacher, tokenizer, tfdistill.datasets.load())  # doctest: +SKIP
    >>> tfdistill.save_pretrained(teacher, "runs/teacher", tokenizer=tokenizer)  # doctest: +SKIP
    """
    config = model.bert_config
    if config.num_labels != data.num_classes:
        raise ValueError(
            f"The model's head has num_labels={config.num_labels} but the dataset has "
            f"{data.num_classes} classes {data.label_names}; load the model with "
            f"num_labels={data.num_classes}.")
    if epochs < 1:
        raise ValueError(f"epochs must be >= 1, got {epochs}.")
    preprocessor = as_preprocessor(preprocessor, max_length).check(config)
    policy = precision.resolve(mixed_precision)
    datasets = training_datasets(data.train, data.validation, preprocessor, batch_size, seed=seed,
                                 bucket_by_length=bucket_by_length)
    trained = precision.mixed_twin(model, policy) if precision.can_twin(model) else model
    result = train_classifier(logits_model(trained), datasets.train, datasets.validation, epochs=epochs,
                              learning_rate=learning_rate, warmup_fraction=warmup_fraction,
                              weight_decay=weight_decay, callbacks=callbacks, backup_dir=backup_dir,
                              keep_best=keep_best, verbose=verbose)
    precision.copy_weights(trained, model)  # the kept epoch's weights
    return FineTuneResult(history=result.history, best_epoch=result.best_epoch, train_seconds=result.train_seconds,
                          precision=policy if trained is not model else precision.FLOAT32,
                          resumed_epochs=result.resumed_epochs)


def count_params(model):
    """Returns `(total, non_embedding)` parameter counts of a BERT model (`checkpoint.count_params`)."""
    return checkpoint.count_params(model)


__all__ = ["FineTuneResult", "fine_tune_classifier", "count_params"]
