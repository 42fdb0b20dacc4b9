r"""Narrow students on a task, from three starts: fresh blocks with PCA embeddings, the teacher's
kept heads and units (only where the width is the teacher's), and a general-distilled student.

For each student shape: one general distillation (`recipes/general_distill.py`, from the
pretrained teacher, on the default unlabeled sources), then task distillation
(`recipes/distill.py`, the recipe's default losses: logit KD + hard labels) from each start and
seed. The task's split is the one the teacher was fine-tuned on (`--split_seed`), written once
to CSV files that every run reads: a recipe's `--seed` also draws the split, and another split
would put the teacher's training examples in the test set. `--seeds` thus change only the
student's fresh weights and the data order. Every run is a subprocess writing its own folder, one after the other (each uses both
cores); a folder that holds a finished run is read, not run again. Prints one row per start
and seed (validation and test accuracy, test retention, the student's compute relative to the
teacher's), the mean over seeds, and the general stage's cost.

Example:
    python recipes/finetune_teacher.py --epochs=2 --output_dir=runs/teacher
    python bench/general_distill.py --teacher=runs/teacher --runs_dir=runs/general_bench    # ~1 h on 2 cores
"""

import json
import os
import subprocess
import sys

import numpy as np
from absl import app, flags
from compact_common import split_files
from tables import markdown_table

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

flags.DEFINE_string("teacher", None, "Fine-tuned task teacher folder (recipes/finetune_teacher.py).")
flags.DEFINE_string("runs_dir", None, "Folder of every run of the bench.")
flags.DEFINE_list("shapes", ["4x192x6x384"], "Student shapes LAYERSxWIDTHxHEADSxFFN.")
flags.DEFINE_list("seeds", ["0", "1"], "Task-distillation seeds.")
flags.DEFINE_integer("general_epochs", 3, "General-distillation epochs.")
flags.DEFINE_enum("general_losses", "minilm", ["minilm", "tinybert"], "General-distillation loss recipe.")
flags.DEFINE_integer("task_epochs", 3, "Task-distillation epochs.")
flags.DEFINE_string("dataset", "rotten_tomatoes", "Task dataset.")
flags.DEFINE_integer("split_seed", 0, "The seed of the split the teacher was fine-tuned on.")
flags.DEFINE_integer("max_length", 64, "Tokenized length.")
flags.mark_flags_as_required(["teacher", "runs_dir"])
FLAGS = flags.FLAGS

COLUMNS = ("shape", "start", "seed", "compute", "val", "test", "retention", "train s")


def _run(recipe, folder, *args):
    if os.path.exists(os.path.join(folder, "metrics.json")):
        print(f"   {folder}: finished earlier", flush=True)
    else:
        command = [sys.executable, os.path.join(ROOT, "recipes", recipe), f"--output_dir={folder}",
                   f"--max_length={FLAGS.max_length}", *args]
        print("$ " + " ".join(command), flush=True)
        subprocess.run(command, check=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    with open(os.path.join(folder, "metrics.json"), encoding="utf-8") as f:
        return json.load(f)


def _shape_flags(shape):
    layers, width, heads, ffn = (int(part) for part in shape.split("x"))
    return [f"--student_layers={layers}", f"--student_hidden={width}", f"--student_heads={heads}",
            f"--student_intermediate={ffn}"], width


def _compute_ratio(config):
    import tfdistill
    from tfdistill.export.flops import bert_flops

    teacher = tfdistill.load_config(FLAGS.teacher)
    return bert_flops(tfdistill.BertConfig(**config), FLAGS.max_length) / bert_flops(teacher, FLAGS.max_length)


def _starts(shape, general_dir):
    """`{start name: distill.py flags}` of the starts this shape allows."""
    import tfdistill

    shape_flags, width = _shape_flags(shape)
    if width == tfdistill.load_config(FLAGS.teacher).hidden_size:
        starts = {"teacher's heads and units": shape_flags}
    else:  # the teacher's blocks do not fit a narrower residual stream
        starts = {"fresh + PCA embeddings": [*shape_flags, "--embedding_init=pca"]}
    starts["general distillation"] = [f"--student_init={general_dir}"]
    return starts


def main(argv):
    del argv
    rows, general_costs = [], {}
    split_flags = split_files(FLAGS.runs_dir, FLAGS.dataset, FLAGS.split_seed)
    for shape in FLAGS.shapes:
        general_dir = os.path.join(FLAGS.runs_dir, f"general_{shape}")
        general = _run("general_distill.py", general_dir, *_shape_flags(shape)[0], f"--epochs={FLAGS.general_epochs}",
                       f"--losses={FLAGS.general_losses}")
        general_costs[shape] = (general["train_seconds"], general["texts"], general["best_epoch"] + 1)
        for start, start_flags in _starts(shape, general_dir).items():
            for seed in FLAGS.seeds:
                folder = os.path.join(FLAGS.runs_dir, f"task_{shape}_{start.split()[0]}_s{seed}")
                metrics = _run("distill.py", folder, f"--teacher={FLAGS.teacher}", *split_flags,
                               f"--epochs={FLAGS.task_epochs}", f"--seed={seed}", *start_flags)
                rows.append({"shape": shape, "start": start, "seed": seed,
                             "compute": _compute_ratio(metrics["student_config"]),
                             "val": metrics["student_validation_accuracy"], "test": metrics["student_test_accuracy"],
                             "retention": metrics["retention"], "train s": metrics["train_seconds"],
                             "teacher": (metrics["teacher_validation_accuracy"], metrics["teacher_test_accuracy"])})
    teacher_val, teacher_test = rows[0]["teacher"]
    print(f"Teacher {FLAGS.teacher}: validation {teacher_val:.4f}, test {teacher_test:.4f}; load "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    means = [{**row, "seed": "mean", **{key: float(np.mean([r[key] for r in group])) for key in
                                        ("val", "test", "retention", "train s")}}
             for row, group in ((g[0], g) for g in _groups(rows))]
    print(markdown_table(rows + means, COLUMNS))
    for shape, (seconds, texts, epoch) in general_costs.items():
        print(f"General distillation of {shape}: {seconds / 60:.1f} min on {texts:,} texts "
              f"({FLAGS.general_epochs} epochs, {FLAGS.general_losses}; kept epoch {epoch})")


def _groups(rows):
    keys = list(dict.fromkeys((row["shape"], row["start"]) for row in rows))
    return [[row for row in rows if (row["shape"], row["start"]) == key] for key in keys]


if __name__ == "__main__":
    app.run(main)
