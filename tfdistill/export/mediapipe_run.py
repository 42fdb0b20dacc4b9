"""Running MediaPipe Tasks' TextClassifier from tfdistill: a subprocess of the MediaPipe venv.

mediapipe cannot be installed next to tensorflow-model-optimization (absl-py pins), so `make
mediapipe` builds `.venv-mediapipe` and tfdistill starts `mediapipe_worker.py` there, one process
for a whole batch of models and texts, with JSON in and out. Nothing here imports mediapipe.

`mediapipe_token_ids` asks MediaPipe itself how it tokenizes: it runs a probe classifier whose
"scores" are its input token ids (`mediapipe_probe.token_id_probe`).

Example (needs the MediaPipe venv, `make mediapipe`):
>>> runs = classify_texts(["runs/demo/export/distill_int8/text_classifier.tflite"],
...                       ["A gripping film."])  # doctest: +SKIP
>>> runs[0].scores.shape  # doctest: +SKIP
(1, 2)
"""

import dataclasses
import json
import os
import subprocess
import tempfile

import numpy as np

PYTHON_ENV = "TFDISTILL_MEDIAPIPE_PYTHON"
VENV = ".venv-mediapipe"
WORKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "mediapipe_worker.py")


@dataclasses.dataclass(frozen=True)
class MediaPipeRun:
    """One model's TextClassifier results on a batch of texts.

    Args:
        model: str, the `.tflite` path.
        labels: list of str, MediaPipe's category names (from the packed labels file).
        scores: float32 array `[texts, labels]`, in label-index order.
        load_seconds: float, TextClassifier creation.
        classify_seconds: float, classifying every text (tokenization included).
    """

    model: str
    labels: list
    scores: np.ndarray = dataclasses.field(repr=False)
    load_seconds: float
    classify_seconds: float


def mediapipe_python():
    """Returns the MediaPipe venv's python, or None when there is none.

    `$TFDISTILL_MEDIAPIPE_PYTHON` when set, else `.venv-mediapipe/bin/python` beside the
    `tfdistill` package (the repository root, where `make mediapipe` creates it).

    Example:
    >>> python = mediapipe_python()  # e.g. '/work/main/.venv-mediapipe/bin/python'
    >>> python is None or os.access(python, os.X_OK)
    True
    """
    path = os.environ.get(PYTHON_ENV) or os.path.join(_repo_root(), VENV, "bin", "python")
    return path if os.path.isfile(path) and os.access(path, os.X_OK) else None


def _repo_root():
    return os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def require_mediapipe_python():
    """Returns `mediapipe_python()`.

    Raises:
        FileNotFoundError: there is no MediaPipe venv; the message says how to make one.

    Example (needs the MediaPipe venv):
    >>> require_mediapipe_python()  # doctest: +SKIP
    '/work/main/.venv-mediapipe/bin/python'
    """
    python = mediapipe_python()
    if python is None:
        where = os.environ.get(PYTHON_ENV) or os.path.join(_repo_root(), VENV, "bin", "python")
        raise FileNotFoundError(
            f"No MediaPipe python at {where}: create the MediaPipe venv with `make mediapipe` (or "
            f"set {PYTHON_ENV} to a python that has mediapipe==1.2.3).")
    return python


def classify_texts(models, texts, python=None, timeout=1800):
    """Runs MediaPipe's TextClassifier with each model on every text, in one subprocess.

    Args:
        models: list of str, MediaPipe-ready `.tflite` paths.
        texts: list of str.
        python: optional str, the MediaPipe venv's python (default `require_mediapipe_python()`).
        timeout: float, seconds for the whole batch.

    Returns:
        list of `MediaPipeRun`, one per model.

    Raises:
        FileNotFoundError: no MediaPipe venv, or a model file is missing.
        RuntimeError: MediaPipe refused a model (its message is included) or the worker failed.

    Example (needs the MediaPipe venv):
    >>> classify_texts(["pkg/text_classifier.tflite"], ["great"])[0].labels  # doctest: +SKIP
    ['negative', 'positive']
    """
    python = python or require_mediapipe_python()
    missing = [path for path in models if not os.path.isfile(path)]
    if missing:
        raise FileNotFoundError(f"No MediaPipe model at {missing}; export the packages again "
                                "(tfdistill writes text_classifier.tflite beside model.tflite).")
    request = json.dumps({"models": [os.path.abspath(p) for p in models], "texts": list(texts)})
    answer = _run_worker(python, request, timeout)
    return [_run_of(path, result) for path, result in zip(models, answer["results"])]


def _run_worker(python, request, timeout):
    process = subprocess.run([python, "-I", WORKER], input=request, capture_output=True, text=True,
                             timeout=timeout, env=_worker_env())
    if process.returncode != 0:
        raise RuntimeError(f"The MediaPipe worker ({python} {WORKER}) failed with exit code "
                           f"{process.returncode}:\n{process.stderr.strip()[-2000:]}\nRecreate the "
                           "venv with `rm -rf .venv-mediapipe && make mediapipe`.")
    return json.loads(process.stdout)


def _worker_env():
    # MediaPipe's C++ logs go to stderr; keep them quiet unless something fails.
    return dict(os.environ, GLOG_minloglevel="2", TF_CPP_MIN_LOG_LEVEL="2")


def _run_of(path, result):
    if "error" in result:
        raise RuntimeError(f"MediaPipe's TextClassifier refused {path}: {result['error']}. Export "
                           "the package again with tfdistill (text_classifier.tflite).")
    scores = np.asarray([[np.nan if s is None else s for s in row] for row in result["scores"]],
                        np.float32).reshape(len(result["scores"]), len(result["labels"]))
    return MediaPipeRun(model=path, labels=result["labels"], scores=scores,
                        load_seconds=result["load_seconds"], classify_seconds=result["classify_seconds"])


def mediapipe_token_ids(vocab, seq_len, texts, python=None, extra_models=()):
    """Returns the token ids MediaPipe's BERT tokenizer gives each text (and optional runs).

    Args:
        vocab: list of str, the vocabulary.
        seq_len: int.
        texts: list of str.
        python: optional str, see `classify_texts`.
        extra_models: list of str, further models classified in the same subprocess.

    Returns:
        `(ids, runs)`: int32 array `[texts, seq_len]` and the `MediaPipeRun`s of `extra_models`.

    Example (needs the MediaPipe venv; `tokenizer` is the shipped teacher's):
    >>> ids, _ = mediapipe_token_ids(tokenizer.vocab, 8, ["Café"])  # doctest: +SKIP
    >>> ids.tolist()  # doctest: +SKIP
    [[101, 7668, 102, 0, 0, 0, 0, 0]]
    """
    from tfdistill.export.mediapipe_probe import token_id_probe
    from tfdistill.utils import atomic

    with tempfile.TemporaryDirectory(prefix="tfdistill-mediapipe-probe-") as folder:
        probe = os.path.join(folder, "token_id_probe.tflite")
        atomic.write_bytes(probe, token_id_probe(vocab, seq_len))
        runs = classify_texts([probe, *extra_models], texts, python)
    ids = np.rint(runs[0].scores)
    if not np.all(np.isfinite(ids)):
        raise RuntimeError("MediaPipe dropped positions of the token-id probe's output; this "
                           "mediapipe version filters scores differently. Pin mediapipe==1.2.3.")
    return ids.astype(np.int32), runs[1:]


def tokenization_matches(tokenizer, seq_len, texts, mediapipe_ids):
    """Returns, per text, whether tfdistill's tokenizer gives MediaPipe's ids.

    Args:
        tokenizer: `tfdistill.Tokenizer`.
        seq_len: int.
        texts: list of str.
        mediapipe_ids: int array `[texts, seq_len]` from `mediapipe_token_ids`.

    Returns:
        bool array `[texts]`.

    Example:
    >>> texts = ["good plot", "dull"]
    >>> ids = tokenizer(texts, max_length=8)["input_ids"]  # mediapipe_token_ids(tokenizer.vocab, 8, texts)
    >>> ids[1, 1] = 0  # as if MediaPipe had tokenized "dull" otherwise
    >>> tokenization_matches(tokenizer, 8, texts, ids).tolist()
    [True, False]
    """
    ours = tokenizer(list(texts), max_length=seq_len)["input_ids"]
    return np.all(ours == np.asarray(mediapipe_ids), axis=1)
