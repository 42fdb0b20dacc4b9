r"""QAT against post-training quantization, on a pipeline run's own teacher and students.

For each start (the run's distilled student, and its pruned student when the run pruned), side
by side in one process:
- the float32, PTQ dynamic and PTQ int8 `.tflite` (the export stage's modes and recipes);
- QAT in each `--scopes` (`xnnpack`: what the int8 recipe quantizes, exported through it;
  `full`: every layer, exported by TF's converter), with the run config's QAT settings unless
  the flags change them: the Keras (fake-quant) accuracy of the calibrated start and after
  training, the `.tflite`'s agreement with its Keras model (the export gate: 97%), accuracy,
  XNNPACK partitions and p50 latency (seq length of the run, 1 thread, XNNPACK).
Every accuracy on validation (what a choice may read) and test (what is reported). A refused
export is recorded with its agreement and measured anyway (written with force), never dropped.

Example:
    python bench/qat_vs_ptq.py --run_dir=runs/pipeline                  # ~15 min on 2 cores
    python bench/qat_vs_ptq.py --run_dir=runs/pipeline --starts=distill --scopes=xnnpack \
        --bench_qat_learning_rate=5e-5 --output_json=runs/qat_vs_ptq.json
"""

import json
import os
import tempfile
import time

from absl import app, flags
from run_folder import load_run
from tables import markdown_table

flags.DEFINE_string("run_dir", None, "A pipeline run folder with finished teacher and distill stages.")
flags.DEFINE_list("starts", ["distill", "prune"], "Students QAT starts from (stages of the run).")
flags.DEFINE_list("scopes", ["xnnpack", "full"], "QAT scopes (compress.quantize_student int8_scope).")
flags.DEFINE_integer("bench_qat_epochs", None, "QAT epochs (default: the run's, after its step floor).")
flags.DEFINE_float("bench_qat_learning_rate", None, "QAT peak learning rate (default: the run config's).")
flags.DEFINE_integer("latency_runs", 40, "Timed runs per `.tflite` (p50).")
flags.DEFINE_string("output_json", None, "Also write the rows here.")
flags.mark_flag_as_required("run_dir")
FLAGS = flags.FLAGS

COLUMNS = ("start", "model", "keras_val", "keras_test", "agreement", "refused", "tflite_val", "tflite_test",
           "partitions", "p50_ms", "train_s")


def keras_accuracies(model, ctx):
    from tfdistill.training import evaluation

    return {f"keras_{short}": evaluation.accuracy(model, ctx.preprocessor, getattr(ctx.data, split))
            for short, split in (("val", "validation"), ("test", "test"))}


def tflite_row(model, mode, ctx, folder):
    """Exports `model` in `mode` (forced, so a refused export is measured too) and measures it."""
    from tfdistill import export
    from tfdistill.export.benchmark import measure

    result = export.export_tflite(model, folder, mode, ctx.config.data.max_length, ctx.tokenizer, ctx.data.train,
                                  ctx.data.validation, None, labels=ctx.data.label_names, force=True,
                                  num_representative=ctx.config.export.num_representative)
    card = result.card
    evaluate = {short: export.evaluate_tflite(folder, ctx.tokenizer, getattr(ctx.data, split),
                                              label_names=ctx.data.label_names).accuracy
                for short, split in (("val", "validation"), ("test", "test"))}
    agreement = card["validation"]["agreement"]
    timing = measure(folder, threads=1, num_runs=FLAGS.latency_runs)
    return {"agreement": agreement, "refused": agreement < export.MIN_AGREEMENT[mode],
            "tflite_val": evaluate["val"], "tflite_test": evaluate["test"],
            "partitions": card["xnnpack"]["xnnpack_partitions"], "p50_ms": timing.p50_us / 1e3}


def qat_row(student, scope, ctx, start):
    from tfdistill import compress
    from tfdistill.pipeline.stages import stage_epochs

    settings = ctx.config.qat
    qat = compress.quantize_student(student, preserve_sparsity=start == "prune", int8_scope=scope)
    calibration = ctx.preprocessor.dataset(ctx.data.train, settings.batch_size, shuffle=True, seed=ctx.config.seed)
    compress.calibrate_ranges(qat, calibration, steps=settings.calibration_steps)
    calibrated = keras_accuracies(qat, ctx)
    print(f"   QAT {scope} from {start}: calibrated start {calibrated}", flush=True)
    started = time.perf_counter()
    result = compress.fit_student(
        qat, ctx.preprocessor, ctx.data, teacher=ctx.model("teacher"),
        epochs=FLAGS.bench_qat_epochs or stage_epochs(ctx, "qat"),
        batch_size=settings.batch_size, learning_rate=FLAGS.bench_qat_learning_rate or settings.learning_rate,
        seed=ctx.config.seed, verbose=2)
    trained = keras_accuracies(qat, ctx)
    return qat, calibrated, {**trained, "train_s": time.perf_counter() - started,
                             "best_epoch": result.get("best_epoch")}


def rows_for_start(start, ctx, workdir):
    student = ctx.model(start)
    rows = []
    float_accuracies = keras_accuracies(student, ctx)
    for mode in ("float32", "dynamic", "int8"):
        row = {"start": start, "model": f"PTQ {mode}" if mode != "float32" else "float32", **float_accuracies}
        row.update(tflite_row(student, mode, ctx, os.path.join(workdir, f"{start}_{mode}")))
        rows.append(row)
        print(f"   {row}", flush=True)
    for scope in FLAGS.scopes:
        qat, calibrated, trained = qat_row(student, scope, ctx, start)
        rows.append({"start": start, "model": f"QAT {scope}: calibrated start (Keras)", **calibrated})
        row = {"start": start, "model": f"QAT {scope}", **trained}
        row.update(tflite_row(qat, "qat", ctx, os.path.join(workdir, f"{start}_qat_{scope}")))
        rows.append(row)
        print(f"   {row}", flush=True)
    return rows


def main(argv):
    del argv
    ctx = load_run(FLAGS.run_dir)
    load = os.getloadavg()[0]
    print(f"QAT vs PTQ on {FLAGS.run_dir} (seed {ctx.config.seed}); load {load:.1f} on {os.cpu_count()} cores")
    rows = []
    with tempfile.TemporaryDirectory() as workdir:
        for start in FLAGS.starts:
            rows += rows_for_start(start, ctx, workdir)
    print(markdown_table(rows, COLUMNS))
    if FLAGS.output_json:
        from tfdistill.utils import atomic

        with atomic.atomic_path(FLAGS.output_json) as tmp, open(tmp, "w", encoding="utf-8") as f:
            json.dump({"run_dir": FLAGS.run_dir, "seed": ctx.config.seed, "load": load, "rows": rows}, f, indent=1)


if __name__ == "__main__":
    app.run(main)
