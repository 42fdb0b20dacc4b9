"""The model package folder an export writes, atomically: what the Android app loads.

    <output_dir>/model.tflite     the flatbuffer
    <output_dir>/vocab.txt        the WordPiece vocabulary, one token a line (id = line number)
    <output_dir>/labels.txt       the class names, one a line (id = line number)
    <output_dir>/model_card.json  seq_len, inputs, outputs, labels, mode, size_bytes, sha256,
                                  source, accuracy, validation, xnnpack, tokenizer, mediapipe,
                                  do_lower_case, strip_accents (the casing to tokenize with)
    <output_dir>/text_classifier.tflite  uncased models: the same model for MediaPipe Tasks'
                                  TextClassifier (probabilities only, metadata, vocab and labels
                                  packed in; `tfdistill.export.mediapipe_model`)
    <output_dir>/quantization_recipe.json  dynamic and int8: the ai-edge-quantizer recipe the
                                  model was quantized with (also the card's `quantization_recipe`)
"""

import hashlib
import json
import os

from tfdistill.utils import atomic

TFLITE_FILE = "model.tflite"
VOCAB_FILE = "vocab.txt"
LABELS_FILE = "labels.txt"
CARD_FILE = "model_card.json"
RECIPE_FILE = "quantization_recipe.json"
# Keys the Android app reads; `read_model_card` refuses a card without them.
CARD_KEYS = ("seq_len", "inputs", "outputs", "labels", "mode", "size_bytes", "sha256", "source",
             "accuracy")
# The casing every tokenizer of the package must follow (tfdistill.Tokenizer, the Android core),
# copied from the `tokenizer` entry to the top of the card; a card without them is uncased.
CASING_KEYS = ("do_lower_case", "strip_accents")


def model_card(flatbuffer, **fields):
    """Returns the model card dict: `fields` plus the flatbuffer's `size_bytes` and `sha256`.

    Args:
        flatbuffer: bytes.
        **fields: the other card entries (`seq_len`, `inputs`, `outputs`, `labels`, `mode`,
            `source`, `accuracy`, ...). The `CASING_KEYS` of `tokenizer` (a
            `Tokenizer.get_config()`) are also recorded at the top.

    Raises:
        ValueError: a key of `CARD_KEYS` is missing.

    Example:
    >>> card = model_card(b"TFL3", seq_len=64, inputs=["input_ids"], outputs=["logits"],
    ...                   labels=["neg", "pos"], mode="int8", source="runs/student", accuracy=None)
    >>> card["size_bytes"], card["sha256"][:8]
    (4, 'a7dde399')
    """
    tokenizer = fields.get("tokenizer") or {}
    casing = {key: tokenizer[key] for key in CASING_KEYS if key in tokenizer}
    card = {**casing, **fields, "size_bytes": len(flatbuffer),
            "sha256": hashlib.sha256(flatbuffer).hexdigest()}
    missing = [key for key in CARD_KEYS if key not in card]
    if missing:
        raise ValueError(f"The model card lacks {missing}; the Android app needs all of {list(CARD_KEYS)}.")
    return card


def recipe_files(card):
    """Returns `{RECIPE_FILE: bytes}` for a card with a `quantization_recipe`, else `{}`.

    Args:
        card: dict, the model card.

    Returns:
        dict of file name -> bytes (the recipe as JSON, loadable by ai-edge-quantizer).

    Example:
    >>> recipe_files({"quantization_recipe": None})
    {}
    >>> list(recipe_files({"quantization_recipe": [{"regex": ".*"}]}))
    ['quantization_recipe.json']
    """
    recipe = card.get("quantization_recipe")
    if recipe is None:
        return {}
    return {RECIPE_FILE: (json.dumps(recipe, indent=2) + "\n").encode("utf-8")}


def write_model_package(output_dir, flatbuffer, vocab, labels, card, extra_files=None):
    """Writes the package folder; it appears complete or not at all (an earlier package that
    tfdistill wrote is replaced; anything else at `output_dir` is refused).

    Args:
        output_dir: str, the folder.
        flatbuffer: bytes, the `.tflite`.
        vocab: list of str, the tokens in id order.
        labels: list of str, the class names in id order.
        card: dict from `model_card`.
        extra_files: optional dict of file name -> bytes written beside them (the MediaPipe
            model `text_classifier.tflite`, `recipe_files`).

    Returns:
        str, the path of `model.tflite`.

    Example:
    >>> import os
    >>> card = model_card(b"TFL3", seq_len=16, inputs=["input_ids"], outputs=["logits"],
    ...                   labels=["neg", "pos"], mode="float32", source="student", accuracy=None)
    >>> write_model_package("runs/pkg", b"TFL3", tokenizer.vocab, ["neg", "pos"], card)
    'runs/pkg/model.tflite'
    >>> sorted(os.listdir("runs/pkg"))
    ['.tfdistill.json', 'labels.txt', 'model.tflite', 'model_card.json', 'vocab.txt']
    """
    with atomic.atomic_dir(output_dir, kind="tflite_package") as tmp:
        atomic.write_bytes(os.path.join(tmp, TFLITE_FILE), flatbuffer)
        atomic.write_text(os.path.join(tmp, VOCAB_FILE), "".join(f"{token}\n" for token in vocab))
        atomic.write_text(os.path.join(tmp, LABELS_FILE), "".join(f"{name}\n" for name in labels))
        atomic.write_json(os.path.join(tmp, CARD_FILE), card)
        for name, content in (extra_files or {}).items():
            atomic.write_bytes(os.path.join(tmp, name), content)
    return os.path.join(output_dir, TFLITE_FILE)


def read_model_card(folder):
    """Reads and checks a package's `model_card.json`.

    Args:
        folder: str, a package folder.

    Returns:
        dict.

    Raises:
        FileNotFoundError: no card there.
        ValueError: not JSON, a required key is missing, or the folder's `model.tflite` is not
            the model the card describes (its size or sha256 differ).

    Example:
    >>> card = read_model_card(package_dir)
    >>> card["mode"], card["seq_len"], card["labels"]
    ('float32', 16, ['neg', 'pos'])
    """
    path = os.path.join(folder, CARD_FILE)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No {CARD_FILE} in {folder!r}; pass a folder written by "
                                "export/to_tflite.py.")
    try:
        with open(path, encoding="utf-8") as f:
            card = json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"{path} is not valid JSON ({error}); export the model again.") from None
    missing = [key for key in CARD_KEYS if key not in card]
    if missing:
        raise ValueError(f"{path} lacks the keys {missing}; export the model again.")
    _check_card_describes_model(folder, card)
    return card


def _check_card_describes_model(folder, card):
    tflite = os.path.join(folder, TFLITE_FILE)
    if not os.path.isfile(tflite):
        return
    with open(tflite, "rb") as f:
        actual = model_card(f.read(), **{key: card[key] for key in CARD_KEYS})
    wrong = [key for key in ("size_bytes", "sha256") if card[key] != actual[key]]
    if wrong:
        raise ValueError(
            f"{os.path.join(folder, CARD_FILE)} does not describe {tflite} ({', '.join(wrong)} differ: the "
            f"card says {[card[key] for key in wrong]}, the file has {[actual[key] for key in wrong]}); the "
            "files come from different exports. Export the model again with export/to_tflite.py.")
