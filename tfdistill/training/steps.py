"""Known step counts for `fit`: progress bars with a total, schedules without drift."""


def steps_per_epoch(examples, batch_size):
    """Returns the number of batches of `examples` examples (the last one may be partial).

    Example:
    >>> steps_per_epoch(10242, 32)
    321
    """
    return -(-examples // batch_size)


def with_steps(dataset, steps):
    """Declares the number of batches of a (bucketed) dataset whose count tf.data cannot infer.

    Without it, Keras prints "1/Unknown" progress bars for the first epoch, and the first epoch
    of every `fit` call advances the optimizer's step counter (which drives the learning-rate
    schedule) once more than it has batches, so a resumed run's schedule would drift from an
    uninterrupted one's.

    Args:
        dataset: `tf.data.Dataset` that yields exactly `steps` batches per iteration.
        steps: int.

    Returns:
        `tf.data.Dataset` with that cardinality (an error at run time if it is wrong).

    Example:
    >>> from tfdistill.data import make_tf_dataset
    >>> batches = make_tf_dataset(data.train, tokenizer, 16, 8, shuffle=True)  # bucketed by length
    >>> int(batches.cardinality())  # tf.data.UNKNOWN_CARDINALITY
    -2
    >>> train = with_steps(batches, steps_per_epoch(len(data.train), 8))
    >>> int(train.cardinality())
    8
    """
    import tensorflow as tf

    return dataset.apply(tf.data.experimental.assert_cardinality(steps))
