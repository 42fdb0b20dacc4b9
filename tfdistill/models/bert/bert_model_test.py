import numpy as np
import pytest

import tfdistill
from tfdistill.models.bert import bert_layers
from tfdistill.models.bert.bert_model import logits_model
from tfdistill.testing import run_model_saving_test, run_serialization_test

CONFIG = tfdistill.BertConfig(vocab_size=60, hidden_size=16, num_layers=2, num_heads=4, intermediate_size=32,
                              max_position_embeddings=32, num_labels=3)


def _features(batch=3, seq=10, pad_from=7, seed=0):
    rng = np.random.default_rng(seed)
    ids = rng.integers(1, CONFIG.vocab_size, size=(batch, seq)).astype("int32")
    mask = np.ones_like(ids)
    mask[0, pad_from:] = 0
    return {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}


@pytest.fixture(scope="module")
def model():
    return tfdistill.build_bert(CONFIG)


def test_output_structure_and_shapes(model):
    out = model(_features())
    assert len(out["hidden_states"]) == CONFIG.num_layers + 1
    assert all(h.shape == (3, 10, 16) for h in out["hidden_states"])
    assert [a.shape for a in out["attentions"]] == [(3, 4, 10, 10)] * 2
    assert [v.shape for v in out["values"]] == [(3, 4, 10, 4)] * 2
    assert out["pooled"].shape == (3, 16) and out["logits"].shape == (3, 3)
    np.testing.assert_allclose(np.sum(out["attentions"][0], axis=-1), 1.0, atol=1e-5)


def test_padding_gets_no_attention_and_does_not_change_real_tokens(model):
    features = _features()
    out = model(features)
    assert np.max(np.asarray(out["attentions"][1])[0, :, :, 7:]) < 1e-6
    changed = dict(features, input_ids=features["input_ids"].copy())
    changed["input_ids"][0, 7:] = 1  # different ids under the padding
    again = model(changed)
    np.testing.assert_allclose(np.asarray(again["logits"])[0], np.asarray(out["logits"])[0], atol=1e-6)


def test_token_type_ids_default_to_zeros(model):
    features = _features()
    without = {k: v for k, v in features.items() if k != "token_type_ids"}
    np.testing.assert_allclose(model(without)["logits"], model(features)["logits"], atol=1e-6)


def test_no_tf_op_lambda_layers_and_every_custom_layer_is_prunable_and_serialisable(model):
    names = {type(layer).__name__ for layer in model.layers}
    assert "TFOpLambda" not in names and "SlicingOpLambda" not in names
    for layer in model.layers:
        if type(layer).__name__ in bert_layers.CUSTOM_OBJECTS:
            assert layer.get_prunable_weights() == []
            run_serialization_test(layer)


def test_keras_save_and_load_round_trip(tmp_path, model):
    run_model_saving_test(model, _features(), tmp_path / "bert.keras", expected_config=CONFIG)


def test_logits_view_shares_weights_and_refuses_headless_models(model):
    view = logits_model(model)
    np.testing.assert_array_equal(view(_features()), model(_features())["logits"])
    with pytest.raises(ValueError, match="has no `logits` output"):
        logits_model(tfdistill.build_bert(CONFIG.replace(num_labels=None)))
