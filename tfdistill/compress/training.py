"""Training a compressed student: inside the Distiller (teacher guidance) or with plain `fit`."""

import time

DEFAULT_LOSSES = ({"loss": "logit_kd", "temperature": 2.0}, {"loss": "hard_label", "weight": 0.5})


def compression_callbacks(model, log_dir=None):
    """Returns the callbacks a compressed student needs in `fit` (Distiller or plain).

    Args:
        model: the student being trained.
        log_dir: optional TensorBoard folder for `PruningSummaries`.

    Returns:
        list: `pruning_callbacks(log_dir)` when `model` holds pruning wrappers, else `[]` (QAT
        needs no callback).

    Example:
    >>> distiller.fit(train, callbacks=compression_callbacks(pruned, "runs/logs"))  # doctest: +SKIP
    """
    from tfdistill.compress.pruning import is_pruned, pruning_callbacks

    return pruning_callbacks(log_dir) if is_pruned(model) else []


def fit_student(student, tokenizer, data, *, teacher=None, losses=DEFAULT_LOSSES, epochs=2, max_length=64,
                batch_size=32, learning_rate=1e-4, seed=0, log_dir=None, callbacks=(), verbose=1, backup_dir=None,
                mixed_precision=None, cache_teacher_outputs=None):
    """Trains a (pruned or QAT) student on `data.train`, guided by `teacher` when given.

    With a teacher, the student trains inside `tfdistill.distill.Distiller` (via
    `tfdistill.distill.training.distill`) with `losses`; without one, with plain `fit` on its
    logits and the cross-entropy of the labels. Either way the compression callbacks are added,
    and every epoch's weights are kept (no best-epoch restore, which could undo pruning).

    A tfmot-wrapped student trains in float32 (tfmot under mixed precision is not verified; such
    models get no mixed twin). With the default losses the teacher's logits are computed once
    per split (in bfloat16 where the CPU has it) and shared with earlier stages of the same
    process (`tfdistill.distill.teacher_cache`), so a step runs no teacher.

    Args:
        student: the student to train (in place).
        tokenizer: `tfdistill.Tokenizer`.
        data: `tfdistill.data.TextClassificationData`.
        teacher: optional frozen teacher (any model the Distiller accepts; a copy of the dense
            student works: self-distillation).
        losses: Distiller loss terms (used with a teacher).
        epochs: int >= 1.
        max_length: int.
        batch_size: int.
        learning_rate: float, AdamW peak learning rate (linear warm-up and decay).
        seed: int, shuffling seed.
        log_dir: optional TensorBoard folder for pruning summaries.
        callbacks: extra Keras callbacks.
        verbose: Keras verbosity.
        backup_dir: optional folder backing up every finished epoch (`TrainingBackup`: weights,
            optimizer, pruning steps and masks, quantizer ranges); the same call with the same
            folder resumes after the last finished epoch.
        mixed_precision: the teacher's precision (see `distill`); the student stays float32.
        cache_teacher_outputs: bool, or None for the default (True): see `distill`.

    Returns:
        dict with `history` (per-epoch metrics) and `train_seconds`.

    Raises:
        ValueError: `epochs` < 1, or the student's head does not match the data's classes.
        NonFiniteLossError: a loss became NaN or infinite (naming it, the epoch and the step).

    Example:
    >>> pruned = prune_student(student, PruningConfig(end_step=400))  # doctest: +SKIP
    >>> fit_student(pruned, tokenizer, data, teacher=teacher, epochs=2)  # doctest: +SKIP
    """
    import tf_keras as keras

    from tfdistill.data.pipeline import check_max_length, make_tf_dataset
    from tfdistill.training.steps import with_steps
    from tfdistill.models.bert.bert_model import logits_model
    from tfdistill.training import optimization
    from tfdistill.training.callbacks import TerminateOnNonFinite, TrainingBackup

    if epochs < 1:
        raise ValueError(f"epochs must be >= 1, got {epochs}.")
    if student.bert_config.num_labels != data.num_classes:
        raise ValueError(f"The student has {student.bert_config.num_labels} labels but the dataset has "
                         f"{data.num_classes} classes {data.label_names}.")
    callbacks = compression_callbacks(student, log_dir) + list(callbacks)
    if teacher is not None:
        from tfdistill.distill.training import distill

        return distill(teacher, student, tokenizer, data, losses=list(losses), max_length=max_length,
                       epochs=epochs, batch_size=batch_size, learning_rate=learning_rate, seed=seed,
                       callbacks=callbacks, verbose=verbose, backup_dir=backup_dir,
                       mixed_precision=mixed_precision, cache_teacher_outputs=cache_teacher_outputs)
    check_max_length(max_length, student.bert_config.max_position_embeddings)
    steps_per_epoch = -(-len(data.train) // batch_size)
    train = with_steps(make_tf_dataset(data.train, tokenizer, max_length, batch_size, shuffle=True, seed=seed),
                       steps_per_epoch)
    validation = make_tf_dataset(data.validation, tokenizer, max_length, batch_size * 2)
    classifier = logits_model(student)
    classifier.compile(optimizer=optimization.adamw(learning_rate, epochs * steps_per_epoch),
                       loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    callbacks.append(TerminateOnNonFinite())
    if backup_dir:
        callbacks.append(TrainingBackup(backup_dir, train))  # last: see `distill`
    start = time.perf_counter()
    history = classifier.fit(train, validation_data=validation, epochs=epochs, callbacks=callbacks,
                             verbose=verbose)
    return {"history": history.history, "train_seconds": time.perf_counter() - start}
