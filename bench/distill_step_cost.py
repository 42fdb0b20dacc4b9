"""Cost of one Distiller train step vs (teacher forward + plain student train step).

All three are timed side by side in one process, interleaved over rounds, at the default
batch size and sequence length, on the shipped MiniLM teacher and a student built from it.
The machine is shared: the ratio, measured in one run, is what to read.

Example:
    python bench/distill_step_cost.py --student_layers=4 --student_hidden=192 --rounds=5
    python bench/distill_step_cost.py --student_hidden=384 --student_heads=6 --student_intermediate=384 \
        --losses=logit_kd,hard_label
"""

import time

import numpy as np
from absl import app, flags

import tfdistill
from tfdistill.distill import Distiller, student_from_teacher
from tfdistill.models.bert.bert_model import logits_model

flags.DEFINE_integer("batch_size", 32, "Batch size.")
flags.DEFINE_integer("seq_len", 64, "Sequence length.")
flags.DEFINE_integer("student_layers", 4, "Student blocks.")
flags.DEFINE_integer("student_hidden", 192, "Student width.")
flags.DEFINE_integer("student_heads", None, "Student heads (default: student_from_teacher's).")
flags.DEFINE_integer("student_intermediate", None, "Student feed-forward width (default: student_from_teacher's).")
flags.DEFINE_integer("steps", 10, "Steps per timing.")
flags.DEFINE_integer("rounds", 5, "Interleaved rounds; the median is reported.")
flags.DEFINE_list("losses", ["logit_kd", "hard_label", "hidden_mse", "embedding_mse", "attention"], "Loss terms.")
FLAGS = flags.FLAGS


def main(argv):
    del argv
    import tensorflow as tf
    import tf_keras as keras

    teacher = tfdistill.load_pretrained(tfdistill.default_teacher_path(), num_labels=2)
    student = student_from_teacher(teacher, FLAGS.student_layers, hidden_size=FLAGS.student_hidden,
                                   num_heads=FLAGS.student_heads, intermediate_size=FLAGS.student_intermediate)
    rng = np.random.default_rng(0)
    shape = (FLAGS.batch_size, FLAGS.seq_len)
    features = {"input_ids": tf.constant(rng.integers(1000, 20000, shape), tf.int32),
                "attention_mask": tf.ones(shape, tf.int32), "token_type_ids": tf.zeros(shape, tf.int32)}
    labels = tf.constant(rng.integers(0, 2, FLAGS.batch_size), tf.int32)

    distiller = Distiller(student=student, teacher=teacher, losses=FLAGS.losses)
    distiller.compile(optimizer=keras.optimizers.AdamW(1e-4))
    plain = logits_model(student)
    plain.compile(optimizer=keras.optimizers.AdamW(1e-4),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    teacher_forward = tf.function(lambda x: teacher(x, training=False)["logits"])

    def distiller_step():
        distiller.train_on_batch(features, labels)

    def student_step():
        plain.train_on_batch(features, labels)

    def teacher_step():
        teacher_forward(features).numpy()

    timings = {"distiller": [], "student": [], "teacher": []}
    steps = {"distiller": distiller_step, "student": student_step, "teacher": teacher_step}
    for step in steps.values():
        step(), step()  # trace and warm up
    for _ in range(FLAGS.rounds):
        for name, step in steps.items():
            start = time.perf_counter()
            for _ in range(FLAGS.steps):
                step()
            timings[name].append((time.perf_counter() - start) / FLAGS.steps)
    median = {name: float(np.median(values)) * 1000 for name, values in timings.items()}
    ratio = median["distiller"] / (median["teacher"] + median["student"])
    config = student.bert_config
    print(f"batch {FLAGS.batch_size} x seq {FLAGS.seq_len}, student {config.num_layers}x{config.hidden_size} "
          f"({config.num_heads} heads of {config.head_size}, FFN {config.intermediate_size}), losses {FLAGS.losses}")
    for name, value in median.items():
        print(f"  {name:10s} {value:8.1f} ms/step (median of {FLAGS.rounds} rounds x {FLAGS.steps} steps)")
    print(f"  distiller / (teacher forward + student train step) = {ratio:.3f}")


if __name__ == "__main__":
    app.run(main)
