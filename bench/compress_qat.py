"""QAT targets, measured: int8 accuracy of QAT (with and without range calibration) vs PTQ.

Trains (or loads) a small dense student on Rotten Tomatoes, then compares, on the test split:
- the float student (Keras);
- post-training int8 quantization of it (`.tflite`, representative data calibrated), in both
  export scopes: "xnnpack" (only FULLY_CONNECTED in int8) and "full" (every op with an int8
  kernel, including the LayerNorm arithmetic and the attention math);
- QAT without calibration (tfmot's initial [-6, 6] ranges) and with ranges calibrated on
  --calibration_steps training batches: Keras (fake-quant) accuracy before QAT training, after
  --qat_epochs inside the Distiller (guided by --teacher, else by the float student), and the
  accuracy of the QAT model converted to int8 `.tflite` in both scopes.

Targets (issue): QAT int8 within 0.5 points of the float student, and above PTQ full-int8.

Usage:
    .venv/bin/python bench/compress_qat.py        # ~10 min on 2 shared cores
    .venv/bin/python bench/compress_qat.py --teacher=runs/teacher --student=runs/bench_student
"""

from absl import app, flags

import compress_common as common

flags.DEFINE_integer("qat_epochs", 1, "QAT epochs.")
flags.DEFINE_float("qat_learning_rate", 5e-5, "AdamW peak learning rate of QAT.")
flags.DEFINE_integer("calibration_steps", 20, "Batches calibrating the QAT ranges.")
flags.DEFINE_bool("quantize_embeddings", True, "Fake-quantize the embedding tables during QAT.")
FLAGS = flags.FLAGS

COLUMNS = ("acc_before_qat", "test_acc", "drop_points", "int8_xnn_acc", "xnn_drop", "int8_full_acc", "full_drop")


def qat_row(env, calibrate):
    from tfdistill import compress

    qat = compress.quantize_student(env["student"], quantize_embeddings=FLAGS.quantize_embeddings)
    if calibrate:
        train = env["preprocessor"].dataset(env["data"].train, FLAGS.batch_size, shuffle=True, seed=FLAGS.seed)
        compress.calibrate_ranges(qat, train, steps=FLAGS.calibration_steps)
    row = {"acc_before_qat": common.keras_accuracy(qat, env)}
    common.log(f"QAT (calibrated={calibrate}): {row['acc_before_qat']:.4f} before training")
    result = compress.fit_student(qat, env["preprocessor"], env["data"], teacher=env["teacher"],
                                  losses=common.LOSSES, epochs=FLAGS.qat_epochs, batch_size=FLAGS.batch_size,
                                  learning_rate=FLAGS.qat_learning_rate, seed=FLAGS.seed, verbose=2)
    row.update(test_acc=common.keras_accuracy(qat, env), train_seconds=result["train_seconds"])
    return row, qat


def with_tflite(row, model, env, mode):
    """Adds the accuracy of the model's int8 `.tflite` in both scopes (xnnpack: FC only; full: every op)."""
    return dict(row, **{f"int8_{short}_acc": common.tflite_row(model, env, mode=mode, int8_scope=scope)["accuracy"]
                        for short, scope in (("xnn", "xnnpack"), ("full", "full"))})


def main(argv):
    del argv
    env = common.setup(FLAGS)
    float_acc = common.keras_accuracy(env["student"], env)
    rows = {"float": {"test_acc": float_acc}}
    rows["ptq int8"] = with_tflite({}, env["student"], env, mode="int8")
    common.log(f"float {float_acc:.4f}, PTQ int8 {rows['ptq int8']}")
    for calibrate in (False, True):
        row, qat = qat_row(env, calibrate)
        rows["qat calibrated" if calibrate else "qat uncalibrated"] = with_tflite(row, qat, env, mode="qat")
    for row in rows.values():
        for column, source in (("drop_points", "test_acc"), ("xnn_drop", "int8_xnn_acc"),
                               ("full_drop", "int8_full_acc")):
            if source in row:
                row[column] = 100 * (float_acc - row[source])
    common.print_table(rows, COLUMNS)
    if FLAGS.output_json:
        common.write_json(FLAGS.output_json, rows, {"flags": FLAGS.flag_values_dict(),
                                                    "dense_seconds": env["dense_seconds"]})


if __name__ == "__main__":
    app.run(main)
