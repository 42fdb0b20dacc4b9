"""Property tests of `Tokenizer` (hypothesis): any unicode text, any length, never a crash."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tfdistill.data.tokenizer import Tokenizer

SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
VOCAB = SPECIAL + ["the", "film", "is", "great", "bad", "un", "##believ", "##able", "caf", "##e", ",", "!",
                   "\u4e00", "a", "##s"]
PAD, UNK, CLS, SEP = 0, 1, 2, 3
TOKENIZER = Tokenizer.from_vocab(VOCAB)

# Any unicode, surrogates excluded (a Python str holding one cannot be encoded as UTF-8), with the
# vocabulary's words and the special-token strings mixed in so known ids and "[SEP]" text occur.
TEXT = st.lists(st.one_of(st.text(st.characters(blacklist_categories=("Cs",)), max_size=12),
                          st.sampled_from(VOCAB + ["[CLS]", "[SEP]", " ", "\t", "\u00a0", "\u200b"])),
                max_size=12).map(" ".join)
TEXTS = st.lists(TEXT, min_size=0, max_size=4)
LENGTH = st.integers(min_value=3, max_value=24)
SETTINGS = settings(max_examples=60, deadline=None)


def _check_rows(features, rows, max_length):
    for name in ("input_ids", "attention_mask", "token_type_ids"):
        assert features[name].shape == (rows, max_length) and features[name].dtype == np.int32
    ids, mask = features["input_ids"], features["attention_mask"]
    assert ids.min(initial=0) >= 0 and ids.max(initial=0) < TOKENIZER.vocab_size
    assert set(np.unique(mask)) <= {0, 1}
    for row_ids, row_mask in zip(ids, mask):
        length = int(row_mask.sum())
        # Real tokens first, then padding only.
        assert row_mask[:length].all() and not row_mask[length:].any()
        assert (row_ids[length:] == PAD).all()
        assert row_ids[0] == CLS and row_ids[length - 1] == SEP
    return ids, mask


@SETTINGS
@given(texts=TEXTS, max_length=LENGTH)
def test_any_text_gives_in_range_ids_with_cls_first_and_sep_last(texts, max_length):
    features = TOKENIZER(texts, max_length=max_length)
    ids, mask = _check_rows(features, len(texts), max_length)
    assert not features["token_type_ids"].any()
    for text, row_ids, row_mask in zip(texts, ids, mask):
        inner = row_ids[1:int(row_mask.sum()) - 1]
        # Special tokens come only from the template, unless the text spells them ("[SEP]" in the
        # text stays one token, as in transformers).
        for token, token_id in (("[PAD]", PAD), ("[CLS]", CLS), ("[SEP]", SEP)):
            if token not in text:
                assert token_id not in inner


@SETTINGS
@given(text=TEXT, max_length=LENGTH)
def test_truncation_keeps_a_prefix_of_the_full_encoding(text, max_length):
    full = TOKENIZER([text], max_length=512)
    full_ids = full["input_ids"][0][:int(full["attention_mask"][0].sum())]
    short = TOKENIZER([text], max_length=max_length)
    short_ids = short["input_ids"][0][:int(short["attention_mask"][0].sum())]
    words = len(full_ids) - 2
    kept = min(words, max_length - 2)
    assert len(short_ids) == kept + 2
    np.testing.assert_array_equal(short_ids[1:-1], full_ids[1:1 + kept])


@SETTINGS
@given(texts=st.lists(st.tuples(TEXT, TEXT), max_size=4), max_length=LENGTH)
def test_pairs_have_two_sep_and_type_one_on_the_second_segment(texts, max_length):
    first, second = [a for a, _ in texts], [b for _, b in texts]
    features = TOKENIZER(first, second, max_length=max_length)
    ids, mask = _check_rows(features, len(texts), max_length)
    for row_ids, row_mask, types in zip(ids, mask, features["token_type_ids"]):
        length = int(row_mask.sum())
        types = types[:length]
        # Types are 0 for [CLS] A [SEP], then 1 for B [SEP]: never back to 0.
        boundary = int(np.argmax(types)) if types.any() else length
        assert not types[:boundary].any() and types[boundary:].all()
        assert row_ids[boundary - 1] == SEP and types[-1] == 1


@SETTINGS
@given(text=TEXT)
def test_batching_does_not_change_a_row(text):
    alone = TOKENIZER([text], max_length=16)["input_ids"][0]
    batched = TOKENIZER(["film", text, ""], max_length=16)["input_ids"][1]
    np.testing.assert_array_equal(alone, batched)
