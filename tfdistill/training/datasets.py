"""The two datasets a training run fits on: the training split, reshuffled every epoch with a
known number of batches, and the validation split."""

import dataclasses
from typing import Any

from tfdistill.training.steps import steps_per_epoch, with_steps


@dataclasses.dataclass(frozen=True)
class TrainingDatasets:
    """What `training_datasets` built.

    Attributes:
        train: `tf.data.Dataset` of `(features, labels)` batches, reshuffled every epoch with a
            fixed seed, with a declared cardinality of `steps_per_epoch`.
        validation: `tf.data.Dataset` of the validation batches (twice the batch size: no
            gradients to hold), in the split's order.
        steps_per_epoch: int, batches per training epoch.
    """

    train: Any
    validation: Any
    steps_per_epoch: int


def training_datasets(train_split, validation_split, preprocessor, batch_size, *, seed=0,
                      bucket_by_length=True, build=None):
    """Builds the training and validation datasets of a `fit`, with a known step count.

    Args:
        train_split: `tfdistill.data.Split`, the training examples.
        validation_split: `tfdistill.data.Split`.
        preprocessor: `tfdistill.data.TextClassifierPreprocessor` (its length checked against the
            model by the caller); each split is tokenized once.
        batch_size: int >= 1, the training batch size.
        seed: int, the shuffling seed.
        bucket_by_length: bool, batch similar lengths together (`make_tf_dataset`).
        build: optional callable `(split, make_dataset) -> tf.data.Dataset` that builds a split's
            dataset with `make_dataset` (`Split -> tf.data.Dataset`), e.g. adding cached teacher
            outputs (`tfdistill.distill.teacher_cache.with_teacher_outputs`); it must keep the
            batches. Default: `make_dataset(split)`.

    Returns:
        `TrainingDatasets`.

    Raises:
        ValueError: `batch_size` < 1.

    Example:
    >>> from tfdistill.data import TextClassifierPreprocessor
    >>> preprocessor = TextClassifierPreprocessor(tokenizer, max_length=16)
    >>> datasets = training_datasets(data.train, data.validation, preprocessor, 8)
    >>> datasets.steps_per_epoch, int(datasets.train.cardinality())
    (8, 8)
    >>> features, labels = next(iter(datasets.validation))
    >>> labels.shape  # twice the training batch
    TensorShape([16])
    >>> from tfdistill.models.bert.bert_model import logits_model
    >>> from tfdistill.training.loop import train_classifier
    >>> result = train_classifier(logits_model(student), datasets.train, datasets.validation, epochs=2,
    ...                           learning_rate=1e-4, verbose=0)  # doctest: +SKIP
    """
    build = build or (lambda split, make_dataset: make_dataset(split))

    def make_train(split):
        return preprocessor.dataset(split, batch_size, shuffle=True, seed=seed, bucket_by_length=bucket_by_length)

    def make_validation(split):
        return preprocessor.dataset(split, batch_size * 2, bucket_by_length=bucket_by_length)

    steps = steps_per_epoch(len(train_split), batch_size)
    # A known length: progress bars show "17/321" instead of "17/Unknown", and the schedule does not drift.
    return TrainingDatasets(train=with_steps(build(train_split, make_train), steps),
                            validation=build(validation_split, make_validation), steps_per_epoch=steps)


__all__ = ["TrainingDatasets", "training_datasets"]
