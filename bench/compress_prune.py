"""Pruning targets, measured: accuracy, sparsity and int8 `.tflite` size of pruned students.

Trains (or loads) a small dense student on Rotten Tomatoes, then prunes a copy of it per variant
inside the Distiller (guided by --teacher, else by the dense student itself), strips it and
converts every model to full-int8 `.tflite`. With --pqat_epochs, the unstructured-pruned student
also goes through QAT with tfmot's prune-preserving scheme, and (for contrast) without it, to show
whether the zeros survive in the QAT kernels and in the exported int8 weights.

Prints, side by side with the dense student: Keras test accuracy and its drop in points, the
sparsity of the pruned kernels and of the whole model, the `.tflite` accuracy, size, gzip size
(and its ratio to the dense one) and the zero fraction of its int8 weights.

Targets (issue): 50% unstructured <= 1.0 point drop, 2:4 <= 1.5 points, gzip of the pruned int8
`.tflite` <= 0.6x the dense one's.

Usage:
    .venv/bin/python bench/compress_prune.py      # ~12 min on 2 shared cores (hard-label dense student)
    .venv/bin/python bench/compress_prune.py --teacher=runs/teacher --save_student=runs/bench_student  # ~25 min
    .venv/bin/python bench/compress_prune.py --student=runs/bench_student --pqat_epochs=0
"""

import numpy as np
from absl import app, flags

import compress_common as common

flags.DEFINE_integer("prune_epochs", 2, "Epochs of pruning (the target is reached after 70% of them).")
flags.DEFINE_float("prune_learning_rate", 1e-4, "AdamW peak learning rate while pruning.")
flags.DEFINE_float("target_sparsity", 0.5, "Unstructured target sparsity.")
flags.DEFINE_list("variants", ["unstructured", "2:4"], "Pruning variants: unstructured, 2:4.")
flags.DEFINE_bool("prune_embeddings", True, "Prune the word-embedding table (row blocks) too.")
flags.DEFINE_bool("unused_tokens_first", True, "Zero the rows of tokens the training split never uses first.")
flags.DEFINE_integer("pqat_epochs", 1, "QAT epochs after pruning (0: skip the QAT rows).")
flags.DEFINE_float("qat_learning_rate", 5e-5, "AdamW peak learning rate of QAT.")
flags.DEFINE_integer("calibration_steps", 20, "Batches calibrating the QAT ranges.")
flags.DEFINE_bool("xnnpack_scope", True, "Also measure the accuracy of the xnnpack-scope int8 .tflite.")
FLAGS = flags.FLAGS

COLUMNS = ("test_acc", "drop_points", "kernel_zeros", "model_zeros", "int8_full_acc", "int8_xnn_acc",
           "int8_MB", "gzip_MB", "gzip_ratio", "int8_zeros")


def pruning_config(variant, env):
    from tfdistill import compress

    steps = FLAGS.prune_epochs * -(-len(env["data"].train) // FLAGS.batch_size)
    m_by_n = {"unstructured": None, "2:4": (2, 4)}[variant]
    return compress.PruningConfig.for_steps(steps, target_sparsity=FLAGS.target_sparsity, m_by_n=m_by_n,
                                            prune_embeddings=FLAGS.prune_embeddings)


def sparsity_columns(model, env):
    from tfdistill import compress

    report = compress.weight_sparsity(model)
    kernels = list(compress.pruning_targets(env["student"], prune_embeddings=False))
    return {"kernel_zeros": compress.overall_sparsity(report, kernels), "model_zeros": compress.overall_sparsity(report),
            "sparsity_per_layer": report}


def unused_token_share(model, env):
    """Share of the zeroed word-embedding blocks that belong to tokens the training split never uses."""
    from tfdistill import compress

    table = model.get_layer("word_embeddings").get_weights()[0]
    zero_rows = np.flatnonzero((table == 0).any(axis=1))
    used = compress.training_token_ids(env["preprocessor"], env["data"].train)
    return float(np.mean(~np.isin(zero_rows, used))) if len(zero_rows) else None


def measure(model, env, mode="int8"):
    """Keras accuracy and sparsity; full-int8 `.tflite` accuracy, size and zeros; xnnpack-scope accuracy."""
    row = {"test_acc": common.keras_accuracy(model, env), **sparsity_columns(model, env)}
    full = common.tflite_row(model, env, mode=mode, int8_scope="full")
    row.update(int8_full_acc=full["accuracy"], int8_MB=full["bytes"] / 1e6, gzip_MB=full["gzip_bytes"] / 1e6,
               int8_zeros=full["weight_zeros"])
    if FLAGS.xnnpack_scope:
        row["int8_xnn_acc"] = common.tflite_row(model, env, mode=mode, int8_scope="xnnpack")["accuracy"]
    return row


def qat_rows(pruned, env):
    from tfdistill import compress

    rows = {}
    for preserve in (True, False):
        qat = compress.quantize_student(pruned, preserve_sparsity=preserve)
        compress.calibrate_ranges(qat, _train_batches(env), steps=FLAGS.calibration_steps)
        common.log(f"QAT of the pruned student, preserve_sparsity={preserve}")
        compress.fit_student(qat, env["preprocessor"], env["data"], teacher=env["teacher"], losses=common.LOSSES,
                             epochs=FLAGS.pqat_epochs, batch_size=FLAGS.batch_size,
                             learning_rate=FLAGS.qat_learning_rate, seed=FLAGS.seed, verbose=2)
        rows["pqat (preserve)" if preserve else "qat (no preserve)"] = measure(qat, env, mode="qat")
    return rows


def _train_batches(env):
    return env["preprocessor"].dataset(env["data"].train, FLAGS.batch_size, shuffle=True, seed=FLAGS.seed)


def main(argv):
    del argv
    from tfdistill import compress

    env = common.setup(FLAGS)
    rows = {"dense": measure(env["student"], env)}
    common.log(f"dense: {rows['dense']['test_acc']:.4f}")
    pruned_students = {}
    used = (compress.training_token_ids(env["preprocessor"], env["data"].train)
            if FLAGS.unused_tokens_first else None)
    for variant in FLAGS.variants:
        config = pruning_config(variant, env)
        common.log(f"pruning ({variant}): {config}")
        pruned = compress.prune_student(env["student"], config, used_token_ids=used)
        result = compress.fit_student(
            pruned, env["preprocessor"], env["data"], teacher=env["teacher"], losses=common.LOSSES,
            epochs=FLAGS.prune_epochs, batch_size=FLAGS.batch_size,
            learning_rate=FLAGS.prune_learning_rate, seed=FLAGS.seed, verbose=2)
        stripped = compress.strip_student(pruned)
        pruned_students[variant] = stripped
        rows[f"pruned {variant}"] = dict(measure(stripped, env), train_seconds=result["train_seconds"],
                                         zero_blocks_on_unused_tokens=unused_token_share(stripped, env))
        common.log(f"pruned {variant}: {rows[f'pruned {variant}']['test_acc']:.4f}")
    if FLAGS.pqat_epochs and "unstructured" in pruned_students:
        rows.update(qat_rows(pruned_students["unstructured"], env))
    dense = rows["dense"]
    for row in rows.values():
        row["drop_points"] = 100 * (dense["test_acc"] - row["test_acc"])
        row["gzip_ratio"] = row["gzip_MB"] / dense["gzip_MB"]
    common.print_table(rows, COLUMNS)
    for name, row in rows.items():
        if name != "dense":
            print(f"\n{name}: sparsity per layer\n" + compress.format_sparsity_table(row["sparsity_per_layer"]))
    if FLAGS.output_json:
        common.write_json(FLAGS.output_json, rows, {"flags": FLAGS.flag_values_dict(),
                                                    "dense_seconds": env["dense_seconds"]})


if __name__ == "__main__":
    app.run(main)
