"""`export_tflite`: convert, validate against Keras, measure, then write a model package."""

import dataclasses
import logging

_log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class ExportResult:
    """What `export_tflite` wrote.

    Args:
        output_dir: str, the package folder.
        tflite_path: str, its `model.tflite`.
        card: dict, the `model_card.json` content.
    """

    output_dir: str
    tflite_path: str
    card: dict


def export_tflite(model, output_dir, mode="dynamic", seq_len=64, tokenizer=None,
                  representative_split=None, validation_split=None, test_split=None, *,
                  labels=None, source=None, force=False, num_representative=100,
                  num_validation=300, int8_scope="xnnpack", with_probabilities=True, seed=0,
                  quantizer="ai-edge-quantizer"):
    """Exports a classifier as a validated `.tflite` model package.

    The flatbuffer is converted from a fixed-batch `serving_default` function (inputs
    `input_ids`, `attention_mask`, `token_type_ids` int32 `[1, seq_len]`; outputs `logits` and
    optionally `probabilities`), run with the LiteRT interpreter on held-out examples against
    the Keras model, and written only if they agree (`MIN_AGREEMENT`: 99% for float32, float16,
    dynamic; 97% for int8, qat). Uncased models also get `text_classifier.tflite`, the model with
    only its probabilities output and the metadata MediaPipe Tasks' TextClassifier needs
    (`mediapipe_model`); the card's `mediapipe` entry names it, or says why it is absent.
    `dynamic` and `int8` are quantized by ai-edge-quantizer from a recipe file, which the package
    carries as `quantization_recipe.json` and the card as `quantization_recipe`.

    Args:
        model: tf_keras model returning logits or a dict with `logits` (a `BertModel`, or a
            QAT model from tfmot `quantize_apply` for `mode="qat"`).
        output_dir: str, the package folder (replaced atomically if it exists).
        mode: str, one of `float32`, `float16`, `dynamic`, `int8`, `qat`.
        seq_len: int, the fixed sequence length.
        tokenizer: `tfdistill.Tokenizer`, the model's own.
        representative_split: `Split` to calibrate `int8`/`qat` on (training data).
        validation_split: `Split` of held-out examples for the agreement check.
        test_split: optional `Split`; the card's `accuracy` is measured on it with the
            `.tflite` (None when omitted).
        labels: optional list of class names (default: `model.bert_config.label_names`, else
            `LABEL_<i>`).
        source: optional str naming the model in the card (default: the model's name).
        force: bool, write even when the agreement is below the threshold.
        num_representative: int, calibration examples sampled from `representative_split`.
        num_validation: int, validation examples sampled from `validation_split`.
        int8_scope: str, `"xnnpack"` or `"full"` (see `converter`).
        with_probabilities: bool, add a `probabilities` output.
        seed: int, the sampling seed.
        quantizer: str, `"ai-edge-quantizer"` or `"converter"` (the route before issue 13) for
            `dynamic` and `int8` (see `converter`).

    Returns:
        `ExportResult`.

    Raises:
        ValueError: unknown mode, `seq_len` beyond the model's positions, a tokenizer whose
            vocabulary does not match the model, an empty representative or validation split,
            wrong label count.
        ExportValidationError (a ValueError): agreement below the threshold (nothing written).

    Example:
    >>> result = export_tflite(student, "runs/student_dynamic", "dynamic", 16, tokenizer,
    ...                        data.train, data.validation, data.test)
    >>> result.card["validation"]["agreement"], result.card["mediapipe"]["file"]
    (1.0, 'text_classifier.tflite')
    """
    from tfdistill.export import package
    from tfdistill.export.features import encode_split
    from tfdistill.export.mediapipe_model import package_files
    from tfdistill.export.validation import keras_logits

    check_export_inputs(model, mode, int8_scope, seq_len, tokenizer, quantizer)
    features, _ = encode_split(validation_split, tokenizer, seq_len, num_validation, seed,
                               what="validation_split")
    reference = keras_logits(model, features)
    names = label_names(model, labels, reference.shape[1])
    representative = calibration_data(mode, representative_split, tokenizer, seq_len,
                                      num_representative, seed)
    flatbuffer = to_flatbuffer(model, mode, seq_len, representative, int8_scope, with_probabilities,
                               quantizer)
    card = measured_card(flatbuffer, reference, features, mode, force, test_split, tokenizer,
                         labels=names, source=source or model.name,
                         int8_scope=int8_scope if representative else None,
                         **quantization_fields(converted_mode(model, mode), int8_scope, quantizer))
    # text_classifier.tflite: the same model as MediaPipe Tasks' TextClassifier loads it.
    mediapipe_files, card["mediapipe"] = package_files(flatbuffer, tokenizer, names, card, features)
    path = package.write_model_package(output_dir, flatbuffer, tokenizer.vocab, names, card,
                                       extra_files={**mediapipe_files, **package.recipe_files(card)})
    return ExportResult(output_dir=output_dir, tflite_path=path, card=card)


def check_export_inputs(model, mode, int8_scope, seq_len, tokenizer, quantizer="ai-edge-quantizer"):
    """Refuses an unknown mode or quantizer, a missing or mismatched tokenizer, a `seq_len` too long.

    Raises:
        ValueError: naming the problem and the fix.

    Example:
    >>> check_export_inputs(student, "int8", "xnnpack", 16, tokenizer)
    >>> check_export_inputs(student, "int4", "xnnpack", 16, tokenizer)
    Traceback (most recent call last):
    ...
    ValueError: Unknown export mode 'int4'; use one of float32, float16, dynamic, int8, qat.
    """
    from tfdistill.export import checks
    from tfdistill.export.modes import check_mode

    check_mode(mode, int8_scope, quantizer)
    if tokenizer is None:
        raise ValueError("export_tflite needs the model's tokenizer (tfdistill.Tokenizer"
                         ".from_pretrained(<model folder>)) to write vocab.txt and validate.")
    checks.check_seq_len(seq_len, checks.model_max_positions(model))
    checks.check_tokenizer(checks.model_vocab_size(model), tokenizer, f"model {model.name!r}")


def calibration_data(mode, split, tokenizer, seq_len, num_examples, seed=0):
    """Returns the representative dataset of a calibrated mode (int8, qat), else None.

    Raises:
        ValueError: a calibrated mode with an empty or missing split.

    Example:
    >>> calibration_data("float16", None, tokenizer, 16, 100) is None
    True
    >>> examples = list(calibration_data("int8", data.train, tokenizer, 16, 10)())
    >>> len(examples), examples[0]["input_ids"].shape
    (10, (1, 16))
    """
    from tfdistill.export.features import encode_split
    from tfdistill.export.modes import CALIBRATED_MODES

    if mode not in CALIBRATED_MODES:
        return None
    features, _ = encode_split(split, tokenizer, seq_len, num_examples, seed,
                               what="representative_split")
    return representative_dataset(features)


def measured_card(flatbuffer, reference, features, mode, force, test_split, tokenizer, **fields):
    """Validates a flatbuffer against the Keras logits, measures it; returns its model card.

    Args:
        flatbuffer: bytes.
        reference: float array `[n, num_labels]`, the Keras logits of `features`.
        features: dict of `[n, seq_len]` validation inputs.
        mode: str; force: bool (see `check_agreement`).
        test_split: optional `Split` for the card's `accuracy`.
        tokenizer: `tfdistill.Tokenizer`.
        **fields: further card entries (`labels`, `source`, ...).

    Raises:
        ExportValidationError: agreement below `MIN_AGREEMENT[mode]` and not `force`.
    """
    from tfdistill.export import package
    from tfdistill.export.delegation import xnnpack_delegation
    from tfdistill.export.evaluate import evaluate_tflite
    from tfdistill.export.runtime import TFLiteClassifier
    from tfdistill.export.validation import Agreement, check_agreement

    classifier = TFLiteClassifier(flatbuffer)
    agreement = check_agreement(Agreement.of(reference, classifier.predict_logits(features)), mode,
                                force=force)
    delegation = xnnpack_delegation(flatbuffer)
    _log.info("%s export: %s; %s", mode, agreement, delegation)
    accuracy = None if test_split is None else evaluate_tflite(flatbuffer, tokenizer, test_split).accuracy
    return package.model_card(
        flatbuffer, seq_len=classifier.seq_len, inputs=classifier.input_names,
        outputs=classifier.output_names, mode=mode, accuracy=accuracy,
        validation=agreement.to_dict(), xnnpack=delegation.to_dict(),
        tokenizer=tokenizer.get_config(), **fields)


def converted_mode(model, mode):
    """Returns the mode the converter exports `model` in when asked for `mode`.

    A QAT model of the "xnnpack" scope (`compress.quantize_student`, the default) fake-quantizes
    exactly what the `int8` recipe quantizes, so its `qat` export is its float copy
    (`compress.dequantized_copy`) quantized by that recipe at the activation ranges QAT trained
    with (`compress.calibration.learned_ranges`; the representative examples calibrate only what
    QAT has no range for): the same graph, kernels and XNNPACK partition as post-training int8,
    with the weights and ranges QAT trained. A "full"-scope QAT model goes
    to the converter as it is (its FakeQuant ops become int8 ops); other modes are unchanged.

    Example:
    >>> converted_mode(qat, "qat"), converted_mode(student, "dynamic")  # qat: quantize_student(student)
    ('int8', 'dynamic')
    """
    if mode != "qat":
        return mode
    from tfdistill.compress.quantization import qat_int8_scope

    return "int8" if qat_int8_scope(model) == "xnnpack" else mode


def to_flatbuffer(model, mode, seq_len, representative=None, int8_scope="xnnpack",
                  with_probabilities=True, quantizer="ai-edge-quantizer"):
    """Converts a model to `.tflite` bytes from its XNNPACK-friendly serving graph (no checks).

    Args:
        model: tf_keras model (see `export_tflite`).
        mode: str, export mode.
        seq_len: int.
        representative: callable yielding input dicts (int8/qat), see `representative_dataset`.
        int8_scope: str.
        with_probabilities: bool.
        quantizer: str, `"ai-edge-quantizer"` or `"converter"`.

    Returns:
        bytes.

    Example:
    >>> from tfdistill.export.runtime import TFLiteClassifier
    >>> flatbuffer = to_flatbuffer(student, "float16", 16)
    >>> classifier = TFLiteClassifier(flatbuffer)
    >>> classifier.seq_len, classifier.output_names
    (16, ['logits', 'probabilities'])
    """
    from tfdistill.export.converter import convert
    from tfdistill.export.rewrites import export_graph
    from tfdistill.export.signature import serving_function

    layer_ranges, target_mode = None, converted_mode(model, mode)
    if target_mode != mode:
        # The QAT model's float copy, quantized by the int8 recipe at the ranges QAT trained with.
        from tfdistill.compress.calibration import dequantized_copy, learned_ranges

        layer_ranges = learned_ranges(model)
        model, mode = dequantized_copy(model), target_mode
    serving_model = export_graph(model)
    function = serving_function(serving_model, seq_len, with_probabilities)
    return convert(function, serving_model, mode, representative, int8_scope, quantizer, layer_ranges)


def quantization_fields(mode, int8_scope="xnnpack", quantizer="ai-edge-quantizer"):
    """Returns the card's `quantizer` and `quantization_recipe` entries for an export.

    Example:
    >>> quantization_fields("float32")
    {'quantizer': None, 'quantization_recipe': None}
    """
    from tfdistill.export.quantization_recipes import quantizer_version, recipe_for

    recipe = recipe_for(mode, int8_scope, quantizer)
    if recipe is not None:
        return {"quantizer": quantizer_version(), "quantization_recipe": recipe}
    return {"quantizer": None if mode == "float32" else "converter", "quantization_recipe": None}


def representative_dataset(features):
    """Returns the converter's `representative_dataset`: a callable yielding `[1, seq_len]` dicts.

    Example:
    >>> import numpy as np
    >>> examples = representative_dataset({"input_ids": np.zeros((3, 8), "int32")})
    >>> [example["input_ids"].shape for example in examples()]
    [(1, 8), (1, 8), (1, 8)]
    """
    from tfdistill.export.features import rows

    def examples():
        for index in range(len(features["input_ids"])):
            yield rows(features, index, index + 1)

    return examples


def label_names(model, labels, num_labels):
    """Returns the class names: `labels`, else the model config's, else `LABEL_<i>`.

    Raises:
        ValueError: the count differs from the model's `num_labels`.

    Example:
    >>> label_names(None, None, 2)
    ['LABEL_0', 'LABEL_1']
    """
    config = getattr(model, "bert_config", None)
    names = labels or (config.label_names if config is not None else None) or [
        f"LABEL_{index}" for index in range(num_labels)]
    if len(names) != num_labels:
        raise ValueError(f"Got {len(names)} label names {list(names)} for a model with "
                         f"{num_labels} logits; pass one name per class.")
    return [str(name) for name in names]
