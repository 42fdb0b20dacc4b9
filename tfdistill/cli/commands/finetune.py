r"""Fine-tunes a BERT encoder plus a classification head: the teacher of later distillation.

Writes to --output_dir a Hugging Face-format folder (config.json, model.safetensors, vocab.txt,
tokenizer.json) plus labels.txt and metrics.json (validation and test accuracy, params, time).

Example:
    tfdistill finetune --output_dir=runs/teacher
    tfdistill finetune --train_file=reviews.csv --text_column=review \
        --label_column=stars --epochs=4 --output_dir=runs/stars_teacher
"""

import time

from absl import flags, logging

import tfdistill
from tfdistill.cli import data_flags, distribution_flags, optimizer_flags, tensorboard_flags
from tfdistill.cli.commands import list_flags_in_help, training_settings
from tfdistill.cli.output_dir import check_output_dir, define_overwrite_flag, input_paths
from tfdistill.cli.script import INPUT_ERRORS, run_or_exit

flags.DEFINE_string("model", None, "Hugging Face BERT folder to fine-tune (default: the shipped "
                    "all-MiniLM-L6-v2).")
data_flags.define_data_flags()
flags.DEFINE_integer("max_length", 64, "Tokenized length, special tokens included.")
flags.DEFINE_integer("epochs", 3, "Training epochs; the best one on validation is kept.")
flags.DEFINE_integer("batch_size", 32, "Training batch size.")
flags.DEFINE_float("learning_rate", 5e-5, "AdamW peak learning rate (linear warm-up, then decay).")
flags.DEFINE_float("warmup_fraction", 0.1, "Share of steps spent warming up.")
flags.DEFINE_float("weight_decay", 0.01, "AdamW decoupled weight decay.")
flags.DEFINE_enum("mixed_precision", "auto", ["auto", "bfloat16", "float32"],
                  "auto: mixed bfloat16 where the CPU has bfloat16 units (AVX512_BF16, AMX), else float32; "
                  "the saved model is float32 either way.")
optimizer_flags.define_optimizer_flags()
distribution_flags.define_distribution_flags()
tensorboard_flags.define_tensorboard_flag()
flags.DEFINE_string("output_dir", None, "Folder for the fine-tuned teacher and metrics.json.")
define_overwrite_flag()
flags.mark_flag_as_required("output_dir")
FLAGS = flags.FLAGS
list_flags_in_help(__name__, data_flags, distribution_flags, optimizer_flags, tensorboard_flags)


def run(values):
    """Fine-tunes, evaluates and writes the teacher under `--distribution_strategy`; returns the
    metrics dict it wrote."""
    optimizer_flags.apply_optimizer_flags(values)
    return distribution_flags.run_distributed(values, fine_tune_and_write)


def fine_tune_and_write(values, output_dir, resumable=True):
    """Fine-tunes the model the flags name and writes it to `output_dir`; returns the metrics.
    With `resumable`, every finished epoch is backed up and the same command resumes a killed run."""
    from tfdistill.cli.resume import prepare_resumable_run
    from tfdistill.data.pipeline import check_max_length
    from tfdistill.training.outputs import write_model_folder
    from tfdistill.training import evaluation, finetune

    start = time.perf_counter()
    output_dir = check_output_dir(output_dir, input_paths(values), values.overwrite)
    log_dir = tensorboard_flags.log_dir(values, "finetune")
    tensorboard_flags.check_log_dir(log_dir, output_dir)
    model_path = values.model or tfdistill.default_teacher_path()
    config = tfdistill.load_config(model_path)
    check_max_length(values.max_length, config.max_position_embeddings)
    data = data_flags.load_data_from_flags(values)
    preprocessor = tfdistill.TextClassifierPreprocessor(tfdistill.Tokenizer.from_pretrained(model_path),
                                                             values.max_length, data.label_names)
    logging.info("Dataset %s", data)

    backup_dir = prepare_resumable_run(values, output_dir, data)
    model = tfdistill.load_pretrained(model_path, num_labels=data.num_classes)
    model.bert_config = model.bert_config.replace(label_names=tuple(data.label_names))
    result = finetune.fine_tune_classifier(
        model, preprocessor, data, epochs=values.epochs,
        batch_size=values.batch_size, learning_rate=values.learning_rate,
        warmup_fraction=values.warmup_fraction, weight_decay=values.weight_decay, seed=values.seed,
        mixed_precision=values.mixed_precision, backup_dir=backup_dir if resumable else None,
        callbacks=tensorboard_flags.tensorboard_callbacks(log_dir))
    total, non_embedding = finetune.count_params(model)
    metrics = {
        "model": model_path,
        "dataset": data.get_config(),
        "validation_accuracy": evaluation.accuracy(model, preprocessor, data.validation),
        "test_accuracy": evaluation.accuracy(model, preprocessor, data.test),
        "params": total,
        "non_embedding_params": non_embedding,
        "best_epoch": result.best_epoch,
        "history": result.history,
        "train_seconds": result.train_seconds,
        "wall_seconds": time.perf_counter() - start,
        "flags": training_settings(values),
    }
    write_model_folder(output_dir, model, preprocessor.tokenizer, data, metrics)
    print(f"Teacher test accuracy: {metrics['test_accuracy']:.4f} "
          f"(validation {metrics['validation_accuracy']:.4f}, best epoch {result.best_epoch + 1}, "
          f"{result.train_seconds:.0f} s training) -> {output_dir}")
    return metrics


def main(argv):
    del argv
    run_or_exit(run, FLAGS, INPUT_ERRORS + (TypeError,))
