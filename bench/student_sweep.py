r"""Which small student to ship: a sweep of student shapes, word-table ranks and loss mixes, each
distilled over several seeds, exported as the phone gets it (int8, the used vocabulary), and
chosen on validation.

A variant is `LAYERSxHEADSxFFN` (blocks kept from the teacher, with its most important heads and
feed-forward units, as the pipeline's ladder rungs), then any of:
- `/eRANK`: a factorised word table of that rank (`--student_embedding_size`), trained as such;
- `+inter`: the intermediate terms too (hidden-state and embedding MSE, head-averaged attention
  KL, weight 1 each; the pipeline's default is logit KD + hard labels);
- `+aug`: one embedding-neighbour augmented copy of each training example;
- `@EPOCHS`: that many distillation epochs instead of `--epochs`.

Each (variant, seed) is one `recipes/distill.py` subprocess writing its own folder (a finished
one is read, not run again), on the teacher's split (`--split_seed`) written once to CSV files:
`--seeds` change only initialisation and data order. Each student is then trimmed to the
vocabulary its training texts use and exported in `--mode` (the pipeline's export recipes); the
`.tflite` is evaluated with LiteRT on validation and test, and every `.tflite`, with the teacher's
float32 one, is timed side by side in this process (1 thread, XNNPACK, `--rounds` interleaved
rounds; the median of each model's p50s).

Prints one row per run and one per variant (the mean over seeds), then the variant chosen on
validation: the smallest `.tflite` whose mean validation retention is at least `--target`.
Test columns are reported, never used to choose.

Example:
    python recipes/finetune_teacher.py --epochs=2 --output_dir=runs/teacher
    python bench/student_sweep.py --teacher=runs/teacher --runs_dir=runs/sweep \
        --variants=3x4x384,3x4x384/e128,3x4x384/e128+inter      # ~10 min a run on 2 cores
"""

import json
import os
import re
import statistics
import subprocess
import sys

from absl import app, flags
from compact_common import split_files, task_context, tflite_row, trimmed_student
from tables import markdown_table

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

flags.DEFINE_string("teacher", None, "Fine-tuned task teacher folder (recipes/finetune_teacher.py).")
flags.DEFINE_string("runs_dir", None, "Folder of every run of the sweep.")
flags.DEFINE_list("variants", ["3x4x384", "3x4x384/e128", "3x4x384/e128+inter"],
                  "LAYERSxHEADSxFFN[/eRANK][+inter][+aug][@EPOCHS] (see the module docstring).")
flags.DEFINE_list("seeds", ["0", "1"], "Distillation seeds.")
flags.DEFINE_integer("epochs", 2, "Distillation epochs of the variants without @EPOCHS (the pipeline's default).")
flags.DEFINE_string("dataset", "rotten_tomatoes", "Task dataset (built-in name).")
flags.DEFINE_integer("split_seed", 0, "The seed of the split the teacher was fine-tuned on.")
flags.DEFINE_integer("max_length", 64, "Tokenized length, also the exported sequence length.")
flags.DEFINE_string("mode", "int8", "Export mode of every student.")
flags.DEFINE_string("vocabulary", "used", "The students' exported vocabulary: full, used, or a number.")
flags.DEFINE_float("target", 0.98, "Mean validation retention the chosen variant must reach.")
flags.DEFINE_integer("rounds", 3, "Interleaved timing rounds.")
flags.mark_flags_as_required(["teacher", "runs_dir"])
FLAGS = flags.FLAGS

VARIANT = re.compile(r"^(\d+)x(\d+)x(\d+)(?:/e(\d+))?((?:\+(?:inter|aug))*)(?:@(\d+))?$")
INTERMEDIATE_FLAGS = ["--hidden_weight=1", "--embedding_weight=1", "--attention_weight=1", "--head_average"]
COLUMNS = ("variant", "seed", "keras_val", "keras_test", "tflite_val", "tflite_test", "val_retention",
           "test_retention", "tflite_mb", "gzip_mb", "speedup", "train_min")


def variant_flags(variant):
    """`recipes/distill.py` flags of a variant name.

    Example:
    >>> variant_flags("3x4x384/e128+inter")[:4]
    ['--student_layers=3', '--student_heads=4', '--student_intermediate=384', '--student_embedding_size=128']
    >>> variant_flags("2x4x256+aug@4")[-2:]
    ['--augment=1', '--epochs=4']
    """
    match = VARIANT.match(variant)
    if not match:
        raise app.UsageError(f"--variants: {variant!r} is not LAYERSxHEADSxFFN[/eRANK][+inter][+aug][@EPOCHS], "
                             "e.g. 3x4x384/e128+inter@4.")
    layers, heads, ffn, rank, extras, epochs = match.groups()
    result = [f"--student_layers={layers}", f"--student_heads={heads}", f"--student_intermediate={ffn}"]
    result += [f"--student_embedding_size={rank}"] if rank else []
    result += INTERMEDIATE_FLAGS if "+inter" in extras else []
    result += ["--augment=1"] if "+aug" in extras else []
    return result + [f"--epochs={epochs or FLAGS.epochs}"]


def distill_run(variant, seed, split_flags):
    """The run's folder, distilled now unless it finished earlier."""
    name = variant if "@" in variant else f"{variant}@{FLAGS.epochs}"
    folder = os.path.join(FLAGS.runs_dir, re.sub(r"[/+@]", "_", name) + f"_s{seed}")
    if not os.path.exists(os.path.join(folder, "metrics.json")):
        command = [sys.executable, os.path.join(ROOT, "recipes", "distill.py"), f"--output_dir={folder}",
                   f"--teacher={FLAGS.teacher}", f"--max_length={FLAGS.max_length}", f"--seed={seed}",
                   *split_flags, *variant_flags(variant)]
        print("$ " + " ".join(command), flush=True)
        subprocess.run(command, check=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
                       stdout=subprocess.DEVNULL)
    return folder


def exported_row(folder, ctx):
    """The run's metrics, its student exported (once: `<folder>/tflite_<vocabulary>_<mode>`)
    and evaluated with LiteRT."""
    import tfdistill

    with open(os.path.join(folder, "metrics.json"), encoding="utf-8") as f:
        metrics = json.load(f)
    package = os.path.join(folder, f"tflite_{FLAGS.vocabulary}_{FLAGS.mode}")
    summary = os.path.join(package, "sweep_row.json")
    if not os.path.exists(summary):
        model, tokenizer = trimmed_student(tfdistill.load_pretrained(folder), ctx, FLAGS.vocabulary)
        row = tflite_row(model, tokenizer, FLAGS.mode, ctx, package)
        tfdistill.utils.atomic.write_json(summary, row)
    with open(summary, encoding="utf-8") as f:
        row = json.load(f)
    teacher_val, teacher_test = metrics["teacher_validation_accuracy"], metrics["teacher_test_accuracy"]
    return {**row, "keras_val": metrics["student_validation_accuracy"], "keras_test": metrics["student_test_accuracy"],
            "val_retention": row["tflite_val"] / teacher_val, "test_retention": row["tflite_test"] / teacher_test,
            "train_min": metrics["train_seconds"] / 60, "teacher": (teacher_val, teacher_test), "package": package}


def teacher_package(ctx):
    """The teacher's float32 `.tflite` (exported once), the speed reference."""
    import tfdistill

    package = os.path.join(FLAGS.runs_dir, "teacher_float32")
    if not os.path.exists(os.path.join(package, "model.tflite")):
        tfdistill.export.export_tflite(tfdistill.load_pretrained(FLAGS.teacher), package, "float32", FLAGS.max_length,
                                       ctx.tokenizer, ctx.data.train, ctx.data.validation, None,
                                       labels=ctx.data.label_names)
    return package


def median_p50_ms(packages):
    """`{package: median p50 ms}` over `--rounds` rounds, every package once a round (1 thread, XNNPACK)."""
    from tfdistill.export.benchmark import measure

    times = {package: [] for package in packages}
    for _ in range(FLAGS.rounds):
        for package in packages:
            times[package].append(measure(package, threads=1, num_runs=30).p50_us / 1e3)
    return {package: statistics.median(values) for package, values in times.items()}


def variant_means(rows):
    """One row per variant: the mean over its seeds."""
    means = []
    for variant in dict.fromkeys(row["variant"] for row in rows):
        group = [row for row in rows if row["variant"] == variant]
        means.append({"variant": variant, "seed": "mean", **{column: statistics.fmean(row[column] for row in group)
                                                             for column in COLUMNS[2:]}})
    return means


def main(argv):
    del argv
    ctx = task_context(FLAGS.teacher, FLAGS.dataset, FLAGS.split_seed, FLAGS.max_length)
    split_flags = split_files(FLAGS.runs_dir, FLAGS.dataset, FLAGS.split_seed)
    rows = []
    for variant in FLAGS.variants:
        for seed in FLAGS.seeds:
            rows.append({"variant": variant, "seed": seed, **exported_row(distill_run(variant, seed, split_flags), ctx)})
            print(f"   {variant} seed {seed}: tflite val {rows[-1]['tflite_val']:.4f}, "
                  f"{rows[-1]['tflite_mb']:.2f} MB", flush=True)
    reference = teacher_package(ctx)
    p50 = median_p50_ms([reference] + [row["package"] for row in rows])
    for row in rows:
        row["speedup"] = p50[reference] / p50[row["package"]]
    teacher_val, teacher_test = rows[0]["teacher"]
    print(f"Teacher {FLAGS.teacher}: validation {teacher_val:.4f}, test {teacher_test:.4f} (Keras); float32 "
          f".tflite p50 {p50[reference]:.2f} ms; load {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; "
          f"{FLAGS.mode}, vocabulary {FLAGS.vocabulary}, {FLAGS.epochs} epochs")
    means = variant_means(rows)
    print(markdown_table(rows + means, COLUMNS))
    passing = [row for row in means if row["val_retention"] >= FLAGS.target]
    if passing:
        chosen = min(passing, key=lambda row: row["tflite_mb"])
        print(f"Chosen on validation: {chosen['variant']} (mean validation retention {chosen['val_retention']:.3f}, "
              f"{chosen['tflite_mb']:.2f} MB; its test retention {chosen['test_retention']:.3f})")
    else:
        print(f"No variant reached a mean validation retention of {FLAGS.target}.")


if __name__ == "__main__":
    app.run(main)
