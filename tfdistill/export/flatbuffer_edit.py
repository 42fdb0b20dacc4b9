"""Reading and re-packing `.tflite` flatbuffers, and op-level edits of the converter's quantizer.

`read_model` moves constant buffers stored after the flatbuffer back inline (ai-edge-quantizer
writes models over 256 KB that way: each buffer of 1 KB and more holds an offset and size into
the file instead of its data); re-packing such a model without that loses its weights, or fails
to load ("Constant buffer N specified an out of range offset").

`quantize_inputs_asymmetrically` is the one edit of the ai-edge-quantizer route (the `int8` and
`dynamic` modes, quantized from recipe files by `tfdistill.export.quantization_recipes`): its
recipes have no option for how a hybrid FC quantizes its input. The other two edits belong to the
converter route (`quantizer="converter"`, and the `qat` mode); the recipes' rules express the
first of them directly. Both were measured on trained 4 x 384 students at seq 64
(`bench/export_int8_agreement.py`):

- `dynamic_range_fully_connected`: FULLY_CONNECTED ops left float (the converter's
  `denylisted_nodes`) get int8 per-channel weights and per-row activations quantized on the fly,
  as in the `dynamic` mode. The int8 export uses it for the FCs fed by an activation (GELU of
  the FFN, the pooler's tanh; `activation_fed_fully_connected`): with static int8 there, the
  int8 .tflite of the demo 4 x 384 student agreed with Keras on 95.3% of 300 validation
  examples; per-row dynamic quantization gives 99.7%, still one XNNPACK partition, same latency.
- `run_in_float`: int8 ops of the given types run in float between a DEQUANTIZE of their inputs
  and a QUANTIZE of their output (the Keras fake-quant model computes them that way). For QAT
  students: the converter makes LayerNorm's MEAN int8 at its input's scale (0.49 for a residual
  in [-6, 115] whose mean is in [0, 0.29]: the mean rounds to 0, 96% relative error); and int8
  BATCH_MATMUL, SOFTMAX and GELU have no XNNPACK kernels (10 partitions). An int8 output read
  only by DEQUANTIZE is not requantized at all (MEAN: Keras never quantizes it), nor, on
  request, the output of ops the converter alone quantized (softmax).

Only `ai_edge_litert`'s flatbuffer schema, `flatbuffers` and numpy are used (no TensorFlow).
"""

import numpy as np

# Ops whose output feeds a "down" projection: a one-sided, long-tailed input and a residual write.
ACTIVATION_OPS = ("GELU", "RELU", "RELU6", "TANH", "LOGISTIC", "HARD_SWISH", "LEAKY_RELU")


def _schema():
    from ai_edge_litert import schema_py_generated as schema

    return schema


def read_model(flatbuffer):
    """Returns the mutable object tree (`ModelT`) of a flatbuffer, every buffer's data inline.

    Args:
        flatbuffer: bytes, a `.tflite`.

    Returns:
        `ai_edge_litert.schema_py_generated.ModelT`.

    Raises:
        ValueError: a buffer stored after the flatbuffer runs past the end of the file.

    Example:
    >>> model = read_model(flatbuffer)  # or open("model.tflite", "rb").read()
    >>> len(model.subgraphs), len(model.subgraphs[0].operators)
    (1, 108)
    """
    flatbuffer = bytes(flatbuffer)
    model = _schema().ModelT.InitFromPackedBuf(flatbuffer, 0)
    for index, buffer in enumerate(model.buffers or []):
        # offset 1 / size 1 is a writer's placeholder; real data starts after the flatbuffer.
        if buffer.offset > 1:
            end = buffer.offset + buffer.size
            if end > len(flatbuffer):
                raise ValueError(f"Buffer {index} of the .tflite points at bytes {buffer.offset}..{end} "
                                 f"but the file has {len(flatbuffer)}; the file is truncated. Export "
                                 "it again.")
            buffer.data = np.frombuffer(flatbuffer[buffer.offset:end], np.uint8)
            buffer.offset, buffer.size = 0, 0
    return model


def write_model(model):
    """Serialises a `ModelT` back to flatbuffer bytes (file identifier `TFL3`).

    Args:
        model: `ModelT`, e.g. from `read_model`.

    Returns:
        bytes.

    Example:
    >>> from tfdistill.export.runtime import TFLiteClassifier
    >>> copy = write_model(read_model(flatbuffer))
    >>> copy[4:8], bool((TFLiteClassifier(copy).predict_logits(features)
    ...                  == TFLiteClassifier(flatbuffer).predict_logits(features)).all())
    (b'TFL3', True)
    """
    import flatbuffers

    builder = flatbuffers.Builder(1 << 20)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def op_name(model, operator):
    """Returns the builtin name of an operator.

    Args:
        model: `ModelT`.
        operator: `OperatorT` of one of its subgraphs.

    Returns:
        str, e.g. `"FULLY_CONNECTED"`.

    Example:
    >>> model = read_model(flatbuffer)
    >>> op_name(model, model.subgraphs[0].operators[0])
    'CAST'
    """
    code = model.operatorCodes[operator.opcodeIndex]
    return _op_names()[max(code.builtinCode, code.deprecatedBuiltinCode)]


def _op_names():
    return {value: name for name, value in vars(_schema().BuiltinOperator).items() if name.isupper()}


def tensor_name(tensor):
    """Returns a `TensorT`'s name as str.

    Example:
    >>> model = read_model(flatbuffer)
    >>> tensor_name(model.subgraphs[0].tensors[0])
    'serving_default_attention_mask:0'
    """
    name = tensor.name
    return name.decode() if isinstance(name, bytes) else str(name)


def activation_fed_fully_connected(flatbuffer, activation_ops=ACTIVATION_OPS):
    """Returns the output-tensor names of the FULLY_CONNECTED ops whose input an activation makes.

    In a BERT these are every FFN output projection (after GELU, or after an FC with a fused
    ReLU) and the classifier (after the pooler's tanh). Names are what `denylisted_nodes` of the
    quantizer takes.

    Args:
        flatbuffer: bytes, a float or calibrated `.tflite`.
        activation_ops: iterable of builtin op names counted as activations.

    Returns:
        list of str, in graph order.

    Example:
    >>> activation_fed_fully_connected(flatbuffer)  # 2 blocks' FFN outputs and the classifier
    ['student/layer_0_output/Tensordot', 'student/layer_1_output/Tensordot', 'StatefulPartitionedCall:0']
    """
    model = read_model(flatbuffer)
    names = []
    for subgraph in model.subgraphs:
        producer = {int(out): op for op in subgraph.operators for out in _ints(op.outputs)}
        for op in subgraph.operators:
            if op_name(model, op) != "FULLY_CONNECTED":
                continue
            source = producer.get(int(op.inputs[0]))
            if source is not None and (op_name(model, source) in activation_ops
                                       or _fused_activation(model, source)):
                names.append(tensor_name(subgraph.tensors[int(op.outputs[0])]))
    return names


def _fused_activation(model, op):
    # An FC whose activation the converter fused into it (e.g. ReLU: no separate op).
    options = op.builtinOptions
    return (op_name(model, op) == "FULLY_CONNECTED" and options is not None
            and getattr(options, "fusedActivationFunction", 0) != 0)


def dynamic_range_fully_connected(flatbuffer, output_names):
    """Gives float FULLY_CONNECTED ops int8 weights and on-the-fly int8 activations (hybrid).

    Weights become symmetric int8 per output channel (scale `max|w| / 127`), and the op quantizes
    its float input per row, asymmetrically, at run time (`asymmetric_quantize_inputs`), exactly
    as the converter's dynamic-range mode does; XNNPACK runs it in the same partition.

    Args:
        flatbuffer: bytes.
        output_names: iterable of str, output-tensor names of the FCs to convert; FCs that are
            not float (input and constant float weights) are left alone.

    Returns:
        `(bytes, int)`: the new flatbuffer and the number of FCs converted.

    Example:
    >>> names = activation_fed_fully_connected(flatbuffer)
    >>> hybrid, count = dynamic_range_fully_connected(flatbuffer, names)
    >>> count, len(hybrid) < len(flatbuffer)
    (3, True)
    """
    schema = _schema()
    wanted = set(output_names)
    model = read_model(flatbuffer)
    converted = 0
    for subgraph in model.subgraphs:
        users = _buffer_users(model)
        for op in subgraph.operators:
            if op_name(model, op) != "FULLY_CONNECTED" or tensor_name(
                    subgraph.tensors[int(op.outputs[0])]) not in wanted:
                continue
            source, weights = (subgraph.tensors[int(index)] for index in op.inputs[:2])
            data = model.buffers[weights.buffer].data
            if (source.type != schema.TensorType.FLOAT32 or weights.type != schema.TensorType.FLOAT32
                    or data is None or len(data) == 0):
                continue
            kernel = np.frombuffer(np.asarray(data, np.uint8).tobytes(), np.float32).reshape(
                [int(size) for size in weights.shape])
            scale = np.maximum(np.abs(kernel).max(axis=1), 1e-12) / 127.0
            quantized = np.clip(np.round(kernel / scale[:, None]), -127, 127).astype(np.int8)
            buffer = schema.BufferT()
            buffer.data = np.frombuffer(quantized.tobytes(), np.uint8)
            if users[weights.buffer] == 1:
                model.buffers[weights.buffer] = buffer  # the float kernel is no longer stored
            else:
                model.buffers.append(buffer)
                weights.buffer = len(model.buffers) - 1
            weights.type = schema.TensorType.INT8
            weights.quantization = schema.QuantizationParametersT()
            weights.quantization.scale = scale.astype(np.float32).tolist()
            weights.quantization.zeroPoint = [0] * len(scale)
            weights.quantization.quantizedDimension = 0
            op.builtinOptions.asymmetricQuantizeInputs = True
            converted += 1
    return write_model(model), converted


def quantize_inputs_asymmetrically(flatbuffer):
    """Sets `asymmetric_quantize_inputs` on every FULLY_CONNECTED (used when it runs hybrid).

    A hybrid FC (int8 weights, float input) quantizes its input per row at run time: XNNPACK
    always asymmetrically, LiteRT's reference kernels only with this flag. ai-edge-quantizer
    leaves it False and has no recipe option for it; set on the float graph before quantizing,
    it survives, so the `.tflite` computes the same with XNNPACK off (GPU fallback, other
    delegates) as in the agreement check. The flag means nothing to float or static int8 FCs.

    Args:
        flatbuffer: bytes.

    Returns:
        `(bytes, int)`: the new flatbuffer and the number of FCs that did not have it.

    Example:
    >>> edited, count = quantize_inputs_asymmetrically(flatbuffer)  # a float32 model
    >>> count, quantize_inputs_asymmetrically(edited)[1]
    (14, 0)
    """
    model = read_model(flatbuffer)
    changed = 0
    for subgraph in model.subgraphs:
        for op in subgraph.operators:
            if op_name(model, op) == "FULLY_CONNECTED" and not op.builtinOptions.asymmetricQuantizeInputs:
                op.builtinOptions.asymmetricQuantizeInputs = True
                changed += 1
    return write_model(model), changed


def run_in_float(flatbuffer, op_types, unquantized_outputs=()):
    """Runs the int8 ops of `op_types` in float: DEQUANTIZE inputs, float op, QUANTIZE output.

    The QUANTIZE keeps the op's int8 output parameters (the fake-quant range a QAT model
    learned). When every reader of the int8 output is a DEQUANTIZE, the op writes their float
    tensor directly and nothing is requantized.

    Args:
        flatbuffer: bytes.
        op_types: iterable of builtin op names (e.g. `("MEAN", "SOFTMAX")`).
        unquantized_outputs: iterable of op names among `op_types` whose int8 output the
            converter imposed rather than a fake-quant (SOFTMAX: a fixed 1/256 grid, while tfmot
            leaves softmax unquantized): once every reader is float, it is not requantized.

    Returns:
        `(bytes, int)`: the new flatbuffer and the number of ops moved to float.

    Example:
    >>> fixed, count = run_in_float(qat_flatbuffer, ("MEAN",))  # doctest: +SKIP
    >>> run_in_float(flatbuffer, ("SOFTMAX",))[1]  # a float32 model has no int8 op to move
    0
    """
    schema = _schema()
    op_types = set(op_types)
    model = read_model(flatbuffer)
    dequantize = _opcode(model, schema.BuiltinOperator.DEQUANTIZE)
    quantize = _opcode(model, schema.BuiltinOperator.QUANTIZE)
    moved = 0
    for subgraph in model.subgraphs:
        outputs = set(_ints(subgraph.outputs))
        position = 0
        while position < len(subgraph.operators):
            op = subgraph.operators[position]
            if op_name(model, op) not in op_types or not _has_int8_activation(subgraph, op):
                position += 1
                continue
            before, after = [], []
            inputs = _ints(op.inputs)
            for slot, index in enumerate(inputs):
                tensor = subgraph.tensors[index] if index >= 0 else None
                if tensor is None or tensor.type != schema.TensorType.INT8 or _is_constant(model, tensor):
                    continue
                inputs[slot] = _float_copy_of(subgraph, index, position, before, dequantize)
            op.inputs = inputs
            new_outputs = _ints(op.outputs)
            removed = set()
            for slot, index in enumerate(new_outputs):
                if subgraph.tensors[index].type != schema.TensorType.INT8:
                    continue
                readers = [other for other in subgraph.operators if index in _ints(other.inputs)]
                if readers and index not in outputs and all(
                        other.opcodeIndex == dequantize for other in readers):
                    target = int(readers[0].outputs[0])
                    for other in readers[1:]:
                        _rename_input(subgraph, int(other.outputs[0]), target)
                    removed.update(id(other) for other in readers)
                    new_outputs[slot] = target
                else:
                    floated = _new_float_tensor(subgraph, index, "/float")
                    after.append(_operator(quantize, [floated], [index], "QuantizeOptions"))
                    new_outputs[slot] = floated
            op.outputs = new_outputs
            subgraph.operators[position:position + 1] = before + [op] + after
            subgraph.operators = [other for other in subgraph.operators if id(other) not in removed]
            position = subgraph.operators.index(op) + len(after) + 1
            moved += 1
        _drop_requantization(model, subgraph, set(unquantized_outputs), quantize, dequantize)
    return write_model(model), moved


def _drop_requantization(model, subgraph, producer_types, quantize, dequantize):
    # producer (float) -> QUANTIZE -> int8 -> DEQUANTIZE(s) -> float: the producer writes the
    # DEQUANTIZE's tensor; the QUANTIZE and DEQUANTIZEs go.
    if not producer_types:
        return
    producer = {int(out): op for op in subgraph.operators for out in _ints(op.outputs)}
    outputs = set(_ints(subgraph.outputs))
    removed = set()
    for op in list(subgraph.operators):
        if op.opcodeIndex != quantize:
            continue
        source = producer.get(int(op.inputs[0]))
        quantized = int(op.outputs[0])
        readers = [other for other in subgraph.operators if quantized in _ints(other.inputs)]
        if (source is None or op_name(model, source) not in producer_types or not readers
                or quantized in outputs or any(other.opcodeIndex != dequantize for other in readers)
                or sum(int(op.inputs[0]) in _ints(other.inputs) for other in subgraph.operators) != 1):
            continue
        target = int(readers[0].outputs[0])
        for other in readers[1:]:
            _rename_input(subgraph, int(other.outputs[0]), target)
        source.outputs = [target if int(index) == int(op.inputs[0]) else int(index)
                          for index in source.outputs]
        removed.update(id(other) for other in [op, *readers])
    subgraph.operators = [other for other in subgraph.operators if id(other) not in removed]


def _float_copy_of(subgraph, index, position, before, dequantize):
    # Reuse a DEQUANTIZE of the tensor that runs earlier, else add one right before the op.
    for other in subgraph.operators[:position]:
        if other.opcodeIndex == dequantize and int(other.inputs[0]) == index:
            return int(other.outputs[0])
    for other in before:
        if int(other.inputs[0]) == index:
            return int(other.outputs[0])
    floated = _new_float_tensor(subgraph, index, "/dequantized")
    before.append(_operator(dequantize, [index], [floated], "DequantizeOptions"))
    return floated


def _rename_input(subgraph, old, new):
    for op in subgraph.operators:
        op.inputs = [new if int(index) == old else int(index) for index in op.inputs]


def _has_int8_activation(subgraph, op):
    int8 = _schema().TensorType.INT8
    return any(index >= 0 and subgraph.tensors[index].type == int8 for index in _ints(op.outputs))


def _is_constant(model, tensor):
    data = model.buffers[tensor.buffer].data if tensor.buffer < len(model.buffers) else None
    return data is not None and len(data) > 0


def _new_float_tensor(subgraph, like, suffix):
    schema = _schema()
    source = subgraph.tensors[like]
    tensor = schema.TensorT()
    tensor.shape = None if source.shape is None else [int(size) for size in source.shape]
    tensor.shapeSignature = (None if source.shapeSignature is None
                             else [int(size) for size in source.shapeSignature])
    tensor.type = schema.TensorType.FLOAT32
    tensor.buffer = 0
    tensor.name = (tensor_name(source) + suffix).encode()
    subgraph.tensors.append(tensor)
    return len(subgraph.tensors) - 1


def _operator(opcode_index, inputs, outputs, options):
    schema = _schema()
    op = schema.OperatorT()
    op.opcodeIndex = opcode_index
    op.inputs, op.outputs = list(inputs), list(outputs)
    op.builtinOptionsType = getattr(schema.BuiltinOptions, options)
    op.builtinOptions = getattr(schema, options + "T")()
    return op


def _opcode(model, builtin):
    for index, code in enumerate(model.operatorCodes):
        if max(code.builtinCode, code.deprecatedBuiltinCode) == builtin:
            return index
    code = _schema().OperatorCodeT()
    code.builtinCode, code.deprecatedBuiltinCode, code.version = builtin, min(builtin, 127), 1
    model.operatorCodes.append(code)
    return len(model.operatorCodes) - 1


def _buffer_users(model):
    users = {}
    for subgraph in model.subgraphs:
        for tensor in subgraph.tensors:
            users[tensor.buffer] = users.get(tensor.buffer, 0) + 1
    return users


def _ints(values):
    return [] if values is None else [int(value) for value in values]
