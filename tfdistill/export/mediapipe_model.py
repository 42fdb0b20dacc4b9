"""MediaPipe-ready text classifiers: `text_classifier.tflite`, loaded as is by MediaPipe Tasks.

MediaPipe Tasks' `TextClassifier` (Android `com.google.mediapipe:tasks-text`, iOS, web, Python:
one C++ task) runs a BERT classifier that has
- exactly 3 int32 inputs `[1, seq_len]` and TFLite Model Metadata naming them `ids`, `mask` and
  `segment_ids` (one entry per model input, in the model's input order);
- an input process unit `BertTokenizerOptions` whose vocabulary (type VOCABULARY) is packed into
  the file: MediaPipe tokenizes the text itself;
- one output per classification head holding probabilities (used as given), with a label file
  (type TENSOR_AXIS_LABELS).

`text_classifier_model` derives such a file from an exported `model.tflite`: the subgraph and its
`serving_default` signature keep only the `probabilities` output, the `ModelMetadata` flatbuffer
(the published schema, vendored in `mediapipe_metadata_schema`, file identifier `M001`) goes into
a model buffer named `TFLITE_METADATA`, and `vocab.txt` and `labels.txt` are appended to the
flatbuffer as an uncompressed zip (the TFLite metadata format). Constant buffers that
ai-edge-quantizer stores after the flatbuffer (buffer offset/size) are moved inline first
(`flatbuffer_edit.read_model`): re-packing moves every table, and an offset left as it was would
make LiteRT read the wrong bytes as weights, silently (measured: wrong probabilities, no error).

MediaPipe's BERT tokenizer lower-cases ASCII only and does not strip accents; a cased model is
therefore not written (`unsupported_reason`). On uncased models, texts with accented letters
can tokenize differently from tfdistill's tokenizer (it strips accents): tests/test_mediapipe.py
counts them with `token_id_probe`, a model whose scores are MediaPipe's own token ids.

Only `ai_edge_litert`'s flatbuffer schema, `flatbuffers` and numpy are used (no TensorFlow, no
mediapipe).
"""

import hashlib
import io
import zipfile

import numpy as np

MEDIAPIPE_FILE = "text_classifier.tflite"
METADATA_NAME = "TFLITE_METADATA"
METADATA_IDENTIFIER = b"M001"
# Metadata schema history (metadata_schema.fbs): 1.0.1 added the VOCABULARY file type, 1.1.0
# BertTokenizerOptions and input_process_units. Nothing newer is used (no tensor groups, no
# AssociatedFile.version, no custom metadata), so parsers from 1.1.0 on read everything.
MIN_PARSER_VERSION = "1.1.0"
# The exporter's input names -> the tensor metadata names MediaPipe looks the inputs up by.
BERT_INPUTS = {"input_ids": "ids", "attention_mask": "mask", "token_type_ids": "segment_ids"}
PROBABILITIES = "probabilities"
VOCAB_FILE = "vocab.txt"
LABELS_FILE = "labels.txt"
TOKENIZER_NOTE = ("MediaPipe's BERT tokenizer (from the packed vocab.txt): lower-cases ASCII only and "
                  "keeps accents, so texts with accented letters can get other ids than tfdistill's.")
_INPUT_DESCRIPTIONS = {
    "ids": "Token ids of the input text (BERT WordPiece, [CLS] text [SEP], zero-padded).",
    "mask": "1 for real tokens, 0 for padding.",
    "segment_ids": "0 for the first sequence (MediaPipe classifies a single text).",
}


def _schema():
    from ai_edge_litert import schema_py_generated as schema

    return schema


def _metadata_schema():
    from tfdistill.export import mediapipe_metadata_schema

    return mediapipe_metadata_schema


def unsupported_reason(tokenizer_config, output_names):
    """Returns why a package gets no MediaPipe model, or None when it gets one.

    Args:
        tokenizer_config: dict, `Tokenizer.get_config()` (`do_lower_case`, `strip_accents`).
        output_names: list of str, the exported signature's outputs.

    Returns:
        str or None.

    Example:
    >>> unsupported_reason({"do_lower_case": False}, ["logits", "probabilities"])[:40]
    'The tokenizer is cased (do_lower_case fa'
    >>> unsupported_reason({"do_lower_case": True}, ["logits", "probabilities"]) is None
    True
    """
    if not tokenizer_config.get("do_lower_case", True):
        return ("The tokenizer is cased (do_lower_case false) but MediaPipe's BERT tokenizer "
                "lower-cases ASCII text, so its token ids would differ on every capital letter; "
                "use model.tflite with tfdistill's tokenizer (the Android demo's LiteRT backend).")
    if PROBABILITIES not in output_names:
        return ("The model was exported without a 'probabilities' output "
                "(with_probabilities=False) and MediaPipe uses the output scores as given; "
                "export with with_probabilities=True.")
    return None


def package_files(flatbuffer, tokenizer, labels, card, features=None, check_examples=8):
    """Returns the MediaPipe files of a model package and the card's `mediapipe` entry.

    Args:
        flatbuffer: bytes, the package's `model.tflite`.
        tokenizer: `tfdistill.Tokenizer`, the model's.
        labels: list of str, the class names.
        card: dict, the package's model card so far (`outputs`, `source`, `mode`).
        features: optional dict of `[n, seq_len]` inputs; the first `check_examples` are run
            through both files with LiteRT, whose probabilities must be identical.
        check_examples: int.

    Returns:
        `(files, entry)`: `{MEDIAPIPE_FILE: bytes}` (empty when unsupported) and a dict: `file`,
        `size_bytes`, `sha256`, `output`, `inputs` (metadata name -> model input),
        `min_parser_version`, `associated_files`, `tokenizer`, `checked_examples`; or `file`
        None and the `reason`.

    Raises:
        ValueError: the MediaPipe model's probabilities differ from `model.tflite`'s.

    Example:
    >>> card = {"outputs": ["logits", "probabilities"], "source": "student", "mode": "float32"}
    >>> files, entry = package_files(flatbuffer, tokenizer, ["neg", "pos"], card, features)
    >>> list(files), entry["file"], entry["checked_examples"]
    (['text_classifier.tflite'], 'text_classifier.tflite', 4)
    """
    reason = unsupported_reason(tokenizer.get_config(), card["outputs"])
    if reason is not None:
        return {}, {"file": None, "reason": reason}
    model = text_classifier_model(
        flatbuffer, tokenizer.vocab, labels, name=f"tfdistill {card.get('source')} ({card.get('mode')})",
        description="BERT text classifier distilled with tfdistill; outputs class probabilities.")
    checked = check_same_probabilities(model, flatbuffer, features, check_examples)
    return {MEDIAPIPE_FILE: model}, {
        "file": MEDIAPIPE_FILE, "size_bytes": len(model), "sha256": hashlib.sha256(model).hexdigest(),
        "output": PROBABILITIES, "inputs": {v: k for k, v in BERT_INPUTS.items()},
        "min_parser_version": MIN_PARSER_VERSION, "associated_files": [VOCAB_FILE, LABELS_FILE],
        "tokenizer": TOKENIZER_NOTE, "checked_examples": checked}


def check_same_probabilities(model_file, flatbuffer, features, count=8):
    """Runs both files with LiteRT on the first `count` examples; the probabilities must be equal.

    Args:
        model_file: bytes, the MediaPipe-ready model.
        flatbuffer: bytes, the `model.tflite` it was derived from.
        features: dict of `[n, seq_len]` int arrays, or None (nothing is run).
        count: int.

    Returns:
        int, the examples compared.

    Raises:
        ValueError: a probability differs.

    Example:
    >>> model_file = text_classifier_model(flatbuffer, tokenizer.vocab, ["neg", "pos"])
    >>> check_same_probabilities(model_file, flatbuffer, features)  # features has 4 rows
    4
    """
    from tfdistill.export.runtime import SIGNATURE_KEY, load_interpreter

    if features is None:
        return 0
    derived = load_interpreter(model_file).get_signature_runner(SIGNATURE_KEY)
    original = load_interpreter(flatbuffer).get_signature_runner(SIGNATURE_KEY)
    rows = min(count, len(features["input_ids"]))
    for row in range(rows):
        inputs = {name: np.asarray(features[name][row:row + 1], np.int32) for name in BERT_INPUTS}
        got, want = derived(**inputs)[PROBABILITIES], original(**inputs)[PROBABILITIES]
        if not np.array_equal(got, want):
            raise ValueError(f"The MediaPipe model's probabilities {got.tolist()} differ from model.tflite's "
                             f"{want.tolist()} on validation example {row}; this is a tfdistill bug in "
                             "tfdistill/export/mediapipe_model.py. Please report it.")
    return rows


def text_classifier_model(flatbuffer, vocab, labels, name="tfdistill text classifier",
                          description=""):
    """Derives the MediaPipe-ready `.tflite` (one probabilities output, metadata, files).

    Args:
        flatbuffer: bytes, an exported `model.tflite` (outputs `logits` and `probabilities`).
        vocab: list of str, the tokens in id order (`vocab.txt`).
        labels: list of str, the class names in output order (`labels.txt`).
        name: str, the metadata's model name.
        description: str, the metadata's model description.

    Returns:
        bytes: the flatbuffer with metadata, followed by the zip of `vocab.txt` and `labels.txt`.

    Raises:
        ValueError: no `probabilities` output, or the inputs are not the tokenizer's three.

    Example:
    >>> model = text_classifier_model(flatbuffer, tokenizer.vocab,  # or open("model.tflite", "rb").read()
    ...                               ["negative", "positive"])
    >>> metadata, files = read_metadata(model)
    >>> files["labels.txt"]
    b'negative\\npositive\\n'
    """
    from tfdistill.export.flatbuffer_edit import read_model

    model = read_model(flatbuffer)  # buffers stored after the flatbuffer come back inline
    keep_only_output(model, PROBABILITIES)
    metadata = classifier_metadata(bert_input_order(model), name, description)
    attach_metadata(model, metadata)
    files = {VOCAB_FILE: lines_file(vocab), LABELS_FILE: lines_file(labels)}
    return append_associated_files(pack_aligned(model), files)


def lines_file(items):
    """Returns the UTF-8 bytes of a one-item-a-line file (`vocab.txt`, `labels.txt`).

    Example:
    >>> lines_file(["negative", "positive"])
    b'negative\\npositive\\n'
    """
    return "".join(f"{item}\n" for item in items).encode("utf-8")


def keep_only_output(model, name):
    """Makes a signature output the only output of its subgraph and signature, in place.

    Args:
        model: `ModelT` with one signature.
        name: str, the signature output to keep.

    Raises:
        ValueError: the model has not exactly one signature, or it has no output `name`.

    Example:
    >>> from tfdistill.export.flatbuffer_edit import read_model
    >>> model = read_model(flatbuffer)
    >>> [tensor.name for tensor in model.signatureDefs[0].outputs]
    [b'logits', b'probabilities']
    >>> keep_only_output(model, "probabilities")
    >>> [tensor.name for tensor in model.signatureDefs[0].outputs]
    [b'probabilities']
    """
    signature = _only_signature(model)
    kept = [tensor for tensor in signature.outputs if _text(tensor.name) == name]
    if not kept:
        raise ValueError(f"The .tflite has outputs {[_text(t.name) for t in signature.outputs]}, no "
                         f"{name!r}; export it with tfdistill.export.export_tflite "
                         "(with_probabilities=True).")
    signature.outputs = kept
    model.subgraphs[signature.subgraphIndex].outputs = [int(kept[0].tensorIndex)]


def bert_input_order(model):
    """Returns the exporter's input names in the order of the subgraph's inputs.

    Args:
        model: `ModelT` with one signature.

    Returns:
        list of str, a permutation of `BERT_INPUTS`.

    Raises:
        ValueError: the inputs are not exactly `input_ids`, `attention_mask`, `token_type_ids`.

    Example:
    >>> from tfdistill.export.flatbuffer_edit import read_model
    >>> bert_input_order(read_model(flatbuffer))
    ['attention_mask', 'input_ids', 'token_type_ids']
    """
    signature = _only_signature(model)
    by_index = {int(tensor.tensorIndex): _text(tensor.name) for tensor in signature.inputs}
    names = [by_index.get(int(index)) for index in model.subgraphs[signature.subgraphIndex].inputs]
    if sorted(map(str, names)) != sorted(BERT_INPUTS):
        raise ValueError(f"The .tflite takes the inputs {names}; a MediaPipe BERT classifier needs "
                         f"exactly {sorted(BERT_INPUTS)}. Export it with tfdistill.export.export_tflite.")
    return names


def _only_signature(model):
    signatures = model.signatureDefs or []
    if len(signatures) != 1:
        raise ValueError(f"The .tflite has {len(signatures)} signatures; tfdistill's MediaPipe model needs "
                         "exactly one (serving_default). Export it with tfdistill.export.export_tflite.")
    return signatures[0]


def _text(value):
    return value.decode() if isinstance(value, bytes) else str(value)


def classifier_metadata(input_names, name="tfdistill text classifier", description="",
                        output_name="probability", output_description=None):
    """Builds the `ModelMetadata` flatbuffer of a BERT text classifier.

    Args:
        input_names: list of str, the exporter's input names in the model's input order.
        name: str; description: str, the model's.
        output_name: str, the output tensor's metadata name.
        output_description: optional str.

    Returns:
        bytes, with file identifier `M001`.

    Example:
    >>> classifier_metadata(["attention_mask", "input_ids", "token_type_ids"])[4:8]
    b'M001'
    """
    md = _metadata_schema()
    subgraph = md.SubGraphMetadataT()
    subgraph.inputTensorMetadata = [_tensor(BERT_INPUTS[input_name],
                                            _INPUT_DESCRIPTIONS[BERT_INPUTS[input_name]])
                                    for input_name in input_names]
    output = _tensor(output_name, output_description or "Probability of each label, in labels.txt order.")
    output.stats = md.StatsT()
    output.stats.max, output.stats.min = [1.0], [0.0]
    output.associatedFiles = [_file(LABELS_FILE, md.AssociatedFileType.TENSOR_AXIS_LABELS,
                                    "The class names, one a line, in output order.")]
    subgraph.outputTensorMetadata = [output]
    tokenizer = md.ProcessUnitT()
    tokenizer.optionsType = md.ProcessUnitOptions.BertTokenizerOptions
    tokenizer.options = md.BertTokenizerOptionsT()
    tokenizer.options.vocabFile = [_file(VOCAB_FILE, md.AssociatedFileType.VOCABULARY,
                                         "The WordPiece vocabulary, one token a line (id = line number).")]
    subgraph.inputProcessUnits = [tokenizer]
    metadata = md.ModelMetadataT()
    metadata.name, metadata.description, metadata.author = name, description, "tfdistill"
    metadata.subgraphMetadata = [subgraph]
    metadata.minParserVersion = MIN_PARSER_VERSION
    return _finish(metadata.Pack, METADATA_IDENTIFIER)


def _tensor(name, description):
    md = _metadata_schema()
    tensor = md.TensorMetadataT()
    tensor.name, tensor.description = name, description
    tensor.content = md.ContentT()
    tensor.content.contentPropertiesType = md.ContentProperties.FeatureProperties
    tensor.content.contentProperties = md.FeaturePropertiesT()
    return tensor


def _file(name, kind, description):
    associated = _metadata_schema().AssociatedFileT()
    associated.name, associated.type, associated.description = name, kind, description
    return associated


def _finish(pack, identifier):
    import flatbuffers

    builder = flatbuffers.Builder(1024)
    builder.Finish(pack(builder), file_identifier=identifier)
    return bytes(builder.Output())


def attach_metadata(model, metadata):
    """Stores a metadata flatbuffer in a new buffer named `TFLITE_METADATA`, in place.

    An earlier `TFLITE_METADATA` entry is replaced.

    Args:
        model: `ModelT`.
        metadata: bytes from `classifier_metadata`.

    Example:
    >>> from tfdistill.export.flatbuffer_edit import read_model
    >>> model = read_model(flatbuffer)
    >>> attach_metadata(model, classifier_metadata(bert_input_order(model)))
    >>> model.metadata[-1].name, len(model.buffers[model.metadata[-1].buffer].data) > 0
    ('TFLITE_METADATA', True)
    """
    schema = _schema()
    buffer = schema.BufferT()
    buffer.data = np.frombuffer(metadata, np.uint8)
    model.buffers.append(buffer)
    entry = schema.MetadataT()
    entry.name, entry.buffer = METADATA_NAME, len(model.buffers) - 1
    model.metadata = [m for m in (model.metadata or []) if _text(m.name) != METADATA_NAME] + [entry]


def pack_aligned(model):
    """Serialises a `ModelT` with every buffer's data 16-byte aligned (the schema's force_align).

    `ModelT.Pack` aligns uint8 vectors to 1 byte; the TFLite schema asks for 16 (`data:[ubyte]
    (force_align: 16)`), which the converter honours and some kernels and delegates read weights
    in place with.

    Args:
        model: `ModelT` (its buffers are wrapped, in place, to pack aligned).

    Returns:
        bytes with file identifier `TFL3`.

    Example:
    >>> from tfdistill.export import flatbuffer_edit
    >>> packed = pack_aligned(flatbuffer_edit.read_model(flatbuffer))
    >>> packed[4:8], len(flatbuffer_edit.read_model(packed).subgraphs[0].operators)
    (b'TFL3', 108)
    """
    import flatbuffers

    model.buffers = [_AlignedBuffer.of(buffer) for buffer in model.buffers or []]
    builder = flatbuffers.Builder(1 << 20)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


class _AlignedBuffer:
    """A `BufferT` that packs its data as a 16-byte aligned byte vector."""

    def __init__(self, buffer):
        self.buffer = buffer

    @classmethod
    def of(cls, buffer):
        return buffer if isinstance(buffer, cls) else cls(buffer)

    def Pack(self, builder):  # noqa: N802 (the flatbuffers object API's name)
        schema = _schema()
        data, vector = self.buffer.data, None
        if data is not None:
            raw = np.asarray(data, np.uint8).tobytes()
            builder.StartVector(1, len(raw), 16)
            builder.head -= len(raw)
            builder.Bytes[builder.head:builder.head + len(raw)] = raw
            vector = builder.EndVector()
        schema.BufferStart(builder)
        if vector is not None:
            schema.BufferAddData(builder, vector)
        schema.BufferAddOffset(builder, self.buffer.offset)
        schema.BufferAddSize(builder, self.buffer.size)
        return schema.BufferEnd(builder)


def append_associated_files(flatbuffer, files):
    """Appends files as an uncompressed zip after the flatbuffer (TFLite associated files).

    MediaPipe's metadata extractor finds the zip's directory at the end of the file and reads each
    file in place, which it requires to be stored uncompressed.

    Args:
        flatbuffer: bytes.
        files: dict of name -> bytes, in the order to store them.

    Returns:
        bytes.

    Example:
    >>> model = append_associated_files(b"TFL3...", {"labels.txt": b"neg\\npos\\n"})
    >>> sorted(zipfile.ZipFile(io.BytesIO(model)).namelist())
    ['labels.txt']
    """
    stream = io.BytesIO()
    stream.write(flatbuffer)
    with zipfile.ZipFile(stream, "a", compression=zipfile.ZIP_STORED) as archive:
        for name, content in files.items():
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))  # byte-reproducible
            archive.writestr(info, content, compress_type=zipfile.ZIP_STORED)
    return stream.getvalue()


def read_metadata(model_file):
    """Reads back the metadata and associated files of a MediaPipe-ready `.tflite`.

    Args:
        model_file: bytes, e.g. the content of `text_classifier.tflite`.

    Returns:
        `(ModelMetadataT, dict of name -> bytes)`.

    Raises:
        ValueError: no `TFLITE_METADATA` buffer, or it is not an `M001` metadata flatbuffer.

    Example:
    >>> metadata, files = read_metadata(open(package_dir + "/text_classifier.tflite", "rb").read())
    >>> metadata.minParserVersion, sorted(files)
    (b'1.1.0', ['labels.txt', 'vocab.txt'])
    """
    from tfdistill.export.flatbuffer_edit import read_model

    model = read_model(model_file)
    entries = [m for m in model.metadata or [] if _text(m.name) == METADATA_NAME]
    content = bytes(np.asarray(model.buffers[entries[0].buffer].data, np.uint8)) if entries else b""
    if content[4:8] != METADATA_IDENTIFIER:
        raise ValueError("The .tflite has no TFLite Model Metadata (no 'TFLITE_METADATA' buffer "
                         "holding an M001 flatbuffer); write it with text_classifier_model.")
    metadata = _metadata_schema().ModelMetadataT.InitFromPackedBuf(content, 0)
    try:
        with zipfile.ZipFile(io.BytesIO(model_file)) as archive:
            files = {name: archive.read(name) for name in archive.namelist()}
    except zipfile.BadZipFile:
        files = {}
    return metadata, files
