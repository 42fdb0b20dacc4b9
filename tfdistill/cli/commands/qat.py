r"""Quantization-aware training of a trained student, guided by a teacher in the Distiller.

Every layer of the student is annotated for tfmot QAT (see tfdistill/compress/quantization.py),
the quantizer ranges are calibrated on --calibration_steps training batches, then the QAT student
trains inside the Distiller. With --preserve_sparsity (for students from `tfdistill prune`) the
prune-preserving scheme keeps every pruned zero through QAT.

Writes to --output_dir: qat_model.h5 (the QAT model; export it with
`tfdistill export --mode=qat`), the QAT-trained float weights as a Hugging Face-format folder,
labels.txt and metrics.json (float, calibrated and trained QAT accuracy; sparsity before and
after).

Example:
    tfdistill qat --student=runs/student --output_dir=runs/student_qat
    tfdistill qat --student=runs/student_pruned --preserve_sparsity \
        --teacher=runs/teacher --output_dir=runs/student_pqat
"""

import os
import time

from absl import flags, logging

from tfdistill.cli import compress_flags, data_flags, distribution_flags, optimizer_flags, tensorboard_flags
from tfdistill.cli.commands import list_flags_in_help, training_settings
from tfdistill.cli.resume import prepare_resumable_run
from tfdistill.cli.script import run_or_exit
from tfdistill.config.sections import INT8_SCOPES
from tfdistill.training.outputs import write_model_folder

QAT_MODEL_FILE = "qat_model.h5"
# A student this sparse was pruned: QAT without --preserve_sparsity would undo it.
SPARSE = 0.2

compress_flags.define_compress_flags(default_epochs=1, default_learning_rate=5e-5)
flags.DEFINE_integer("calibration_steps", 20, "Training batches that set the quantizer ranges before "
                     "QAT starts (0: keep tfmot's initial [-6, 6] ranges).")
flags.DEFINE_bool("preserve_sparsity", False, "Keep the student's zeros through QAT (tfmot's "
                  "prune-preserving scheme); use it for pruned students.")
flags.DEFINE_bool("quantize_embeddings", True, "Fake-quantize the embedding tables during QAT.")
flags.DEFINE_enum("int8_scope", "xnnpack", INT8_SCOPES, "What QAT fake-quantizes: xnnpack = exactly "
                  "what the int8 export recipe quantizes (dense layers, the word table; exported through that "
                  "recipe), full = every layer (tfmot's default 8-bit scheme; exported by TF's converter).")
FLAGS = flags.FLAGS
list_flags_in_help(__name__, compress_flags, data_flags, distribution_flags, optimizer_flags, tensorboard_flags)


def run(values):
    """Quantizes, calibrates, trains, evaluates and writes the QAT student under
    `--distribution_strategy`; returns the metrics."""
    optimizer_flags.apply_optimizer_flags(values)
    return distribution_flags.run_distributed(values, qat_and_write)


def qat_and_write(values, output_dir, resumable=True):
    """Trains the QAT student the flags describe and writes it to `output_dir`; returns the metrics."""
    start = time.perf_counter()
    compress_flags.check_positive(values, "epochs", "batch_size", "max_length")
    if values.calibration_steps < 0:
        raise ValueError(f"--calibration_steps must be >= 0, got {values.calibration_steps}.")
    terms = compress_flags.loss_terms(values)
    output_dir, log_dir, data, student, preprocessor, teacher = compress_flags.load_inputs(values, output_dir, "qat")
    from tfdistill import compress

    backup_dir = prepare_resumable_run(values, output_dir, data)
    qat = compress.quantize_student(student, preserve_sparsity=values.preserve_sparsity,
                                    quantize_embeddings=values.quantize_embeddings, int8_scope=values.int8_scope)
    sparsity_before = compress.weight_sparsity(student)
    if not values.preserve_sparsity and compress.overall_sparsity(sparsity_before) >= SPARSE:
        logging.warning("The student is %.0f%% zeros; QAT will fill them in. Pass --preserve_sparsity to keep them.",
                        100 * compress.overall_sparsity(sparsity_before))
    metrics = {"student_path": values.student, "teacher": values.teacher, "dataset": data.get_config(),
               "losses": terms if teacher is not None else ["hard_label"],
               "preserve_sparsity": values.preserve_sparsity, "calibration_steps": values.calibration_steps,
               "int8_scope": values.int8_scope,
               "quantization_plan": compress.quantization_plan(student, values.quantize_embeddings,
                                                               int8_scope=values.int8_scope),
               **compress_flags.accuracies(student, preprocessor, data, "float")}
    if values.calibration_steps:
        train = preprocessor.dataset(data.train, values.batch_size, shuffle=True, seed=values.seed)
        compress.calibrate_ranges(qat, train, steps=values.calibration_steps)
    metrics.update(compress_flags.accuracies(qat, preprocessor, data, "qat_before_training"))
    result = compress.fit_student(
        qat, preprocessor, data, teacher=teacher, losses=terms, epochs=values.epochs,
        batch_size=values.batch_size, learning_rate=values.learning_rate,
        seed=values.seed, backup_dir=backup_dir if resumable else None,
        callbacks=tensorboard_flags.tensorboard_callbacks(log_dir))
    metrics.update(compress_flags.accuracies(qat, preprocessor, data, "qat"))
    sparsity = {"before": sparsity_before, "after": compress.weight_sparsity(qat)}
    metrics["sparsity_per_layer"] = {when: {name: row["sparsity"] for name, row in report.items()}
                                     for when, report in sparsity.items()}
    metrics["model_sparsity"] = {when: compress.overall_sparsity(report) for when, report in sparsity.items()}
    metrics.update(history=result["history"], train_seconds=result["train_seconds"],
                   best_epoch=result.get("best_epoch"), flags=training_settings(values),
                   wall_seconds=time.perf_counter() - start)
    write_model_folder(
        output_dir, compress.dequantized_copy(qat), preprocessor.tokenizer, data, metrics,
        extra=lambda folder: compress.save_quantized(qat, os.path.join(folder, QAT_MODEL_FILE)))
    print(f"QAT test accuracy {metrics['qat_test_accuracy']:.4f} vs float {metrics['float_test_accuracy']:.4f} "
          f"(before QAT training {metrics['qat_before_training_test_accuracy']:.4f}); sparsity "
          f"{metrics['model_sparsity']['before']:.1%} -> {metrics['model_sparsity']['after']:.1%} -> {output_dir}")
    return metrics


def main(argv):
    del argv
    run_or_exit(run, FLAGS)
