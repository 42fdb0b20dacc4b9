r"""General distillation (TinyBERT's first stage): a pretrained teacher teaches a student its
representations on unlabeled text; no labels, no task.

Writes to --output_dir a Hugging Face-format encoder folder (no classification head) with its
tokenizer, a model card and metrics.json; any task distillation can start from it with
`tfdistill distill --student_init=<folder>` (or the pipeline's `--student_init`).

Example:
    tfdistill general_distill --output_dir=runs/general_4x192 --student_layers=4 \
        --student_hidden=192 --student_heads=3 --student_intermediate=768
    tfdistill general_distill --texts=my_corpus.txt,reviews.csv --text_column=review \
        --losses=tinybert --output_dir=runs/general
"""

import os
import time

from absl import flags, logging

import tfdistill
from tfdistill.cli import distill_flags, optimizer_flags, tensorboard_flags
from tfdistill.cli.commands import list_flags_in_help
from tfdistill.cli.output_dir import check_output_dir, define_overwrite_flag
from tfdistill.cli.script import INPUT_ERRORS, run_or_exit
from tfdistill.data.unlabeled import DEFAULT_SOURCES
from tfdistill.distill.general import GENERAL_LOSSES

flags.DEFINE_string("teacher", None, "Pretrained (not fine-tuned) BERT folder (default: the shipped all-MiniLM-L6-v2).")
flags.DEFINE_list("texts", list(DEFAULT_SOURCES),
                  "Unlabeled text sources: built-in names (rotten_tomatoes_plots, guardian_headlines, "
                  "political_speeches), <dataset>:train (a built-in dataset's training texts), or files "
                  "(.txt one text per line; .csv/.tsv/.jsonl with --text_column).")
flags.DEFINE_string("text_column", "text", "Text column of CSV, TSV and JSONL sources.")
flags.DEFINE_integer("max_texts", None, "Use only the first this many texts (after dropping repeats).")
distill_flags.define_student_flags()
flags.DEFINE_enum("losses", "minilm", sorted(GENERAL_LOSSES),
                  "minilm: MiniLM-v2 query/key/value relations of the last blocks (any width); tinybert: "
                  "embeddings, hidden states (projected when narrower) and attention maps.")
flags.DEFINE_integer("max_length", 64, "Tokenized length, special tokens included.")
flags.DEFINE_integer("epochs", 3, "Epochs over the texts; the epoch with the lowest held-out loss is kept.")
flags.DEFINE_integer("batch_size", 32, "Training batch size.")
flags.DEFINE_float("learning_rate", 5e-4, "AdamW peak learning rate.")
flags.DEFINE_integer("seed", 0, "Seed of the student's fresh weights, the held-out texts and the data order.")
flags.DEFINE_enum("mixed_precision", "auto", ["auto", "bfloat16", "float32"],
                  "auto: the frozen teacher runs in mixed bfloat16 where the CPU has bfloat16 units; the "
                  "student trains in float32.")
optimizer_flags.define_optimizer_flags()
tensorboard_flags.define_tensorboard_flag()
flags.DEFINE_string("output_dir", None, "Folder for the general student (an encoder without a head).")
define_overwrite_flag()
flags.mark_flags_as_required(["output_dir"])
FLAGS = flags.FLAGS
list_flags_in_help(__name__, distill_flags, optimizer_flags, tensorboard_flags)


def run(values):
    """Distils the general student the flags describe, writes it and returns the metrics."""
    from tfdistill.cli.resume import prepare_resumable_run
    from tfdistill.data.unlabeled import describe_sources, merge_texts, read_sources
    from tfdistill.distill.general import general_distill

    optimizer_flags.apply_optimizer_flags(values)
    start = time.perf_counter()
    teacher_path = values.teacher or tfdistill.default_teacher_path()
    inputs = {"--teacher": teacher_path, **{f"--texts ({source})": source for source in values.texts
                                             if os.path.exists(source)}}
    output_dir = check_output_dir(values.output_dir, inputs, values.overwrite)
    log_dir = tensorboard_flags.log_dir(values, "general_distill")
    tensorboard_flags.check_log_dir(log_dir, output_dir)
    shape = distill_flags.student_shape_from_flags(values)
    texts_by_source = read_sources(values.texts, values.text_column)  # each source read once
    texts = merge_texts(texts_by_source, values.max_texts)
    teacher = tfdistill.load_pretrained(teacher_path)
    preprocessor = tfdistill.TextClassifierPreprocessor(tfdistill.Tokenizer.from_pretrained(teacher_path),
                                                        values.max_length)
    preprocessor.check(teacher.bert_config, "the teacher")
    backup_dir = prepare_resumable_run(values, output_dir, texts)
    student = _general_student(teacher, shape, preprocessor, texts)
    logging.info("Student %s; %d unlabeled texts", student.bert_config, len(texts))
    result = general_distill(teacher, student, preprocessor, texts, losses=values.losses, epochs=values.epochs,
                             batch_size=values.batch_size, learning_rate=values.learning_rate, seed=values.seed,
                             mixed_precision=values.mixed_precision, backup_dir=backup_dir,
                             callbacks=tensorboard_flags.tensorboard_callbacks(log_dir))
    metrics = {"teacher_path": teacher_path, "sources": {source: {"texts": n, "words": words} for source, (n, words)
                                                         in describe_sources(texts_by_source).items()},
               "texts": len(texts), "losses": list(GENERAL_LOSSES[values.losses]),
               "student_config": student.bert_config.get_config(), **result,
               "flags": {name: getattr(values, name) for name in ("max_length", "epochs", "batch_size",
                                                                    "learning_rate", "seed", "losses")}}
    metrics["wall_seconds"] = time.perf_counter() - start
    _write_general_student(output_dir, student, preprocessor.tokenizer, metrics)
    val_loss = result["history"]["val_loss"][result["best_epoch"]]
    print(f"General student: held-out loss {val_loss:.4f} (epoch {result['best_epoch'] + 1}), "
          f"{len(texts)} texts, {result['train_seconds']:.0f} s -> {output_dir}")
    return metrics


def _general_student(teacher, shape, preprocessor, texts):
    """The student of `shape`, initialised from the teacher as task students are."""
    from tfdistill.data.datasets import Split
    from tfdistill.distill.from_config import student_from_config

    scored = texts[:shape.importance_examples]
    scoring = Split(scored, [-1] * len(scored))
    return student_from_config(teacher, shape, preprocessor, scoring)


def _write_general_student(output_dir, student, tokenizer, metrics):
    from tfdistill.models.bert.checkpoint import write_card_for_model, write_pretrained_files
    from tfdistill.models.model_card import ModelCardData
    from tfdistill.utils import atomic

    best = metrics["best_epoch"]
    card = ModelCardData(
        name=os.path.basename(os.path.normpath(output_dir)), kind="general-distilled student (encoder, no head)",
        folder=output_dir, base_model=metrics["teacher_path"], base_model_role="teacher", tags=("distillation",),
        dataset_name="unlabeled text", data_description=", ".join(
            f"{source} ({size['texts']:,} texts)" for source, size in metrics["sources"].items()),
        num_examples={"train": metrics["train_texts"], "validation": metrics["validation_texts"]},
        losses=tuple(metrics["losses"]), hyperparameters=metrics["flags"], max_length=metrics["flags"]["max_length"],
        epochs_run=len(metrics["history"]["loss"]), train_seconds=metrics["train_seconds"],
        details=(("Held-out loss of the kept epoch", f"{metrics['history']['val_loss'][best]:.4f} (epoch {best + 1})"),
                 ("Next step", f"tfdistill distill --student_init={output_dir} --teacher=<fine-tuned teacher>")))
    with atomic.atomic_dir(output_dir, kind="model") as tmp:
        write_pretrained_files(student, tmp, tokenizer)
        write_card_for_model(student, tmp, card)
        atomic.write_json(os.path.join(tmp, "metrics.json"), metrics)


def main(argv):
    del argv
    run_or_exit(run, FLAGS, INPUT_ERRORS + (TypeError,))
