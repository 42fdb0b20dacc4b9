"""Runs MediaPipe Tasks' TextClassifier on texts; JSON on stdin, JSON on stdout.

This script runs in the MediaPipe venv (`make mediapipe`: `.venv-mediapipe`), never in
tfdistill's: mediapipe cannot share a venv with tensorflow-model-optimization. It imports only
mediapipe and the standard library; `tfdistill.export.mediapipe_run` starts it with
`python -I` (so nothing from tfdistill's folder shadows mediapipe) and reads its answer.

Request: `{"models": [path, ...], "texts": [str, ...]}`.
Answer: `{"mediapipe_version": str, "results": [one per model]}`, each result either
`{"model": path, "labels": [str], "scores": [[float] per text], "load_seconds": float,
"classify_seconds": float}` (scores in label-index order, every category kept) or
`{"model": path, "error": str}` when MediaPipe refuses the model.

Example:
    echo '{"models": ["pkg/text_classifier.tflite"], "texts": ["great"]}' | \
        .venv-mediapipe/bin/python -I tfdistill/export/mediapipe_worker.py
"""

import json
import math
import os
import sys
import time

# Keep every category: probabilities can be exactly 0 and MediaPipe's default threshold is 0.
# (The Python binding passes each text as a C string: a NUL character ends the text there.)
_KEEP_ALL = -1.0


def classify_all(path, texts):
    """Classifies every text with one TextClassifier; returns the result dict (see above).

    Args:
        path: str, a MediaPipe-ready `.tflite`.
        texts: list of str.

    Returns:
        dict.
    """
    from mediapipe.tasks.python.core.base_options import BaseOptions
    from mediapipe.tasks.python.text import text_classifier

    options = text_classifier.TextClassifierOptions(
        base_options=BaseOptions(model_asset_path=path), max_results=-1, score_threshold=_KEEP_ALL)
    start = time.perf_counter()
    try:
        classifier = text_classifier.TextClassifier.create_from_options(options)
    except (ValueError, RuntimeError) as error:
        return {"model": path, "error": str(error).strip()}
    loaded = time.perf_counter()
    with classifier:
        heads = [classifier.classify(text).classifications[0].categories for text in texts]
    labels = _labels(heads[0]) if heads else []
    return {"model": path, "labels": labels, "scores": [_scores(head, len(labels)) for head in heads],
            "load_seconds": loaded - start, "classify_seconds": time.perf_counter() - loaded}


def _labels(categories):
    names = [None] * len(categories)
    for category in categories:
        names[category.index] = category.category_name
    return names


def _scores(categories, count):
    scores = [math.nan] * count  # a missing category shows up as NaN, never as a silent 0
    for category in categories:
        scores[category.index] = float(category.score)
    return [None if math.isnan(score) else score for score in scores]


def main():
    """Reads the request from stdin, writes the answer to stdout."""
    # Native code that prints to stdout (log lines) must not corrupt the JSON answer: the answer
    # goes to the original stdout, everything else written to file descriptor 1 to stderr.
    answer = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    import mediapipe

    request = json.load(sys.stdin)
    results = [classify_all(path, request["texts"]) for path in request["models"]]
    with answer:
        json.dump({"mediapipe_version": mediapipe.__version__, "results": results}, answer)


if __name__ == "__main__":
    main()
