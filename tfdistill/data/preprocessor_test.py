import numpy as np
import pytest

from tfdistill.data import Split, TextClassifierPreprocessor
from tfdistill.data.preprocessor import as_preprocessor
from tfdistill.models.bert.bert_config import BertConfig
from tfdistill.training.testing import tiny_task


def test_a_split_is_tokenized_once_whatever_its_labels():
    tokenizer, data = tiny_task()
    preprocessor = TextClassifierPreprocessor(tokenizer, 16)
    first = preprocessor.tokenize(data.train)
    relabelled = Split(data.train.texts, np.zeros(len(data.train)))  # e.g. example indices as labels
    assert preprocessor.tokenize(relabelled) is first
    assert preprocessor.tokenize(data.validation) is not first
    expected = tokenizer(data.train.texts, max_length=16)
    for name, values in expected.items():
        np.testing.assert_array_equal(first[name], values)


def test_dataset_matches_make_tf_dataset():
    from tfdistill.data import make_tf_dataset

    tokenizer, data = tiny_task()
    preprocessor = TextClassifierPreprocessor(tokenizer, 16)
    batches = zip(preprocessor.dataset(data.train, 8, shuffle=True, seed=2),
                  make_tf_dataset(data.train, tokenizer, 16, 8, shuffle=True, seed=2))
    for (features, labels), (expected_features, expected_labels) in batches:
        np.testing.assert_array_equal(labels, expected_labels)
        np.testing.assert_array_equal(features["input_ids"], expected_features["input_ids"])


def test_check_refuses_a_model_it_cannot_feed():
    tokenizer, _ = tiny_task()
    config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=8, num_layers=1, num_heads=1,
                        intermediate_size=8, max_position_embeddings=32)
    preprocessor = TextClassifierPreprocessor(tokenizer, 16)
    assert preprocessor.check(config) is preprocessor
    with pytest.raises(ValueError, match="max_position_embeddings=32"):
        preprocessor.replace(max_length=64).check(config)
    with pytest.raises(ValueError, match="tokenizer has"):
        preprocessor.check(config.replace(vocab_size=tokenizer.vocab_size + 1))


@pytest.mark.parametrize("max_length", [1, 2.5, True, "64"])
def test_bad_max_length_is_refused(max_length):
    tokenizer, _ = tiny_task()
    with pytest.raises(ValueError, match="max_length must be an int >= 2"):
        TextClassifierPreprocessor(tokenizer, max_length)


def test_a_tokenizer_is_needed():
    with pytest.raises(TypeError, match="Tokenizer.from_pretrained"):
        TextClassifierPreprocessor("vocab.txt", 16)


def test_as_preprocessor_takes_either_and_refuses_a_conflict():
    tokenizer, _ = tiny_task()
    preprocessor = as_preprocessor(tokenizer, None, ["neg", "pos"], default_max_length=32)
    assert (preprocessor.max_length, preprocessor.label_names) == (32, ["neg", "pos"])
    assert as_preprocessor(preprocessor, 32) is preprocessor
    with pytest.raises(ValueError, match="preprocessor of max_length=32"):
        as_preprocessor(preprocessor, 16)


def test_config_round_trip():
    tokenizer, _ = tiny_task()
    preprocessor = TextClassifierPreprocessor(tokenizer, 24, ["neg", "pos"])
    again = TextClassifierPreprocessor.from_config(preprocessor.get_config(), tokenizer)
    assert again.get_config() == preprocessor.get_config() == {"max_length": 24, "label_names": ["neg", "pos"]}
