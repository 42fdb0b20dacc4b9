"""`TextClassifierPreprocessor`: raw text to a model's features, with its length and class names.

What travels through training, distillation, compression, evaluation and `TextClassifier`
instead of a `(tokenizer, max_length)` pair. It tokenizes each split once (kept by content
fingerprint), so the teacher's logits, the training batches and the evaluation of one split
share one tokenization.
"""

import collections

import numpy as np

from tfdistill.data.tokenizer import Tokenizer, as_text_list, check_tokenizer

DEFAULT_MAX_LENGTH = 128
# Tokenized splits kept per preprocessor: a run's train/validation/test plus a few augmented or
# reordered ones; a split's features are a few MB of int32.
_CACHED_SPLITS = 8


class TextClassifierPreprocessor:
    """A tokenizer, the tokenized length and the class names of one text classifier.

    Args:
        tokenizer: `tfdistill.Tokenizer`, the model's own.
        max_length: int >= 2, the tokenized length, special tokens included.
        label_names: optional list of str, the class of each logit.

    Raises:
        TypeError: `tokenizer` is not a `tfdistill.Tokenizer`.
        ValueError: `max_length` < 2.

    Example:
    >>> preprocessor = TextClassifierPreprocessor(tokenizer, max_length=16, label_names=["neg", "pos"])
    >>> features = preprocessor(["a great movie", "dull plot"])
    >>> sorted(features), features["input_ids"].shape
    (['attention_mask', 'input_ids', 'token_type_ids'], (2, 16))
    >>> preprocessor.tokenize(data.train) is preprocessor.tokenize(data.train)  # tokenized once
    True
    >>> TextClassifierPreprocessor.from_config(preprocessor.get_config(), tokenizer).max_length
    16
    """

    def __init__(self, tokenizer, max_length=DEFAULT_MAX_LENGTH, label_names=None):
        if not isinstance(tokenizer, Tokenizer):
            raise TypeError(f"tokenizer must be a tfdistill.Tokenizer, got {type(tokenizer).__name__}; load one "
                            "with tfdistill.Tokenizer.from_pretrained(<model folder>).")
        if isinstance(max_length, bool) or not isinstance(max_length, (int, np.integer)) or max_length < 2:
            raise ValueError(f"max_length must be an int >= 2 ([CLS] text [SEP]), got {max_length!r}.")
        self.tokenizer, self.max_length = tokenizer, int(max_length)
        self.label_names = None if label_names is None else [str(name) for name in label_names]
        self._tokenized = collections.OrderedDict()

    def __call__(self, texts, text_pairs=None):
        """Tokenizes raw texts: `{name: int32 [n, max_length]}` (`tfdistill.Tokenizer.__call__`)."""
        texts = as_text_list(texts, "texts")
        pairs = None if text_pairs is None else as_text_list(text_pairs, "text_pairs")
        return self.tokenizer(texts, pairs, max_length=self.max_length)

    def tokenize(self, split):
        """Returns the features of a `tfdistill.data.Split`, computed once per split content.

        The arrays are shared between callers: do not modify them in place.
        """
        key = split.fingerprint(labels=False)
        if key in self._tokenized:
            self._tokenized.move_to_end(key)
            return self._tokenized[key]
        features = self.tokenizer(split.texts, split.text_pairs, max_length=self.max_length)
        self._tokenized[key] = features
        while len(self._tokenized) > _CACHED_SPLITS:
            self._tokenized.popitem(last=False)
        return features

    def dataset(self, split, batch_size, **options):
        """A batched `tf.data.Dataset` of `(features, labels)` for `split`.

        Args:
            split: `tfdistill.data.Split`.
            batch_size: int >= 1.
            **options: `shuffle`, `seed`, `bucket_by_length`, `drop_remainder`, `cache`
                (`tfdistill.data.make_tf_dataset`).
        """
        from tfdistill.data.pipeline import features_dataset

        return features_dataset(self.tokenize(split), split.labels, batch_size, **options)

    def check(self, bert_config, model_name="the model"):
        """Refuses a model this preprocessor cannot feed: too few positions or another vocabulary.

        Args:
            bert_config: the model's `BertConfig`.
            model_name: str, how error messages name the model.

        Returns:
            self.

        Raises:
            ValueError: `max_length` exceeds the model's positions, or the vocabulary sizes differ.
        """
        from tfdistill.data.pipeline import check_max_length

        check_max_length(self.max_length, bert_config.max_position_embeddings)
        check_tokenizer(bert_config.vocab_size, self.tokenizer, model_name)
        return self

    def replace(self, **changes):
        """A copy with some of `tokenizer`, `max_length`, `label_names` changed (fresh cache)."""
        fields = {"tokenizer": self.tokenizer, "max_length": self.max_length, "label_names": self.label_names}
        unknown = set(changes) - set(fields)
        if unknown:
            raise TypeError(f"replace() takes {sorted(fields)}, got {sorted(unknown)}.")
        return TextClassifierPreprocessor(**{**fields, **changes})

    def get_config(self):
        """The JSON-able settings (the tokenizer is saved by `save_pretrained`, not here)."""
        return {"max_length": self.max_length, "label_names": self.label_names}

    @classmethod
    def from_config(cls, config, tokenizer):
        return cls(tokenizer, **config)

    def __repr__(self):
        return (f"TextClassifierPreprocessor(vocab_size={self.tokenizer.vocab_size}, max_length={self.max_length}, "
                f"label_names={self.label_names})")


def as_preprocessor(tokenizer_or_preprocessor, max_length=None, label_names=None, default_max_length=64):
    """Accepts a `TextClassifierPreprocessor`, or a `Tokenizer` with its `max_length`.

    The public training functions take either, so a caller with a tokenizer and a length does
    not have to build the object; one given both ways must agree.

    Args:
        tokenizer_or_preprocessor: `TextClassifierPreprocessor` or `tfdistill.Tokenizer`.
        max_length: optional int; with a preprocessor, it must equal the preprocessor's.
        label_names: optional list of str, for a tokenizer (a preprocessor keeps its own).
        default_max_length: int, the length when a tokenizer comes without `max_length`.

    Returns:
        `TextClassifierPreprocessor`.

    Raises:
        ValueError: a preprocessor and a different `max_length`.

    Example:
    >>> as_preprocessor(tokenizer, 16).max_length
    16
    >>> as_preprocessor(as_preprocessor(tokenizer, 16), 32)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ValueError: max_length=32 was passed with a preprocessor of max_length=16; ...
    """
    if isinstance(tokenizer_or_preprocessor, TextClassifierPreprocessor):
        preprocessor = tokenizer_or_preprocessor
        if max_length is not None and int(max_length) != preprocessor.max_length:
            raise ValueError(f"max_length={max_length} was passed with a preprocessor of max_length="
                             f"{preprocessor.max_length}; pass one of them (preprocessor.replace(max_length=...)).")
        return preprocessor
    return TextClassifierPreprocessor(tokenizer_or_preprocessor, default_max_length if max_length is None
                                      else max_length, label_names)
