"""Copies an exported model package into the Android demo's assets, after checking it.

A model package is the folder tfdistill's exporter writes: `model.tflite`, `vocab.txt`,
`labels.txt` and `model_card.json`. All four must exist and come from one export: the card's
`size_bytes` and `sha256` must describe this `model.tflite`, its `labels` must be the lines of
`labels.txt`, and the vocabulary it records (`tokenizer.vocab_size`, the special tokens' ids,
`vocab_sha256` where present) must be `vocab.txt`; its casing (`do_lower_case`, `strip_accents`)
must be booleans. Files from two exports side by side would make the app show wrong labels or
feed the model wrong ids without failing. The app checks the same on the phone. A refused
package exits with status 2 (a full disk while copying: 3) and a message naming the files.

Usage:
    .venv/bin/python android_demo/tools/copy_model_package.py --package_dir=runs/demo/export \
        [--assets_dir=android_demo/app/src/main/assets]
"""

import hashlib
import json
import os
import shutil
import sys

from absl import app, flags

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_ASSETS_DIR = os.path.join(ROOT, "android_demo", "app", "src", "main", "assets")
MODEL, VOCAB, LABELS, CARD = "model.tflite", "vocab.txt", "labels.txt", "model_card.json"
PACKAGE_FILES = (MODEL, VOCAB, LABELS, CARD)
_CHUNK = 1 << 20

# The tokens BertTokenizer needs, by their tokenizer_config.json names.
REQUIRED_SPECIAL_TOKENS = {"pad_token": "[PAD]", "unk_token": "[UNK]", "cls_token": "[CLS]",
                           "sep_token": "[SEP]"}
REEXPORT = "Export the model again (export/to_tflite.py) and copy that package folder as it is."

flags.DEFINE_string("package_dir", None, "Folder of the exported model package.")
flags.DEFINE_string("assets_dir", DEFAULT_ASSETS_DIR, "The app's assets folder.")
FLAGS = flags.FLAGS


def sha256_of(path):
    """Returns the lowercase hex SHA-256 of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def validate_package(package_dir):
    """Checks that a model package is complete and that its four files agree with each other.

    Args:
        package_dir: str, the package folder.

    Returns:
        dict, the parsed model card.

    Raises:
        FileNotFoundError: the folder or one of the four files is missing.
        ValueError: the card is not a JSON object or lacks `size_bytes`/`sha256`; the model,
            labels or vocabulary are not the ones the card describes; the casing is not boolean.
    """
    if not os.path.isdir(package_dir):
        raise FileNotFoundError(f"Model package folder {package_dir!r} does not exist; pass the "
                                "folder the exporter wrote.")
    missing = [name for name in PACKAGE_FILES
               if not os.path.isfile(os.path.join(package_dir, name))]
    if missing:
        raise FileNotFoundError(f"{package_dir!r} lacks {', '.join(missing)}; a model package "
                                f"needs {', '.join(PACKAGE_FILES)}. Re-run the export.")
    card = read_card(os.path.join(package_dir, CARD))
    check_model(package_dir, card)
    check_labels(package_dir, card)
    check_vocab(package_dir, card)
    check_casing(package_dir, card)
    mediapipe_file(package_dir, card)
    return card


def read_card(card_path):
    """Returns the JSON object of `model_card.json`; ValueError if it is anything else."""
    try:
        with open(card_path, encoding="utf-8") as f:
            card = json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ValueError(f"{card_path} is not valid JSON ({e}); re-run the export.") from None
    if not isinstance(card, dict):
        raise ValueError(f"{card_path} must hold a JSON object; re-run the export.")
    for key in ("size_bytes", "sha256"):
        if key not in card:
            raise ValueError(f"{card_path} has no {key!r}; the app verifies the model with it. "
                             "Re-run the export.")
    return card


def check_model(package_dir, card):
    """Refuses a `model.tflite` whose size or SHA-256 is not the card's."""
    check_file(os.path.join(package_dir, MODEL), card["size_bytes"], card["sha256"])


def check_file(path, size_bytes, sha256):
    """Refuses a file whose size or SHA-256 is not what the card records for it."""
    size = os.path.getsize(path)
    if size != size_bytes:
        raise ValueError(f"{path} has {size} bytes but {CARD} says {size_bytes}: "
                         "the model and its card come from different exports.")
    digest = sha256_of(path)
    if digest != str(sha256).lower():
        raise ValueError(f"{path} has SHA-256 {digest} but {CARD} says {sha256}: "
                         "the model and its card come from different exports.")


def _mediapipe_entry(card):
    return card.get("mediapipe") if isinstance(card.get("mediapipe"), dict) else {}


def mediapipe_file(package_dir, card):
    """Returns the MediaPipe-ready model's file name (checked against the card), or None when the
    package has none (a cased model, or a package from before MediaPipe models)."""
    entry = _mediapipe_entry(card)
    name = entry.get("file")
    if not name:
        return None
    path = os.path.join(package_dir, name)
    if os.path.basename(name) != name or not os.path.isfile(path):
        raise FileNotFoundError(f"{CARD} names the MediaPipe model {name!r} but {package_dir!r} "
                                f"lacks it. {REEXPORT}")
    check_file(path, entry.get("size_bytes"), entry.get("sha256"))
    return name


def read_lines(path):
    """The lines of a UTF-8 file as the app reads them (a final newline ends the last line)."""
    try:
        with open(path, encoding="utf-8", newline="") as f:
            text = f.read()
    except UnicodeDecodeError as e:
        raise ValueError(f"{path} is not UTF-8 text ({e.reason} at byte {e.start}). "
                         f"{REEXPORT}") from None
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def check_labels(package_dir, card):
    """Refuses a `labels.txt` that is not the card's `labels`, in the same order."""
    labels = read_lines(os.path.join(package_dir, LABELS))
    if "labels" in card and card["labels"] != labels:
        raise ValueError(
            f"{os.path.join(package_dir, LABELS)} lists {labels} but {CARD} lists "
            f"{card['labels']}: the app would name each class after the wrong logit. The files "
            f"come from different exports, or one was edited. {REEXPORT}")


def check_vocab(package_dir, card):
    """Refuses a `vocab.txt` that is not the vocabulary the card records, and one without the
    special tokens the app's tokenizer needs."""
    vocab_path = os.path.join(package_dir, VOCAB)
    vocab = read_lines(vocab_path)
    recorded = card.get("tokenizer") if isinstance(card.get("tokenizer"), dict) else {}
    size = recorded.get("vocab_size", card.get("vocab_size"))
    if size is not None and size != len(vocab):
        raise ValueError(
            f"{vocab_path} has {len(vocab)} tokens but {CARD} records a vocabulary of {size}: "
            f"the model would get ids of another vocabulary. {REEXPORT}")
    expected_sha = recorded.get("vocab_sha256", card.get("vocab_sha256"))
    if expected_sha is not None and sha256_of(vocab_path) != str(expected_sha).lower():
        raise ValueError(f"{vocab_path} has SHA-256 {sha256_of(vocab_path)} but {CARD} records "
                         f"{expected_sha}: it is another vocabulary. {REEXPORT}")
    for name, default in REQUIRED_SPECIAL_TOKENS.items():
        token, token_id = recorded.get(name, default), recorded.get(f"{name}_id")
        if token not in vocab or (token_id is not None and vocab.index(token) != token_id):
            where = "lacks it" if token not in vocab else f"has it at id {vocab.index(token)}"
            at = "" if token_id is None else f" (id {token_id})"
            raise ValueError(f"{CARD} says the model's {name} is {token!r}{at} but {vocab_path} "
                             f"{where}: it is another vocabulary. {REEXPORT}")


def check_casing(package_dir, card):
    """Refuses casing fields the app cannot follow (it tokenizes as the card says)."""
    for key, allowed in (("do_lower_case", (bool,)), ("strip_accents", (bool, type(None)))):
        if key in card and not isinstance(card[key], allowed):
            raise ValueError(f"{os.path.join(package_dir, CARD)}: {key} must be true or false, "
                             f"got {card[key]!r}. {REEXPORT}")


def copy_package(package_dir, assets_dir):
    """Validates the package, then copies its four files (and the MediaPipe-ready model, when the
    package has one) into `assets_dir`.

    Each file is copied atomically, and the model last, so an interrupted copy never leaves a
    new model next to an old card.

    Args:
        package_dir: str, the package folder.
        assets_dir: str, the destination (created if needed).

    Returns:
        dict, the model card.

    Raises:
        FileNotFoundError, ValueError: as `validate_package`.
    """
    from tfdistill.utils import atomic

    card = validate_package(package_dir)
    os.makedirs(assets_dir, exist_ok=True)
    mediapipe = _mediapipe_entry(card).get("file")  # validate_package checked its size and digest
    for name in (VOCAB, LABELS, CARD, mediapipe, MODEL):
        if name is None:
            continue
        with atomic.atomic_path(os.path.join(assets_dir, name)) as tmp:
            shutil.copyfile(os.path.join(package_dir, name), tmp)
    return card


def run(values):
    """Copies the package the flags name; returns its card."""
    if not values.package_dir:
        raise ValueError("Pass --package_dir=<exported model package folder>.")
    card = copy_package(values.package_dir, values.assets_dir)
    print(f"Copied {values.package_dir} ({card.get('mode', '?')}, {card['size_bytes']} bytes) to "
          f"{values.assets_dir}")
    return card


def main(argv):
    del argv
    from tfdistill.cli.script import run_or_exit

    run_or_exit(run, FLAGS)


if __name__ == "__main__":
    sys.path.insert(0, ROOT)
    app.run(main)
