"""What the compression benches share: flags, the dense student, and measuring `.tflite` files.

The dense student is a small BERT (default 2 layers x 128, seq 64) initialised from the shipped
MiniLM (PCA-projected embeddings, `student_from_teacher`) and trained on the Rotten Tomatoes
split: distilled from `--teacher` when given, else on the hard labels. `--student` skips that
step (e.g. reuse the student one bench saved with `--save_student`).
"""

import gzip
import time

from absl import flags

from tfdistill.cli import data_flags

flags.DEFINE_string("student", None, "Trained dense student folder to start from (skips training).")
flags.DEFINE_string("save_student", None, "Write the trained dense student here (HF folder).")
flags.DEFINE_string("teacher", None, "Fine-tuned teacher folder (recipes/finetune_teacher.py). Without "
                    "it the dense student trains on hard labels and guides its compressed copies itself.")
flags.DEFINE_integer("student_layers", 2, "Dense student blocks.")
flags.DEFINE_integer("student_hidden", 128, "Dense student width.")
flags.DEFINE_integer("max_length", 64, "Tokenized length (training and the .tflite seq_len).")
flags.DEFINE_integer("dense_epochs", 3, "Training epochs of the dense student.")
flags.DEFINE_integer("batch_size", 32, "Training batch size.")
flags.DEFINE_float("learning_rate", 2e-4, "AdamW peak learning rate of the dense student.")
flags.DEFINE_integer("num_representative", 100, "Training examples calibrating full-int8 conversion.")
flags.DEFINE_string("output_json", None, "Also write the results here as JSON.")
data_flags.define_data_flags()
FLAGS = flags.FLAGS

LOSSES = ({"loss": "logit_kd", "temperature": 2.0}, {"loss": "hard_label", "weight": 0.5})


def log(message):
    """Prints a progress line with the wall time."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def setup(values):
    """Loads the data, tokenizer, dense student and teacher the flags describe.

    Returns:
        dict with `data`, `tokenizer`, `preprocessor` (at `--max_length`), `student` (trained), `teacher` (the guide of compressed
        students: the flag's teacher, else the dense student itself), `dense_seconds`.
    """
    import tfdistill
    from tfdistill import compress
    from tfdistill.distill import student_from_teacher

    data = data_flags.load_data_from_flags(values)
    tokenizer = tfdistill.Tokenizer.from_pretrained(values.student or tfdistill.default_teacher_path())
    preprocessor = tfdistill.TextClassifierPreprocessor(tokenizer, values.max_length, data.label_names)
    teacher = tfdistill.load_pretrained(values.teacher) if values.teacher else None
    start = time.perf_counter()
    if values.student:
        student = tfdistill.load_pretrained(values.student)
        log(f"dense student loaded from {values.student}")
    else:
        source = teacher or tfdistill.load_pretrained(tfdistill.default_teacher_path(), num_labels=data.num_classes)
        student = student_from_teacher(source, values.student_layers, hidden_size=values.student_hidden)
        log(f"training the dense student {values.student_layers}x{values.student_hidden} "
            f"({'distilled' if teacher else 'hard labels'}, {values.dense_epochs} epochs)")
        compress.fit_student(student, preprocessor, data, teacher=teacher, losses=LOSSES, epochs=values.dense_epochs,
                             batch_size=values.batch_size,
                             learning_rate=values.learning_rate, seed=values.seed, verbose=2)
        if values.save_student:
            tfdistill.save_pretrained(student, values.save_student, tokenizer=tokenizer)
    return {"data": data, "tokenizer": tokenizer, "preprocessor": preprocessor, "student": student, "teacher": teacher or student,
            "dense_seconds": time.perf_counter() - start}


def keras_accuracy(model, env):
    """Test accuracy of a Keras model (fake-quantized for QAT models)."""
    from tfdistill.training import evaluation

    return evaluation.accuracy(model, env["preprocessor"], env["data"].test)


def tflite_row(model, env, mode="int8", int8_scope="full"):
    """Converts `model` and measures the `.tflite`: test accuracy, raw and gzip size, zeros.

    Args:
        model: the Keras model (float, or QAT for `mode="qat"`).
        env: the `setup` dict.
        mode: export mode, `"int8"` (post-training, calibrated) or `"qat"`.
        int8_scope: `"full"` (every op with an int8 kernel, all weights int8) or `"xnnpack"`
            (only FULLY_CONNECTED in int8; tables, LayerNorm, attention math stay float).

    Returns:
        dict with `accuracy`, `bytes`, `gzip_bytes`, `weight_zeros` (zero fraction of the int8
        weight tensors).
    """
    from tfdistill import compress
    from tfdistill.export import evaluate_tflite
    from tfdistill.export.exporter import representative_dataset, to_flatbuffer
    from tfdistill.export.features import encode_split

    calibration, _ = encode_split(env["data"].train, env["tokenizer"], FLAGS.max_length,
                                  FLAGS.num_representative, FLAGS.seed)
    flatbuffer = to_flatbuffer(model, mode, FLAGS.max_length, representative_dataset(calibration), int8_scope)
    return {"accuracy": evaluate_tflite(flatbuffer, env["tokenizer"], env["data"].test).accuracy,
            "bytes": len(flatbuffer), "gzip_bytes": len(gzip.compress(flatbuffer, 9)),
            "weight_zeros": compress.overall_sparsity(compress.tflite_weight_sparsity(flatbuffer))}


def print_table(rows, columns):
    """Prints `rows` (dict name -> dict of values) side by side for `columns`."""
    width = max(len(name) for name in rows) + 2
    print("".ljust(width) + "".join(f"{column:>16}" for column in columns))
    for name, row in rows.items():
        cells = []
        for column in columns:
            value = row.get(column)
            if isinstance(value, float):
                cells.append(f"{value:>16.4f}")
            else:
                cells.append(f"{'-' if value is None else value:>16}")
        print(name.ljust(width) + "".join(cells))


def write_json(path, rows, extra=None):
    """Writes the rows and `extra` as JSON, atomically."""
    from tfdistill.utils import atomic

    atomic.write_json(path, {"rows": rows, **(extra or {})})
