"""Classifies raw texts with a trained student (Keras folder) or an exported `.tflite` package.

Prints one JSON object a line: the text, its predicted class and the probability of every class.

Example:
    tfdistill predict --model=runs/demo/export/distill_int8 --text="A gripping drama." --text="Dull."
    tfdistill predict --model=runs/student --input_file=reviews.txt > predictions.jsonl
"""

import json
import sys

from absl import flags

from tfdistill.cli.commands import list_flags_in_help
from tfdistill.cli.script import run_or_exit

flags.DEFINE_string("model", None, "A model package folder (model.tflite, run with LiteRT) or a Hugging "
                    "Face-format classifier folder (run with tf-keras).")
flags.DEFINE_multi_string("text", [], "A text to classify (repeat the flag for more).")
flags.DEFINE_string("input_file", None, "A UTF-8 file with one text a line ('-': standard input).")
flags.DEFINE_integer("max_length", None, "Tokenized length for a Keras folder (default 128); a package's is fixed.")
flags.mark_flag_as_required("model")
FLAGS = flags.FLAGS
list_flags_in_help(__name__)


def read_texts(values):
    """The texts of `--text` and `--input_file`, in that order.

    Raises:
        ValueError: no text given, or the input file is not UTF-8.
        FileNotFoundError: the input file does not exist.
    """
    texts = list(values.text)
    if values.input_file:
        try:
            if values.input_file == "-":
                texts += sys.stdin.read().splitlines()
            else:
                with open(values.input_file, encoding="utf-8") as f:
                    texts += f.read().splitlines()
        except UnicodeDecodeError as error:
            raise ValueError(f"--input_file={values.input_file} is not UTF-8 text ({error.reason} at byte "
                             f"{error.start}); save it as UTF-8.") from None
    if not texts:
        raise ValueError("No text to classify; pass --text=\"...\" (repeatable) or --input_file=<one text a line>.")
    return texts


def run(values):
    import tfdistill

    texts = read_texts(values)
    classifier = tfdistill.TextClassifier.from_pretrained(values.model, max_length=values.max_length)
    predictions = classifier.predict(texts)
    for text, label, row in zip(texts, predictions.labels, predictions.probabilities):
        print(json.dumps({"text": text, "label": label,
                          "probabilities": {name: round(float(p), 6) for name, p in zip(predictions.label_names, row)}},
                         ensure_ascii=False))
    return predictions


def main(argv):
    del argv
    run_or_exit(run, FLAGS)
