"""Training a compressed student: inside the Distiller (teacher guidance) or on its labels alone,
both through `tfdistill.training.loop.train_model`."""

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
    >>> [type(callback).__name__ for callback in compression_callbacks(pruned, "runs/logs")]
    ['UpdatePruningStep', 'PruningSummaries']
    >>> compression_callbacks(student)  # not pruned (nor does a QAT student need one)
    []
    """
    from tfdistill.compress.pruning import is_pruned, pruning_callbacks

    return pruning_callbacks(log_dir) if is_pruned(model) else []


def fit_student(student, preprocessor, data, *, teacher=None, losses=DEFAULT_LOSSES, epochs=2, max_length=None,
                batch_size=32, learning_rate=1e-4, seed=0, log_dir=None, callbacks=(), verbose=1, backup_dir=None,
                mixed_precision=None, cache_teacher_outputs=None, keep_best=True):
    """Trains a (pruned or QAT) student on `data.train`, guided by `teacher` when given.

    With a teacher, the student trains inside `tfdistill.distill.Distiller` (via
    `tfdistill.distill.training.distill`) with `losses`; without one, on its logits and the
    cross-entropy of the labels (`tfdistill.training.loop.train_classifier`). Either way the
    compression callbacks are added.

    Keep-best: the student ends with its best epoch on validation accuracy (QAT: weights and
    quantizer ranges of that epoch). A pruned student only keeps an epoch at which every
    pruning schedule had reached its target (`pruning_reached_target`), and its last epoch
    when none had.

    A tfmot-wrapped student trains in float32 (tfmot under mixed precision is not verified; such
    models get no mixed twin). With the default losses the teacher's logits are computed once
    per split (in bfloat16 where the CPU has it) and shared with earlier stages of the same
    process (`tfdistill.distill.teacher_cache`), so a step runs no teacher.

    Args:
        student: the student to train (in place).
        preprocessor: `tfdistill.data.TextClassifierPreprocessor`, or a `tfdistill.Tokenizer`
            (with `max_length`).
        data: `tfdistill.data.TextClassificationData`.
        teacher: optional frozen teacher (any model the Distiller accepts; a copy of the dense
            student works: self-distillation).
        losses: Distiller loss terms (used with a teacher).
        epochs: int >= 1.
        max_length: int, only with a tokenizer (default 64).
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
        keep_best: bool, keep the best (eligible) epoch on validation accuracy, else the last;
            the backup carries the best epoch so far.

    Returns:
        dict with `history` (per-epoch metrics), `best_epoch` (0-based epoch whose weights the
        student holds) and `train_seconds`; with a teacher, `distill`'s whole result (also
        `precision`, `cached_teacher`, ...).

    Raises:
        ValueError: `epochs` < 1, or the student's head does not match the data's classes.
        NonFiniteLossError: a loss became NaN or infinite (naming it, the epoch and the step).

    Example:
    >>> from tfdistill.compress import PruningConfig, prune_student, training_token_ids
    >>> pruned = prune_student(student, PruningConfig.for_steps(16),  # 2 epochs of 8 steps
    ...                        training_token_ids(preprocessor, data.train))  # doctest: +SKIP
    >>> summary = fit_student(pruned, preprocessor, data, teacher=teacher, epochs=2, batch_size=8,
    ...                       verbose=0)  # doctest: +SKIP
    >>> len(summary["history"]["val_accuracy"]), summary["best_epoch"] in (0, 1)  # doctest: +SKIP
    (2, True)
    """
    from tfdistill.data.preprocessor import as_preprocessor
    from tfdistill.models.bert.bert_model import logits_model
    from tfdistill.training.datasets import training_datasets
    from tfdistill.training.loop import train_classifier

    if epochs < 1:
        raise ValueError(f"epochs must be >= 1, got {epochs}.")
    if student.bert_config.num_labels != data.num_classes:
        raise ValueError(f"The student has {student.bert_config.num_labels} labels but the dataset has "
                         f"{data.num_classes} classes {data.label_names}.")
    preprocessor = as_preprocessor(preprocessor, max_length)
    callbacks = compression_callbacks(student, log_dir) + list(callbacks)
    eligible = _best_epoch_eligible(student)
    if teacher is not None:
        from tfdistill.distill.training import distill

        return distill(teacher, student, preprocessor, data, losses=list(losses), epochs=epochs,
                       batch_size=batch_size, learning_rate=learning_rate, seed=seed, callbacks=callbacks, verbose=verbose, backup_dir=backup_dir,
                       mixed_precision=mixed_precision, cache_teacher_outputs=cache_teacher_outputs,
                       keep_best=keep_best, best_epoch_eligible=eligible)
    preprocessor.check(student.bert_config, "the student")
    datasets = training_datasets(data.train, data.validation, preprocessor, batch_size, seed=seed)
    result = train_classifier(logits_model(student), datasets.train, datasets.validation, epochs=epochs,
                              learning_rate=learning_rate, callbacks=callbacks, backup_dir=backup_dir,
                              keep_best=keep_best, best_epoch_eligible=eligible, verbose=verbose)
    return {"history": result.history, "best_epoch": result.best_epoch, "train_seconds": result.train_seconds}


def _best_epoch_eligible(student):
    """Pruned students may only keep epochs at their target sparsity; others any epoch."""
    from tfdistill.compress.pruning import is_pruned

    # An epoch before the schedule reached its target has fewer zeros: restoring it would undo
    # pruning. Epochs after it all have the target sparsity (the masks are final, or refreshed
    # at the same sparsity), so the best of them is a fair choice instead of the last one.
    return pruning_reached_target if is_pruned(student) else None


def pruning_reached_target(model):
    """Returns whether every pruning wrapper in `model` has applied its schedule's final sparsity.

    A polynomial schedule is final once the pruning step reaches `end_step` (the last mask
    update); a constant one after its first mask update; N:M masks after step 1. An unknown
    schedule never counts as final (so keep-best keeps the last epoch).

    Args:
        model: a pruned student, or a model (Distiller) holding one.

    Returns:
        bool (True when `model` holds no pruning wrapper).

    Example:
    >>> from tfdistill.compress import PruningConfig, prune_student
    >>> pruning_reached_target(prune_student(student, PruningConfig(end_step=100, prune_embeddings=False)))
    False
    >>> pruning_reached_target(pruned)  # trained past its constant schedule's first mask update
    True
    >>> pruning_reached_target(student)  # no pruning wrapper
    True
    """
    import tensorflow_model_optimization as tfmot
    from tensorflow_model_optimization.python.core.sparsity.keras import pruning_wrapper

    for layer in pruning_wrapper.collect_prunable_layers(model):
        step, schedule = int(layer.pruning_step.numpy()), layer.pruning_schedule
        if layer.sparsity_m_by_n:
            final_from = 1
        elif isinstance(schedule, tfmot.sparsity.keras.PolynomialDecay):
            final_from = schedule.end_step
        elif isinstance(schedule, tfmot.sparsity.keras.ConstantSparsity):
            # The first mask update: at begin_step, or (from step 0) after `frequency` steps.
            final_from = schedule.begin_step if schedule.begin_step >= 1 else schedule.frequency
        else:
            return False
        if step < final_from:
            return False
    return True
