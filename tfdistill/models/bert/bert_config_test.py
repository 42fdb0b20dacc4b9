import pytest

from tfdistill.models.bert.bert_config import BertConfig
from tfdistill.testing import run_serialization_test

TINY = dict(vocab_size=50, hidden_size=16, num_layers=2, num_heads=4, intermediate_size=32)


def test_round_trips_through_get_config_and_hf_dict():
    config = BertConfig(**TINY, num_labels=3, label_names=("a", "b", "c"), activation="gelu_approximate")
    run_serialization_test(config)
    assert BertConfig.from_hf_dict(config.to_hf_dict()) == config


@pytest.mark.parametrize("changes, message", [
    (dict(num_heads=5), "not divisible by num_heads=5"),
    (dict(hidden_size=0), "hidden_size must be a positive int"),
    (dict(num_layers=-1), "num_layers must be a positive int"),
    (dict(activation="swishy"), "Unknown BertConfig.activation 'swishy'"),
    (dict(hidden_dropout=1.0), "hidden_dropout must be in [0, 1)"),
    (dict(num_labels=1), "num_labels must be an int >= 2"),
    (dict(num_labels=2, label_names=("a",)), "has 1 names but num_labels=2"),
    (dict(layer_norm_epsilon=0), "layer_norm_epsilon must be > 0"),
])
def test_invalid_configs_name_the_problem(changes, message):
    with pytest.raises(ValueError) as error:
        BertConfig(**{**TINY, **changes})
    assert message in str(error.value)


def test_from_hf_dict_refuses_other_models_and_missing_fields():
    with pytest.raises(ValueError, match="describes a 'roberta' model"):
        BertConfig.from_hf_dict({"model_type": "roberta"})
    with pytest.raises(ValueError, match=r"missing the BERT fields \['intermediate_size'\]"):
        BertConfig.from_hf_dict({"vocab_size": 10, "hidden_size": 8, "num_hidden_layers": 1,
                                 "num_attention_heads": 2})


def test_from_config_refuses_unknown_fields():
    with pytest.raises(ValueError, match=r"Unknown BertConfig fields \['num_hidden_layers'\]"):
        BertConfig.from_config({**TINY, "num_hidden_layers": 2})
