"""`tfdistill.Tokenizer` gives transformers' `BertTokenizerFast` ids on the shipped teacher."""

import os
import shutil

import numpy as np
import pytest

import tfdistill
from tfdistill import data

pytestmark = pytest.mark.integration

MAX_LENGTH = 64
# Cases the BERT normalizer and WordPiece treat specially.
EDGE_TEXTS = [
    "", "   ", "Café naïve résumé ÉCOLE", "中文字符 mixed with English", "tab\tand\x00control\x07",
    "literal [SEP] and [CLS] and [MASK]", "emoji 🎬🍿!!", "x" * 150 + " end", "don't-stop...now",
    "ＦＵＬＬＷＩＤＴＨ", "a " * 200,
]


@pytest.fixture(scope="module")
def teacher_folder():
    return tfdistill.default_teacher_path()


@pytest.fixture(scope="module")
def hf_tokenizer(teacher_folder):
    from transformers import BertTokenizerFast

    return BertTokenizerFast.from_pretrained(teacher_folder)


@pytest.fixture(scope="module")
def texts():
    rotten_tomatoes = data.load("rotten_tomatoes")
    return [t for split in rotten_tomatoes.splits.values() for t in split.texts] + EDGE_TEXTS


def hf_features(hf_tokenizer, texts, pairs=None, max_length=MAX_LENGTH):
    encoded = hf_tokenizer(texts, pairs, max_length=max_length, truncation=True,
                           padding="max_length", return_tensors="np")
    return {name: encoded[name] for name in ("input_ids", "attention_mask", "token_type_ids")}


def assert_same(ours, theirs):
    for name, expected in theirs.items():
        assert ours[name].dtype == np.int32
        mismatched = np.flatnonzero((ours[name] != expected).any(axis=1))
        assert not len(mismatched), f"{name} differs on rows {mismatched[:5].tolist()}"


def test_matches_bert_tokenizer_fast_on_all_rotten_tomatoes_texts(teacher_folder, texts,
                                                                  hf_tokenizer):
    ours, theirs = tfdistill.Tokenizer.from_pretrained(teacher_folder), hf_tokenizer
    assert len(texts) == 12_808 + len(EDGE_TEXTS)
    assert ours.vocab_size == theirs.vocab_size == 30_522
    assert ours.pad_token_id == theirs.pad_token_id
    assert_same(ours(texts, max_length=MAX_LENGTH), hf_features(theirs, texts))


@pytest.mark.parametrize("max_length", [MAX_LENGTH, 12])
def test_matches_on_sentence_pairs(teacher_folder, texts, hf_tokenizer, max_length):
    ours = tfdistill.Tokenizer.from_pretrained(teacher_folder)
    # Consecutive snippets as pairs, plus a long pair, so longest-first truncation cuts one
    # side or both; the edge texts pair with snippets.
    firsts = texts[:1000] + EDGE_TEXTS + [" ".join(texts[:3])]
    seconds = texts[1:1001] + texts[:len(EDGE_TEXTS)] + [" ".join(texts[3:5])]
    features = ours(firsts, seconds, max_length=max_length)
    assert features["token_type_ids"].any()
    assert_same(features, hf_features(hf_tokenizer, firsts, seconds, max_length))


def test_vocab_txt_only_folder_matches(teacher_folder, texts, tmp_path):
    from transformers import BertTokenizerFast

    for name in ("vocab.txt", "tokenizer_config.json", "special_tokens_map.json"):
        shutil.copy(os.path.join(teacher_folder, name), tmp_path)
    ours = tfdistill.Tokenizer.from_pretrained(tmp_path)
    theirs = BertTokenizerFast.from_pretrained(tmp_path)
    assert_same(ours(texts, max_length=MAX_LENGTH), hf_features(theirs, texts))
    pairs = texts[1:1001]
    assert_same(ours(texts[:1000], pairs, max_length=MAX_LENGTH),
                hf_features(theirs, texts[:1000], pairs))


def test_saved_folder_loads_in_transformers(teacher_folder, texts, tmp_path):
    from transformers import BertTokenizerFast

    folder = tfdistill.Tokenizer.from_pretrained(teacher_folder).save_pretrained(tmp_path)
    ours = tfdistill.Tokenizer.from_pretrained(folder)
    sample = texts[:1000] + EDGE_TEXTS
    assert_same(ours(sample, max_length=MAX_LENGTH),
                hf_features(BertTokenizerFast.from_pretrained(folder), sample))
