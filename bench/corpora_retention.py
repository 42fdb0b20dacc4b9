r"""The pipeline's defaults on several corpora: what each run ships and how much of its teacher's
test accuracy it keeps (the retention issue's table).

Runs `recipes/pipeline.py --dataset=NAME --output_dir=<runs_dir>/NAME --seed=S` for each corpus
(one after the other: each uses both cores), with the same defaults and only the data flag
changed, then prints one row per run from its `report.json`: split sizes, the teacher's
validation and test accuracy, the ladder's choice, the shipped student (chosen on validation),
its test accuracy, test retention, size and speed-up. A finished run is skipped by the pipeline
itself, so `--report_only` or a second call just prints the table.

Example:
    python bench/corpora_retention.py --runs_dir=runs/corpora                 # about 1.5 h on 2 cores
    python bench/corpora_retention.py --runs_dir=runs/corpora --corpora=trec --report_only
"""

import json
import os
import subprocess
import sys

from absl import app, flags
from tables import markdown_table

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

flags.DEFINE_string("runs_dir", None, "Folder of the runs: one sub-folder per corpus (<runs_dir>/<corpus>).")
flags.DEFINE_list("corpora", ["rotten_tomatoes", "trec", "presidential_debates_2016"], "Built-in datasets.")
flags.DEFINE_integer("seed", 0, "Seed of every run (it also draws the split).")
flags.DEFINE_bool("report_only", False, "Only print the table of the runs already in --runs_dir.")
flags.DEFINE_string("output_json", None, "Also write the rows here.")
flags.mark_flag_as_required("runs_dir")
FLAGS = flags.FLAGS

COLUMNS = ("corpus", "train/val/test", "teacher val", "teacher test", "ladder", "shipped", "shipped val",
           "shipped test", "retention", "MB", "gzip MB", "speed-up", "stage min")


def run_corpus(corpus, folder):
    command = [sys.executable, os.path.join(ROOT, "recipes", "pipeline.py"), f"--dataset={corpus}",
               f"--output_dir={folder}", f"--seed={FLAGS.seed}"]
    print("$ " + " ".join(command), flush=True)
    subprocess.run(command, check=True)


def row(corpus, report):
    """One table row from a run's `report.json`."""
    shipped = next(e for e in report["students"] if e["name"] == report["best_quantized_student"])
    dataset, teacher, ladder = report["dataset"], report["teacher"], report.get("ladder") or {}
    return {"corpus": corpus, "train/val/test": f"{dataset['train']:,} / {dataset['validation']:,} / {dataset['test']:,}",
            "teacher val": teacher["validation_accuracy"], "teacher test": teacher["accuracy"],
            "ladder": ladder.get("chosen", "-") + ("" if ladder.get("met_target", True) else " (target not met)"),
            "shipped": shipped["name"], "shipped val": shipped["validation_accuracy"],
            "shipped test": shipped["accuracy"], "retention": report["retention"],
            "MB": shipped["tflite_size_bytes"] / 1e6, "gzip MB": shipped["gzip_size_bytes"] / 1e6,
            "speed-up": report["latency_gain"], "stage min": report["total_stage_seconds"] / 60}


def main(argv):
    del argv
    rows = []
    for corpus in FLAGS.corpora:
        folder = os.path.join(FLAGS.runs_dir, corpus)
        if not FLAGS.report_only:
            run_corpus(corpus, folder)
        path = os.path.join(folder, "report.json")
        if not os.path.exists(path):
            print(f"{corpus}: no report at {path} (run without --report_only)", file=sys.stderr)
            continue
        with open(path, encoding="utf-8") as f:
            rows.append(row(corpus, json.load(f)))
    print(markdown_table(rows, COLUMNS, large=1.5, large_format=".1f"))
    if FLAGS.output_json:
        from tfdistill.utils import atomic

        atomic.write_json(FLAGS.output_json, {"seed": FLAGS.seed, "rows": rows})


if __name__ == "__main__":
    app.run(main)
