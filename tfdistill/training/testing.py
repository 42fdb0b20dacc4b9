"""A tiny text-classification task and classifiers for the training and distillation tests."""

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
