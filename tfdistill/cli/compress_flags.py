"""What `tfdistill prune` and `tfdistill qat` (recipes/prune.py, recipes/qat.py) share: flags,
loading, evaluation.

Kept free of TensorFlow imports at module level so the commands define their flags cheaply.
"""

import os

from absl import flags

from tfdistill.cli import data_flags, distribution_flags, optimizer_flags, tensorboard_flags
from tfdistill.cli.output_dir import define_overwrite_flag
from tfdistill.training.classifier import load_classifier

SELF_TEACHER = "self"
NO_TEACHER = "none"


def define_compress_flags(default_epochs, default_learning_rate):
    """Defines the flags both compression commands take (student, teacher, data, training,
    distribution, TensorBoard, output)."""
    flags.DEFINE_string("student", None, "Trained student folder (Hugging Face format, with a "
                        "classification head), e.g. from `tfdistill distill`.")
    flags.DEFINE_string("teacher", SELF_TEACHER, "Teacher guiding the compressed student: a "
                        f"fine-tuned teacher folder, '{SELF_TEACHER}' (a frozen copy of the "
                        f"uncompressed student) or '{NO_TEACHER}' (hard labels only).")
    data_flags.define_data_flags()
    flags.DEFINE_integer("max_length", 64, "Tokenized length, special tokens included.")
    flags.DEFINE_integer("epochs", default_epochs, "Training epochs of the compressed student.")
    flags.DEFINE_integer("batch_size", 32, "Training batch size.")
    flags.DEFINE_float("learning_rate", default_learning_rate, "AdamW peak learning rate.")
    flags.DEFINE_float("temperature", 2.0, "Soft-target temperature of the logit_kd term.")
    flags.DEFINE_float("hard_weight", 0.5, "Weight of the hard-label term next to logit_kd (1.0).")
    optimizer_flags.define_optimizer_flags()
    distribution_flags.define_distribution_flags()
    tensorboard_flags.define_tensorboard_flag()
    flags.DEFINE_string("output_dir", None, "Folder for the compressed student and metrics.json.")
    define_overwrite_flag()
    flags.mark_flags_as_required(["student", "output_dir"])


def check_positive(values, *names):
    """Refuses flags that must be positive integers.

    Raises:
        ValueError: naming the flag.
    """
    for name in names:
        if values[name].value < 1:
            raise ValueError(f"--{name} must be >= 1, got {values[name].value}.")


def loss_terms(values):
    """The Distiller loss terms of the flags: logit KD plus (optionally) hard labels."""
    if values.hard_weight < 0:
        raise ValueError(f"--hard_weight={values.hard_weight} is negative; use a weight >= 0.")
    terms = [{"loss": "logit_kd", "temperature": values.temperature}]
    if values.hard_weight > 0:
        terms.append({"loss": "hard_label", "weight": values.hard_weight})
    return terms


def check_student_folder(path):
    """Refuses a `--student` that is not a model folder, before anything heavy is loaded.

    Raises:
        FileNotFoundError: no folder or no `config.json`.
        ValueError: the config is not a BERT classifier config.
    """
    from tfdistill.models.bert.checkpoint import load_config

    if not os.path.isdir(path):
        raise FileNotFoundError(f"--student folder {path!r} does not exist; pass a trained student "
                                "(e.g. the --output_dir of `tfdistill distill`).")
    return load_config(path)


def load_inputs(values, output_dir, command):
    """What both compression commands read once their flags are checked: the checked output and
    TensorBoard folders, then the student (the data in its class order), its preprocessor (its
    tokenizer at `--max_length`) and the teacher `--teacher` names.

    Args:
        values: the absl flag values.
        output_dir: str, the folder this process writes (`worker_output_dir`'s).
        command: `"prune"` or `"qat"`, the TensorBoard sub-folder.

    Returns:
        `(output_dir, log_dir, data, student, preprocessor, teacher)`.

    Example:
    >>> output_dir, log_dir, data, student, preprocessor, teacher = load_inputs(FLAGS, "runs/p", "prune")  # doctest: +SKIP
    """
    import tfdistill
    from tfdistill.cli.output_dir import check_output_dir, input_paths
    from tfdistill.training.classifier import load_classifier_and_data

    output_dir = check_output_dir(output_dir, input_paths(values), values.overwrite)
    log_dir = tensorboard_flags.log_dir(values, command)
    tensorboard_flags.check_log_dir(log_dir, output_dir)
    check_student_folder(values.student)
    data = data_flags.load_data_from_flags(values)
    data_flags.check_split_of(values.student, data, values.seed, data_flags.carves_split(values), "student")
    student, data = load_classifier_and_data(values.student, data)  # data in the student's class order
    preprocessor = tfdistill.TextClassifierPreprocessor(tfdistill.Tokenizer.from_pretrained(values.student),
                                                             values.max_length, data.label_names)
    return output_dir, log_dir, data, student, preprocessor, load_teacher(values, student, data)


def load_teacher(values, student, data):
    """Returns the teacher the `--teacher` flag names (None for hard labels only).

    Raises:
        FileNotFoundError: no teacher folder.
        ValueError: the teacher's head does not match the dataset.
    """
    if values.teacher == NO_TEACHER:
        return None
    if values.teacher == SELF_TEACHER:
        return student  # compression works on copies: the dense student stays as it was
    return load_classifier(values.teacher, data, role="teacher")


def accuracies(model, preprocessor, data, prefix):
    """Returns `{f"{prefix}_validation_accuracy": ..., f"{prefix}_test_accuracy": ...}`."""
    from tfdistill.training import evaluation

    return {f"{prefix}_{split}_accuracy": evaluation.accuracy(model, preprocessor, getattr(data, split))
            for split in ("validation", "test")}
