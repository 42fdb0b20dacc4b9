r"""Distils a fine-tuned BERT teacher into a smaller student with `Distiller.fit`.

Writes to --output_dir the student as a Hugging Face-format folder plus labels.txt and
metrics.json (teacher and student accuracy on validation and test, params, wall time).

Example:
    tfdistill distill --teacher=runs/teacher --output_dir=runs/student
    tfdistill distill --flagfile=recipes/configs/tinybert4.cfg --teacher=runs/teacher \
        --output_dir=runs/tinybert4
"""

import time

from absl import flags, logging

import tfdistill
from tfdistill.cli import data_flags, distill_flags, distribution_flags, optimizer_flags, tensorboard_flags
from tfdistill.cli.commands import list_flags_in_help, training_settings
from tfdistill.cli.output_dir import check_output_dir, define_overwrite_flag, input_paths
from tfdistill.cli.resume import prepare_resumable_run
from tfdistill.cli.script import INPUT_ERRORS, run_or_exit

flags.DEFINE_string("teacher", None, "Fine-tuned teacher folder (from `tfdistill finetune`).")
data_flags.define_data_flags()
distill_flags.define_distill_flags()
flags.DEFINE_integer("max_length", 64, "Tokenized length, special tokens included.")
flags.DEFINE_integer("epochs", 3, "Distillation epochs (of the prediction stage with --intermediate_epochs).")
flags.DEFINE_integer("batch_size", 32, "Training batch size.")
flags.DEFINE_float("learning_rate", 2e-4, "AdamW peak learning rate.")
flags.DEFINE_enum("mixed_precision", "auto", ["auto", "bfloat16", "float32"],
                  "auto: the frozen teacher runs in mixed bfloat16 where the CPU has bfloat16 units "
                  "(AVX512_BF16, AMX), the student in float32; bfloat16: the student too; float32: neither. "
                  "The saved model is float32 either way.")
flags.DEFINE_bool("cache_teacher_outputs", True, "When every loss term reads only the teacher's logits, hidden "
                  "states and attention maps, compute them once per split (hidden states and maps while they fit "
                  "in a third of the memory, at most 8 GiB) instead of a teacher forward pass per step (same "
                  "batches, same order).")
optimizer_flags.define_optimizer_flags()
distribution_flags.define_distribution_flags()
tensorboard_flags.define_tensorboard_flag()
flags.DEFINE_string("output_dir", None, "Folder for the student and metrics.json.")
define_overwrite_flag()
flags.mark_flags_as_required(["teacher", "output_dir"])
FLAGS = flags.FLAGS
list_flags_in_help(__name__, data_flags, distill_flags, distribution_flags, optimizer_flags, tensorboard_flags)


def run(values):
    """Distils, evaluates and writes the student under `--distribution_strategy`; returns the
    metrics dict."""
    optimizer_flags.apply_optimizer_flags(values)
    return distribution_flags.run_distributed(values, distill_and_write)


def distill_and_write(values, output_dir, resumable=True):
    """Distils the student the flags describe and writes it to `output_dir`; returns the metrics."""
    from tfdistill.data.pipeline import check_max_length
    from tfdistill.distill.from_config import student_bert_config
    from tfdistill.distill.training import distill
    from tfdistill.training.classifier import load_classifier_and_data
    from tfdistill.training.outputs import write_model_folder

    start = time.perf_counter()
    output_dir = check_output_dir(output_dir, input_paths(values), values.overwrite)
    log_dir = tensorboard_flags.log_dir(values, "distill")
    tensorboard_flags.check_log_dir(log_dir, output_dir)
    terms = distill_flags.losses_from_flags(values)
    teacher_config = tfdistill.load_config(values.teacher)
    check_max_length(values.max_length, teacher_config.max_position_embeddings)
    data = data_flags.load_data_from_flags(values)
    data_flags.check_split_of(values.teacher, data, values.seed, data_flags.carves_split(values), "teacher")
    tokenizer = tfdistill.Tokenizer.from_pretrained(values.teacher)
    # The data follows the teacher's id2label (mapped by name), so the student's labels.txt
    # and config.json (inherited from the teacher) agree.
    teacher, data = load_classifier_and_data(values.teacher, data, role="teacher",
                                             fix="fine-tune it first with `tfdistill finetune`.")
    if not values.student_init:  # a shape the teacher cannot give fails before any folder is written
        student_bert_config(teacher_config, distill_flags.student_shape_from_flags(values))
    preprocessor = tfdistill.TextClassifierPreprocessor(tokenizer, values.max_length, data.label_names)
    backup_dir = prepare_resumable_run(values, output_dir, data)
    student = _initial_student(teacher, values, preprocessor, data)
    logging.info("Student %s; losses %s", student.bert_config, terms)
    result = distill(teacher, student, preprocessor, data, losses=terms, epochs=values.epochs,
                     intermediate_epochs=values.intermediate_epochs,
                     batch_size=values.batch_size, learning_rate=values.learning_rate, augment=values.augment,
                     seed=values.seed, backup_dir=backup_dir if resumable else None,
                     mixed_precision=values.mixed_precision, cache_teacher_outputs=values.cache_teacher_outputs,
                     callbacks=tensorboard_flags.tensorboard_callbacks(log_dir))
    metrics = {"dataset": data.get_config(), "teacher_path": values.teacher, "losses": terms,
               "student_config": student.bert_config.get_config(), "history": result["history"],
               "train_seconds": result["train_seconds"], "best_epoch": result["best_epoch"],
               "flags": training_settings(values, "intermediate_epochs", "augment"),
               **evaluate_both(teacher, student, preprocessor, data)}
    metrics["wall_seconds"] = time.perf_counter() - start
    write_model_folder(output_dir, student, tokenizer, data, metrics)
    print(f"Student test accuracy: {metrics['student_test_accuracy']:.4f} vs teacher "
          f"{metrics['teacher_test_accuracy']:.4f} (retention {metrics['retention']:.3f}; "
          f"{metrics['student_non_embedding_params'] / 1e6:.2f}M vs "
          f"{metrics['teacher_non_embedding_params'] / 1e6:.2f}M non-embedding params) -> {output_dir}")
    return metrics


def _initial_student(teacher, values, preprocessor, data):
    """The general student `--student_init` names (with a fresh head), else the one the shape flags describe."""
    if not values.student_init:
        return distill_flags.student_from_flags(teacher, values, preprocessor, data.train)
    from tfdistill.distill.general import load_general_student

    given = sorted(f"--{flag}" for flag in distill_flags.STUDENT_FLAGS if values[flag].present)
    if given:
        raise ValueError(f"--student_init={values.student_init} fixes the student's shape; drop {', '.join(given)}.")
    return load_general_student(values.student_init, teacher, preprocessor, data.label_names)


def evaluate_both(teacher, student, preprocessor, data):
    """Parameter counts and validation and test accuracy of both models, and the retention."""
    from tfdistill.training import evaluation, finetune

    metrics = {}
    for role, model in (("teacher", teacher), ("student", student)):
        total, non_embedding = finetune.count_params(model)
        metrics[f"{role}_params"], metrics[f"{role}_non_embedding_params"] = total, non_embedding
        for split in ("validation", "test"):
            metrics[f"{role}_{split}_accuracy"] = evaluation.accuracy(model, preprocessor, getattr(data, split))
    metrics["retention"] = metrics["student_test_accuracy"] / metrics["teacher_test_accuracy"]
    return metrics


def main(argv):
    del argv
    run_or_exit(run, FLAGS, INPUT_ERRORS + (TypeError,))
