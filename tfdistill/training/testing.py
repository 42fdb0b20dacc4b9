"""Tiny tasks and classifiers for the training and distillation tests: a made-up text task with
its own vocabulary, and a separable numeric task a linear model learns at once."""

import numpy as np

WORDS = "good bad great awful fine dull movie plot acting fun boring superb weak strong the a is was".split()


def tiny_task(train=64, evaluation=16, seed=0):
    """Returns `(tokenizer, data)`: a made-up 2-class task (positive when "good" or "great"
    occurs) with its own small WordPiece vocabulary.

    Args:
        train: int, training examples.
        evaluation: int, validation and test examples each.
        seed: int.

    Example:
    >>> tokenizer, data = tiny_task()
    >>> len(data.train), data.num_classes
    (64, 2)
    """
    from tfdistill.data import Split, TextClassificationData, Tokenizer

    rng = np.random.default_rng(seed)

    def split(rows):
        texts = [" ".join(rng.choice(WORDS, rng.integers(2, 12))) for _ in range(rows)]
        labels = [int("good" in text.split() or "great" in text.split()) for text in texts]
        return Split(texts, labels)

    tokenizer = Tokenizer.from_vocab(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS])
    data = TextClassificationData("tiny", ["neg", "pos"], split(train), split(evaluation), split(evaluation))
    return tokenizer, data


def tiny_classifier(tokenizer, seed=0, name="bert", **config):
    """Returns a random tiny classifier `BertModel` for `tokenizer`'s vocabulary (no dropout).

    Args:
        tokenizer: `tfdistill.Tokenizer`.
        seed: int, seeds the weights.
        name: str.
        **config: `BertConfig` fields replacing the defaults (2 blocks of width 16, 2 heads).
    """
    import tensorflow as tf

    from tfdistill.models.bert.bert_config import BertConfig
    from tfdistill.models.bert.bert_model import build_bert

    tf.keras.utils.set_random_seed(seed)
    config = BertConfig(**{"vocab_size": tokenizer.vocab_size, "hidden_size": 16, "num_layers": 2, "num_heads": 2,
                           "intermediate_size": 32, "max_position_embeddings": 32, "num_labels": 2,
                           "hidden_dropout": 0.0, "attention_dropout": 0.0, **config})
    return build_bert(config, name=name)


def separable_task(train=64, validation=32, batch_size=8, seed=0):
    """Returns `(train, validation)` datasets of a 4-feature, 2-class problem a linear model
    learns within an epoch: the class is whether `x0 + x1 / 2 > 0`.

    The training set is reshuffled every epoch (seeded) and has a known length, like
    `training_datasets`' (`linear_classifier` fits it).

    Example:
    >>> train, validation = separable_task()
    >>> int(train.cardinality())
    8
    """
    import tensorflow as tf

    rng = np.random.default_rng(seed)

    def examples(count):
        x = rng.normal(size=(count, 4)).astype("float32")
        return x, (x[:, 0] + 0.5 * x[:, 1] > 0).astype("int32")

    train_set = tf.data.Dataset.from_tensor_slices(examples(train))
    train_set = train_set.shuffle(train, seed=seed, reshuffle_each_iteration=True).batch(batch_size)
    return train_set, tf.data.Dataset.from_tensor_slices(examples(validation)).batch(batch_size)


def linear_classifier(seed=0):
    """Returns a seeded, built tf-keras model mapping `separable_task` features to 2 logits."""
    import tf_keras as keras

    keras.utils.set_random_seed(seed)
    return keras.Sequential([keras.layers.Dense(2, input_shape=(4,), name="logits")])


def crash_at_epoch(epoch):
    """A Keras callback raising `RuntimeError("killed")` when `epoch` begins: a run killed there.

    Example:
    >>> crash_at_epoch(1).on_epoch_begin(1)
    Traceback (most recent call last):
    ...
    RuntimeError: killed
    """
    import tf_keras as keras

    class CrashAtEpoch(keras.callbacks.Callback):
        def on_epoch_begin(self, current, logs=None):
            if current == epoch:
                raise RuntimeError("killed")

    return CrashAtEpoch()
