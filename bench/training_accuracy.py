"""Accuracy with the training-speed levers on and off: paired short trainings, several seeds.

Teacher fine-tuning in float32 vs mixed bfloat16, each with Keras' AdamW or `LazyAdamW`, and
distillation (the pipeline's student and losses, from the first teacher variant of the same
seed) with the levers off (float32, teacher run every step, Keras' AdamW), with cached teacher
logits, with a bfloat16 student, and with `LazyAdamW`. Each pair shares
the seed, so it shares the initial weights and the data order; the differences left are the
levers' (plus oneDNN's run-to-run noise). The runs are short (a subset of Rotten Tomatoes,
one epoch each) to fit a shared 2-core machine: read the paired differences, not the levels.

Example:
    python bench/training_accuracy.py                                     # about 15 min on 2 quiet cores
    python bench/training_accuracy.py --train_examples=10242 --teacher_epochs=2 --distill_epochs=2
    python bench/training_accuracy.py --teacher_variants=bfloat16,bfloat16-lazy \
        --distill_variants=float32-cached,float32-cached-lazy --train_examples=10242 --teacher_epochs=2
"""

import dataclasses
import os
import time

import numpy as np
from absl import app, flags

flags.DEFINE_list("seeds", ["0", "1"], "Seeds; each runs every variant.")
flags.DEFINE_integer("train_examples", 3000, "Training examples (a seeded sample of the training split).")
flags.DEFINE_integer("teacher_epochs", 1, "Teacher fine-tuning epochs.")
flags.DEFINE_integer("distill_epochs", 1, "Distillation epochs.")
flags.DEFINE_integer("max_length", 64, "Tokenized length.")
flags.DEFINE_list("parts", ["teacher", "distill"], "What to compare: teacher, distill.")
flags.DEFINE_list("teacher_variants", ["float32", "bfloat16"],
                  "Teacher variants (the first one teaches the students): float32, bfloat16, float32-lazy, "
                  "bfloat16-lazy.")
flags.DEFINE_list("distill_variants", ["float32-live", "float32-cached", "bfloat16-cached"],
                  "Distillation variants: float32-live (every lever off), float32-cached, bfloat16-cached, "
                  "float32-cached-lazy, bfloat16-cached-lazy.")
FLAGS = flags.FLAGS

# name -> (mixed_precision, lazy_adam)
TEACHER_VARIANTS = {"float32": ("float32", False), "bfloat16": ("bfloat16", False),
                    "float32-lazy": ("float32", True), "bfloat16-lazy": ("bfloat16", True)}
# name -> (mixed_precision, cache_teacher_outputs, lazy_adam)
DISTILL_VARIANTS = {"float32-live": ("float32", False, False), "float32-cached": ("float32", True, False),
                    "bfloat16-cached": ("bfloat16", True, False), "float32-cached-lazy": ("float32", True, True),
                    "bfloat16-cached-lazy": ("bfloat16", True, True)}
# (part, variant, reference): the paired differences printed (those both run).
COMPARISONS = (("teacher", "bfloat16", "float32"), ("teacher", "float32-lazy", "float32"),
               ("teacher", "bfloat16-lazy", "bfloat16"), ("distill", "float32-cached", "float32-live"),
               ("distill", "bfloat16-cached", "float32-live"), ("distill", "bfloat16-cached", "float32-cached"),
               ("distill", "float32-cached-lazy", "float32-cached"),
               ("distill", "bfloat16-cached-lazy", "float32-cached"))
LOSSES = [{"loss": "logit_kd", "temperature": 2.0}, {"loss": "hard_label", "weight": 0.5}]


def _subset(data, examples, seed):
    indices = np.sort(np.random.default_rng(seed).permutation(len(data.train))[:examples])
    return dataclasses.replace(data, train=data.train.take(indices))


def _scores(model, preprocessor, data):
    from tfdistill.training import evaluation

    return {split: evaluation.accuracy(model, preprocessor, getattr(data, split))
            for split in ("validation", "test")}


def fine_tune(preprocessor, data, seed, mode, lazy):
    """Fine-tunes the shipped teacher with a fresh head; returns `(model, scores, seconds)`."""
    import tf_keras as keras

    import tfdistill
    from tfdistill.training import finetune, optimization

    optimization.set_default_lazy_adam(lazy)

    keras.utils.set_random_seed(seed)
    model = tfdistill.load_pretrained(tfdistill.default_teacher_path(), num_labels=data.num_classes)
    result = finetune.fine_tune_classifier(model, preprocessor, data,
                                           epochs=FLAGS.teacher_epochs, seed=seed, verbose=0, mixed_precision=mode)
    return model, _scores(model, preprocessor, data), result.train_seconds


def distill_student(teacher, preprocessor, data, seed, mode, cache, lazy):
    """Distils the pipeline's student from `teacher`; returns `(scores, seconds)`."""
    import tf_keras as keras

    from tfdistill.distill import student_from_teacher, teacher_cache
    from tfdistill.distill.training import distill, importance_features
    from tfdistill.training import optimization

    optimization.set_default_lazy_adam(lazy)

    teacher_cache.clear()  # each variant pays its own teacher pass
    keras.utils.set_random_seed(seed)
    student = student_from_teacher(teacher, num_layers=4, num_heads=6, intermediate_size=384,
                                   importance_data=importance_features(preprocessor, data.train))
    result = distill(teacher, student, preprocessor, data, losses=LOSSES,
                     epochs=FLAGS.distill_epochs, learning_rate=2e-4, seed=seed, verbose=0, mixed_precision=mode,
                     cache_teacher_outputs=cache)
    return _scores(student, preprocessor, data), result["train_seconds"]


def _print(rows):
    print(f"\n{'part':8s} {'variant':26s} {'seed':>4s} {'validation':>10s} {'test':>7s} {'train s':>8s}")
    for row in rows:
        print(f"{row['part']:8s} {row['variant']:26s} {row['seed']:4d} {row['validation']:10.4f} "
              f"{row['test']:7.4f} {row['seconds']:8.0f}")
    for part, variant, reference in COMPARISONS:
        base = {r["seed"]: r for r in rows if r["part"] == part and r["variant"] == reference}
        pairs = [(r, base[r["seed"]]) for r in rows if r["part"] == part and r["variant"] == variant
                 and r["seed"] in base]
        for split in ("validation", "test") if pairs else ():
            diffs = [100 * (a[split] - b[split]) for a, b in pairs]
            print(f"{part}: {variant} - {reference}, {split}: {np.mean(diffs):+.2f} points "
                  f"(per seed {', '.join(f'{d:+.2f}' for d in diffs)})")


def main(argv):
    del argv
    import tfdistill

    print("load %.2f %.2f %.2f" % os.getloadavg(), flush=True)
    preprocessor = tfdistill.TextClassifierPreprocessor(
        tfdistill.Tokenizer.from_pretrained(tfdistill.default_teacher_path()), FLAGS.max_length)
    full = tfdistill.datasets.load("rotten_tomatoes")
    rows, start = [], time.perf_counter()
    for seed in map(int, FLAGS.seeds):
        data = _subset(full, FLAGS.train_examples, seed)
        teachers = {}
        for index, name in enumerate(FLAGS.teacher_variants):
            if index and "teacher" not in FLAGS.parts:
                continue
            teachers[name], scores, seconds = fine_tune(preprocessor, data, seed, *TEACHER_VARIANTS[name])
            rows.append({"part": "teacher", "variant": name, "seed": seed, "seconds": seconds, **scores})
            print(rows[-1], "load %.2f" % os.getloadavg()[0], flush=True)
        if "distill" in FLAGS.parts:
            for name in FLAGS.distill_variants:
                scores, seconds = distill_student(teachers[FLAGS.teacher_variants[0]], preprocessor, data, seed,
                                                  *DISTILL_VARIANTS[name])
                rows.append({"part": "distill", "variant": name, "seed": seed, "seconds": seconds, **scores})
                print(rows[-1], "load %.2f" % os.getloadavg()[0], flush=True)
    _print(rows)
    print(f"\n{time.perf_counter() - start:.0f} s in all; load %.2f %.2f %.2f" % os.getloadavg())


if __name__ == "__main__":
    app.run(main)
