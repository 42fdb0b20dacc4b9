"""Export a tiny random BERT in every mode, validate, refuse, evaluate and benchmark it."""

import json
import os

import numpy as np
import pytest

SEQ_LEN = 16
WORDS = ("good bad great awful fine dull movie plot acting fun boring superb weak strong the a is "
         "was").split()
FLOAT_AND_INT8 = ("float32", "float16", "dynamic", "int8")


def _split(count, seed):
    from tfdistill.data import Split

    rng = np.random.default_rng(seed)
    texts = [" ".join(rng.choice(WORDS, rng.integers(3, 12))) for _ in range(count)]
    return Split(texts, [int("good" in text.split()) for text in texts])


@pytest.fixture(scope="module")
def tokenizer():
    from tfdistill.data import Tokenizer

    return Tokenizer.from_vocab(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS])


@pytest.fixture(scope="module")
def splits():
    return {"train": _split(120, 0), "validation": _split(150, 1), "test": _split(60, 2)}


def _tiny_model(tokenizer, seed=0):
    import tf_keras as keras

    import tfdistill

    keras.utils.set_random_seed(seed)
    config = tfdistill.BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, num_layers=2,
                                  num_heads=4, intermediate_size=64, num_labels=2,
                                  max_position_embeddings=32, label_names=("negative", "positive"))
    model = tfdistill.build_bert(config, name="tiny_student")
    # Random heads give logits a hair apart, where any rounding flips the argmax; a wider head
    # makes agreement measure the export rather than the tie-breaking.
    classifier = model.get_layer("classifier")
    classifier.kernel.assign(classifier.kernel * 30.0)
    return model


@pytest.fixture(scope="module")
def model(tokenizer):
    return _tiny_model(tokenizer)


def _export(model, tokenizer, splits, output_dir, mode, **kwargs):
    from tfdistill.export import export_tflite

    return export_tflite(model, str(output_dir), mode, SEQ_LEN, tokenizer, splits["train"],
                         splits["validation"], kwargs.pop("test_split", splits["test"]),
                         num_representative=40, **kwargs)


@pytest.fixture(scope="module")
def packages(model, tokenizer, splits, tmp_path_factory):
    root = tmp_path_factory.mktemp("packages")
    return {mode: _export(model, tokenizer, splits, root / mode, mode) for mode in FLOAT_AND_INT8}


@pytest.mark.parametrize("mode", FLOAT_AND_INT8)
def test_every_mode_writes_a_validated_package(packages, mode):
    from tfdistill.export import MIN_AGREEMENT, read_model_card

    result = packages[mode]
    files = set(os.listdir(result.output_dir))
    assert {".tfdistill.json", "labels.txt", "model.tflite", "model_card.json", "vocab.txt"} <= files
    assert ("quantization_recipe.json" in files) == (mode in ("dynamic", "int8"))
    card = read_model_card(result.output_dir)
    assert card == result.card
    assert card["mode"] == mode and card["seq_len"] == SEQ_LEN
    assert card["inputs"] == ["attention_mask", "input_ids", "token_type_ids"]
    assert card["outputs"] == ["logits", "probabilities"]
    assert card["labels"] == ["negative", "positive"]
    assert card["size_bytes"] == os.path.getsize(result.tflite_path)
    assert card["validation"]["agreement"] >= MIN_AGREEMENT[mode]
    assert card["validation"]["examples"] == 150
    assert 0.0 <= card["accuracy"] <= 1.0
    with open(os.path.join(result.output_dir, "labels.txt")) as f:
        assert f.read() == "negative\npositive\n"


def test_float_exports_match_keras_and_stay_in_xnnpack(packages):
    for mode, tolerance in (("float32", 1e-5), ("float16", 1e-2), ("dynamic", 5e-2)):
        assert packages[mode].card["validation"]["max_abs_logit_diff"] < tolerance, mode
    xnnpack = packages["float32"].card["xnnpack"]
    # Only the int32-fed ops stay outside: the mask CAST and the two embedding GATHERs.
    assert xnnpack["xnnpack_partitions"] == 1
    assert xnnpack["outside_ops"] == {"CAST": 1, "GATHER": 2}
    assert packages["int8"].card["xnnpack"]["xnnpack_partitions"] == 1
    assert packages["float16"].card["size_bytes"] < packages["float32"].card["size_bytes"]


def test_signature_binds_inputs_by_name_and_outputs_probabilities(packages, tokenizer):
    from tfdistill.export import TFLiteClassifier

    classifier = TFLiteClassifier(packages["float32"].tflite_path)
    features = tokenizer(["a good movie"], max_length=SEQ_LEN)
    outputs = classifier(**features)
    np.testing.assert_allclose(outputs["probabilities"].sum(), 1.0, rtol=1e-5)
    assert classifier.vocab_size == tokenizer.vocab_size and classifier.seq_len == SEQ_LEN


def test_evaluate_tflite_reproduces_the_card_accuracy(packages, tokenizer, splits):
    from tfdistill.export import evaluate_tflite

    result = evaluate_tflite(packages["dynamic"].output_dir, tokenizer, splits["test"])
    assert result.accuracy == packages["dynamic"].card["accuracy"]
    assert result.examples == len(splits["test"]) and result.logits.shape == (60, 2)


def test_benchmark_reports_each_configuration(packages):
    from tfdistill.export import benchmark_tflite, format_table

    results = benchmark_tflite(packages["int8"].tflite_path, threads=(1,), xnnpack=(True, False),
                               num_runs=5, warmup_runs=2)
    assert [(r.threads, r.xnnpack) for r in results] == [(1, True), (1, False)]
    for r in results:
        assert r.count == 5 and 0 < r.min_us <= r.p50_us <= r.p90_us <= r.max_us
        assert r.peak_rss_mb >= r.baseline_rss_mb > 0
    assert "p90_us" in format_table(results)


def test_a_disagreeing_flatbuffer_is_refused_and_nothing_is_written(
        model, tokenizer, splits, tmp_path, monkeypatch):
    from tfdistill.export import ExportValidationError, exporter

    other = exporter.to_flatbuffer(_tiny_model(tokenizer, seed=1), "float32", SEQ_LEN)
    monkeypatch.setattr(exporter, "to_flatbuffer", lambda *args, **kwargs: other)
    output_dir = tmp_path / "broken"
    with pytest.raises(ExportValidationError, match="Nothing was written"):
        _export(model, tokenizer, splits, output_dir, "float32", test_split=None)
    assert not output_dir.exists()
    assert os.listdir(tmp_path) == []  # no partial folder left behind
    forced = _export(model, tokenizer, splits, output_dir, "float32", test_split=None, force=True)
    assert forced.card["validation"]["agreement"] < 0.99 and forced.card["accuracy"] is None


@pytest.mark.parametrize("int8_scope", ["xnnpack", "full"])
def test_qat_student_from_compress_exports_and_round_trips_through_h5(model, tokenizer, splits,
                                                                    tmp_path, int8_scope):
    from tfdistill import compress
    from tfdistill.export.loading import load_classifier
    from tfdistill.export.quantization_recipes import load_recipe

    qat = compress.quantize_student(model, int8_scope=int8_scope)
    compress.calibrate_ranges(qat, [tokenizer(splits["train"].texts[:64], max_length=SEQ_LEN)], steps=1)
    compress.save_quantized(qat, str(tmp_path / "qat.h5"))
    result = _export(load_classifier(str(tmp_path / "qat.h5")), tokenizer, splits, tmp_path / "qat",
                     "qat", test_split=None)
    assert result.card["mode"] == "qat" and result.card["labels"] == ["negative", "positive"]
    assert result.card["validation"]["agreement"] >= 0.97
    if int8_scope == "xnnpack":
        # The fake-quant model computes what the int8 recipe deploys: its float copy, quantized by
        # that recipe, agrees with it on every validation example.
        assert result.card["quantization_recipe"] == load_recipe("int8")
        assert result.card["quantizer"].startswith("ai-edge-quantizer")
        assert result.card["validation"]["agreement"] == 1.0
    else:
        assert result.card["quantizer"] == "converter"
    # The CLS slice, wrapped with a no-op config, is still rewritten out of the partition breakers.
    assert "STRIDED_SLICE" not in result.card["xnnpack"]["outside_ops"]
    # Int8 attention math, softmax and GELU run in float (XNNPACK has no int8 kernels for them),
    # and LayerNorm's MEAN is not requantized at its input's scale: one partition (issue #5).
    assert result.card["xnnpack"]["xnnpack_partitions"] == 1
    assert _op_output_types(result.tflite_path, "MEAN") <= {"FLOAT32"}


def test_a_factorised_trimmed_qat_student_exports_as_the_recipe_deploys_it(model, tokenizer, splits, tmp_path):
    """The compact student the pipeline can ship: factorised word table (its projection an int8
    FULLY_CONNECTED fed by the table's GATHER), trimmed vocabulary, QAT in the xnnpack scope."""
    from tfdistill import compress

    compact = compress.factorize_embeddings(model, model.bert_config.hidden_size // 2)
    keep = compress.vocabulary_to_keep(tokenizer, splits["train"].texts)
    compact, trimmed_tokenizer = compress.trim_vocabulary(compact, tokenizer, keep)
    plan = compress.quantization_plan(compact)
    assert plan["word_embeddings"] == "table" and plan["word_embeddings_projection"] == "int8"
    qat = compress.quantize_student(compact)
    compress.calibrate_ranges(qat, [trimmed_tokenizer(splits["train"].texts[:64], max_length=SEQ_LEN)], steps=1)
    result = _export(qat, trimmed_tokenizer, splits, tmp_path / "qat", "qat", test_split=None)
    assert result.card["validation"]["agreement"] == 1.0
    assert result.card["xnnpack"]["xnnpack_partitions"] == 1


def _op_output_types(path, name):
    return {kind for op, _, _, outputs in _ops(path) if op == name for kind in outputs}


def _ops(path):
    """`[(op name, output tensor name, [input types], [output types])]` of a `.tflite`."""
    from ai_edge_litert import schema_py_generated as schema

    from tfdistill.export import flatbuffer_edit

    with open(path, "rb") as f:
        model = flatbuffer_edit.read_model(f.read())
    types = {value: key for key, value in vars(schema.TensorType).items() if key.isupper()}
    subgraph = model.subgraphs[0]
    return [(flatbuffer_edit.op_name(model, op),
             flatbuffer_edit.tensor_name(subgraph.tensors[op.outputs[0]]),
             [types[subgraph.tensors[i].type] if i >= 0 else None for i in op.inputs],
             [types[subgraph.tensors[i].type] for i in op.outputs]) for op in subgraph.operators]


def test_int8_ops_are_quantized_as_the_recipe_says(packages):
    from tfdistill.export.flatbuffer_edit import activation_fed_fully_connected

    ops = _ops(packages["int8"].tflite_path)
    fcs = {name: (ins[:2], outs) for op, name, ins, outs in ops if op == "FULLY_CONNECTED"}
    with open(packages["float32"].tflite_path, "rb") as f:
        fed = set(activation_fed_fully_connected(f.read()))
    # 2 layers x FFN output (after GELU) + the classifier (after the pooler's tanh): int8 weights,
    # float input quantized per row at run time; the other 11 FCs static int8.
    assert len(fed) == 3 and len(fcs) == 2 * 6 + 2
    for name, (inputs, outputs) in fcs.items():
        expected = (["FLOAT32", "INT8"], ["FLOAT32"]) if name in fed else (["INT8", "INT8"], ["INT8"])
        assert (inputs, outputs) == expected, name
    # The word-embedding table is int8; the 2-row token-type table stays float.
    assert {name.split("/")[1]: ins[0] for op, name, ins, _ in ops if op == "GATHER"} == {
        "word_embeddings": "INT8", "token_type_embeddings": "FLOAT32"}
    # No other op computes in int8 (LayerNorm, attention, softmax, GELU would split XNNPACK).
    assert {op for op, _, _, outs in ops if "INT8" in outs} == {"FULLY_CONNECTED", "GATHER", "QUANTIZE"}
    assert packages["dynamic"].card["xnnpack"]["xnnpack_partitions"] == 1
    # Hybrid FCs quantize their input asymmetrically in LiteRT's reference kernels too.
    assert _fc_asymmetric_inputs(packages["int8"].tflite_path) == {True}


def _fc_asymmetric_inputs(path):
    from tfdistill.export import flatbuffer_edit

    with open(path, "rb") as f:
        model = flatbuffer_edit.read_model(f.read())
    return {op.builtinOptions.asymmetricQuantizeInputs for op in model.subgraphs[0].operators
            if flatbuffer_edit.op_name(model, op) == "FULLY_CONNECTED"}


def test_the_package_and_card_carry_the_quantization_recipe(packages):
    from tfdistill.export.quantization_recipes import load_recipe

    for mode in ("dynamic", "int8"):
        card = packages[mode].card
        with open(os.path.join(packages[mode].output_dir, "quantization_recipe.json")) as f:
            assert json.load(f) == card["quantization_recipe"] == load_recipe(mode)
        assert card["quantizer"].startswith("ai-edge-quantizer ")
    assert packages["float32"].card["quantization_recipe"] is None
    assert packages["float16"].card["quantizer"] == "converter"


def test_the_converter_route_stays_callable(model, tokenizer, splits, tmp_path):
    result = _export(model, tokenizer, splits, tmp_path / "int8", "int8", test_split=None,
                     quantizer="converter")
    card = result.card
    assert card["quantizer"] == "converter" and card["quantization_recipe"] is None
    assert card["validation"]["agreement"] >= 0.97 and card["xnnpack"]["xnnpack_partitions"] == 1
    assert "quantization_recipe.json" not in os.listdir(result.output_dir)


def test_bad_inputs_raise_clear_errors(model, tokenizer, splits, tmp_path, packages):
    from tfdistill.data import Split, Tokenizer
    from tfdistill.export import evaluate_tflite

    not_tflite = tmp_path / "model.tflite"
    not_tflite.write_bytes(b"PK\x03\x04 this is a zip, not a flatbuffer")
    with pytest.raises(ValueError, match="is not a TFLite model"):
        evaluate_tflite(str(not_tflite), tokenizer, splits["test"])
    with pytest.raises(FileNotFoundError, match="No TFLite model"):
        evaluate_tflite(str(tmp_path / "missing.tflite"), tokenizer, splits["test"])
    other_tokenizer = Tokenizer.from_vocab(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "good"])
    with pytest.raises(ValueError, match="do not match this tokenizer"):
        evaluate_tflite(packages["float32"].tflite_path, other_tokenizer, splits["test"])
    with pytest.raises(ValueError, match="do not match this tokenizer"):
        _export(model, other_tokenizer, splits, tmp_path / "vocab", "float32")
    with pytest.raises(ValueError, match="exceeds the model's 32 position embeddings"):
        from tfdistill.export import export_tflite

        export_tflite(model, str(tmp_path / "long"), "float32", 64, tokenizer, None, splits["validation"])
    empty = dict(splits, train=Split([], []))
    with pytest.raises(ValueError, match="representative_split is empty"):
        _export(model, tokenizer, empty, tmp_path / "empty", "int8")
    with pytest.raises(ValueError, match="Unknown export mode 'int4'"):
        _export(model, tokenizer, splits, tmp_path / "int4", "int4")
    assert sorted(os.listdir(tmp_path)) == ["model.tflite"]  # no package was started


def test_model_card_is_plain_json(packages):
    with open(os.path.join(packages["int8"].output_dir, "model_card.json")) as f:
        card = json.load(f)
    assert card["int8_scope"] == "xnnpack" and len(card["sha256"]) == 64
