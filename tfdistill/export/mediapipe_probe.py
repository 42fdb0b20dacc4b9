"""A probe that makes MediaPipe's TextClassifier report its own token ids.

MediaPipe tokenizes inside its C++ task and exposes no tokens. The probe is a BERT-shaped
classifier (the same metadata as `mediapipe_model.text_classifier_model`) whose one op casts the
`ids` input to float: its "score" for category i is the id at position i. Comparing those with
tfdistill's tokenizer tells exactly which texts MediaPipe tokenizes differently (no
reimplementation of MediaPipe's tokenizer involved). float32 holds every id below 2**24 exactly.
"""

from tfdistill.export import mediapipe_model

PROBE_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
PROBE_OUTPUT = "token_ids"


def token_id_probe(vocab, seq_len):
    """Builds the token-id probe `.tflite` with its metadata, vocabulary and position labels.

    Args:
        vocab: list of str, the vocabulary MediaPipe tokenizes with.
        seq_len: int >= 2, the sequence length.

    Returns:
        bytes.

    Raises:
        ValueError: `seq_len` < 2 or a vocabulary of 2**24 tokens or more.

    Example:
    >>> probe = token_id_probe(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "good"], 8)
    >>> probe[4:8]
    b'TFL3'
    """
    if seq_len < 2 or len(vocab) >= 2 ** 24:
        raise ValueError(f"The probe needs seq_len >= 2 and fewer than 2**24 tokens; got seq_len "
                         f"{seq_len} and {len(vocab)} tokens.")
    model = _cast_model(seq_len)
    metadata = mediapipe_model.classifier_metadata(
        list(PROBE_INPUTS), name="tfdistill token-id probe", output_name=PROBE_OUTPUT,
        output_description="The token id at each position, as float.")
    mediapipe_model.attach_metadata(model, metadata)
    files = {mediapipe_model.VOCAB_FILE: mediapipe_model.lines_file(vocab),
             mediapipe_model.LABELS_FILE: mediapipe_model.lines_file(range(seq_len))}
    return mediapipe_model.append_associated_files(mediapipe_model.pack_aligned(model), files)


def _cast_model(seq_len):
    """A `ModelT`: three int32 `[1, seq_len]` inputs, output = CAST(input_ids) as float32."""
    from ai_edge_litert import schema_py_generated as schema

    tensors = [_tensor(name, schema.TensorType.INT32, seq_len) for name in PROBE_INPUTS]
    tensors.append(_tensor(PROBE_OUTPUT, schema.TensorType.FLOAT32, seq_len))
    cast = schema.OperatorT()
    cast.opcodeIndex, cast.inputs, cast.outputs = 0, [0], [3]
    cast.builtinOptionsType = schema.BuiltinOptions.CastOptions
    cast.builtinOptions = schema.CastOptionsT()
    cast.builtinOptions.inDataType, cast.builtinOptions.outDataType = (schema.TensorType.INT32,
                                                                       schema.TensorType.FLOAT32)
    subgraph = schema.SubGraphT()
    subgraph.tensors, subgraph.operators, subgraph.name = tensors, [cast], "main"
    subgraph.inputs, subgraph.outputs = [0, 1, 2], [3]
    code = schema.OperatorCodeT()
    code.builtinCode = code.deprecatedBuiltinCode = schema.BuiltinOperator.CAST
    code.version = 1
    model = schema.ModelT()
    model.version, model.description = 3, "tfdistill token-id probe"
    model.operatorCodes, model.subgraphs, model.buffers = [code], [subgraph], [schema.BufferT()]
    model.signatureDefs = [_signature(schema)]
    return model


def _tensor(name, dtype, seq_len):
    from ai_edge_litert import schema_py_generated as schema

    tensor = schema.TensorT()
    tensor.name, tensor.type, tensor.buffer, tensor.shape = name, dtype, 0, [1, seq_len]
    return tensor


def _signature(schema):
    def mapping(name, index):
        tensor_map = schema.TensorMapT()
        tensor_map.name, tensor_map.tensorIndex = name, index
        return tensor_map

    signature = schema.SignatureDefT()
    signature.signatureKey, signature.subgraphIndex = "serving_default", 0
    signature.inputs = [mapping(name, index) for index, name in enumerate(PROBE_INPUTS)]
    signature.outputs = [mapping(PROBE_OUTPUT, 3)]
    return signature
