"""`TextClassifier`: raw text in, class names and probabilities out.

The same object serves a Keras model folder (what the recipes write) and a `.tflite` model
package (what the exporter writes): it carries the model's own tokenizer, sequence length and
class names, so a caller never tokenizes or maps label ids by hand.
"""

import dataclasses
import os

import numpy as np

# The length a Keras folder's texts are cut to when none is given (packages fix their own).
DEFAULT_MAX_LENGTH = 128


@dataclasses.dataclass(frozen=True)
class Predictions:
    """What `TextClassifier.predict` returns.

    Attributes:
        labels: list of str, the most probable class of each text.
        probabilities: float32 array `[n, num_classes]`, each row sums to 1.
        label_names: list of str, the class of each probability column.
    """

    labels: list
    probabilities: np.ndarray
    label_names: list

    def __len__(self):
        return len(self.labels)


class TextClassifier:
    """A trained classifier that takes raw text: a student or teacher folder, or a model package.

    Args:
        predict_logits: callable, tokenized features `{name: int array [n, max_length]}` -> logits.
        preprocessor: `tfdistill.TextClassifierPreprocessor`: the model's own tokenizer, the
            tokenized length (a package's fixed `seq_len`) and the class of each logit.
        source: str, what was loaded (for `repr`).

    Example:
    >>> classifier = TextClassifier.from_pretrained(package_dir)  # a package, or a model folder
    >>> classifier.label_names, classifier.max_length
    (['neg', 'pos'], 16)
    >>> predictions = classifier.predict(["a great movie", "dull plot"])
    >>> len(predictions.labels), predictions.probabilities.shape, set(predictions.labels) <= {"neg", "pos"}
    (2, (2, 2), True)

    The demo's int8 package (after `make demo`):

    >>> classifier = TextClassifier.from_pretrained("runs/demo/export/distill_int8")  # doctest: +SKIP
    >>> classifier.predict(["A gripping, beautifully acted drama."]).labels  # doctest: +SKIP
    ['positive']
    """

    def __init__(self, predict_logits, preprocessor, source="<model>"):
        if not preprocessor.label_names:
            raise ValueError("A TextClassifier needs the preprocessor's label_names (the class of each logit).")
        self._predict_logits, self.preprocessor, self.source = predict_logits, preprocessor, source

    @property
    def tokenizer(self):
        return self.preprocessor.tokenizer

    @property
    def label_names(self):
        return list(self.preprocessor.label_names)

    @property
    def max_length(self):
        return self.preprocessor.max_length

    @classmethod
    def from_pretrained(cls, path, max_length=None, num_threads=1):
        """Loads a model package folder (`model.tflite`, run with LiteRT) or a Hugging Face-format
        classifier folder (`config.json` + `model.safetensors`, run with tf-keras).

        Args:
            path: str, the folder (or a package's `model.tflite`).
            max_length: optional int, the tokenized length of a Keras folder's texts (default
                128, at most its positions); a package's length is fixed and cannot be changed.
            num_threads: int, LiteRT threads for a package.

        Raises:
            FileNotFoundError: nothing loadable at `path`.
            ValueError: a classifier without class names or a head, or a `max_length` the
                model cannot take.
        """
        from tfdistill.export.package import CARD_FILE, TFLITE_FILE

        folder = os.path.dirname(path) if os.path.basename(os.fspath(path)) == TFLITE_FILE else os.fspath(path)
        if os.path.isfile(os.path.join(folder, TFLITE_FILE)) and os.path.isfile(os.path.join(folder, CARD_FILE)):
            return cls._from_package(folder, max_length, num_threads)
        return cls._from_keras_folder(folder, max_length)

    @classmethod
    def _from_package(cls, folder, max_length, num_threads):
        from tfdistill.data.preprocessor import TextClassifierPreprocessor
        from tfdistill.data.tokenizer import Tokenizer, check_tokenizer
        from tfdistill.export.evaluate import package_labels
        from tfdistill.export.runtime import TFLiteClassifier

        runtime = TFLiteClassifier(folder, num_threads=num_threads)
        if max_length not in (None, runtime.seq_len):
            raise ValueError(f"{folder} takes exactly {runtime.seq_len} tokens (its seq_len); max_length="
                             f"{max_length} cannot be used. Export it again with --seq_len={max_length}.")
        tokenizer = Tokenizer.from_pretrained(folder)
        check_tokenizer(runtime.vocab_size, tokenizer, "the .tflite model")
        preprocessor = TextClassifierPreprocessor(tokenizer, runtime.seq_len, _require_names(package_labels(folder),
                                                                                             folder))
        return cls(runtime.predict_logits, preprocessor, source=folder)

    @classmethod
    def _from_keras_folder(cls, folder, max_length):
        import tfdistill

        model = tfdistill.load_pretrained(folder)  # a classifier without its head is refused there
        config = model.bert_config
        if not config.num_labels:
            raise ValueError(f"{folder} holds an encoder without a classification head; fine-tune it first "
                             "(recipes/finetune_teacher.py).")
        max_length = max_length or min(DEFAULT_MAX_LENGTH, config.max_position_embeddings)
        preprocessor = tfdistill.TextClassifierPreprocessor(tfdistill.Tokenizer.from_pretrained(folder), max_length,
                                                            _require_names(config.label_names, folder))
        return cls(_keras_logits(model), preprocessor.check(config), source=folder)

    def predict(self, texts, batch_size=64):
        """Classifies raw texts.

        Args:
            texts: str or list of str.
            batch_size: int, texts tokenized and run at once (Keras folders).

        Returns:
            `Predictions`.

        Raises:
            TypeError: an item is not a string (the message gives its index).
        """
        from tfdistill.data.tokenizer import as_text_list

        texts = as_text_list(texts, "texts")
        logits = [self._predict_logits(self.preprocessor(texts[start:start + batch_size]))
                  for start in range(0, len(texts), batch_size)]
        logits = np.concatenate(logits) if logits else np.zeros((0, len(self.label_names)), np.float32)
        probabilities = _softmax(logits.astype(np.float32))
        labels = [self.label_names[index] for index in np.argmax(probabilities, axis=-1)]
        return Predictions(labels=labels, probabilities=probabilities, label_names=list(self.label_names))

    def __repr__(self):
        return (f"TextClassifier(source={self.source!r}, labels={self.label_names}, "
                f"max_length={self.max_length})")


def _require_names(names, folder):
    from tfdistill.data.labels import is_placeholder

    if is_placeholder(names):
        raise ValueError(f"{folder} does not name its classes (labels.txt or config.json id2label hold "
                         "only LABEL_0, LABEL_1, ...); re-export or re-train it with named classes.")
    return list(names)


def _keras_logits(model):
    from tfdistill.models.inference import batched_logits

    return lambda features: batched_logits(model, [features])  # the closure keeps the model alive


def _softmax(logits):
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)
