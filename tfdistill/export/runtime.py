"""Running a `.tflite` classifier with the LiteRT interpreter, inputs bound by signature name.

Only numpy and `ai_edge_litert` are imported here (0.1 s), never TensorFlow: evaluation and the
benchmark's subprocesses run a flatbuffer without paying for the converter.
"""

import os

import numpy as np

SIGNATURE_KEY = "serving_default"
LOGITS = "logits"
INPUT_IDS = "input_ids"
# A TFLite flatbuffer carries this file identifier at bytes 4..8.
_FILE_IDENTIFIER = b"TFL3"


def check_flatbuffer(content, source="<bytes>"):
    """Refuses bytes that are not a TFLite flatbuffer.

    Args:
        content: bytes, the file content.
        source: str, where the bytes came from (for the message).

    Returns:
        bytes, `content`.

    Raises:
        ValueError: the TFLite file identifier `TFL3` is missing.

    Example:
    >>> check_flatbuffer(b"not a model")
    Traceback (most recent call last):
    ...
    ValueError: <bytes> is not a TFLite model ...
    """
    if len(content) < 8 or content[4:8] != _FILE_IDENTIFIER:
        raise ValueError(
            f"{source} is not a TFLite model (no 'TFL3' flatbuffer identifier in its first 8 "
            "bytes). Pass a .tflite file, e.g. the model.tflite that export/to_tflite.py writes.")
    return content


def read_tflite(path):
    """Reads a `.tflite` file (or the `model.tflite` of a model package folder).

    Args:
        path: str, a `.tflite` file or a folder holding `model.tflite`.

    Returns:
        bytes, the flatbuffer.

    Raises:
        FileNotFoundError: the file does not exist.
        ValueError: the file is not a TFLite flatbuffer.

    Example:
    >>> flatbuffer = read_tflite(package_dir)  # or its model.tflite
    >>> flatbuffer[4:8]
    b'TFL3'
    """
    path = os.fspath(path)
    if os.path.isdir(path):
        path = os.path.join(path, "model.tflite")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No TFLite model at {path!r}; pass a .tflite file or a model "
                                "package folder written by export/to_tflite.py.")
    with open(path, "rb") as f:
        return check_flatbuffer(f.read(), path)


def load_interpreter(model, num_threads=1, xnnpack=True):
    """Builds an allocated LiteRT interpreter.

    Args:
        model: bytes (a flatbuffer) or str (a `.tflite` path or package folder).
        num_threads: int >= 1.
        xnnpack: bool; False uses `BUILTIN_WITHOUT_DEFAULT_DELEGATES` (reference kernels only).

    Returns:
        `ai_edge_litert.interpreter.Interpreter`, tensors allocated (so XNNPACK is applied).

    Raises:
        FileNotFoundError, ValueError: see `read_tflite`.

    Example:
    >>> interpreter = load_interpreter(package_dir + "/model.tflite", num_threads=2)
    >>> sorted(interpreter.get_signature_list()["serving_default"]["outputs"])
    ['logits', 'probabilities']
    """
    from ai_edge_litert import interpreter as litert

    source = "the .tflite bytes" if isinstance(model, (bytes, bytearray)) else repr(os.fspath(model))
    content = model if isinstance(model, (bytes, bytearray)) else read_tflite(model)
    check_flatbuffer(content, source)
    options = {} if xnnpack else {
        "experimental_op_resolver_type": litert.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES}
    try:
        interpreter = litert.Interpreter(model_content=bytes(content), num_threads=num_threads, **options)
        interpreter.allocate_tensors()
    except (ValueError, RuntimeError) as error:
        # LiteRT's own message ("not a valid Flatbuffer buffer") names neither the file nor a fix.
        raise ValueError(f"LiteRT cannot load {source} ({str(error).strip()}); the file may be truncated or "
                         "corrupt. Export it again with export/to_tflite.py.") from None
    return interpreter


class TFLiteClassifier:
    """A `.tflite` text classifier run one example at a time through its signature.

    Args:
        model: bytes or str, see `load_interpreter`.
        num_threads: int.
        xnnpack: bool.

    Raises:
        ValueError: the model has no `serving_default` signature with a `logits` output.

    Example:
    >>> classifier = TFLiteClassifier(package_dir)  # a package folder, a .tflite path or bytes
    >>> classifier.seq_len, classifier.vocab_size, classifier.input_names
    (16, 23, ['attention_mask', 'input_ids', 'token_type_ids'])
    >>> classifier.predict_logits(tokenizer(["great"], max_length=classifier.seq_len))  # doctest: +ELLIPSIS
    array([[..., ...]], dtype=float32)
    """

    def __init__(self, model, num_threads=1, xnnpack=True):
        self.interpreter = load_interpreter(model, num_threads=num_threads, xnnpack=xnnpack)
        signatures = self.interpreter.get_signature_list()
        if SIGNATURE_KEY not in signatures or LOGITS not in signatures[SIGNATURE_KEY]["outputs"]:
            raise ValueError(
                f"The TFLite model has signatures {signatures}; tfdistill needs a "
                f"{SIGNATURE_KEY!r} signature with a {LOGITS!r} output. Export it with "
                "tfdistill.export.export_tflite.")
        self.runner = self.interpreter.get_signature_runner(SIGNATURE_KEY)
        self.input_details = self.runner.get_input_details()

    @property
    def input_names(self):
        """list of str, the signature's input names (sorted, as LiteRT returns them)."""
        return sorted(self.input_details)

    @property
    def output_names(self):
        """list of str, the signature's output names."""
        return sorted(self.runner.get_output_details())

    @property
    def seq_len(self):
        """int, the fixed sequence length of the inputs."""
        return int(self.input_details[INPUT_IDS]["shape"][1])

    @property
    def vocab_size(self):
        """int or None, the rows of the embedding table that `input_ids` indexes."""
        return embedding_rows(self.interpreter, self.input_details[INPUT_IDS]["index"])

    def __call__(self, **inputs):
        """Runs one example; inputs are `[1, seq_len]` arrays bound by name."""
        return self.runner(**{name: np.asarray(inputs[name], np.int32) for name in self.input_details})

    def predict_logits(self, features):
        """Returns float32 logits `[n, num_labels]` for tokenized `[n, seq_len]` features.

        Args:
            features: dict of int arrays keyed by input name (extra keys are ignored).

        Raises:
            ValueError: an input is missing or its length differs from `seq_len`.
        """
        missing = [name for name in self.input_details if name not in features]
        if missing:
            raise ValueError(f"The features lack the model inputs {missing}; the model needs "
                             f"{self.input_names}.")
        width = np.shape(features[INPUT_IDS])[1]
        if width != self.seq_len:
            raise ValueError(f"The features have length {width} but the model takes exactly "
                             f"{self.seq_len}; tokenize with max_length={self.seq_len}.")
        rows = len(features[INPUT_IDS])
        logits = [self(**{name: features[name][i:i + 1] for name in self.input_details})[LOGITS]
                  for i in range(rows)]
        return np.concatenate(logits).astype(np.float32) if logits else np.zeros((0, 0), np.float32)


def embedding_rows(interpreter, input_index):
    """Returns the row count of the table a GATHER looks `input_index` up in, else None.

    Args:
        interpreter: an allocated LiteRT interpreter.
        input_index: int, the tensor index of the token-id input.

    Example:
    >>> interpreter = load_interpreter(package_dir)
    >>> ids = interpreter.get_signature_runner("serving_default").get_input_details()["input_ids"]
    >>> embedding_rows(interpreter, ids["index"]), tokenizer.vocab_size
    (23, 23)
    """
    for op in interpreter._get_ops_details():
        if op["op_name"] == "GATHER" and len(op["inputs"]) > 1 and op["inputs"][1] == input_index:
            return int(interpreter._get_tensor_details(op["inputs"][0], 0)["shape"][0])
    return None
