"""Distillation quality on the embedded Rotten Tomatoes default: an ablation table.

Trains the same student shape from the same fine-tuned teacher with growing loss mixes
(hard labels only; + logit KD; + hidden/embedding; + attention; + augmentation), each over
several seeds, and prints test accuracy (mean +- std) and retention vs the teacher.

Example:
    python bench/distill_ablation.py --teacher=runs/teacher --student_layers=4 --student_hidden=192 \
        --seeds=0,1 --epochs=3 --json_output=runs/bench/ablation.json
    # The pipeline's student: 6 of the teacher's heads and 384 of its units in each of 4 blocks.
    python bench/distill_ablation.py --teacher=runs/teacher --student_hidden=384 --student_heads=6 \
        --student_intermediate=384 --seeds=0,1
"""


import numpy as np
from absl import app, flags

import tfdistill
from tfdistill.data import datasets
from tfdistill.distill import student_from_teacher
from tfdistill.distill.training import distill, importance_features
from tfdistill.training import evaluation, finetune
from tfdistill.utils import atomic

flags.DEFINE_string("teacher", None, "Fine-tuned teacher folder.")
flags.DEFINE_integer("student_layers", 4, "Student blocks.")
flags.DEFINE_integer("student_hidden", 192, "Student width.")
flags.DEFINE_integer("student_heads", None, "Student heads (default: student_from_teacher's).")
flags.DEFINE_integer("student_intermediate", None, "Student feed-forward width (default: student_from_teacher's).")
flags.DEFINE_list("seeds", ["0", "1"], "Seeds (data order, initialisation of fresh parts).")
flags.DEFINE_integer("epochs", 3, "Epochs per run.")
flags.DEFINE_integer("max_length", 64, "Tokenized length.")
flags.DEFINE_float("learning_rate", 2e-4, "AdamW peak learning rate.")
flags.DEFINE_integer("augment", 1, "Augmented copies for the augmentation row.")
flags.DEFINE_list("rows", None, "Only these rows (names from ROWS).")
flags.DEFINE_string("json_output", None, "Also write the results as JSON here.")
flags.mark_flag_as_required("teacher")
FLAGS = flags.FLAGS

HIDDEN = [{"loss": "hidden_mse", "weight": 1.0}, {"loss": "embedding_mse", "weight": 1.0}]
ATTENTION = [{"loss": "attention", "weight": 1.0}]
KD = [{"loss": "logit_kd", "weight": 1.0, "temperature": 2.0}, {"loss": "hard_label", "weight": 0.5}]
ROWS = {
    "hard_labels_only": ([{"loss": "hard_label"}], 0),
    "+logit_kd": (KD, 0),
    "+hidden_embedding": (KD + HIDDEN, 0),
    "+attention": (KD + HIDDEN + ATTENTION, 0),
    "+augmentation": (KD + HIDDEN + ATTENTION, None),
}


def run_row(teacher, preprocessor, data, terms, augment, seed):
    import tensorflow as tf

    tf.keras.utils.set_random_seed(seed)
    student = student_from_teacher(
        teacher, FLAGS.student_layers, hidden_size=FLAGS.student_hidden, num_heads=FLAGS.student_heads,
        intermediate_size=FLAGS.student_intermediate,
        importance_data=importance_features(preprocessor, data.train))
    result = distill(teacher, student, preprocessor, data, losses=terms,
                     epochs=FLAGS.epochs, learning_rate=FLAGS.learning_rate, augment=augment, seed=seed, verbose=0)
    return (evaluation.accuracy(student, preprocessor, data.test), result["train_seconds"],
            finetune.count_params(student)[1])


def student_name():
    shape = f"{FLAGS.student_layers}x{FLAGS.student_hidden}"
    if FLAGS.student_heads:
        shape += f", {FLAGS.student_heads} heads"
    if FLAGS.student_intermediate:
        shape += f", FFN {FLAGS.student_intermediate}"
    return shape


def main(argv):
    del argv
    data = datasets.load("rotten_tomatoes")
    preprocessor = tfdistill.TextClassifierPreprocessor(tfdistill.Tokenizer.from_pretrained(FLAGS.teacher),
                                                  FLAGS.max_length)
    teacher = tfdistill.load_pretrained(FLAGS.teacher)
    teacher_accuracy = evaluation.accuracy(teacher, preprocessor, data.test)
    teacher_params = finetune.count_params(teacher)[1]
    print(f"teacher: test accuracy {teacher_accuracy:.4f}, {teacher_params / 1e6:.2f}M non-embedding params")
    results = {"teacher_test_accuracy": teacher_accuracy, "teacher_non_embedding_params": teacher_params,
               "student": student_name(), "rows": {}}
    for name, (terms, augment) in ROWS.items():
        if FLAGS.student_heads:  # fewer heads than the teacher: compare head-averaged maps
            terms = [dict(term, head_average=True) if term["loss"] == "attention" else term for term in terms]
        if FLAGS.rows and name not in FLAGS.rows:
            continue
        runs = [run_row(teacher, preprocessor, data, terms, FLAGS.augment if augment is None else augment, int(seed))
                for seed in FLAGS.seeds]
        accuracies = [r[0] for r in runs]
        results["rows"][name] = {"test_accuracy": accuracies, "train_seconds": [r[1] for r in runs],
                                 "student_non_embedding_params": runs[0][2]}
        print(f"{name:20s} test {np.mean(accuracies):.4f} +- {np.std(accuracies):.4f} "
              f"retention {np.mean(accuracies) / teacher_accuracy:.3f} "
              f"({runs[0][2] / teacher_params:.3f}x params, {np.mean([r[1] for r in runs]):.0f} s/run)", flush=True)
        if FLAGS.json_output:
            atomic.write_json(FLAGS.json_output, results)
    return results


if __name__ == "__main__":
    app.run(main)
