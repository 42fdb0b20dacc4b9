"""Unit tests of `Tokenizer` on a made-up vocabulary (parity with transformers: tests/)."""

import json
import os

import numpy as np
import pytest

from tfdistill.data.tokenizer import Tokenizer

SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
VOCAB = SPECIAL + ["the", "film", "is", "great", "bad", "un", "##believ", "##able", "cafe", ",",
                   "!", "\u4e00"]
ID = {token: index for index, token in enumerate(VOCAB)}
PAD, UNK, CLS, SEP = 0, 1, 2, 3


@pytest.fixture(scope="module")
def tokenizer():
    return Tokenizer.from_vocab(VOCAB)


def write_folder(folder, vocab=VOCAB, config=None):
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "vocab.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(vocab) + "\n")
    if config is not None:
        with open(os.path.join(folder, "tokenizer_config.json"), "w") as f:
            json.dump(config, f)
    return folder


def test_single_texts_are_framed_padded_and_int32(tokenizer):
    features = tokenizer(["The film is GREAT!", "bad"], max_length=8)
    assert set(features) == {"input_ids", "attention_mask", "token_type_ids"}
    for values in features.values():
        assert values.dtype == np.int32 and values.shape == (2, 8)
    ids = features["input_ids"].tolist()
    assert ids[0] == [CLS, ID["the"], ID["film"], ID["is"], ID["great"], ID["!"], SEP, PAD]
    assert ids[1] == [CLS, ID["bad"], SEP, PAD, PAD, PAD, PAD, PAD]
    assert features["attention_mask"].tolist()[1] == [1, 1, 1, 0, 0, 0, 0, 0]
    assert not features["token_type_ids"].any()


def test_normalizes_accents_case_wordpieces_and_unknown_words(tokenizer):
    ids = tokenizer(["Café Unbelievable zzz \u4e00"], max_length=10)["input_ids"][0].tolist()
    assert ids == [CLS, ID["cafe"], ID["un"], ID["##believ"], ID["##able"], UNK, ID["\u4e00"],
                   SEP, PAD, PAD]


def test_truncates_to_max_length_and_keeps_the_final_sep(tokenizer):
    ids = tokenizer(["the film " * 20], max_length=5)["input_ids"][0].tolist()
    assert ids == [CLS, ID["the"], ID["film"], ID["the"], SEP]


def test_pairs_get_type_ids_and_longest_first_truncation(tokenizer):
    features = tokenizer(["the film is great"], ["bad"], max_length=7)
    # 4 + 1 tokens do not fit in 7 - 3: the longer first text loses its tail.
    assert features["input_ids"][0].tolist() == [CLS, ID["the"], ID["film"], ID["is"], SEP,
                                                 ID["bad"], SEP]
    assert features["token_type_ids"][0].tolist() == [0, 0, 0, 0, 0, 1, 1]


def test_special_token_text_stays_one_token(tokenizer):
    ids = tokenizer(["great [SEP] bad"], max_length=6)["input_ids"][0].tolist()
    assert ids == [CLS, ID["great"], SEP, ID["bad"], SEP, PAD]


def test_single_string_and_empty_batch(tokenizer):
    assert tokenizer("bad", max_length=4)["input_ids"].tolist() == [[CLS, ID["bad"], SEP, PAD]]
    assert tokenizer([], max_length=4)["input_ids"].shape == (0, 4)
    assert tokenizer(np.array(["bad"]), max_length=3)["input_ids"].tolist() == [[CLS, 9, SEP]]


@pytest.mark.parametrize("texts, pairs, max_length, message", [
    (["bad"], ["bad"], 2, r"needs at least 3 positions"),
    (["a", "b"], ["c"], 8, "Got 2 texts but 1 text_pairs"),
])
def test_rejects_bad_lengths(tokenizer, texts, pairs, max_length, message):
    with pytest.raises(ValueError, match=message):
        tokenizer(texts, pairs, max_length=max_length)


def test_names_the_index_of_a_non_string(tokenizer):
    with pytest.raises(TypeError, match=r"texts\[2\] is a float"):
        tokenizer(["a", "b", float("nan")], max_length=8)
    with pytest.raises(TypeError, match=r"text_pairs\[0\] is a bytes .*decode"):
        tokenizer(["a"], [b"b"], max_length=8)


def test_properties_and_config(tokenizer):
    assert tokenizer.vocab_size == len(VOCAB)
    assert tokenizer.vocab == VOCAB
    assert tokenizer.pad_token_id == PAD
    config = tokenizer.get_config()
    assert config["vocab_size"] == len(VOCAB) and config["do_lower_case"] is True
    assert (config["cls_token_id"], config["sep_token_id"], config["unk_token_id"]) == (CLS, SEP,
                                                                                         UNK)
    json.dumps(config)


def test_from_vocab_rejects_repeats_and_missing_specials():
    with pytest.raises(ValueError, match="repeats 'film'"):
        Tokenizer.from_vocab(SPECIAL + ["film", "film"])
    with pytest.raises(ValueError, match=r"lacks the special tokens pad_token='\[PAD\]'"):
        Tokenizer.from_vocab(["[UNK]", "[CLS]", "[SEP]", "film"])


def test_from_pretrained_vocab_txt_reads_do_lower_case(tmp_path):
    cased = Tokenizer.from_pretrained(write_folder(tmp_path / "cased", VOCAB + ["Film"],
                                                  {"do_lower_case": False}))
    assert cased(["Film"], max_length=3)["input_ids"][0].tolist() == [CLS, len(VOCAB), SEP]
    uncased = Tokenizer.from_pretrained(write_folder(tmp_path / "uncased"))
    assert uncased(["Film"], max_length=3)["input_ids"][0].tolist() == [CLS, ID["film"], SEP]


def test_save_pretrained_round_trips_and_config_overrides_tokenizer_json(tokenizer, tmp_path):
    folder = tokenizer.save_pretrained(tmp_path / "saved")
    assert sorted(os.listdir(folder)) == ["tokenizer.json", "tokenizer_config.json", "vocab.txt"]
    with open(os.path.join(folder, "vocab.txt"), encoding="utf-8") as f:
        assert f.read().splitlines() == VOCAB
    texts = ["The film is GREAT!", "Café unbelievable"]
    reloaded = Tokenizer.from_pretrained(folder)
    for name, values in tokenizer(texts, max_length=9).items():
        np.testing.assert_array_equal(reloaded(texts, max_length=9)[name], values, err_msg=name)
    # tokenizer.json lowercases, but tokenizer_config.json (read after it) says not to.
    with open(os.path.join(folder, "tokenizer_config.json"), "w") as f:
        json.dump({"do_lower_case": False}, f)
    assert Tokenizer.from_pretrained(folder)(["Film"], max_length=3)["input_ids"][0, 1] == UNK


def test_from_pretrained_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        Tokenizer.from_pretrained(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="neither tokenizer.json nor vocab.txt"):
        Tokenizer.from_pretrained(tmp_path / "empty")
    folder = write_folder(tmp_path / "broken")
    with open(os.path.join(folder, "tokenizer_config.json"), "w") as f:
        f.write("{not json")
    with pytest.raises(ValueError, match="tokenizer_config.json is not valid JSON"):
        Tokenizer.from_pretrained(folder)
