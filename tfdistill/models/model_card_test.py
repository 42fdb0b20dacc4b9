"""The README.md model card: front matter the Hub can parse, honest gaps, escaped names, and the
transformers claim checked against transformers itself."""

import math
import os

import pytest

from tfdistill.models.model_card import (NOT_MEASURED, ModelCardData, render_model_card, write_model_card)
from tfdistill.testing import run_serialization_test

ARCHITECTURE = {"vocab_size": 64, "hidden_size": 32, "num_layers": 2, "num_heads": 2, "intermediate_size": 37,
                "attention_head_size": None}
MEASURED = ModelCardData(
    name="student", kind="distilled student", folder="runs/student", label_names=("negative", "positive"),
    base_model="runs/teacher", base_model_role="teacher", dataset_name="rotten_tomatoes",
    num_examples={"train": 10242, "validation": 1281, "test": 1285},
    losses=({"loss": "logit_kd", "weight": 1.0, "temperature": 2.0},), architecture=ARCHITECTURE,
    accuracy={"validation": 0.8125, "test": 0.8031}, reference_name="teacher",
    reference_accuracy={"validation": 0.83, "test": 0.8226}, params=15_000_000, size_bytes=60_123_456,
    latency={"p50_ms": 3.25, "threads": 2, "setting": "LiteRT int8"})


def _split(text):
    """(front matter, body) of a rendered card."""
    assert text.startswith("---\n")
    front, body = text[4:].split("\n---\n", 1)
    return front + "\n", body


def _parse_front_matter(front):
    yaml = pytest.importorskip("yaml")
    return yaml.safe_load(front)


def test_front_matter_parses_as_the_hub_metadata():
    meta = _parse_front_matter(_split(render_model_card(MEASURED))[0])
    assert meta["library_name"] == "transformers" and meta["pipeline_tag"] == "text-classification"
    assert meta["tags"][:3] == ["tfdistill", "bert", "tf-keras"] and meta["metrics"] == ["accuracy"]
    (entry,) = meta["model-index"]
    results = {result["dataset"]["split"]: result for result in entry["results"]}
    assert entry["name"] == "student" and results["test"]["metrics"][0] == {
        "type": "accuracy", "value": 0.8031, "name": "test accuracy"}
    assert results["test"]["dataset"] == {"type": "rotten_tomatoes", "split": "test",
                                          "name": "rotten_tomatoes (1,285 test examples)"}
    assert "license" not in meta and "base_model" not in meta  # neither is known: neither is invented


def test_huggingface_hub_reads_the_eval_results():
    hub = pytest.importorskip("huggingface_hub")
    results = hub.ModelCard(render_model_card(MEASURED)).data.eval_results
    assert {(r.dataset_split, r.metric_type, r.metric_value) for r in results} == {
        ("validation", "accuracy", 0.8125), ("test", "accuracy", 0.8031)}


def test_body_reports_what_was_measured():
    body = _split(render_model_card(MEASURED))[1]
    assert "| test | 1,285 | 80.31% | 78.0% to 82.4% | 82.26% |" in body
    assert "Parameters: 15,000,000" in body and "60.1 MB" in body and "3.25 ms median (LiteRT int8, 2 threads)" in body
    assert "tfdistill.TextClassifier.from_pretrained('runs/student')" in body
    assert "TFBertForSequenceClassification.from_pretrained('runs/student')" in body
    assert "logit\\_kd (weight 1, temperature 2)" in body
    assert "1,285 examples: with 95% confidence it lies between 78.0% and 82.4%." in body


def test_a_perfect_score_on_few_examples_still_shows_its_uncertainty():
    body = _split(render_model_card(MEASURED.replace(accuracy={"test": 1.0}, num_examples={"test": 48})))[1]
    assert "| test | 48 | 100.00% | 92.6% to 100.0% |" in body


@pytest.mark.parametrize("accuracy", [{}, {"test": None}, {"test": math.nan}])
def test_missing_measurements_say_not_measured(accuracy):
    text = render_model_card(ModelCardData(name="bare", label_names=("a", "b"), accuracy=accuracy))
    front, body = _split(text)
    assert "model-index" not in front and "metrics:" not in front and "library_name" not in front
    assert f"Accuracy: {NOT_MEASURED}." in body and f"Parameters: {NOT_MEASURED}" in body
    assert f"Size on disk: {NOT_MEASURED}" in body and f"Latency: {NOT_MEASURED}" in body
    assert f"Test accuracy: {NOT_MEASURED}" in body and "Hyperparameters: not recorded" in body
    assert "%" not in body  # no number stands in for one that was not measured
    assert "transformers cannot load this folder: its architecture is unknown" in body


def test_markdown_and_yaml_special_characters_are_escaped():
    card = MEASURED.replace(name='# my_model: "v2"\n- x', label_names=("<b>bad</b>", "a|b", "x`y"),
                            reference_name="*teacher*", data_description="1. scraped <i>reviews</i> & more")
    text = render_model_card(card)
    front, body = _split(text)
    assert _parse_front_matter(front)["model-index"][0]["name"] == '# my_model: "v2"\n- x'
    assert body.startswith('\n# \\# my\\_model: "v2" - x\n')  # one line: the dash starts nothing
    assert "<b>" not in body.replace("`<b>bad</b>`", "") and "``x`y``" in body and "`a|b`" in body
    assert "\\*teacher\\* accuracy |" in body  # a table header cell: no emphasis, no extra column
    assert "1\\. scraped \\<i\\>reviews\\</i\\> \\& more" in body


def test_heads_transformers_cannot_build_are_not_claimed():
    narrow = MEASURED.replace(architecture={**ARCHITECTURE, "attention_head_size": 8})
    front, body = _split(render_model_card(narrow))
    assert "library_name" not in front and "TFBertForSequenceClassification" not in body
    assert "transformers cannot load this folder: its 2 attention heads of width 8" in body


def test_accuracy_of_another_model_stays_out_of_model_index():
    qat = MEASURED.replace(accuracy_of="the QAT model (qat_model.h5)")
    front, body = _split(render_model_card(qat))
    assert "model-index" not in front and "Measured on the QAT model (qat\\_model.h5)." in body
    assert "80.31%" in body


def test_write_is_atomic_and_config_round_trips(tmp_path):
    path = write_model_card(str(tmp_path), MEASURED)
    assert sorted(os.listdir(tmp_path)) == ["README.md"]  # no temporary left
    assert open(path, encoding="utf-8").read() == render_model_card(MEASURED)
    run_serialization_test(MEASURED)
    with pytest.raises(ValueError, match="Unknown ModelCardData fields"):
        ModelCardData.from_config({"name": "x", "accuracies": {}})


def _tiny_classifier(**config):
    import tfdistill

    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + [f"w{i}" for i in range(59)]
    bert = tfdistill.BertConfig(vocab_size=64, hidden_size=32, num_layers=2, num_heads=2, intermediate_size=37,
                                max_position_embeddings=32, num_labels=2, label_names=("neg", "pos"), **config)
    return tfdistill.build_bert(bert), tfdistill.Tokenizer.from_vocab(vocab)


def test_save_pretrained_publishes_the_card_with_the_models_facts(tmp_path):
    import tfdistill
    from tfdistill.utils import ownership

    model, tokenizer = _tiny_classifier()
    path = str(tmp_path / "student")
    tfdistill.save_pretrained(model, path, tokenizer, model_card=ModelCardData(name="student", accuracy={"test": 0.5}))
    assert ownership.read_marker(path)["kind"] == "model" and "README.md" in os.listdir(path)
    text = open(os.path.join(path, "README.md"), encoding="utf-8").read()
    assert f"Parameters: {model.count_params():,}" in text and "`neg`, `pos`" in text
    assert f"{os.path.getsize(os.path.join(path, 'model.safetensors')) / 1e3:.1f} kB (`model.safetensors`" in text
    assert "library_name: transformers" in text


def test_a_card_that_claims_transformers_is_right(tmp_path):
    """The folder a card sends to transformers loads there, card beside it, with the same logits."""
    import numpy as np
    import tfdistill

    transformers = pytest.importorskip("transformers")
    model, tokenizer = _tiny_classifier()
    path = str(tmp_path / "student")
    tfdistill.save_pretrained(model, path, tokenizer, model_card=ModelCardData(name="student"))
    assert "library_name: transformers" in open(os.path.join(path, "README.md"), encoding="utf-8").read()
    features = tokenizer(["w1 w2 w3"], max_length=8)
    hf = transformers.TFBertForSequenceClassification.from_pretrained(path)
    np.testing.assert_allclose(hf(dict(features)).logits.numpy(), np.asarray(model(features)["logits"]), atol=1e-5)
    assert hf.config.id2label == {0: "neg", 1: "pos"}
