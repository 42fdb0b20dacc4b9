"""Copies an exported model package into the Android demo's assets, after checking it.

A model package is the folder tfdistill's exporter writes: `model.tflite`, `vocab.txt`,
`labels.txt` and `model_card.json`. All four must exist, and the card's `size_bytes` and `sha256`
must describe this `model.tflite` (a card from one export next to the model of another would make
the app show wrong labels or lengths without failing). The app checks the same on the phone.

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
    """Checks that a model package is complete and that its card describes its model.

    Args:
        package_dir: str, the package folder.

    Returns:
        dict, the parsed model card.

    Raises:
        FileNotFoundError: the folder or one of the four files is missing.
        ValueError: the card is not JSON, lacks `size_bytes`/`sha256`, or they do not match.
    """
    if not os.path.isdir(package_dir):
        raise FileNotFoundError(f"Model package folder {package_dir!r} does not exist; pass the "
                                "folder the exporter wrote.")
    missing = [name for name in PACKAGE_FILES
               if not os.path.isfile(os.path.join(package_dir, name))]
    if missing:
        raise FileNotFoundError(f"{package_dir!r} lacks {', '.join(missing)}; a model package "
                                f"needs {', '.join(PACKAGE_FILES)}. Re-run the export.")
    card_path = os.path.join(package_dir, CARD)
    try:
        with open(card_path, encoding="utf-8") as f:
            card = json.load(f)
    except json.JSONDecodeError as e:
        raise ValueError(f"{card_path} is not valid JSON ({e}); re-run the export.") from None
    if not isinstance(card, dict):
        raise ValueError(f"{card_path} must hold a JSON object.")
    for key in ("size_bytes", "sha256"):
        if key not in card:
            raise ValueError(f"{card_path} has no {key!r}; the app verifies the model with it. "
                             "Re-run the export.")
    model_path = os.path.join(package_dir, MODEL)
    size = os.path.getsize(model_path)
    if size != card["size_bytes"]:
        raise ValueError(f"{model_path} has {size} bytes but {CARD} says {card['size_bytes']}: "
                         "the model and its card come from different exports.")
    digest = sha256_of(model_path)
    if digest != str(card["sha256"]).lower():
        raise ValueError(f"{model_path} has SHA-256 {digest} but {CARD} says {card['sha256']}: "
                         "the model and its card come from different exports.")
    return card


def copy_package(package_dir, assets_dir):
    """Validates the package, then copies its four files into `assets_dir`.

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
    for name in (VOCAB, LABELS, CARD, MODEL):
        with atomic.atomic_path(os.path.join(assets_dir, name)) as tmp:
            shutil.copyfile(os.path.join(package_dir, name), tmp)
    return card


def main(argv):
    del argv
    if not FLAGS.package_dir:
        sys.exit("copy_model_package.py: pass --package_dir=<exported model package folder>.")
    try:
        card = copy_package(FLAGS.package_dir, FLAGS.assets_dir)
    except (FileNotFoundError, ValueError) as e:
        sys.exit(f"copy_model_package.py: {e}")
    print(f"Copied {FLAGS.package_dir} ({card.get('mode', '?')}, {card['size_bytes']} bytes) to "
          f"{FLAGS.assets_dir}")


if __name__ == "__main__":
    sys.path.insert(0, ROOT)
    app.run(main)
