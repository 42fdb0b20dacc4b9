"""Vocabulary trimming on the shipped teacher's WordPiece vocabulary and Rotten Tomatoes texts:
the training texts keep their tokens and the model its outputs; other texts still tokenize
without new [UNK]s; a size cap keeps the most frequent tokens; bad input is refused."""

import collections

import numpy as np
import pytest

import tfdistill
from tfdistill.compress.vocabulary import single_character_ids, trim_vocabulary, vocabulary_to_keep

SEQ_LEN = 64


@pytest.fixture(scope="module")
def tokenizer():
    return tfdistill.Tokenizer.from_pretrained(tfdistill.default_teacher_path())


@pytest.fixture(scope="module")
def texts():
    data = tfdistill.datasets.load("rotten_tomatoes")
    return data.train.texts[:800], data.test.texts[:400]


@pytest.fixture(scope="module")
def model(tokenizer):
    import tf_keras as keras

    keras.utils.set_random_seed(0)
    config = tfdistill.BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=16, num_layers=1, num_heads=2,
                                  intermediate_size=32, num_labels=2, max_position_embeddings=SEQ_LEN)
    return tfdistill.build_bert(config)


def test_training_texts_keep_their_tokens_and_the_model_its_outputs(tokenizer, texts, model):
    train, _ = texts
    keep = vocabulary_to_keep(tokenizer, train)
    trimmed, small = trim_vocabulary(model, tokenizer, keep)
    assert trimmed.bert_config.vocab_size == small.vocab_size == len(keep) < tokenizer.vocab_size // 3
    full_ids, small_features = tokenizer(train, max_length=SEQ_LEN), small(train, max_length=SEQ_LEN)
    np.testing.assert_array_equal(keep[small_features["input_ids"]], full_ids["input_ids"])
    np.testing.assert_array_equal(small_features["attention_mask"], full_ids["attention_mask"])
    np.testing.assert_allclose(trimmed(small_features)["logits"], model(full_ids)["logits"], atol=1e-5)
    assert small.pad_token_id == trimmed.bert_config.pad_token_id == 0 and small.casing == tokenizer.casing


def test_other_texts_fall_back_on_pieces_not_unk(tokenizer, texts, model):
    train, test = texts
    _, small = trim_vocabulary(model, tokenizer, vocabulary_to_keep(tokenizer, train))
    full_ids, small_ids = tokenizer(test, max_length=512)["input_ids"], small(test, max_length=512)["input_ids"]
    unk = tokenizer.token_id("unk_token"), small.token_id("unk_token")
    assert (full_ids == unk[0]).sum() == (small_ids == unk[1]).sum()
    # Words the training texts never used are spelt with more, shorter pieces.
    assert (small_ids != small.pad_token_id).sum() > (full_ids != tokenizer.pad_token_id).sum()


def test_a_size_cap_keeps_the_most_frequent_tokens(tokenizer, texts):
    train, _ = texts
    required = len(set(single_character_ids(tokenizer))) + 5  # and [PAD] [UNK] [CLS] [SEP] [MASK]
    keep = vocabulary_to_keep(tokenizer, train, max_size=required + 100)
    assert len(keep) == required + 100
    ids = tokenizer(train, max_length=SEQ_LEN)["input_ids"]
    counts = collections.Counter(ids[ids != 0].tolist())
    used = set(keep.tolist()) - set(single_character_ids(tokenizer))
    least_kept = min(counts[token] for token in used if token in counts and counts[token] > 0)
    dropped = [counts[token] for token in counts if token not in set(keep.tolist())]
    assert max(dropped) <= least_kept
    with pytest.raises(ValueError, match=rf"max_size=10 is below the {required} tokens every text needs"):
        vocabulary_to_keep(tokenizer, train, max_size=10)


def test_bad_input_is_refused(tokenizer, model):
    keep = vocabulary_to_keep(tokenizer, ["a film"])
    with pytest.raises(ValueError, match=r"leaves out the special tokens \['cls_token'\]"):
        trim_vocabulary(model, tokenizer, [i for i in keep if i != tokenizer.token_id("cls_token")])
    with pytest.raises(ValueError, match=r"keep_ids must be token ids in \[0, 30522\)"):
        trim_vocabulary(model, tokenizer, [0, 30522])
    other = tokenizer.with_vocab([tokenizer.vocab[i] for i in keep])
    with pytest.raises(ValueError, match="pass the tokenizer the model was trained with"):
        trim_vocabulary(model, other, keep)
