r"""Prunes a trained student with tfmot magnitude pruning, guided by a teacher in the Distiller.

The attention and feed-forward kernels are pruned to --target_sparsity (PolynomialDecay or
ConstantSparsity) or to an N:M pattern (--m_by_n=2,4); the word-embedding table is pruned in
row blocks too unless --noprune_embeddings, rows of tokens the training split never uses first
(see tfdistill/compress/pruning.py for why). The
student trains inside the Distiller with UpdatePruningStep (and, with --tensorboard_dir,
PruningSummaries: the losses, metrics and each mask's sparsity in <dir>/prune), then the wrappers
are stripped.

Writes to --output_dir the pruned student as a Hugging Face-format folder, labels.txt and
metrics.json (dense and pruned accuracy, sparsity per layer); prints the sparsity table.

Example:
    tfdistill prune --student=runs/student --output_dir=runs/student_pruned
    tfdistill prune --student=runs/student --teacher=runs/teacher --m_by_n=2,4 \
        --output_dir=runs/student_2to4
"""

import time

from absl import flags

from tfdistill.cli import compress_flags, data_flags, distribution_flags, optimizer_flags, tensorboard_flags
from tfdistill.cli.commands import list_flags_in_help, training_settings
from tfdistill.cli.resume import prepare_resumable_run
from tfdistill.cli.script import run_or_exit
from tfdistill.training.outputs import write_model_folder

compress_flags.define_compress_flags(default_epochs=2, default_learning_rate=1e-4)
flags.DEFINE_float("target_sparsity", 0.5, "Final fraction of zeros in each pruned kernel (0 < s < 1).")
flags.DEFINE_string("schedule", "polynomial_decay", "Pruning schedule: polynomial_decay (0 to the target "
                    "by --pruning_end) or constant (the target from the first step).")
flags.DEFINE_string("m_by_n", None, "N:M structured sparsity of the kernels, e.g. '2,4' (2 zeros in "
                    "every 4 input weights); overrides --target_sparsity for kernels.")
flags.DEFINE_bool("prune_embeddings", True, "Also prune the word-embedding table (in row blocks).")
flags.DEFINE_bool("unused_tokens_first", True, "Zero the embedding rows of tokens the training split never "
                  "uses before pruning, so row pruning removes them before any used token.")
flags.DEFINE_float("pruning_end", 0.7, "Share of the training steps after which the target sparsity "
                   "is reached; the rest recovers accuracy at the final masks.")
flags.DEFINE_integer("pruning_frequency", 20, "Steps between mask updates.")
FLAGS = flags.FLAGS
list_flags_in_help(__name__, compress_flags, data_flags, distribution_flags, optimizer_flags, tensorboard_flags)


def pruning_config(values, steps):
    """The `PruningConfig` the flags describe for a run of `steps` optimizer steps."""
    from tfdistill.compress.pruning_config import PruningConfig

    return PruningConfig.for_steps(
        steps, end_fraction=values.pruning_end, frequency=values.pruning_frequency,
        target_sparsity=values.target_sparsity, schedule=values.schedule, m_by_n=values.m_by_n,
        prune_embeddings=values.prune_embeddings)


def run(values):
    """Prunes, trains, strips, evaluates and writes the student under `--distribution_strategy`;
    returns the metrics dict."""
    optimizer_flags.apply_optimizer_flags(values)
    return distribution_flags.run_distributed(values, prune_and_write)


def prune_and_write(values, output_dir, resumable=True):
    """Prunes the student the flags name and writes it to `output_dir`; returns the metrics."""
    from tfdistill import compress

    start = time.perf_counter()
    compress_flags.check_positive(values, "epochs", "batch_size", "max_length")
    pruning_config(values, steps=1000)  # every pruning flag is checked before any work
    terms = compress_flags.loss_terms(values)
    output_dir, log_dir, data, student, preprocessor, teacher = compress_flags.load_inputs(values, output_dir, "prune")
    steps = values.epochs * -(-len(data.train) // values.batch_size)
    config = pruning_config(values, steps)
    used = None
    if values.unused_tokens_first:
        used = compress.training_token_ids(preprocessor, data.train)
    backup_dir = prepare_resumable_run(values, output_dir, data)
    pruned = compress.prune_student(student, config, used_token_ids=used)

    # PruningSummaries (with `log_dir`) is a TensorBoard callback: it logs the losses and metrics too.
    result = compress.fit_student(
        pruned, preprocessor, data, teacher=teacher, losses=terms, epochs=values.epochs,
        batch_size=values.batch_size, learning_rate=values.learning_rate,
        seed=values.seed, log_dir=log_dir, backup_dir=backup_dir if resumable else None)
    stripped = compress.strip_student(pruned)
    report = compress.weight_sparsity(stripped)
    targets = compress.pruning_targets(student, config.prune_embeddings)
    metrics = {
        "student_path": values.student, "teacher": values.teacher, "dataset": data.get_config(),
        "pruning": config.get_config(), "losses": terms if teacher is not None else ["hard_label"],
        **compress_flags.accuracies(student, preprocessor, data, "dense"),
        **compress_flags.accuracies(stripped, preprocessor, data, "pruned"),
        "sparsity_per_layer": {name: row["sparsity"] for name, row in report.items()},
        "pruned_layers_sparsity": compress.overall_sparsity(report, targets),
        "kernel_sparsity": compress.overall_sparsity(report, [n for n, r in targets.items() if r != "embedding"]),
        "model_sparsity": compress.overall_sparsity(report),
        "history": result["history"], "train_seconds": result["train_seconds"],
        "best_epoch": result.get("best_epoch"), "flags": training_settings(values),
    }
    metrics["wall_seconds"] = time.perf_counter() - start
    write_model_folder(output_dir, stripped, preprocessor.tokenizer, data, metrics)
    print(compress.format_sparsity_table(report))
    print(f"Pruned test accuracy {metrics['pruned_test_accuracy']:.4f} vs dense "
          f"{metrics['dense_test_accuracy']:.4f}; kernel sparsity {metrics['kernel_sparsity']:.1%}, "
          f"whole model {metrics['model_sparsity']:.1%} -> {output_dir}")
    return metrics


def main(argv):
    del argv
    run_or_exit(run, FLAGS)
