"""Unit tests of the model package writer and the card the Android app reads."""

import json
import os

import pytest

from tfdistill.export.package import CARD_KEYS, model_card, read_model_card, write_model_package

FIELDS = dict(seq_len=64, inputs=["attention_mask", "input_ids", "token_type_ids"],
              outputs=["logits"], labels=["negative", "positive"], mode="dynamic",
              source="runs/student", accuracy=0.8)


def test_card_has_every_key_and_the_flatbuffer_digest():
    card = model_card(b"\x1c\x00\x00\x00TFL3", **FIELDS)
    assert set(CARD_KEYS) <= set(card) and card["size_bytes"] == 8 and len(card["sha256"]) == 64
    with pytest.raises(ValueError, match="lacks \\['accuracy'\\]"):
        model_card(b"x", **{k: v for k, v in FIELDS.items() if k != "accuracy"})


def test_package_is_written_whole_and_replaced_whole(tmp_path):
    folder = str(tmp_path / "pkg")
    card = model_card(b"v1", **FIELDS)
    path = write_model_package(folder, b"v1", ["[PAD]", "good"], FIELDS["labels"], card)
    assert sorted(os.listdir(folder)) == [".tfdistill.json", "labels.txt", "model.tflite", "model_card.json", "vocab.txt"]
    assert open(path, "rb").read() == b"v1" and read_model_card(folder) == card
    assert open(os.path.join(folder, "vocab.txt")).read() == "[PAD]\ngood\n"
    write_model_package(folder, b"v2", ["[PAD]"], ["a", "b"], model_card(b"v2", **FIELDS))
    assert open(path, "rb").read() == b"v2"
    assert os.listdir(tmp_path) == ["pkg"]  # no temporary or old folder left


def test_reading_a_bad_card(tmp_path):
    with pytest.raises(FileNotFoundError, match="model_card.json"):
        read_model_card(str(tmp_path))
    (tmp_path / "model_card.json").write_text(json.dumps({"mode": "int8"}))
    with pytest.raises(ValueError, match="lacks the keys"):
        read_model_card(str(tmp_path))
