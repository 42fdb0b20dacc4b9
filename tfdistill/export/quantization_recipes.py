"""The `dynamic` and `int8` modes as ai-edge-quantizer recipes kept as data.

Each mode's recipe is a JSON file in `tfdistill/export/recipes/`, in ai-edge-quantizer's own
schema, so `ai_edge_quantizer.quantizer.Quantizer(float_model, "int8.json")` reads it as is: a list
of rules, each an op type (`operation`), a regex searched in the op's scope (its output tensor
names joined by ";", plus a trailing ";") and an `op_config`. A later matching rule overrides an
earlier one; ops that no rule names stay float. `quantize` applies one to the float32 flatbuffer
of the converter (`tfdistill.export.converter`); the package carries the recipe it was made with
(`quantization_recipe.json` and the card's `quantization_recipe`).

`int8.json`, the rules in order:
1. FULLY_CONNECTED everywhere: static int8, activations asymmetric per tensor (calibrated on the
   representative examples), weights symmetric per output channel. XNNPACK runs these in int8
   inside its one partition; int8 LayerNorm math, BATCH_MATMUL, SOFTMAX or GELU would split it
   (23 partitions and 4x the float time on a 2x128 student at seq 64), so no rule names them.
2. GATHER of the word embeddings (`word_embeddings/`): static int8, table per tensor; the output
   keeps the table's scale, then a DEQUANTIZE. GATHER runs outside XNNPACK in any mode; the int8
   table quarters the model's largest tensor (30,522 x 384: 46.9 -> 11.7 MB). The token-type
   table (2 x hidden) stays float: int8 saves under 1 KB there but rounds a vector added at every
   position (the converter's dynamic range left it float too: under 1,024 elements). On the
   trained 4 x 384 demo student, all 1,281 validation examples: dynamic agreement 0.9953 with
   both tables int8, 0.9969 with the word table only (the converter route: 0.9961).
3. FULLY_CONNECTED fed by an activation, dynamic range (int8 weights, input quantized per row at
   run time): `layer_<i>_output/` is the FFN output projection (after GELU), and
   `^StatefulPartitionedCall:0;$` the classifier (after the pooler's tanh), whose output tensor
   the converter names after the signature's first output, `logits`. Static int8 there let the
   trained 4 x 384 student agree with Keras on only 95.3% of 300 validation examples (issue #5):
   they read a GELU output in [-0.17, 22] and write the residual stream's outlier channels (up to
   164, one static step 0.84).

`dynamic.json`: FULLY_CONNECTED dynamic range for weights of at least 1,024 elements (the
converter's dynamic-range threshold: the 384 x 2 classifier stays float), and the word-embedding
GATHER as in int8.

`check_recipe_matches` refuses a rule that names no op of the graph (a renamed layer would
otherwise silently leave ops float or static).

Example:
>>> [rule["operation"] for rule in load_recipe("int8")]
['FULLY_CONNECTED', 'GATHER', 'FULLY_CONNECTED']
"""

import json
import os
import re
import warnings

RECIPE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "recipes")
# How the package names the quantizer in its card (`quantizer_version`).
QUANTIZER_PACKAGE = "ai-edge-quantizer"


def recipe_names():
    """Returns the names of the shipped recipes (file names without `.json`).

    Example:
    >>> recipe_names()
    ['dynamic', 'int8']
    """
    return sorted(name[:-len(".json")] for name in os.listdir(RECIPE_DIR) if name.endswith(".json"))


def load_recipe(name):
    """Returns a shipped recipe: the list of ai-edge-quantizer rules of `recipes/<name>.json`.

    Args:
        name: str, e.g. `"int8"` or `"dynamic"`.

    Returns:
        list of dict.

    Raises:
        ValueError: no recipe of that name.

    Example:
    >>> load_recipe("dynamic")[0]["op_config"]["min_weight_elements"]
    1024
    """
    path = os.path.join(RECIPE_DIR, f"{name}.json")
    if not os.path.isfile(path):
        raise ValueError(f"No quantization recipe {name!r}; use one of {', '.join(recipe_names())} "
                         f"(files in {RECIPE_DIR}).")
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def recipe_for(mode, int8_scope="xnnpack", quantizer="ai-edge-quantizer"):
    """Returns the recipe `converter.convert` quantizes an export with, or None.

    Args:
        mode, int8_scope, quantizer: as for `converter.convert`.

    Returns:
        list of rule dicts (`load_recipe(mode)`), or None when the mode is float, QAT, the
        "full" int8 scope, or the converter quantizes it.

    Raises:
        ValueError: unknown mode, scope or quantizer.

    Example:
    >>> [rule["operation"] for rule in recipe_for("dynamic")], recipe_for("qat")
    (['FULLY_CONNECTED', 'GATHER'], None)
    """
    from tfdistill.export.modes import check_mode, uses_recipe

    check_mode(mode, int8_scope, quantizer)
    return load_recipe(mode) if uses_recipe(mode, int8_scope, quantizer) else None


def quantizer_version():
    """Returns `"ai-edge-quantizer <version>"`, the quantizer the recipes are written for.

    Example:
    >>> quantizer_version()  # doctest: +ELLIPSIS
    'ai-edge-quantizer ...'
    """
    from importlib import metadata

    return f"{QUANTIZER_PACKAGE} {metadata.version(QUANTIZER_PACKAGE)}"


def quantize(float_flatbuffer, recipe, calibration_feeds=None, layer_ranges=None):
    """Quantizes a float32 `.tflite` with ai-edge-quantizer: calibrate, then quantize.

    Args:
        float_flatbuffer: bytes, the converter's float32 flatbuffer (`serving_default` signature).
        recipe: list of rules, e.g. `load_recipe("int8")`.
        calibration_feeds: iterable of input dicts (`[1, seq_len]` arrays by input name); needed
            when a rule quantizes activations statically.
        layer_ranges: optional `{keras_layer_name: {"input": (min, max), "output": (min, max)}}`,
            ranges that replace the calibrated ones of those layers' FULLY_CONNECTED inputs and
            outputs (a QAT model's learned ranges: `compress.calibration.learned_ranges`).

    Returns:
        bytes. Constant buffers of 1 KB and more sit after the flatbuffer (offset and size in
        the model; LiteRT reads them), as ai-edge-quantizer writes models over 256 KB: read it
        with `flatbuffer_edit.read_model`, which moves them inline, before re-packing it.

    Raises:
        ValueError: a rule names no op of the graph, or the recipe needs calibration and
            `calibration_feeds` is None or empty.

    Example:
    >>> from tfdistill.export.exporter import calibration_data
    >>> representative = calibration_data("int8", data.train, tokenizer, 16, 16)
    >>> int8 = quantize(flatbuffer, load_recipe("int8"), list(representative()))  # flatbuffer: float32
    >>> len(int8) < len(flatbuffer)
    True
    """
    from ai_edge_quantizer import quantizer as aeq

    from tfdistill.export.runtime import SIGNATURE_KEY

    check_recipe_matches(float_flatbuffer, recipe)
    engine = aeq.Quantizer(bytearray(float_flatbuffer), recipe)
    feeds = list(calibration_feeds or [])
    if engine.need_calibration and not feeds:
        raise ValueError("This quantization recipe has static int8 rules and needs calibration "
                         "examples; pass representative_split (e.g. data.train).")
    with warnings.catch_warnings():
        # Calibration reads every intermediate tensor, as LiteRT warns; that is its purpose.
        warnings.filterwarnings("ignore", message=".*experimental_preserve_all_tensors")
        calibration = (engine.calibrate({SIGNATURE_KEY: feeds}, num_threads=os.cpu_count() or 1)
                       if engine.need_calibration else None)
        if layer_ranges and calibration is not None:
            apply_layer_ranges(calibration, float_flatbuffer, layer_ranges)
        result = engine.quantize(calibration, enable_progress_bar=False, enable_progress_report=False)
    return bytes(result.quantized_model)


def apply_layer_ranges(calibration, float_flatbuffer, layer_ranges):
    """Replaces calibrated FULLY_CONNECTED input and output ranges by ranges given per Keras layer.

    An FC belongs to the layer named as a scope of its output tensor (`student/layer_0_key/
    Tensordot` -> `layer_0_key`). FCs reading one tensor (query, key and value read the same
    LayerNorm output) get the mean of their layers' input ranges: a tensor has one scale.

    Args:
        calibration: dict, ai-edge-quantizer's calibration result (`{tensor: {"min", "max", ...}}`),
            changed in place.
        float_flatbuffer: bytes, the graph it was calibrated on.
        layer_ranges: dict, see `quantize`.

    Returns:
        list of str, the tensors whose ranges were replaced.

    Example:
    >>> apply_layer_ranges({}, flatbuffer, {"layer_0_query": {"input": (-1.0, 1.0)}})  # a float32 .tflite
    []
    """
    import numpy as np

    from tfdistill.export import flatbuffer_edit

    model = flatbuffer_edit.read_model(float_flatbuffer)
    subgraph = model.subgraphs[0]
    wanted = {}
    for op in subgraph.operators:
        if flatbuffer_edit.op_name(model, op) != "FULLY_CONNECTED":
            continue
        output = flatbuffer_edit.tensor_name(subgraph.tensors[int(op.outputs[0])])
        layer = _layer_of(output, layer_ranges)
        if layer is None:
            continue
        reading = flatbuffer_edit.tensor_name(subgraph.tensors[int(op.inputs[0])])
        for tensor, key in ((reading, "input"), (output, "output")):
            if key in layer_ranges[layer]:
                wanted.setdefault(tensor, []).append(layer_ranges[layer][key])
    replaced = []
    for tensor, ranges in wanted.items():
        if tensor not in calibration:
            continue
        low, high = np.mean([r[0] for r in ranges]), np.mean([r[1] for r in ranges])
        entry = calibration[tensor]
        entry["min"] = np.full_like(entry["min"], low)
        entry["max"] = np.full_like(entry["max"], high)
        replaced.append(tensor)
    return replaced


def _layer_of(tensor_name, layer_names):
    """The longest layer name that is a scope of `tensor_name`, or None."""
    scopes = set(tensor_name.replace(";", "/").split("/"))
    found = [name for name in layer_names if name in scopes]
    return max(found, key=len) if found else None


def op_scopes(flatbuffer):
    """Returns `[(op_name, scope)]` of the first subgraph, scopes as ai-edge-quantizer matches them.

    Args:
        flatbuffer: bytes.

    Returns:
        list of `(str, str)`, e.g. `("FULLY_CONNECTED", "bert/layer_0_output/Tensordot;")`.

    Example:
    >>> op_scopes(flatbuffer)[0]  # a float32 .tflite of a model named "student"
    ('CAST', 'student/attention_mask_bias/Cast;')
    """
    from tfdistill.export import flatbuffer_edit

    model = flatbuffer_edit.read_model(flatbuffer)
    subgraph = model.subgraphs[0]
    scopes = []
    for op in subgraph.operators:
        names = [flatbuffer_edit.tensor_name(subgraph.tensors[int(index)])
                 for index in op.outputs if int(index) >= 0]
        scopes.append((flatbuffer_edit.op_name(model, op), "".join(f"{name};" for name in names)))
    return scopes


def matching_ops(scopes, rule):
    """Returns the scopes of the ops a rule names (its op type, its regex found in the scope).

    Args:
        scopes: list of `(op_name, scope)` from `op_scopes`.
        rule: dict, one rule of a recipe (`operation`, `regex`).

    Returns:
        list of str, the matching scopes in graph order.

    Example:
    >>> matching_ops([("GATHER", "emb;"), ("ADD", "emb_add;")], {"operation": "*", "regex": "add"})
    ['emb_add;']
    """
    pattern = re.compile(rule["regex"])
    return [scope for name, scope in scopes
            if rule["operation"] in ("*", name) and pattern.search(scope)]


def check_recipe_matches(float_flatbuffer, recipe):
    """Refuses a recipe with a rule that names no op of the graph.

    Args:
        float_flatbuffer: bytes, the float32 `.tflite` the recipe is for.
        recipe: list of rules.

    Raises:
        ValueError: naming the rule and the fix.

    Example:
    >>> check_recipe_matches(flatbuffer, load_recipe("int8"))  # a float32 .tflite
    >>> check_recipe_matches(flatbuffer, [{"operation": "CONV_2D", "regex": ".*"}])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: Rule 0 of the quantization recipe (CONV_2D ops whose output matches '.*') names no op ...
    """
    scopes = op_scopes(float_flatbuffer)
    for index, rule in enumerate(recipe):
        if not matching_ops(scopes, rule):
            raise ValueError(
                f"Rule {index} of the quantization recipe ({rule['operation']} ops whose output "
                f"matches {rule['regex']!r}) names no op of this model; its layers are named "
                "differently. Fix the rule's regex (tfdistill/export/recipes/) or export with "
                "quantizer='converter'.")


def padding_feed(float_flatbuffer):
    """Returns one all-zero input dict (padding ids) for the model's `serving_default` signature.

    The `dynamic` recipe's only static rule is GATHER, whose int8 output takes its table's scale
    (ai-edge-quantizer's SAME_AS_INPUT_SCALE), so no activation range is read; the quantizer still
    asks for a calibration result, and one padding example gives it (the quantized model is
    byte-identical to one calibrated on 40 real examples).

    Args:
        float_flatbuffer: bytes.

    Returns:
        dict of input name -> zero array of the input's shape and dtype.

    Example:
    >>> feed = padding_feed(flatbuffer)  # a float32 .tflite
    >>> sorted(feed), feed["input_ids"].shape, int(feed["input_ids"].max())
    (['attention_mask', 'input_ids', 'token_type_ids'], (1, 16), 0)
    """
    import numpy as np

    from tfdistill.export.runtime import SIGNATURE_KEY, load_interpreter

    runner = load_interpreter(float_flatbuffer).get_signature_runner(SIGNATURE_KEY)
    return {name: np.zeros(detail["shape"], detail["dtype"])
            for name, detail in runner.get_input_details().items()}
