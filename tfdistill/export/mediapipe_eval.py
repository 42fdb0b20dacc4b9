"""Accuracy of MediaPipe-ready packages through MediaPipe Tasks' own TextClassifier.

One MediaPipe subprocess classifies the whole split with every package's `text_classifier.tflite`
and with the token-id probe (`mediapipe_probe`), so the result also says on how many texts
MediaPipe's tokenizer gave other ids than tfdistill's, and (given the LiteRT logits of
`model.tflite`) how far MediaPipe's probabilities are from LiteRT's on the texts tokenized alike.
"""

import hashlib
import os
import time

import numpy as np


def mediapipe_model_path(folder, card=None):
    """Returns the package's MediaPipe model path, or None when the card says it has none.

    Args:
        folder: str, a model package folder.
        card: optional dict, its model card (read when omitted).

    Returns:
        str or None.

    Raises:
        ValueError: the file is not the one the card describes (size or sha256 differ).

    Example:
    >>> mediapipe_model_path(package_dir) == package_dir + "/text_classifier.tflite"
    True
    """
    from tfdistill.export.package import read_model_card

    entry = (card or read_model_card(folder)).get("mediapipe") or {}
    if not entry.get("file"):
        return None
    path = os.path.join(folder, entry["file"])
    with open(path, "rb") as f:
        content = f.read()
    if len(content) != entry["size_bytes"] or hashlib.sha256(content).hexdigest() != entry["sha256"]:
        raise ValueError(f"{path} is not the MediaPipe model that {folder}/model_card.json describes (size or "
                         "sha256 differ); the files come from different exports. Export the package again.")
    return path


def evaluate_mediapipe(folders, tokenizer, split, litert_logits=None, label_names=None, python=None):
    """Measures every MediaPipe-ready package's accuracy on a split through MediaPipe.

    Args:
        folders: dict of package name -> folder (packages without a MediaPipe model are listed
            under `not_ready` with the card's reason); they share one `seq_len` (the pipeline's),
            the one the tokenization comparison uses.
        tokenizer: `tfdistill.Tokenizer`, the packages' (for the tokenization comparison).
        split: `tfdistill.data.Split` of single texts.
        litert_logits: optional dict of package name -> `[n, labels]` LiteRT logits of the same
            split (`evaluate_tflite(...).logits`), for `max_abs_prob_diff_vs_litert`.
        label_names: optional list of str, the class name of each of the split's label ids
            (`data.label_names`): matched by name to MediaPipe's categories when both hold the
            same names, else the split's ids are taken as category indices.
        python: optional str, the MediaPipe venv's python.

    Returns:
        dict: `accuracy` (name -> float), `examples`, `tokenized_differently` (texts whose
        MediaPipe ids differ from tfdistill's), `max_abs_prob_diff_vs_litert` (name -> float,
        over the texts tokenized alike), `not_ready` (name -> reason), `seconds`; or only
        `skipped` (the reason) when MediaPipe cannot run here or on this split.

    Raises:
        RuntimeError: MediaPipe refused a model or its worker failed.

    Example (needs the MediaPipe venv):
    >>> evaluate_mediapipe({"distill_int8": "runs/demo/export/distill_int8"}, tokenizer,
    ...                    data.test)["accuracy"]  # doctest: +SKIP
    {'distill_int8': 0.834}
    """
    from tfdistill.export.mediapipe_run import mediapipe_python, mediapipe_token_ids, tokenization_matches
    from tfdistill.export.package import read_model_card

    cards = {name: read_model_card(folder) for name, folder in folders.items()}
    paths = {name: mediapipe_model_path(folders[name], card) for name, card in cards.items()}
    ready = {name: path for name, path in paths.items() if path}
    skipped = _skip_reason(ready, split, python or mediapipe_python())
    if skipped:
        return {"skipped": skipped}
    start = time.perf_counter()
    seq_len = cards[next(iter(ready))]["seq_len"]
    ids, runs = mediapipe_token_ids(tokenizer.vocab, seq_len, split.texts, python, list(ready.values()))
    alike = tokenization_matches(tokenizer, seq_len, split.texts, ids)
    labels = np.asarray(split.labels)
    result = {"accuracy": {}, "max_abs_prob_diff_vs_litert": {}, "examples": len(labels),
              "tokenized_differently": int((~alike).sum()),
              "not_ready": {name: cards[name]["mediapipe"]["reason"] if cards[name].get("mediapipe") else
                            "exported before tfdistill wrote MediaPipe models" for name in cards if name not in ready}}
    for name, run in zip(ready, runs):
        expected = _in_category_order(labels, label_names, run.labels)
        result["accuracy"][name] = float(np.mean(np.argmax(run.scores, axis=1) == expected))
        if litert_logits and name in litert_logits and alike.any():
            diff = np.abs(_softmax(litert_logits[name]) - run.scores)[alike]
            result["max_abs_prob_diff_vs_litert"][name] = float(diff.max())
    result["seconds"] = time.perf_counter() - start
    return result


def _skip_reason(ready, split, python):
    if not ready:
        return "no package has a MediaPipe model (text_classifier.tflite)"
    if split.text_pairs is not None:
        return "the split has text pairs; MediaPipe's TextClassifier classifies a single text"
    if python is None:
        return "no MediaPipe venv (create it with `make mediapipe`)"
    return None


def _in_category_order(labels, label_names, categories):
    if label_names is None or sorted(label_names) != sorted(categories):
        return labels
    index = {category: position for position, category in enumerate(categories)}
    return np.asarray([index[label_names[label]] for label in labels])


def _softmax(logits):
    logits = np.asarray(logits, np.float64)
    exp = np.exp(logits - logits.max(axis=1, keepdims=True))
    return exp / exp.sum(axis=1, keepdims=True)
