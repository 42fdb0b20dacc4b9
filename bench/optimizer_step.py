"""Time of one `FusedAdamW` step on a variable: the XLA-compiled loop against the decay and
`ResourceApplyAdam` kernels, side by side in one process.

`FusedAdamW` sends variables of `optimization.XLA_MIN_ELEMENTS` or more through the XLA loop;
this times both paths on each shape (the XLA threshold patched per path), with a row-sparse
gradient for a word table as an embedding lookup gives it (made dense first on both paths) and
a dense one otherwise, interleaved over rounds. The machine is shared: read the ratios.

Example:
    python bench/optimizer_step.py                          # MiniLM's word table and kernels
    python bench/optimizer_step.py --shapes=30522x384,384x1536 --rounds=7
"""

import time

import numpy as np
from absl import app, flags

flags.DEFINE_list("shapes", ["30522x384", "384x1536", "1536x384", "384x384"],
                  "Variable shapes ROWSxCOLUMNS; the first is a word table (row-sparse gradients).")
flags.DEFINE_integer("rows_read", 1056, "Word-table rows a batch's gradient touches (32 x 33 tokens).")
flags.DEFINE_integer("steps", 20, "Steps per timing.")
flags.DEFINE_integer("rounds", 5, "Interleaved rounds; medians are reported.")
flags.DEFINE_integer("threads", 2, "Intra-op threads.")
FLAGS = flags.FLAGS


def _step_function(shape, sparse, xla, rng):
    """A traced `apply_gradients` of `FusedAdamW` on one variable, XLA loop on or off."""
    import tensorflow as tf

    from tfdistill.training import optimization

    variable = tf.Variable(rng.normal(size=shape).astype(np.float32), name="word_embeddings" if sparse else "kernel")
    if sparse:
        gradient = tf.IndexedSlices(tf.constant(rng.normal(size=(FLAGS.rows_read, shape[1])).astype(np.float32)),
                                    tf.constant(rng.integers(0, shape[0], FLAGS.rows_read).astype(np.int32)),
                                    tf.constant(shape))
    else:
        gradient = tf.constant(rng.normal(size=shape).astype(np.float32))
    optimizer = optimization.adamw(1e-4, total_steps=10**6)
    threshold = 0 if xla else np.prod(shape) + 1
    original = optimization.XLA_MIN_ELEMENTS
    optimization.XLA_MIN_ELEMENTS = threshold  # read while tracing only
    try:
        step = tf.function(lambda: optimizer.apply_gradients([(gradient, variable)]))
        step()
    finally:
        optimization.XLA_MIN_ELEMENTS = original
    return step


def main(argv):
    del argv
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(FLAGS.threads)
    rng = np.random.default_rng(0)
    shapes = [tuple(int(n) for n in text.split("x")) for text in FLAGS.shapes]
    functions = {(shape, xla): _step_function(shape, index == 0, xla, rng)
                 for index, shape in enumerate(shapes) for xla in (False, True)}
    times = {key: [] for key in functions}
    for _ in range(FLAGS.rounds):
        for key, function in functions.items():
            start = time.perf_counter()
            for _ in range(FLAGS.steps):
                function()
            times[key].append((time.perf_counter() - start) / FLAGS.steps * 1e3)
    print(f"FusedAdamW step, {FLAGS.threads} threads, median of {FLAGS.rounds} rounds of {FLAGS.steps} steps")
    print(f"{'variable':>12s} {'gradient':>10s} {'kernels ms':>11s} {'XLA ms':>8s} {'XLA speed-up':>13s}")
    for index, shape in enumerate(shapes):
        kernels, xla = (float(np.median(times[shape, flag])) for flag in (False, True))
        print(f"{'x'.join(map(str, shape)):>12s} {'row-sparse' if index == 0 else 'dense':>10s} {kernels:11.2f} "
              f"{xla:8.2f} {kernels / xla:12.2f}x")


if __name__ == "__main__":
    app.run(main)
