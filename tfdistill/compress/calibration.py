"""Calibrating QAT quantizer ranges from real data before QAT training starts.

tfmot creates every range at [-6, 6] and moves activation ranges by an EMA with decay 0.999:
after a few hundred steps a tensor whose real range is +-0.1 still spans most of +-6, so it gets
a handful of int8 levels and the QAT model starts far worse than the float one. Weight ranges
(last-value) are only set by a training step. `calibrate_ranges` fixes both up front:

1. one training-mode forward pass sets every weight range exactly as training would;
2. a float copy of the student (`dequantized_copy`) runs the calibration batches, and every
   activation range (`input` (`InputQuantizeWrapper`), `output`, `post_activation`,
   `pre_activation`) is set to the mean over
   batches of the range its quantizer moves toward (`[min(batch_min, 0), max(batch_max, 0)]`,
   or the quantizer's own `batch_range`, e.g. attention scores without padding): the value the
   EMA converges to, without waiting for it.
"""

import numpy as np
import tf_keras as keras

from tfdistill.compress.bert_graph import bert_config_of, short_weight_name

# Range variables `<prefix>_min` / `<prefix>_max` of activation quantizers, by prefix.
ACTIVATION_RANGES = ("input", "output", "post_activation", "pre_activation")
MIN_RANGE = 1e-6


def _wrappers(model):
    import tensorflow_model_optimization as tfmot

    return [layer for layer in model.layers if isinstance(layer, tfmot.quantization.keras.QuantizeWrapper)]


def _variables_by_short_name(layer):
    return {short_weight_name(variable): variable for variable in layer.weights}


def dequantized_copy(model):
    """Returns a float `BertModel` holding a QAT (or any compressed) student's current weights.

    Args:
        model: a `CompressedBert` (QAT or stripped) built from a `BertConfig`.

    Returns:
        `BertModel` from `tfdistill.build_bert(model.bert_config)`, every float weight copied.

    Raises:
        ValueError: `model` is not a BERT student, or lacks a weight the float graph has.

    Example:
    >>> float_student = dequantized_copy(qat)
    >>> type(float_student).__name__, float_student.count_params() == student.count_params()
    ('BertModel', True)
    >>> import tfdistill
    >>> tfdistill.save_pretrained(float_student, "runs/qat_float")
    """
    from tfdistill.models.bert.bert_model import build_bert

    config = bert_config_of(model)
    copy = build_bert(config, name=model.name)
    sources = {getattr(layer, "layer", layer).name: layer for layer in model.layers}
    for layer in copy.layers:
        if not layer.weights:
            continue
        available = _variables_by_short_name(sources[layer.name]) if layer.name in sources else {}
        values = []
        for variable in layer.weights:
            short = short_weight_name(variable)
            if short not in available:
                raise ValueError(f"Model {model.name!r} has no weight {short!r} for layer {layer.name!r}; "
                                 "it is not the BERT graph of its bert_config.")
            values.append(available[short].numpy())
        layer.set_weights(values)
    return copy


def _pre_activation(layer, tensor):
    """The pre-activation output of a Dense-like `layer` on `tensor` (weights shared)."""
    linear = type(layer).from_config(dict(layer.get_config(), activation="linear", name=f"{layer.name}_linear"))
    linear.build(layer.input_shape)
    linear.set_weights(layer.get_weights())
    return linear(tensor)


def _observer(float_model, targets):
    """A model returning, per `(layer_name, prefix)` target, the float tensor that range covers."""
    outputs = {}
    for layer_name, prefix in targets:
        layer = float_model.get_layer(layer_name)
        if prefix == "pre_activation":
            outputs[f"{layer_name}/{prefix}"] = _pre_activation(layer, layer.input)
        elif prefix == "input":
            outputs[f"{layer_name}/{prefix}"] = layer.input
        else:
            outputs[f"{layer_name}/{prefix}"] = layer.output
    return keras.Model(float_model.input, outputs, name="range_observer")


def _range_rule(wrapper, prefix):
    """The batch -> (low, high) rule of the quantizer behind a wrapper's `prefix` range."""
    from tfdistill.compress.quantizers import batch_range

    if prefix in ("input", "output"):
        quantizers = getattr(wrapper.quantize_config, f"get_{prefix}_quantizers")(wrapper.layer)
        return getattr(quantizers[0], "batch_range", batch_range)
    return batch_range


def _features(batch):
    return batch[0] if isinstance(batch, (tuple, list)) else batch


def calibrate_ranges(model, dataset, steps=20):
    """Sets a QAT model's quantizer ranges from real data (see the module docstring).

    Args:
        model: a QAT model from `quantize_student`.
        dataset: iterable of `features` dicts or `(features, labels)` batches, e.g. the
            training `tf.data.Dataset`.
        steps: int >= 1, the number of batches observed.

    Returns:
        dict `{"<layer>/<range>": {"before": [min, max], "after": [min, max]}}` for every
        activation range (weight ranges are set too but not listed).

    Raises:
        ValueError: `model` has no quantization wrappers, `steps` < 1, or `dataset` is empty.

    Example:
    >>> report = calibrate_ranges(qat, train, steps=2)  # qat = quantize_student(student)
    >>> {key: [round(x, 1) for x in value] for key, value in report["layer_0_query/input"].items()}
    {'before': [-6.0, 6.0], 'after': [-2.8, 2.6]}
    """
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be an int >= 1, got {steps!r}.")
    wrappers = _wrappers(model)
    if not wrappers:
        raise ValueError(f"Model {model.name!r} has no quantization wrappers; calibrate the output of "
                         "quantize_student.")
    batches = [_features(batch) for _, batch in zip(range(steps), dataset)]
    if not batches:
        raise ValueError("The calibration dataset yielded no batches.")
    model(batches[0], training=True)  # last-value weight ranges, exactly as training sets them

    ranges, rules = {}, {}
    for wrapper in wrappers:
        variables = _variables_by_short_name(wrapper)
        for prefix in ACTIVATION_RANGES:
            if f"{prefix}_min" in variables:
                ranges[(wrapper.layer.name, prefix)] = (variables[f"{prefix}_min"], variables[f"{prefix}_max"])
                rules[(wrapper.layer.name, prefix)] = _range_rule(wrapper, prefix)
    observer = _observer(dequantized_copy(model), list(ranges))
    sums = {key: np.zeros(2) for key in ranges}
    for features in batches:
        observed = observer(features, training=False)
        for key in ranges:
            sums[key] += [float(bound) for bound in rules[key](observed["/".join(key)])]
    report = {}
    for key, (min_var, max_var) in ranges.items():
        low, high = sums[key] / len(batches)
        high = max(high, low + MIN_RANGE)  # an all-zero tensor still needs min < max
        report["/".join(key)] = {"before": [float(min_var.numpy()), float(max_var.numpy())],
                                 "after": [float(low), float(high)]}
        min_var.assign(low)
        max_var.assign(high)
    return report


def learned_ranges(model):
    """Returns the activation ranges a QAT model trained with, by layer: what its export reuses.

    Args:
        model: a QAT model from `quantize_student`.

    Returns:
        dict `{layer_name: {"input": (min, max), "output": (min, max)}}` (either key may be
        missing); "output" is the range quantizing the layer's matmul result: its output,
        post-activation range, or pre-activation range before a tanh.

    Example:
    >>> ranges = learned_ranges(qat)  # qat = quantize_student(student), calibrated
    >>> sorted(ranges["layer_0_query"]), sorted(ranges["pooler"])
    (['input', 'output'], ['input', 'output'])
    """
    ranges = {}
    for wrapper in _wrappers(model):
        variables = _variables_by_short_name(wrapper)
        entry = {}
        for key, prefixes in (("input", ("input",)), ("output", ("output", "post_activation", "pre_activation"))):
            prefix = next((p for p in prefixes if f"{p}_min" in variables), None)
            if prefix is not None:
                entry[key] = (float(variables[f"{prefix}_min"].numpy()), float(variables[f"{prefix}_max"].numpy()))
        if entry:
            ranges[wrapper.layer.name] = entry
    return ranges
