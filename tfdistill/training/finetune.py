"""Fine-tuning a BERT classifier (the teacher) with plain `model.fit`."""

import dataclasses
import time

import tf_keras as keras

from tfdistill.data.pipeline import check_max_length, make_tf_dataset
from tfdistill.data.tokenizer import check_tokenizer
from tfdistill.models.bert.bert_model import logits_model
from tfdistill.training import optimization, precision
from tfdistill.training.callbacks import KeepBestWeights, TerminateOnNonFinite
from tfdistill.training.steps import steps_per_epoch, with_steps


@dataclasses.dataclass
class FineTuneResult:
    """What `fine_tune_classifier` measured.

    Attributes:
        history: dict of per-epoch metric lists (`loss`, `accuracy`, `val_loss`, `val_accuracy`).
        best_epoch: int, the 0-based epoch whose weights were kept.
        train_seconds: float, wall time of `fit`.
        precision: str, the Keras policy the model trained under (`"mixed_bfloat16"` or `"float32"`).
    """

    history: dict
    best_epoch: int
    train_seconds: float
    precision: str = "float32"


def fine_tune_classifier(model, tokenizer, data, *, max_length=64, epochs=3, batch_size=32,
                         learning_rate=5e-5, warmup_fraction=0.1, weight_decay=0.01, seed=0,
                         bucket_by_length=True, callbacks=(), verbose=1, mixed_precision=None):
    """Fine-tunes a classifier BERT on `data.train`, keeping the best epoch on validation.

    On a CPU with bfloat16 units it trains a mixed-bfloat16 twin of `model` (float32
    variables, bfloat16 matmuls, float32 logits and loss) and copies the result back, so
    `model` stays float32 (`tfdistill.training.precision`).

    Args:
        model: a `BertModel` with a classification head (`num_labels` = `data.num_classes`).
        tokenizer: `tfdistill.Tokenizer` matching the model's vocabulary.
        data: `tfdistill.data.TextClassificationData`.
        max_length: int, tokenized length (at most the model's positions).
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

    Returns:
        `FineTuneResult`; `model` holds the best epoch's weights.

    Raises:
        ValueError: the head does not match the dataset's classes, `max_length` is too long,
            the tokenizer's vocabulary is not the model's, or an unknown `mixed_precision`.

    Example:
    >>> teacher = tfdistill.load_pretrained(tfdistill.default_teacher_path(), num_labels=2)  # doctest: +SKIP
    >>> fine_tune_classifier(teacher, tokenizer, tfdistill.datasets.load())  # doctest: +SKIP
    """
    config = model.bert_config
    if config.num_labels != data.num_classes:
        raise ValueError(
            f"The model's head has num_labels={config.num_labels} but the dataset has "
            f"{data.num_classes} classes {data.label_names}; load the model with "
            f"num_labels={data.num_classes}.")
    if epochs < 1:
        raise ValueError(f"epochs must be >= 1, got {epochs}.")
    check_max_length(max_length, config.max_position_embeddings)
    check_tokenizer(config.vocab_size, tokenizer, "the model")
    policy = precision.resolve(mixed_precision)
    steps = steps_per_epoch(len(data.train), batch_size)
    # A known length: progress bars show "17/321" instead of "17/Unknown".
    train = with_steps(make_tf_dataset(data.train, tokenizer, max_length, batch_size, shuffle=True, seed=seed,
                                       bucket_by_length=bucket_by_length), steps)
    validation = make_tf_dataset(data.validation, tokenizer, max_length, batch_size * 2,
                                 bucket_by_length=bucket_by_length)
    trained = precision.mixed_twin(model, policy) if precision.can_twin(model) else model
    classifier = logits_model(trained)
    classifier.compile(
        optimizer=optimization.adamw(learning_rate, epochs * steps, warmup_fraction, weight_decay),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"])
    keep_best = KeepBestWeights("val_accuracy")
    start = time.perf_counter()
    history = classifier.fit(train, validation_data=validation, epochs=epochs,
                             callbacks=[keep_best, *callbacks, TerminateOnNonFinite()], verbose=verbose)
    precision.copy_weights(trained, model)  # the best epoch's weights, restored by keep_best
    return FineTuneResult(history=history.history, best_epoch=keep_best.best_epoch,
                          train_seconds=time.perf_counter() - start,
                          precision=policy if trained is not model else precision.FLOAT32)


def count_params(model):
    """Returns `(total, non_embedding)` parameter counts of a BERT model.

    Non-embedding excludes the word, position and token-type tables, as papers report it.
    """
    embedding_layers = ("word_embeddings", "position_embeddings", "token_type_embeddings")
    embedding = sum(model.get_layer(name).count_params() for name in embedding_layers)
    total = model.count_params()
    return total, total - embedding


__all__ = ["FineTuneResult", "fine_tune_classifier", "count_params"]
