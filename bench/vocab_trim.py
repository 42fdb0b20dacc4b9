r"""Accuracy and size against vocabulary size and embedding rank: a trained classifier with its
word table trimmed (`trim_vocabulary`), factorised by truncated SVD (`factorize_embeddings`), or both.

For each `--sizes` entry (`full`: the teacher's 30,522 tokens; `used`: the special tokens, every
single-character piece and every token the training texts use; a number: those, the used tokens
most frequent first up to that many in all), side by side in one process: the trimmed student's
Keras accuracy (through the trimmed tokenizer), and its `--modes` `.tflite` (export recipes as
the pipeline's; exported with force, so a refused export is measured too, with its agreement):
size, gzip size, LiteRT accuracy. Validation (what a choice may read) and test (what is
reported). Each `--ranks` entry (`full`: the table as it is; a number: its rank-r SVD factors, a
`vocab x r` table and an `r x width` projection) is crossed with each size. No training after
trimming or factorising: a token that is not kept is spelt with shorter pieces the student was
not trained on, a factorised table loses the smallest singular directions, and what that costs
is what this measures.

The classifier is a pipeline run's stage (`--run_dir`, `--stage`) or any classifier folder with
its dataset (`--model`, `--dataset`, `--seed`: the split the pipeline and the recipes draw).

Example:
    python bench/vocab_trim.py --run_dir=runs/demo                     # ~5 min on 2 cores
    python bench/vocab_trim.py --run_dir=runs/pipeline --stage=prune --sizes=used,8000 --modes=int8,dynamic
    python bench/vocab_trim.py --model=runs/teacher --dataset=rotten_tomatoes --sizes=full,used \
        --ranks=full,192,128,64
"""

import os
import tempfile

from absl import app, flags
from compact_common import accuracies, factorised, task_context, tflite_row, trimmed_student
from run_folder import load_run
from tables import markdown_table

flags.DEFINE_string("run_dir", None, "A pipeline run folder with finished teacher and distill stages.")
flags.DEFINE_string("stage", "distill", "The student to trim: a stage of the run that saved an HF model folder.")
flags.DEFINE_string("model", None, "Instead of --run_dir: a classifier folder, evaluated on --dataset.")
flags.DEFINE_string("dataset", "rotten_tomatoes", "With --model: the built-in dataset it was trained on.")
flags.DEFINE_integer("seed", 0, "With --model: the dataset split's seed (the recipes' --seed).")
flags.DEFINE_integer("max_length", 64, "With --model: the tokenized length.")
flags.DEFINE_list("sizes", ["full", "used", "16000", "8000", "4000"], "Vocabulary sizes: full, used or a number.")
flags.DEFINE_list("ranks", ["full"], "Word-table ranks: full, or a number (truncated SVD factors).")
flags.DEFINE_list("modes", ["int8"], "Export modes of each trimmed student.")
flags.DEFINE_string("output_json", None, "Also write the rows here.")
FLAGS = flags.FLAGS

COLUMNS = ("vocab", "rank", "energy", "mode", "keras_val", "keras_test", "agreement", "tflite_val", "tflite_test", "tflite_mb",
           "gzip_mb")


def model_context():
    """`(context, classifier)`: a run's stage, or `--model` with `--dataset`'s split."""
    if FLAGS.run_dir:
        ctx = load_run(FLAGS.run_dir)
        return ctx, ctx.model(FLAGS.stage), f"{FLAGS.run_dir}/{FLAGS.stage} (seed {ctx.config.seed})"
    import tfdistill

    ctx = task_context(FLAGS.model, FLAGS.dataset, FLAGS.seed, FLAGS.max_length)
    return ctx, tfdistill.load_pretrained(FLAGS.model), f"{FLAGS.model} on {FLAGS.dataset} (seed {FLAGS.seed})"


def main(argv):
    del argv
    if bool(FLAGS.run_dir) == bool(FLAGS.model):
        raise app.UsageError("Pass one of --run_dir and --model.")
    ctx, student, what = model_context()
    load = os.getloadavg()[0]
    print(f"Vocabulary trimming and embedding rank of {what}; load {load:.1f} on {os.cpu_count()} cores", flush=True)
    rows = []
    with tempfile.TemporaryDirectory() as workdir:
        for size in FLAGS.sizes:
            trimmed, tokenizer = trimmed_student(student, ctx, size)
            for rank in FLAGS.ranks:
                model, energy = factorised(trimmed, rank)
                keras = accuracies(model, tokenizer, ctx)
                for mode in FLAGS.modes:
                    row = {"vocab": tokenizer.vocab_size, "rank": rank, "energy": energy, "mode": mode,
                           "keras_val": keras["val"], "keras_test": keras["test"]}
                    row.update(tflite_row(model, tokenizer, mode, ctx, os.path.join(workdir, f"{size}_{rank}_{mode}")))
                    rows.append(row)
                    print(f"   {row}", flush=True)
    print(markdown_table(rows, COLUMNS))
    if FLAGS.output_json:
        from tfdistill.utils import atomic

        atomic.write_json(FLAGS.output_json, {"classifier": what, "load": load, "rows": rows})


if __name__ == "__main__":
    app.run(main)
