"""Does length bucketing pay off on CPU? Times a MiniLM forward pass over both pipelines.

The same training examples (a stratified subset of `num_batches` batches) go through
`make_tf_dataset` with fixed `max_length` padding and with `bucket_by_length=True` (each batch
padded to its longest row rounded up to 8), shuffled as in training (similar lengths batched
together) and unshuffled as in evaluation (order kept). Each timing is one full pass, after a
warm-up batch. The encoder is `tfdistill.build_bert` with the shipped teacher's real
config (random weights: only the speed matters). Prints seconds per example and the ratio.

Usage:
    .venv/bin/python bench/data_pipeline.py --max_length=128 --num_batches=32
"""

import time

from absl import app, flags

import tfdistill
import tensorflow as tf
from tfdistill import data

flags.DEFINE_integer("max_length", 128, "Tokenized length of the fixed pipeline.")
flags.DEFINE_integer("batch_size", 32, "Examples per batch.")
flags.DEFINE_integer("num_batches", 32, "Batches per timed pass.")
FLAGS = flags.FLAGS


def time_forward(forward, dataset):
    """Returns (seconds, examples, padded tokens) of one pass over `dataset`."""
    seconds, examples, tokens = 0.0, 0, 0
    for features, _ in dataset:
        start = time.perf_counter()
        forward(features).numpy()
        seconds += time.perf_counter() - start
        examples += int(features["input_ids"].shape[0])
        tokens += int(tf.size(features["input_ids"]))
    return seconds, examples, tokens


def main(_):
    teacher = tfdistill.default_teacher_path()
    config = tfdistill.load_config(teacher, num_labels=2)
    data.check_max_length(FLAGS.max_length, config.max_position_embeddings)
    model = tfdistill.build_bert(config)
    spec = tf.TensorSpec([None, None], tf.int32)

    # One trace for every width: the bucketed batches vary in their sequence dimension.
    @tf.function(input_signature=[{"input_ids": spec, "attention_mask": spec,
                                   "token_type_ids": spec}])
    def forward(features):
        return model(features, training=False)["logits"]

    tokenizer = tfdistill.Tokenizer.from_pretrained(teacher)
    train = data.load("rotten_tomatoes", max_examples=FLAGS.batch_size * FLAGS.num_batches).train
    for shuffle in (True, False):
        results = {}
        for bucket in (False, True):
            dataset = data.make_tf_dataset(train, tokenizer, FLAGS.max_length, FLAGS.batch_size,
                                           shuffle=shuffle, bucket_by_length=bucket)
            time_forward(forward, dataset.take(1))
            seconds, examples, tokens = time_forward(forward, dataset)
            results[bucket] = seconds / examples
            print(f"shuffle={shuffle!s:5} bucket_by_length={bucket!s:5}: "
                  f"{1e3 * seconds / examples:.2f} ms/example, mean width "
                  f"{tokens / examples:.1f} tokens ({examples} examples)")
        print(f"max_length={FLAGS.max_length}, shuffle={shuffle}: fixed / bucketed time = "
              f"{results[False] / results[True]:.2f}x")

if __name__ == "__main__":
    app.run(main)
