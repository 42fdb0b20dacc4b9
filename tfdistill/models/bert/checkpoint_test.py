import json
import os

import numpy as np
import pytest
from safetensors.numpy import load_file, save_file

import tfdistill
from tfdistill.models.bert import checkpoint
from tfdistill.testing import run_model_saving_test

CONFIG = tfdistill.BertConfig(vocab_size=40, hidden_size=8, num_layers=2, num_heads=2, intermediate_size=16,
                              max_position_embeddings=16, num_labels=2, label_names=("neg", "pos"))
FEATURES = {"input_ids": np.array([[2, 5, 7, 3, 0]], "int32"), "attention_mask": np.array([[1, 1, 1, 1, 0]], "int32")}


@pytest.fixture
def saved(tmp_path):
    model = tfdistill.build_bert(CONFIG)
    path = str(tmp_path / "model")
    tfdistill.save_pretrained(model, path)
    return model, path


def test_save_load_round_trip_is_exact(tmp_path):
    path = tmp_path / "model"
    run_model_saving_test(tfdistill.build_bert(CONFIG), FEATURES, path, expected_config=CONFIG)
    hf = json.loads((path / "config.json").read_text())
    assert hf["id2label"] == {"0": "neg", "1": "pos"} and hf["architectures"] == ["BertForSequenceClassification"]


def test_written_names_are_pytorch_style_with_out_in_kernels(saved):
    _, path = saved
    tensors = load_file(os.path.join(path, "model.safetensors"))
    assert tensors["bert.encoder.layer.1.intermediate.dense.weight"].shape == (16, 8)
    assert "classifier.weight" in tensors and "bert.embeddings.LayerNorm.weight" in tensors


def test_tf_style_names_load_like_pytorch_style(saved, tmp_path):
    model, path = saved
    tf_style = {}
    for name, array in load_file(os.path.join(path, "model.safetensors")).items():
        parts = name.split(".")
        leaf = parts[-1]
        is_dense = leaf == "weight" and array.ndim == 2 and "embeddings" not in name
        if "LayerNorm" in name:
            leaf = {"weight": "gamma", "bias": "beta"}[leaf]
        elif is_dense:
            leaf, array = "kernel", array.T
        tf_name = "/".join(parts[:-1]).replace("layer/", "layer_._") + f"/{leaf}:0"
        tf_style[tf_name.replace("encoder/layer_._", "encoder/layer_._")] = np.ascontiguousarray(array)
    folder = tmp_path / "tf_style"
    folder.mkdir()
    save_file(tf_style, str(folder / "model.safetensors"))
    (folder / "config.json").write_text(json.dumps(CONFIG.to_hf_dict()))
    reloaded = tfdistill.load_pretrained(str(folder))
    np.testing.assert_array_equal(reloaded(FEATURES)["logits"], model(FEATURES)["logits"])


def test_canonical_names():
    assert checkpoint.canonical_name("bert/encoder/layer_._3/output/dense/kernel:0") == (
        "encoder.layer.3.output.dense.weight", True)
    assert checkpoint.canonical_name("bert/embeddings/position_embeddings/embeddings:0") == (
        "embeddings.position_embeddings.weight", False)


def test_new_head_is_initialised_and_reported(saved, caplog):
    _, path = saved
    headless = tfdistill.build_bert(CONFIG.replace(num_labels=None, label_names=None))
    tfdistill.save_pretrained(headless, path)
    with caplog.at_level("INFO"):
        model = tfdistill.load_pretrained(path, num_labels=4)
    assert model(FEATURES)["logits"].shape == (1, 4)
    assert "classifier.weight" in caplog.text


def test_missing_folder():
    with pytest.raises(FileNotFoundError, match="does not exist"):
        tfdistill.load_pretrained("/nonexistent/model")
