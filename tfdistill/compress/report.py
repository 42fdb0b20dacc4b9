"""Measuring what compression left: zero fractions of Keras weights and of `.tflite` tensors."""

import os

import numpy as np

from tfdistill.compress.bert_graph import short_weight_name

# Weights whose zeros are counted: matrices and lookup tables (biases and norms stay dense).
COUNTED_WEIGHTS = ("kernel", "embeddings")


def _layer_name(layer):
    inner = getattr(layer, "layer", None)
    return inner.name if inner is not None else layer.name


def weight_sparsity(model):
    """Returns the fraction of exact zeros in every kernel and embedding table, per layer.

    Reads the variables themselves, so it works on a pruned student (wrappers keep the masked
    weights in place), a stripped one, and a QAT model (wrapped layers report under their
    original names).

    Args:
        model: a tf-keras model.

    Returns:
        dict `{layer_name: {"sparsity": float, "params": int}}` in layer order; layers with
        several counted weights (none in BERT) sum them.

    Example:
    >>> from tfdistill.compress.pruning import strip_student
    >>> report = weight_sparsity(strip_student(pruned))
    >>> report["layer_0_query"], report["pooler"]
    ({'sparsity': 0.5, 'params': 256}, {'sparsity': 0.0, 'params': 256})
    """
    report = {}
    for layer in model.layers:
        variables = [v for v in layer.weights if short_weight_name(v) in COUNTED_WEIGHTS]
        if not variables:
            continue
        zeros = sum(int(np.count_nonzero(v.numpy() == 0)) for v in variables)
        params = sum(int(np.prod(v.shape)) for v in variables)
        report[_layer_name(layer)] = {"sparsity": zeros / params, "params": params}
    return report


def overall_sparsity(report, layers=None):
    """Returns the parameter-weighted zero fraction of a `weight_sparsity` report.

    Args:
        report: dict from `weight_sparsity` or `tflite_weight_sparsity`.
        layers: optional iterable of names to include (default: all).

    Returns:
        float in [0, 1] (0.0 for an empty selection).

    Example:
    >>> overall_sparsity({"a": {"sparsity": 0.5, "params": 10}, "b": {"sparsity": 0.0, "params": 30}})
    0.125
    """
    names = report if layers is None else [name for name in layers if name in report]
    params = sum(report[name]["params"] for name in names)
    if not params:
        return 0.0
    return sum(report[name]["sparsity"] * report[name]["params"] for name in names) / params


def tflite_weight_sparsity(flatbuffer, min_params=1024):
    """Returns the fraction of exact zeros in the constant int8 weight tensors of a `.tflite` model.

    Int8 weights are what ships: a zero that survives conversion is stored as the tensor's zero
    point (0 for symmetric weights, another value for asymmetric tables), so that is what is
    counted, per channel when the tensor is quantized per channel.

    Args:
        flatbuffer: bytes of a `.tflite` model (or a path to one).
        min_params: int, skip smaller tensors (biases, scales, shapes).

    Returns:
        dict `{tensor_name: {"sparsity": float, "params": int, "dtype": str}}`.

    Example:
    >>> from tfdistill.compress.pruning import strip_student
    >>> from tfdistill.export.exporter import calibration_data, to_flatbuffer
    >>> representative = calibration_data("int8", data.train, tokenizer, 16, 16)
    >>> int8 = to_flatbuffer(strip_student(pruned), "int8", 16, representative)
    >>> report = tflite_weight_sparsity(int8, min_params=256)  # the tiny kernels have 256
    >>> report["student/layer_0_query/Tensordot/MatMul"]
    {'sparsity': 0.5, 'params': 256, 'dtype': 'int8'}
    """
    from ai_edge_litert.interpreter import Interpreter

    if isinstance(flatbuffer, (str, os.PathLike)):
        with open(flatbuffer, "rb") as f:
            flatbuffer = f.read()
    interpreter = Interpreter(model_content=flatbuffer)
    interpreter.allocate_tensors()
    report = {}
    for detail in interpreter.get_tensor_details():
        if detail["dtype"] not in (np.int8, np.uint8) or int(np.prod(detail["shape"])) < min_params:
            continue
        try:
            values = interpreter.get_tensor(detail["index"])
        except ValueError:  # not a constant (an activation without data)
            continue
        zeros = values == _zero_points(detail, values.ndim)
        report[detail["name"]] = {"sparsity": float(np.mean(zeros)), "params": int(values.size),
                                  "dtype": np.dtype(detail["dtype"]).name}
    return report


def _zero_points(detail, ndim):
    """The tensor's zero point(s), shaped to broadcast along its quantized dimension."""
    params = detail.get("quantization_parameters") or {}
    points = np.asarray(params.get("zero_points", []))
    if points.size <= 1:
        return points.item() if points.size else 0
    shape = [1] * ndim
    shape[params.get("quantized_dimension", 0)] = -1
    return points.reshape(shape)


def format_sparsity_table(report, title="layer"):
    """Formats a sparsity report as an aligned text table with a weighted total row.

    Args:
        report: dict from `weight_sparsity` or `tflite_weight_sparsity`.
        title: str, the first column's header.

    Returns:
        str.

    Example:
    >>> print(format_sparsity_table({"layer_0_query": {"sparsity": 0.5, "params": 16384}}))
    layer          params  sparsity
    layer_0_query   16384    50.00%
    total           16384    50.00%
    """
    rows = [(name, row["params"], row["sparsity"]) for name, row in report.items()]
    rows.append(("total", sum(row["params"] for row in report.values()), overall_sparsity(report)))
    width = max(len(title), *(len(name) for name, _, _ in rows))
    lines = [f"{title:<{width}}  {'params':>8}  sparsity"]
    lines += [f"{name:<{width}}  {params:>8}  {sparsity:>8.2%}" for name, params, sparsity in rows]
    return "\n".join(lines)
